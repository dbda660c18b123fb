"""Shipping an order from the ready-to-ship page: /shipping/<number>/ship/."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications.models import Notification, NotificationKind
from orders.models import OrderLine, SalesOrder, Shipment
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]

HX = {"HX-Request": "true"}


@pytest.fixture
def partly_ready(shop: Shop) -> SalesOrder:
    """An order of 5 chairs with 3 allocated (2 still backordered)."""
    chair = shop.product(sku="CHAIR-1", name="Oak chair")
    order = shop.order(chair, 5)
    shop.receive(chair, 3)
    mail.outbox.clear()
    return order


def ship_url(order: SalesOrder) -> str:
    return reverse("order-ship", args=[order.number])


@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(
    client: Client, partly_ready: SalesOrder, unchanged, headers: dict[str, str]
) -> None:
    with unchanged():
        response = client.post(ship_url(partly_ready), {"tracking_number": "TRK1"}, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.PURCHASING, None])
def test_only_the_warehouse_ships(
    client_as: Callable[..., Client], partly_ready: SalesOrder, unchanged, role: Role | None
) -> None:
    client = client_as(role) if role else client_as()

    with unchanged():
        response = client.post(ship_url(partly_ready), {"tracking_number": "TRK1"}, headers=HX)

    assert response.status_code == 403


def test_get_is_not_allowed(client_as: Callable[..., Client], partly_ready: SalesOrder) -> None:
    assert client_as(Role.WAREHOUSE).get(ship_url(partly_ready)).status_code == 405


def test_unknown_order_is_404(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).post(
        "/shipping/SO-NOPE/ship/", {"tracking_number": "TRK-1"}, headers=HX
    )

    assert response.status_code == 404


@pytest.mark.parametrize("superuser", [False, True])
def test_htmx_ship_writes_the_shipment_and_tells_the_customer(
    client_as: Callable[..., Client], partly_ready: SalesOrder, superuser: bool
) -> None:
    # given
    client = client_as(superuser=True) if superuser else client_as(Role.WAREHOUSE)

    # when
    response = client.post(ship_url(partly_ready), {"tracking_number": " TRK-123 "}, headers=HX)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and f'id="ship-order-{partly_ready.pk}"' in html
    assert f"Shipped {partly_ready.number} with tracking TRK-123" in html
    assert json.loads(response["HX-Trigger"])["orderShipped"] == {
        "order": partly_ready.number,
        "tracking_number": "TRK-123",
        "units": 3,
    }
    shipment = Shipment.objects.get(order=partly_ready)
    assert shipment.tracking_number == "TRK-123"
    assert [line.quantity for line in shipment.lines.all()] == [3]
    line = OrderLine.objects.get(order=partly_ready)
    assert (line.allocated, line.shipped, line.backordered) == (0, 3, 2)
    shipped = Notification.objects.get(kind=NotificationKind.SHIPPED, order=partly_ready)
    assert shipped.context["tracking_number"] == "TRK-123"
    assert len(mail.outbox) == 1 and "TRK-123" in mail.outbox[0].body


def test_without_htmx_redirects_with_a_message(
    client_as: Callable[..., Client], partly_ready: SalesOrder
) -> None:
    response = client_as(Role.WAREHOUSE).post(
        ship_url(partly_ready), {"tracking_number": "TRK-9"}, follow=True
    )

    assert response.redirect_chain == [(reverse("shipping"), 302)]
    assert f"Shipped {partly_ready.number} with tracking TRK-9" in response.content.decode()
    assert Shipment.objects.filter(order=partly_ready).count() == 1


@pytest.mark.parametrize("tracking", ["", "   "])
def test_missing_tracking_number_is_refused_beside_the_field(
    client_as: Callable[..., Client], partly_ready: SalesOrder, unchanged, tracking: str
) -> None:
    with unchanged():
        response = client_as(Role.WAREHOUSE).post(
            ship_url(partly_ready), {"tracking_number": tracking}, headers=HX
        )

    assert response.status_code == 200
    html = response.content.decode()
    error = html.split(f'id="tracking-error-{partly_ready.pk}"')[1].split("</p>")[0]
    assert "Enter the carrier&#x27;s tracking number." in error
    assert 'aria-invalid="true"' in html and "HX-Trigger" not in response
    assert Notification.objects.filter(kind=NotificationKind.SHIPPED).count() == 0
    assert mail.outbox == []


def test_a_second_submit_finds_nothing_left_to_ship(
    client_as: Callable[..., Client], partly_ready: SalesOrder, unchanged
) -> None:
    client = client_as(Role.WAREHOUSE)
    client.post(ship_url(partly_ready), {"tracking_number": "TRK-1"}, headers=HX)
    mail.outbox.clear()

    with unchanged():
        response = client.post(ship_url(partly_ready), {"tracking_number": "TRK-1"}, headers=HX)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Nothing on order {partly_ready.number} is ready to ship." in html
    assert "HX-Trigger" not in response
    assert Notification.objects.filter(kind=NotificationKind.SHIPPED).count() == 1
    assert mail.outbox == []


def test_refusal_without_htmx_redirects_with_the_message(
    client_as: Callable[..., Client], partly_ready: SalesOrder, unchanged
) -> None:
    with unchanged():
        response = client_as(Role.WAREHOUSE).post(
            ship_url(partly_ready), {"tracking_number": ""}, follow=True
        )

    assert response.redirect_chain == [(reverse("shipping"), 302)]
    assert "tracking number" in response.content.decode()
