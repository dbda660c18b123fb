"""Promise accuracy over a range (kept by the first and the latest date, by
week, by supplier), why each broken promise broke, and the line fill rate as
the trade defines it. The page: tests/desk/test_dashboard.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from notifications import updates
from notifications.accuracy import (
    BrokenReason,
    DateRange,
    Revision,
    broken_reason,
    promise_accuracy,
)
from notifications.fill_rate import line_fill_rate
from orders.models import Cancellation, OrderLine, SalesOrder, Shipment, ShipmentLine, Tier
from tests.factories import OrderLineFactory, SalesOrderFactory

FIRST = dt.date(2026, 3, 10)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def moved(
    old: dt.date | None,
    new: dt.date,
    cause: str,
    *,
    on: dt.date = FIRST - dt.timedelta(days=5),
    estimate: bool = False,
) -> Revision:
    return Revision(
        created_at=at(on), old_date=old, new_date=new, old_is_estimate=estimate, cause=cause
    )


FIRST_PROMISE = moved(None, FIRST, "SO-0000001 placed", on=FIRST - dt.timedelta(days=20))
LATER = FIRST + dt.timedelta(days=6)


# --- one reason per broken promise, on constructed histories -------------------------


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        ([moved(FIRST, LATER, "PO-000004 expected date moved")], BrokenReason.SUPPLIER_SLIP),
        ([moved(FIRST, LATER, "SO-0000009 placed")], BrokenReason.QUEUE_JUMP),
        ([moved(FIRST, LATER, "queue priority changed")], BrokenReason.QUEUE_JUMP),
        (
            [moved(FIRST, LATER, "SO-0000003: GD-A substituted with GD-B")],
            BrokenReason.QUEUE_JUMP,
        ),
        ([moved(FIRST, LATER, "PO-000004 cancelled")], BrokenReason.SUPPLY_CANCELLED),
        (
            [moved(FIRST, LATER, "PO-000007 ordered", estimate=True)],
            BrokenReason.ESTIMATE_TOO_EARLY,
        ),
        (
            [moved(FIRST, LATER, "promised date passed", estimate=True)],
            BrokenReason.ESTIMATE_TOO_EARLY,
        ),
        (
            [moved(FIRST, LATER, "promised date passed", on=FIRST + dt.timedelta(days=1))],
            BrokenReason.OVERDUE_UNTOLD,
        ),
        ([], BrokenReason.OVERDUE_UNTOLD),  # never moved, shipped late: nobody was told
        ([moved(FIRST, LATER, "stock adjusted")], BrokenReason.OTHER),
        ([moved(FIRST, LATER, "SO-0000002 cancelled")], BrokenReason.OTHER),
        (
            # moved earlier, then back to the first date (not past it), then a slip past it
            [
                moved(FIRST, FIRST - dt.timedelta(days=2), "PO-000001 confirmed"),
                moved(FIRST - dt.timedelta(days=2), FIRST, "SO-0000005 placed"),
                moved(FIRST, LATER, "PO-000001 expected date moved", on=FIRST),
            ],
            BrokenReason.SUPPLIER_SLIP,
        ),
    ],
)
def test_each_broken_promise_gets_the_reason_of_the_move_past_its_first_date(
    history: list[Revision], reason: str
) -> None:
    got = broken_reason(
        first_promise=FIRST,
        shipped_on=LATER,
        ready_on=LATER,
        history=[FIRST_PROMISE, *reversed(history)],  # order of the list does not matter
    )

    assert got == reason


def test_ready_by_the_date_but_shipped_after_it_is_the_warehouse_whatever_moved() -> None:
    slip = moved(FIRST, LATER, "PO-000004 expected date moved")

    for ready in (FIRST, FIRST - dt.timedelta(days=3)):
        assert (
            broken_reason(
                first_promise=FIRST,
                shipped_on=FIRST + dt.timedelta(days=1),
                ready_on=ready,
                history=[FIRST_PROMISE, slip],
            )
            == BrokenReason.SHIPPED_LATE
        )
    # ready a day after the date: the slip broke it
    assert (
        broken_reason(
            first_promise=FIRST,
            shipped_on=LATER,
            ready_on=FIRST + dt.timedelta(days=1),
            history=[FIRST_PROMISE, slip],
        )
        == BrokenReason.SUPPLIER_SLIP
    )


def test_a_promise_kept_has_no_reason() -> None:
    slip = moved(FIRST, LATER, "PO-000004 expected date moved")
    for shipped_on in (FIRST, FIRST - dt.timedelta(days=1)):
        assert (
            broken_reason(first_promise=FIRST, shipped_on=shipped_on, ready_on=None, history=[slip])
            is None
        )


def test_date_range_weeks_start_on_monday_and_are_cut_to_the_range() -> None:
    span = DateRange(dt.date(2026, 12, 2), dt.date(2026, 12, 15))  # Wednesday to Tuesday

    assert span.days == 14
    assert span.weeks() == [
        (dt.date(2026, 12, 2), dt.date(2026, 12, 6)),
        (dt.date(2026, 12, 7), dt.date(2026, 12, 13)),
        (dt.date(2026, 12, 14), dt.date(2026, 12, 15)),
    ]
    assert DateRange.last_days(7, today=dt.date(2026, 12, 4)).first_day == dt.date(2026, 11, 28)


# --- through the services: history, ledger and shipments --------------------------


@pytest.mark.django_db
def test_reasons_come_from_the_recorded_history_of_real_use_cases(shop) -> None:
    # given: two products, each with a purchase order placed before the orders,
    # so each first promise rests on that purchase order (not an estimate)
    start = timezone.now() - dt.timedelta(days=40)
    slipping, held = shop.product(sku="SLIP-1"), shop.product(sku="HELD-1")
    with time_machine.travel(start, tick=False):
        po_slip = shop.purchase(slipping, 1, days=5)
        po_held = shop.purchase(held, 1, days=5)
        slip_order = shop.order(slipping, 1)
        held_order = shop.order(held, 1)
    slip_line, held_line = slip_order.lines.get(), held_order.lines.get()
    slip_first, held_first = slip_line.first_promised_date, held_line.first_promised_date
    assert slip_first and held_first and not slip_line.promise_is_estimate

    # when: the supplier moves one date 10 days later; both arrive when due then
    with time_machine.travel(start + dt.timedelta(days=2), tick=False):
        updates.purchase_order_move_expected_date(
            purchase_order=po_slip,
            new_date=timezone.localdate() + dt.timedelta(days=13),
            reason="factory closed",
            by=shop.clerk,
        )
    with time_machine.travel(start + dt.timedelta(days=4), tick=False):
        updates.purchase_order_receive(
            purchase_order=po_held, quantities={po_held.lines.get().pk: 1}, by=shop.clerk
        )
    with time_machine.travel(start + dt.timedelta(days=15), tick=False):
        updates.purchase_order_receive(
            purchase_order=po_slip, quantities={po_slip.lines.get().pk: 1}, by=shop.clerk
        )
        # the warehouse ships both only now: one was ready in time, one was not
        for order in (slip_order, held_order):
            updates.shipment_create(order=order, tracking_number=f"T-{order.pk}", by=shop.clerk)

    # then
    accuracy = promise_accuracy(DateRange.last_days(90))
    assert accuracy.total.shipped == 2 and accuracy.total.kept_first == 0
    assert accuracy.lines_by_reason == {
        BrokenReason.SUPPLIER_SLIP: [slip_line.pk],
        BrokenReason.SHIPPED_LATE: [held_line.pk],
    }
    assert {r.code: r.lines for r in accuracy.reasons if r.lines} == {
        BrokenReason.SUPPLIER_SLIP: 1,
        BrokenReason.SHIPPED_LATE: 1,
    }
    assert [(s.supplier, s.supplier_id, s.kept.shipped) for s in accuracy.suppliers] == [
        (shop.supplier.name, shop.supplier.pk, 2)
    ]
    assert sorted(accuracy.lines_by_supplier[shop.supplier.pk]) == sorted(
        [slip_line.pk, held_line.pk]
    )
    # by the latest promise: the slipped line shipped on its new date, the held one late
    assert accuracy.total.kept_latest == 1


@pytest.mark.django_db
def test_a_vip_order_placed_ahead_is_a_queue_jump(shop) -> None:
    start = timezone.now() - dt.timedelta(days=30)
    product = shop.product()
    with time_machine.travel(start, tick=False):
        po = shop.purchase(product, 1, days=5)
        standard = shop.order(product, 1)
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        shop.order(product, 1, customer=shop.customer(tier=Tier.VIP))
        later_po = shop.purchase(product, 1, days=14)
    with time_machine.travel(start + dt.timedelta(days=15), tick=False):
        for supply in (po, later_po):
            updates.purchase_order_receive(
                purchase_order=supply, quantities={supply.lines.get().pk: 1}, by=shop.clerk
            )
        updates.shipment_create(order=standard, tracking_number="T-STD", by=shop.clerk)

    accuracy = promise_accuracy(DateRange.last_days(90))

    assert accuracy.lines_by_reason.get(BrokenReason.QUEUE_JUMP) == [standard.lines.get().pk]


@pytest.mark.django_db
def test_promises_kept_compare_the_last_shipment_with_the_first_and_latest_promise() -> None:
    today = timezone.localdate()

    def shipped(first: dt.date, latest: dt.date, *ships: tuple[int, int]) -> None:
        order = SalesOrderFactory.create()
        line = OrderLineFactory.create(
            order=order,
            ordered=sum(q for _d, q in ships),
            shipped=sum(q for _d, q in ships),
            first_promised_date=first,
            promised_date=latest,
        )
        for days_ago, quantity in ships:
            shipment = Shipment.objects.create(
                order=order, tracking_number="T", shipped_at=at(today - dt.timedelta(days_ago))
            )
            ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=quantity)

    shipped(today, today, (0, 1))  # kept: on the day
    shipped(today - dt.timedelta(3), today, (0, 1))  # late by the first, kept by the latest
    # first part before the promise, the last after it: late
    shipped(today - dt.timedelta(2), today - dt.timedelta(2), (5, 1), (0, 1))
    shipped(today - dt.timedelta(200), today, (100, 1))  # last shipment before the range

    accuracy = promise_accuracy(DateRange.last_days(90))

    assert (accuracy.total.shipped, accuracy.total.kept_first, accuracy.total.kept_latest) == (
        3,
        1,
        2,
    )
    assert accuracy.total.percent_first == 33
    assert sum(week.kept.shipped for week in accuracy.weeks) == 3


# --- line fill rate ------------------------------------------------------------------


@pytest.mark.django_db
def test_fill_rate_is_lines_complete_in_their_first_shipment_over_lines_shipped() -> None:
    today = timezone.localdate()
    day = at(today - dt.timedelta(days=3))

    def line(ordered: int, *ships: tuple[dt.datetime, int], cancel: Any = None) -> OrderLine:
        order = SalesOrderFactory.create()
        made = OrderLineFactory.create(order=order, ordered=ordered)
        for when, quantity in ships:
            shipment = Shipment.objects.create(order=order, tracking_number="T", shipped_at=when)
            ShipmentLine.objects.create(shipment=shipment, order_line=made, quantity=quantity)
        if cancel:
            when, quantity = cancel
            cancellation = Cancellation.objects.create(
                order_line=made, quantity=quantity, reason="customer"
            )
            Cancellation.objects.filter(pk=cancellation.pk).update(cancelled_at=when)
        return made

    line(2, (day, 2))  # complete in one shipment
    line(3, (day, 2), cancel=(day - dt.timedelta(days=1), 1))  # 1 cancelled before: complete
    line(2, (day, 1), (day + dt.timedelta(days=1), 1))  # in two parts: not
    line(2, (day, 1), cancel=(day + dt.timedelta(hours=2), 1))  # short, rest cancelled: not
    line(2, (at(today - dt.timedelta(days=120)), 2))  # first shipped before the range
    line(2)  # never shipped

    fill = line_fill_rate(DateRange.last_days(30))

    assert (fill.total.shipped, fill.total.complete, fill.total.percent) == (4, 2, 50)
    assert fill.total.split == 2
    assert sum(week.fill.shipped for week in fill.weeks) == 4


@pytest.mark.django_db
def test_accuracy_and_fill_rate_run_three_queries_whatever_the_range(
    django_assert_num_queries: Any,
) -> None:
    order = SalesOrderFactory.create()
    line = OrderLineFactory.create(
        order=order, ordered=1, shipped=1, first_promised_date=timezone.localdate()
    )
    shipment = Shipment.objects.create(order=order, tracking_number="T")
    ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=1)
    assert SalesOrder.objects.count() == 1

    for days in (7, 366):
        span = DateRange.last_days(days)
        with django_assert_num_queries(3):
            promise_accuracy(span)
            line_fill_rate(span)
