"""Transfers between warehouses: the rules of shipping and receiving, the
ledger, promises at the destination and what the customers are told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory.models import (
    StockLevel,
    StockMove,
    StockMoveKind,
    Transfer,
    TransferRoute,
    TransferStatus,
)
from notifications import updates
from notifications.models import Notification, NotificationKind
from orders.checks import stock_problems
from orders.models import OrderLine, PromiseRevision, Tier
from orders.selectors.shortfall import shortfall_rows
from orders.services.allocation import stock_adjust
from orders.services.intake import LineRequest, order_place
from orders.services.transfers import transfer_receive, transfer_ship
from tests.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(shop):
    return WarehouseFactory.create(code="EAST")


def stock_in(shop, product, warehouse, units: int) -> None:
    stock_adjust(product=product, warehouse=warehouse, change=units, reason="count", by=shop.clerk)


def level(product, warehouse) -> StockLevel:
    return StockLevel.objects.get(product=product, warehouse=warehouse)


def waiting_order(shop, product, quantity: int, *, tier: int = Tier.STANDARD, minutes: int = 0):
    """An order at the shop's main warehouse that waits for all its units."""
    return updates.order_place(
        customer=shop.customer(tier=tier),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, quantity)],
        placed_at=timezone.now() - dt.timedelta(minutes=60 - minutes),
        by=shop.clerk,
    )


# --- shipping ----------------------------------------------------------------


def test_shipping_takes_free_units_out_and_puts_them_in_transit(shop, east) -> None:
    product = shop.product()
    stock_in(shop, product, east, 10)
    TransferRoute.objects.create(from_warehouse=east, to_warehouse=shop.warehouse, transit_days=5)
    # when
    shipped = transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=4, by=shop.clerk
    )
    # then
    transfer = shipped.transfer
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert transfer.expected_date == timezone.localdate() + dt.timedelta(days=5)
    assert transfer.shipped_by == shop.clerk
    assert (level(product, east).on_hand, level(product, east).allocated) == (6, 0)
    assert level(product, shop.warehouse).on_hand == 0
    move = StockMove.objects.get(kind=StockMoveKind.TRANSFER_OUT)
    assert (move.warehouse_id, move.on_hand_change, move.reference) == (
        east.pk,
        -4,
        transfer.number,
    )
    assert stock_problems() == []


def test_a_pair_without_a_route_takes_three_days(shop, east) -> None:
    product = shop.product()
    stock_in(shop, product, east, 2)
    shipped = transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=2, by=None
    )
    assert shipped.transfer.expected_date == timezone.localdate() + dt.timedelta(days=3)


@pytest.mark.parametrize(
    ("quantity", "same", "product_missing", "field"),
    [
        (0, False, False, "quantity"),
        (-3, False, False, "quantity"),
        ("5", False, False, "quantity"),
        (7, False, False, "quantity"),  # 6 free: 4 of 10 are allocated
        (2, True, False, "to_warehouse"),
        (2, False, True, "product"),
        (2_000_000, False, False, "quantity"),
    ],
)
def test_bad_transfers_are_refused_and_change_nothing(
    shop, east, unchanged, quantity, same, product_missing, field
) -> None:
    product = shop.product()
    stock_in(shop, product, east, 10)
    order_place(
        customer=shop.customer(), warehouse=east, lines=[LineRequest(product, 4)], by=shop.clerk
    )
    assert level(product, east).available == 6
    with unchanged(), pytest.raises(ValidationError) as refused:
        transfer_ship(
            product=None if product_missing else product,
            from_warehouse=east,
            to_warehouse=east if same else shop.warehouse,
            quantity=quantity,
            by=shop.clerk,
        )
    assert field in refused.value.message_dict
    assert not Transfer.objects.exists()


def test_allocated_units_never_leave(shop, east) -> None:
    product = shop.product()
    stock_in(shop, product, east, 3)
    order_place(
        customer=shop.customer(), warehouse=east, lines=[LineRequest(product, 3)], by=shop.clerk
    )
    with pytest.raises(ValidationError, match="Only 0 units are free in EAST"):
        transfer_ship(
            product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=1, by=None
        )


# --- promises and what customers hear ------------------------------------------


def test_promises_move_earlier_when_a_transfer_is_shipped(shop, east) -> None:
    product = shop.product(default_lead_time_days=30)
    first = waiting_order(shop, product, 2, minutes=0)
    second = waiting_order(shop, product, 3, minutes=1)
    third = waiting_order(shop, product, 4, minutes=2)
    before = {line.pk: line.promised_date for line in OrderLine.objects.all()}
    assert all(line.promise_is_estimate for line in OrderLine.objects.all())
    stock_in(shop, product, east, 5)
    # when: 5 units cover the first two lines
    shipped = updates.transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=5, by=shop.clerk
    )
    # then
    arrival = shipped.transfer.expected_date
    for order in (first, second):
        line = order.lines.get()
        assert not line.promise_is_estimate
        assert arrival <= line.promised_date < before[line.pk]
        revision = PromiseRevision.objects.filter(line=line).latest("pk")
        assert revision.covered_by == shipped.transfer.number
    assert third.lines.get().promise_is_estimate
    # each customer whose promise moved is told once
    told = Notification.objects.filter(kind=NotificationKind.PROMISE_EARLIER)
    assert sorted(told.values_list("order_id", flat=True)) == sorted([first.pk, second.pk])
    # a receipt that changes no promise date tells no one again
    transfer_count = told.count()
    updates.transfer_receive(transfer_id=shipped.transfer.pk, by=shop.clerk)
    assert told.count() == transfer_count


def test_a_second_transfer_soon_after_combines_into_the_same_message(shop, east) -> None:
    product = shop.product(default_lead_time_days=30)
    order = waiting_order(shop, product, 4)
    stock_in(shop, product, east, 4)
    for _ in range(2):
        updates.transfer_ship(
            product=product,
            from_warehouse=east,
            to_warehouse=shop.warehouse,
            quantity=2,
            by=shop.clerk,
        )
    assert Notification.objects.filter(order=order, kind__startswith="promise").count() == 1


def test_shortfall_does_not_ask_to_buy_what_is_in_transit(shop, east) -> None:
    product = shop.product()
    waiting_order(shop, product, 5)
    stock_in(shop, product, east, 3)
    assert [row.shortfall for row in shortfall_rows()] == [5]
    updates.transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=3, by=None
    )
    rows = shortfall_rows()
    assert [(row.inbound, row.shortfall) for row in rows] == [(3, 2)]


def test_a_new_order_is_promised_the_transfer(shop, east) -> None:
    product = shop.product(default_lead_time_days=30)
    stock_in(shop, product, east, 5)
    shipped = transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=5, by=None
    )
    order = shop.order(product, 2)
    line = order.lines.get()
    assert not line.promise_is_estimate
    assert shipped.transfer.expected_date <= line.promised_date
    assert line.promised_date < timezone.localdate() + dt.timedelta(days=30)


# --- receiving -----------------------------------------------------------------


def test_receipt_allocates_in_queue_order_and_tells_the_ready(shop, east) -> None:
    product = shop.product()
    late = waiting_order(shop, product, 2, minutes=5)
    early = waiting_order(shop, product, 3, minutes=0)
    vip = waiting_order(shop, product, 2, tier=Tier.VIP, minutes=9)
    stock_in(shop, product, east, 6)
    shipped = transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=6, by=None
    )
    # when
    received = updates.transfer_receive(transfer_id=shipped.transfer.pk, by=shop.clerk)
    # then: the VIP first, then first come first served; the last gets what is left
    assert [(a.order_number, a.quantity) for a in received.allocations] == [
        (vip.number, 2),
        (early.number, 3),
        (late.number, 1),
    ]
    assert received.ready_orders == sorted([vip.number, early.number])
    ready = Notification.objects.filter(kind=NotificationKind.READY_TO_SHIP)
    assert sorted(ready.values_list("order_id", flat=True)) == sorted([vip.pk, early.pk])
    transfer = Transfer.objects.get()
    assert (transfer.status, transfer.received_by) == (TransferStatus.RECEIVED, shop.clerk)
    destination = level(product, shop.warehouse)
    assert (destination.on_hand, destination.allocated) == (6, 6)
    move = StockMove.objects.get(kind=StockMoveKind.TRANSFER_IN)
    assert (move.warehouse_id, move.on_hand_change) == (shop.warehouse.pk, 6)
    assert stock_problems() == []


def test_a_transfer_is_received_once(shop, east, unchanged) -> None:
    product = shop.product()
    stock_in(shop, product, east, 2)
    shipped = transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=2, by=None
    )
    transfer_receive(transfer_id=shipped.transfer.pk, by=None)
    with unchanged(), pytest.raises(ValidationError, match="already received"):
        transfer_receive(transfer_id=shipped.transfer.pk, by=None)
    with unchanged(), pytest.raises(ValidationError, match="no such transfer"):
        transfer_receive(transfer_id=shipped.transfer.pk + 100, by=None)


# --- check_stock ---------------------------------------------------------------


def test_check_stock_finds_a_transfer_the_ledger_does_not_match(shop, east) -> None:
    product = shop.product()
    stock_in(shop, product, east, 5)
    shipped = transfer_ship(
        product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=5, by=None
    )
    assert stock_problems() == []
    # a transfer marked received behind the use case's back: no units came in
    Transfer.objects.filter(pk=shipped.transfer.pk).update(status=TransferStatus.RECEIVED)
    problems = stock_problems()
    assert len(problems) == 1
    assert shipped.transfer.number in problems[0]
    assert "5 units out and 0 units in" in problems[0]
