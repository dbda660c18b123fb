"""Adjusting stock from the product page: /products/<sku>/adjust/."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from config.roles import Role
from inventory.limits import MAX_QUANTITY
from inventory.models import Product, StockMove, StockMoveKind
from notifications.models import Notification, NotificationKind
from orders.models import OrderLine, SalesOrder
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]

HX = {"HX-Request": "true"}
OUT_OF_RANGE = f"Enter a whole number of units from -{MAX_QUANTITY} to {MAX_QUANTITY}."


@pytest.fixture
def counted(shop: Shop) -> tuple[Product, SalesOrder]:
    """3 lamps received, all allocated to an order of 5 that waits for 2 more."""
    lamp = shop.product(sku="LAMP-1", name="Desk lamp")
    shop.receive(lamp, 3)
    order = shop.order(lamp, 5)
    mail.outbox.clear()
    return lamp, order


def adjust_url(product: Product) -> str:
    return reverse("product-adjust", args=[product.sku])


def data(shop: Shop, change: object, reason: str = "cycle count") -> dict[str, object]:
    return {"warehouse": shop.warehouse.pk, "change": change, "reason": reason}


@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(
    client: Client, shop: Shop, counted, unchanged, headers: dict[str, str]
) -> None:
    lamp, _order = counted

    with unchanged():
        response = client.post(adjust_url(lamp), data(shop, 2), headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.PURCHASING, None])
def test_only_the_warehouse_adjusts(
    client_as: Callable[..., Client], shop: Shop, counted, unchanged, role: Role | None
) -> None:
    lamp, _order = counted
    client = client_as(role) if role else client_as()

    with unchanged():
        response = client.post(adjust_url(lamp), data(shop, 2), headers=HX)

    assert response.status_code == 403


def test_get_is_not_allowed(client_as: Callable[..., Client], counted) -> None:
    lamp, _order = counted

    assert client_as(Role.WAREHOUSE).get(adjust_url(lamp)).status_code == 405


def test_unknown_sku_is_404(client_as: Callable[..., Client], shop: Shop) -> None:
    response = client_as(Role.WAREHOUSE).post("/products/NOPE/adjust/", data(shop, 1), headers=HX)

    assert response.status_code == 404


@pytest.mark.parametrize("superuser", [False, True])
def test_found_units_go_to_the_waiting_order_and_its_customer_is_told(
    client_as: Callable[..., Client], shop: Shop, counted, superuser: bool
) -> None:
    # given: the order of 5 holds the 3 in stock and waits for 2
    lamp, order = counted
    assert OrderLine.objects.get(order=order).backordered == 2
    client = client_as(superuser=True) if superuser else client_as(Role.WAREHOUSE)

    # when
    response = client.post(adjust_url(lamp), data(shop, 4, "found on shelf B"), headers=HX)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="product-stock"' in html
    assert "Stock of LAMP-1 in Warehouse MAIN changed by +4 units." in html
    assert "2 units went to waiting orders" in html
    assert json.loads(response["HX-Trigger"])["stockAdjusted"] == {
        "sku": "LAMP-1",
        "warehouse": "MAIN",
        "change": 4,
        "allocated": 2,
    }
    level = shop.level(lamp)
    assert (level.on_hand, level.allocated) == (7, 5)
    move = StockMove.objects.get(kind=StockMoveKind.ADJUSTMENT)
    assert move.on_hand_change == 4
    assert "found on shelf B" in (move.reference, move.note)
    line = OrderLine.objects.get(order=order)
    assert (line.allocated, line.backordered) == (5, 0)
    assert Notification.objects.filter(kind=NotificationKind.READY_TO_SHIP, order=order).exists()
    assert len(mail.outbox) == 1


def test_a_loss_within_the_free_units(client_as: Callable[..., Client], shop: Shop) -> None:
    lamp = shop.product(sku="LAMP-2")
    shop.receive(lamp, 5)

    response = client_as(Role.WAREHOUSE).post(
        adjust_url(lamp), data(shop, -2, "damaged"), headers=HX
    )

    assert "changed by -2 units." in response.content.decode()
    assert shop.level(lamp).on_hand == 3
    assert "went to waiting orders" not in response.content.decode()


def test_without_htmx_redirects_with_a_message(
    client_as: Callable[..., Client], shop: Shop, counted
) -> None:
    lamp, _order = counted

    response = client_as(Role.WAREHOUSE).post(adjust_url(lamp), data(shop, 1), follow=True)

    assert response.redirect_chain == [(reverse("product", args=["LAMP-1"]), 302)]
    assert "Stock of LAMP-1 in Warehouse MAIN changed by +1 units." in response.content.decode()


@pytest.mark.parametrize(
    ("change", "reason", "message"),
    [
        (0, "cycle count", "Enter a change other than zero."),
        (2, "", "Say why the stock changes."),
        (2, "   ", "Say why the stock changes."),
        (-1, "damaged", "Only 0 units are free; 3 are allocated to orders."),
        ("", "cycle count", "Enter the change in units, e.g. 5 or -2."),
        ("1.5", "cycle count", "Enter a whole number of units, e.g. 5 or -2."),
        (MAX_QUANTITY + 1, "found", OUT_OF_RANGE),
        (1_000_000_000, "found", OUT_OF_RANGE),
        (2**62, "found", OUT_OF_RANGE),
        (10**30, "found", OUT_OF_RANGE),
        (-(10**30), "lost", OUT_OF_RANGE),
    ],
)
def test_refusals_are_shown_beside_the_field_and_change_nothing(
    client_as: Callable[..., Client],
    shop: Shop,
    counted,
    unchanged,
    change: object,
    reason: str,
    message: str,
) -> None:
    lamp, _order = counted

    with unchanged():
        response = client_as(Role.WAREHOUSE).post(
            adjust_url(lamp), data(shop, change, reason), headers=HX
        )

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    error = html.split(f'id="adjust-error-{shop.warehouse.pk}"')[1].split("</p>")[0]
    assert message in error
    assert 'class="row-invalid"' in html and 'aria-invalid="true"' in html
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_a_huge_change_without_htmx_redirects_with_the_message(
    client_as: Callable[..., Client], shop: Shop, counted, unchanged
) -> None:
    lamp, _order = counted

    with unchanged():
        response = client_as(Role.WAREHOUSE).post(adjust_url(lamp), data(shop, 10**30), follow=True)

    assert response.redirect_chain == [(reverse("product", args=["LAMP-1"]), 302)]
    assert OUT_OF_RANGE in response.content.decode()


def test_the_largest_change_is_accepted(client_as: Callable[..., Client], shop: Shop) -> None:
    lamp = shop.product(sku="LAMP-3")

    response = client_as(Role.WAREHOUSE).post(
        adjust_url(lamp), data(shop, MAX_QUANTITY, "opening count"), headers=HX
    )

    assert f"changed by +{MAX_QUANTITY} units." in response.content.decode()
    assert shop.level(lamp).on_hand == MAX_QUANTITY
