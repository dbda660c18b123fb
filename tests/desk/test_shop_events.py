"""The shop events page: roles, the table and its fragment, the detail, retry."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.hooks.services import shop_connection_create
from api.models import InboundEvent, InboundStatus, ShopConnection
from config.roles import Role
from orders.models import SalesOrder
from orders.services.payments import order_payment_status_set
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
VIEWERS = [
    ("anonymous", 302),
    ("warehouse", 403),
    ("customer_service", 200),
    ("purchasing", 200),
    ("superuser", 200),
]
BODY = {
    "id": 4501,
    "name": "#1042",
    "email": "ada@example.com",
    "updated_at": "2026-11-30T10:00:00+00:00",
    "financial_status": "paid",
    "line_items": [{"sku": "STOOL", "quantity": 1, "price": "10.00", "title": "Stool"}],
}


def make_client(client_as: Callable[..., Client], who: str) -> Client:
    if who == "anonymous":
        return Client()
    if who == "superuser":
        return client_as(superuser=True)
    return client_as(Role(who))


@pytest.fixture
def connection(shop: Shop) -> ShopConnection:
    return shop_connection_create(
        platform="shopify", domain="desk.myshopify.com", secret="s", channel="web"
    )


def make_event(connection: ShopConnection, **fields: Any) -> InboundEvent:
    values: dict[str, Any] = {
        "topic": "orders/create",
        "delivery_id": f"wh-{InboundEvent.objects.count() + 1}",
        "raw_body": json.dumps(BODY),
        "received_at": timezone.now(),
        **fields,
    }
    values.setdefault("dedup_key", values["delivery_id"])
    return InboundEvent.objects.create(connection=connection, **values)


@pytest.mark.parametrize(("who", "status"), VIEWERS)
def test_who_may_see_shop_events(
    client_as: Callable[..., Client], connection: ShopConnection, who: str, status: int
) -> None:
    event = make_event(connection, status=InboundStatus.FAILED, error="STOOL: no product.")
    client = make_client(client_as, who)
    assert client.get(reverse("shop-events")).status_code == status
    assert client.get(reverse("shop-event", args=[event.pk])).status_code == status
    assert client.get(reverse("shop-events"), headers=HX).status_code == status


def test_the_page_lists_events_with_their_reason_and_the_connections(
    client_as: Callable[..., Client], connection: ShopConnection
) -> None:
    make_event(connection, status=InboundStatus.FAILED, error="STOOL: no product has this SKU.")
    make_event(connection, status=InboundStatus.PROCESSED, outcome="Placed as SO-0000009.")
    client = client_as(Role.CUSTOMER_SERVICE)
    html = client.get(reverse("shop-events")).content.decode()
    assert "STOOL: no product has this SKU." in html
    assert "Placed as SO-0000009." in html
    assert connection.webhook_path in html
    fragment = client.get(reverse("shop-events"), {"status": "failed"}, headers=HX)
    text = fragment.content.decode()
    assert "<h1" not in text  # the table alone
    assert "STOOL" in text and "Placed as" not in text


def test_the_page_takes_a_fixed_number_of_queries(
    client_as: Callable[..., Client],
    connection: ShopConnection,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(30):
        make_event(connection, status=InboundStatus.PROCESSED, outcome="ok")
    client = client_as(Role.PURCHASING)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("shop-events")).status_code == 200


def test_a_bad_filter_value_is_not_a_500(
    client_as: Callable[..., Client], connection: ShopConnection
) -> None:
    client = client_as(Role.PURCHASING)
    response = client.get(reverse("shop-events"), {"status": "nope", "connection": "x"})
    assert response.status_code == 200


def test_retry_after_the_product_exists_places_the_order(
    client_as: Callable[..., Client],
    connection: ShopConnection,
    shop: Shop,
    django_capture_on_commit_callbacks: Any,
) -> None:
    event = make_event(connection, status=InboundStatus.FAILED, error="STOOL: no product.")
    shop.product(sku="STOOL", name="Stool")
    client = client_as(Role.PURCHASING)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("shop-event-retry", args=[event.pk]), headers=HX)
    # then: the detail fragment, the event, and the order
    assert response.status_code == 200
    assert "inboundEventRetried" in response["HX-Trigger"]
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED, event.error
    assert SalesOrder.objects.get() == event.order


def test_retry_of_an_event_that_did_not_fail_changes_nothing(
    client_as: Callable[..., Client], connection: ShopConnection
) -> None:
    event = make_event(connection, status=InboundStatus.PROCESSED, outcome="Placed.")
    client = client_as(Role.CUSTOMER_SERVICE)
    response = client.post(reverse("shop-event-retry", args=[event.pk]))
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED
    page = client.get(response["Location"]).content.decode()
    assert "Only a failed event can be retried" in page


def test_warehouse_may_not_retry(
    client_as: Callable[..., Client], connection: ShopConnection
) -> None:
    event = make_event(connection, status=InboundStatus.FAILED, error="x")
    response = client_as(Role.WAREHOUSE).post(reverse("shop-event-retry", args=[event.pk]))
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.status == InboundStatus.FAILED


def test_the_order_page_says_how_the_shop_reports_its_payment(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    order = shop.order(shop.product(), 1)
    order_payment_status_set(order=order, payment_status="authorized", by=None)
    html = client_as(Role.CUSTOMER_SERVICE).get(reverse("order", args=[order.number]))
    assert '<dd id="order-payment">Authorized</dd>' in html.content.decode()
