"""Shipping chosen lines and quantities, and the shipping desk's reads (every open line)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from orders.checks import stock_problems
from orders.models import OrderLine, SalesOrder, ShipPreference, Status
from orders.selectors.shipping import shipping_order, shipping_orders
from orders.services.intake import LineRequest, order_place
from orders.services.shipping import order_ship_preference_set, shipment_create
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def three_lines(shop: Shop, tag: str = "1") -> tuple[SalesOrder, list[OrderLine]]:
    """LAMP × 2 (ready), CHAIR × 5 with 3 allocated (partly ready), RUG × 2 (waiting)."""
    lamp, chair, rug = (shop.product(sku=f"{sku}-{tag}") for sku in ("LAMP", "CHAIR", "RUG"))
    shop.receive(lamp, 2)
    shop.receive(chair, 3)
    order = order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(lamp, 2), LineRequest(chair, 5), LineRequest(rug, 2)],
        by=shop.clerk,
    )
    return order, list(order.lines.order_by("pk"))


def test_ships_only_the_chosen_lines_and_quantities(shop: Shop) -> None:
    # given
    order, (lamp, chair, rug) = three_lines(shop)

    # when: one lamp of two, the chair line not at all
    shipment = shipment_create(
        order=order, tracking_number="TRK-9", quantities={lamp.pk: 1}, by=shop.clerk
    )

    # then
    for line in (lamp, chair, rug):
        line.refresh_from_db()
    assert [(s.order_line_id, s.quantity) for s in shipment.lines.all()] == [(lamp.pk, 1)]
    assert (lamp.shipped, lamp.allocated) == (1, 1)
    assert (chair.shipped, chair.allocated, chair.backordered) == (0, 3, 2)
    assert (rug.shipped, rug.allocated, rug.backordered) == (0, 0, 2)
    assert shop.level(lamp.product).on_hand == 1
    assert shop.level(chair.product).on_hand == 3
    assert stock_problems() == []


def test_one_bad_line_ships_nothing(shop: Shop, unchanged) -> None:
    order, (lamp, chair, rug) = three_lines(shop)

    with unchanged(), pytest.raises(ValidationError) as caught:
        shipment_create(
            order=order,
            tracking_number="TRK-9",
            quantities={lamp.pk: 2, chair.pk: 4, rug.pk: 1},
            by=shop.clerk,
        )

    errors = caught.value.message_dict
    assert set(errors) == {f"line_{chair.pk}", f"line_{rug.pk}"}
    assert "Only 3 units" in errors[f"line_{chair.pk}"][0]
    assert "Only 0 units" in errors[f"line_{rug.pk}"][0]


def test_a_line_of_another_order_is_refused(shop: Shop, unchanged) -> None:
    order, _lines = three_lines(shop)
    _other, (other_lamp, *_rest) = three_lines(shop, tag="2")

    with unchanged(), pytest.raises(ValidationError, match="not on order"):
        shipment_create(
            order=order, tracking_number="TRK-1", quantities={other_lamp.pk: 1}, by=shop.clerk
        )


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_refused(shop: Shop, unchanged, quantity: int) -> None:
    order, (lamp, *_rest) = three_lines(shop)

    with unchanged(), pytest.raises(ValidationError, match="above zero"):
        shipment_create(
            order=order, tracking_number="TRK-1", quantities={lamp.pk: quantity}, by=shop.clerk
        )


def test_the_desk_sees_every_open_line_of_a_ready_order(
    shop: Shop, django_assert_num_queries
) -> None:
    # given: a ready order, and one with nothing allocated
    order, (lamp, chair, rug) = three_lines(shop)
    shop.order(shop.product(sku="WAIT-1"), 1)

    # when
    with django_assert_num_queries(2):
        orders = list(shipping_orders())
        lines = [line.pk for found in orders for line in found.open_lines]  # type: ignore[attr-defined]

    # then
    assert [found.pk for found in orders] == [order.pk]
    assert lines == [lamp.pk, chair.pk, rug.pk]
    assert orders[0].has_waiting is True  # type: ignore[attr-defined]


def test_shipped_lines_leave_the_desk_and_the_warehouse_filters(shop: Shop) -> None:
    order, (lamp, chair, rug) = three_lines(shop)
    shipment_create(order=order, tracking_number="TRK-1", quantities={lamp.pk: 2}, by=shop.clerk)

    found = shipping_order(number=order.number)

    assert [line.pk for line in found.open_lines] == [chair.pk, rug.pk]  # type: ignore[attr-defined]
    assert found.status_from(found.open_lines) == Status.BACKORDERED  # type: ignore[attr-defined]
    assert list(shipping_orders(warehouse_id=shop.warehouse.pk)) == [found]
    assert list(shipping_orders(warehouse_id=shop.warehouse.pk + 1000)) == []


def test_an_order_can_be_held_until_complete_and_released(shop: Shop) -> None:
    order, _lines = three_lines(shop)
    assert order.ship_preference == ShipPreference.NOT_SAID

    order_ship_preference_set(order=order, preference=ShipPreference.HOLD, by=shop.clerk)

    order.refresh_from_db()
    assert order.ship_preference == ShipPreference.HOLD
    assert order.history.first().history_user == shop.clerk
    order_ship_preference_set(order=order, preference=ShipPreference.SHIP_READY, by=shop.clerk)
    assert shipping_order(number=order.number).ship_preference == ShipPreference.SHIP_READY


def test_an_unknown_ship_preference_is_refused(shop: Shop, unchanged) -> None:
    order, _lines = three_lines(shop)

    with unchanged(), pytest.raises(ValidationError, match="Choose to ship"):
        order_ship_preference_set(order=order, preference="maybe", by=shop.clerk)
