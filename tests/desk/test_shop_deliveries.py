"""The webhook deliveries page: roles, the table and its fragment, filters, retry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def make_client(client_as: Callable[..., Client], who: str) -> Client:
    if who == "anonymous":
        return Client()
    if who == "superuser":
        return client_as(superuser=True)
    return client_as(Role(who))


@pytest.fixture
def deliveries(shop: Shop) -> list[WebhookDelivery]:
    order = shop.order(shop.product(), 2)
    subscription = WebhookSubscription.objects.create(
        url="https://shop.example/bd-hooks",
        secret="k",
        channel="web",
    )
    rows = [
        WebhookDelivery(
            subscription=subscription,
            event_id=f"e-{n}",
            event_type=event_type,
            order=order,
            payload={"id": f"e-{n}"},
            status=status,
            attempts=attempts,
            last_error=error,
            response_status=code,
        )
        for n, (event_type, status, attempts, error, code) in enumerate(
            [
                (WebhookEventType.BACKORDERED, "delivered", 1, "", 200),
                (WebhookEventType.SHIPPED, "failed", 8, "DeliveryRefused: HTTP 500 Oops", 500),
                (WebhookEventType.READY, "pending", 2, "URLError: refused", None),
            ]
        )
    ]
    return WebhookDelivery.objects.bulk_create(rows)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("warehouse", 403),
        ("customer_service", 200),
        ("purchasing", 200),
        ("superuser", 200),
    ],
)
def test_who_may_open_the_page(client_as, deliveries, who: str, status: int) -> None:
    response = make_client(client_as, who).get(reverse("shop-deliveries"))
    assert response.status_code == status
    fragment = make_client(client_as, who).get(reverse("shop-deliveries"), headers=HX)
    assert fragment.status_code == status


def test_the_page_lists_each_delivery_with_its_status_and_last_answer(
    client_as, deliveries, django_assert_max_num_queries
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    with django_assert_max_num_queries(16):  # login, roles, the sweep, the table
        response = client.get(reverse("shop-deliveries"))
    html = response.content.decode()
    assert 'id="webhook-deliveries"' in html
    assert "reflow" in html
    for delivery in deliveries:
        assert f'id="delivery-row-{delivery.pk}"' in html
    assert "HTTP 500 Oops" in html
    assert "https://shop.example/bd-hooks" in html
    # one retry button: the failed one
    assert html.count(">Retry</button>") == 1
    assert reverse("shop-delivery-retry", args=[deliveries[1].pk]) in html


def test_the_fragment_is_the_table_alone_and_filters_apply(client_as, deliveries) -> None:
    client = client_as(Role.PURCHASING)
    response = client.get(reverse("shop-deliveries"), {"status": "failed"}, headers=HX)
    html = response.content.decode()
    assert "<h1>" not in html
    assert f'id="delivery-row-{deliveries[1].pk}"' in html
    assert f'id="delivery-row-{deliveries[0].pk}"' not in html


def test_a_bad_filter_value_is_a_clear_message_not_an_error(client_as, deliveries) -> None:
    response = client_as(Role.PURCHASING).get(
        reverse("shop-deliveries"), {"status": "exploded", "event_type": "x" * 500, "page": "zz"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_retry_puts_a_failed_delivery_back_and_tells_the_page(
    client_as, deliveries, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    published: list[int] = []

    def publish(pk: int, countdown: float | None = None) -> bool:
        published.append(pk)
        return True

    monkeypatch.setattr("notifications.services.webhooks._publish", publish)
    failed = deliveries[1]
    client = client_as(Role.CUSTOMER_SERVICE)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("shop-delivery-retry", args=[failed.pk]), headers=HX)
    assert response.status_code == 204
    assert "webhookDeliveryRetried" in response["HX-Trigger"]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (WebhookDeliveryStatus.PENDING, 0)
    assert published == [failed.pk]


def test_retry_of_a_delivered_one_changes_nothing_and_says_why(client_as, deliveries) -> None:
    delivered = deliveries[0]
    response = client_as(Role.PURCHASING).post(
        reverse("shop-delivery-retry", args=[delivered.pk]), follow=True
    )
    assert response.status_code == 200
    assert "Only a failed delivery can be sent again" in response.content.decode()
    delivered.refresh_from_db()
    assert delivered.status == WebhookDeliveryStatus.DELIVERED


def test_retry_of_an_unknown_delivery_is_404(client_as) -> None:
    response = client_as(Role.PURCHASING).post(reverse("shop-delivery-retry", args=[999999]))
    assert response.status_code == 404
