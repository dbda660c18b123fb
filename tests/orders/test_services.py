"""The order use cases: place, receive into the queue, ship, cancel, reprioritise, adjust."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from inventory.models import BackorderPolicy, StockMove, StockMoveKind
from orders.checks import stock_problems
from orders.models import OrderLine, Status, Tier
from orders.services.allocation import stock_adjust
from orders.services.cancelling import order_cancel, order_line_cancel
from orders.services.intake import LineRequest, order_place
from orders.services.priority import order_line_set_priority
from orders.services.receiving import purchase_order_receive
from orders.services.shipping import shipment_create

pytestmark = pytest.mark.django_db


def line_of(order) -> OrderLine:
    return order.lines.get()


# --- placing ---------------------------------------------------------------


def test_order_takes_available_stock_and_backorders_the_rest(shop) -> None:
    product = shop.product()
    shop.receive(product, 5)
    # when
    order = shop.order(product, 8)
    # then
    line = line_of(order)
    assert (line.allocated, line.backordered) == (5, 3)
    assert line.status == Status.BACKORDERED
    assert order.number == f"SO-{order.pk:07d}"
    level = shop.level(product)
    assert (level.on_hand, level.allocated) == (5, 5)
    move = StockMove.objects.filter(kind=StockMoveKind.ALLOCATION).get()
    assert (move.quantity, move.reference, move.created_by) == (5, line.reference, shop.clerk)
    assert stock_problems() == []


def test_fully_stocked_order_is_ready_to_ship(shop) -> None:
    product = shop.product()
    shop.receive(product, 5)
    order = shop.order(product, 5)
    assert line_of(order).status == Status.READY_TO_SHIP
    assert order.status == Status.READY_TO_SHIP


def test_denied_backorder_refuses_the_whole_order_with_a_reason(shop, unchanged) -> None:
    allowed = shop.product()
    denied = shop.product(sku="NO-BACKORDER", backorder_policy=BackorderPolicy.DENY)
    shop.receive(denied, 2)
    customer = shop.customer()
    with unchanged(), pytest.raises(ValidationError) as refused:
        order_place(
            customer=customer,
            warehouse=shop.warehouse,
            lines=[LineRequest(allowed, 1), LineRequest(denied, 3)],
            by=shop.clerk,
        )
    assert "NO-BACKORDER: only 2 in stock and this product is not sold on backorder." in str(
        refused.value
    )


def test_capped_backorders_allow_up_to_the_cap(shop, unchanged) -> None:
    product = shop.product(sku="CAPPED", backorder_policy=BackorderPolicy.CAP, backorder_cap=5)
    shop.order(product, 4)
    shop.order(product, 1)
    with unchanged(), pytest.raises(ValidationError, match=r"0 more may be backordered \(cap 5\)"):
        shop.order(product, 1)


@pytest.mark.parametrize("quantity", [0, -1, 2.5, "3", True])
def test_bad_quantities_are_refused(shop, unchanged, quantity) -> None:
    product = shop.product()
    with unchanged(), pytest.raises(ValidationError, match="whole number of units above zero"):
        order_place(
            customer=shop.customer(),
            warehouse=shop.warehouse,
            lines=[LineRequest(product, quantity)],
            by=shop.clerk,
        )


def test_inactive_product_is_refused(shop, unchanged) -> None:
    product = shop.product(sku="OLD-1", active=False)
    with unchanged(), pytest.raises(ValidationError, match="OLD-1 is no longer sold"):
        shop.order(product, 1)


def test_duplicate_storefront_reference_is_refused(shop, unchanged) -> None:
    product = shop.product()
    customer = shop.customer()
    order_place(
        customer=customer,
        warehouse=shop.warehouse,
        lines=[LineRequest(product, 1)],
        by=None,
        external_reference="web-1001",
    )
    with unchanged(), pytest.raises(ValidationError, match="storefront reference already exists"):
        order_place(
            customer=customer,
            warehouse=shop.warehouse,
            lines=[LineRequest(product, 1)],
            by=None,
            external_reference="web-1001",
        )


# --- receiving into the queue ------------------------------------------------


def test_receipt_fills_the_queue_in_priority_tier_and_time_order(shop) -> None:
    product = shop.product()
    start = timezone.now() - dt.timedelta(days=3)
    first = line_of(shop.order(product, 2, placed_at=start))
    vip_later = line_of(
        shop.order(
            product, 2, customer=shop.customer(Tier.VIP), placed_at=start + dt.timedelta(hours=1)
        )
    )
    pushed = line_of(shop.order(product, 2, placed_at=start + dt.timedelta(hours=2)))
    last = line_of(shop.order(product, 2, placed_at=start + dt.timedelta(hours=3)))
    order_line_set_priority(line=pushed, priority=10, by=shop.clerk)
    # when 5 units arrive for 8 waiting
    result = shop.receive(product, 5)
    # then: manual priority, then VIP tier, then first come first served
    got = [(a.line_id, a.quantity, a.ready_to_ship) for a in result.allocations]
    assert got == [(pushed.pk, 2, True), (vip_later.pk, 2, True), (first.pk, 1, False)]
    last.refresh_from_db()
    assert last.allocated == 0
    assert result.left_in_stock == {}
    assert len(result.ready_orders) == 2
    assert stock_problems() == []


def test_receipt_beyond_the_queue_stays_in_stock(shop) -> None:
    product = shop.product(sku="LEFT")
    shop.order(product, 3)
    result = shop.receive(product, 10)
    assert result.left_in_stock == {"LEFT": 7}
    level = shop.level(product)
    assert (level.on_hand, level.allocated, level.available) == (10, 3, 7)


def test_partial_receipts_then_complete(shop) -> None:
    product = shop.product()
    po = shop.purchase(product, 10)
    line = po.lines.get()
    purchase_order_receive(purchase_order=po, quantities={line.pk: 4}, by=shop.clerk)
    po.refresh_from_db()
    assert po.status == "partially_received"
    purchase_order_receive(purchase_order=po, quantities={line.pk: 6}, by=shop.clerk)
    po.refresh_from_db()
    line.refresh_from_db()
    assert (po.status, line.received) == ("received", 10)


def test_over_receipt_is_refused_naming_the_line(shop, unchanged) -> None:
    product = shop.product()
    po = shop.purchase(product, 10)
    line = po.lines.get()
    purchase_order_receive(purchase_order=po, quantities={line.pk: 8}, by=shop.clerk)
    with unchanged(), pytest.raises(ValidationError) as refused:
        purchase_order_receive(purchase_order=po, quantities={line.pk: 3}, by=shop.clerk)
    assert refused.value.message_dict[f"line_{line.pk}"] == [
        "Only 2 of 10 units are still expected on this line."
    ]


@pytest.mark.parametrize("quantity", [-1, 1.5, "2"])
def test_bad_receipt_quantities_are_refused(shop, unchanged, quantity) -> None:
    product = shop.product()
    po = shop.purchase(product, 10)
    line = po.lines.get()
    with unchanged(), pytest.raises(ValidationError, match="whole number of units above zero"):
        purchase_order_receive(purchase_order=po, quantities={line.pk: quantity}, by=shop.clerk)


def test_receipt_with_only_zeros_is_refused(shop, unchanged) -> None:
    po = shop.purchase(shop.product(), 10)
    with unchanged(), pytest.raises(ValidationError, match="at least one line"):
        purchase_order_receive(purchase_order=po, quantities={po.lines.get().pk: 0}, by=shop.clerk)


def test_a_draft_purchase_order_cannot_be_received(shop, unchanged) -> None:
    from suppliers.services import PurchaseLineRequest, purchase_order_create

    po = purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(shop.product(), 5)],
        expected_date=timezone.localdate(),
        by=shop.clerk,
    )
    with unchanged(), pytest.raises(ValidationError, match="only an ordered purchase order"):
        purchase_order_receive(purchase_order=po, quantities={po.lines.get().pk: 5}, by=shop.clerk)


# --- shipping --------------------------------------------------------------


def test_shipping_takes_allocated_units_out_of_stock(shop) -> None:
    product = shop.product()
    shop.receive(product, 3)
    order = shop.order(product, 5)
    shipment = shipment_create(order=order, tracking_number="TRACK-1", by=shop.clerk)
    line = line_of(order)
    assert (line.shipped, line.allocated, line.backordered) == (3, 0, 2)
    assert line.status == Status.BACKORDERED
    assert shipment.lines.get().quantity == 3
    level = shop.level(product)
    assert (level.on_hand, level.allocated) == (0, 0)
    # the rest arrives and ships: the line is done
    shop.receive(product, 2)
    shipment_create(order=order, tracking_number="TRACK-2", by=shop.clerk)
    line.refresh_from_db()
    assert line.status == Status.SHIPPED
    assert order.status == Status.SHIPPED
    assert stock_problems() == []


def test_partial_shipment_of_a_line(shop) -> None:
    product = shop.product()
    shop.receive(product, 4)
    order = shop.order(product, 4)
    line = line_of(order)
    shipment_create(order=order, tracking_number="TRK-1", quantities={line.pk: 1}, by=shop.clerk)
    line.refresh_from_db()
    assert (line.shipped, line.allocated, line.status) == (1, 3, Status.PARTIALLY_SHIPPED)


def test_shipping_more_than_allocated_is_refused(shop, unchanged) -> None:
    product = shop.product()
    shop.receive(product, 1)
    order = shop.order(product, 4)
    line = line_of(order)
    with (
        unchanged(),
        pytest.raises(ValidationError, match="Only 1 units of this line are allocated"),
    ):
        shipment_create(
            order=order, tracking_number="TRK-1", quantities={line.pk: 2}, by=shop.clerk
        )


def test_shipping_needs_a_tracking_number_and_something_to_ship(shop, unchanged) -> None:
    order = shop.order(shop.product(), 2)
    with unchanged(), pytest.raises(ValidationError, match="tracking number"):
        shipment_create(order=order, tracking_number="  ", by=shop.clerk)
    with unchanged(), pytest.raises(ValidationError, match="Nothing on order"):
        shipment_create(order=order, tracking_number="TRK-1", by=shop.clerk)


# --- cancelling ------------------------------------------------------------


def test_cancel_backordered_remainder_records_the_refund(shop) -> None:
    product = shop.product(price=Decimal("12.50"))
    shop.receive(product, 1)
    order = shop.order(product, 4, payment_status="paid")
    line = line_of(order)
    cancellation = order_line_cancel(line=line, reason="customer asked", by=shop.clerk)
    line.refresh_from_db()
    assert (line.cancelled, line.allocated, line.backordered) == (3, 1, 0)
    assert cancellation.refund_due == Decimal("37.50")
    assert cancellation.cancelled_by == shop.clerk
    assert line.status == Status.READY_TO_SHIP


def test_cancelling_more_than_is_backordered_is_refused(shop, unchanged) -> None:
    product = shop.product()
    shop.receive(product, 1)
    line = line_of(shop.order(product, 4))
    with (
        unchanged(),
        pytest.raises(ValidationError, match="Only 3 units of this line are backordered"),
    ):
        order_line_cancel(line=line, quantity=4, reason="too many", by=shop.clerk)


def test_cancel_needs_a_reason(shop, unchanged) -> None:
    line = line_of(shop.order(shop.product(), 2))
    with unchanged(), pytest.raises(ValidationError, match="Say why"):
        order_line_cancel(line=line, reason=" ", by=shop.clerk)


def test_cancelling_an_order_releases_allocated_units_to_the_next_in_queue(shop) -> None:
    product = shop.product()
    shop.receive(product, 3)
    first = shop.order(product, 3)  # takes all three
    waiting = line_of(shop.order(product, 2))
    # when the first order is cancelled
    cancellations = order_cancel(order=first, reason="fraud check failed", by=shop.clerk)
    # then its units go to the next line in the queue
    waiting.refresh_from_db()
    assert waiting.allocated == 2
    assert first.status == Status.CANCELLED
    assert [c.quantity for c in cancellations] == [3]
    level = shop.level(product)
    assert (level.on_hand, level.allocated) == (3, 2)
    kinds = list(StockMove.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == [StockMoveKind.RELEASE, StockMoveKind.ALLOCATION]
    assert stock_problems() == []


def test_cancelling_a_cancelled_order_is_refused(shop, unchanged) -> None:
    order = shop.order(shop.product(), 1)
    order_cancel(order=order, reason="x", by=shop.clerk)
    with unchanged(), pytest.raises(ValidationError, match="nothing left to cancel"):
        order_cancel(order=order, reason="again", by=shop.clerk)


# --- priority and stock ----------------------------------------------------


@pytest.mark.parametrize("priority", [101, -101, 1.5, "high"])
def test_bad_priority_is_refused(shop, unchanged, priority) -> None:
    line = line_of(shop.order(shop.product(), 1))
    with unchanged(), pytest.raises(ValidationError, match="whole number from -100 to 100"):
        order_line_set_priority(line=line, priority=priority, by=shop.clerk)


def test_priority_is_recorded_in_the_line_history_with_its_author(shop) -> None:
    line = line_of(shop.order(shop.product(), 1))
    order_line_set_priority(line=line, priority=5, by=shop.clerk)
    record = line.history.latest()
    assert (record.priority, record.history_user) == (5, shop.clerk)


def test_stock_found_goes_to_the_queue(shop) -> None:
    product = shop.product()
    waiting = line_of(shop.order(product, 2))
    allocations = stock_adjust(
        product=product,
        warehouse=shop.warehouse,
        change=5,
        reason="found in aisle 3",
        by=shop.clerk,
    )
    assert [(a.line_id, a.quantity) for a in allocations] == [(waiting.pk, 2)]
    move = StockMove.objects.get(kind=StockMoveKind.ADJUSTMENT)
    assert (move.on_hand_change, move.note) == (5, "found in aisle 3")
    assert stock_problems() == []


def test_stock_cannot_be_adjusted_below_what_is_allocated(shop, unchanged) -> None:
    product = shop.product()
    shop.receive(product, 5)
    shop.order(product, 4)
    with (
        unchanged(),
        pytest.raises(ValidationError, match="Only 1 units are free; 4 are allocated"),
    ):
        stock_adjust(
            product=product, warehouse=shop.warehouse, change=-2, reason="broken", by=shop.clerk
        )


@pytest.mark.parametrize(
    ("change", "reason", "message"), [(0, "x", "other than zero"), (3, "", "Say why")]
)
def test_bad_adjustments_are_refused(shop, unchanged, change, reason, message) -> None:
    product = shop.product()
    with unchanged(), pytest.raises(ValidationError, match=message):
        stock_adjust(
            product=product, warehouse=shop.warehouse, change=change, reason=reason, by=shop.clerk
        )
