"""The dashboard KPIs: each on a hand-built shop, and a fixed query count.
The page: tests/desk/test_dashboard.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from notifications import updates
from notifications.dashboard import (
    backlog_now,
    compensation_issued,
    dashboard_kpis,
    line_fill_rate,
    promises_kept,
    supplier_on_time,
    supplier_slips,
    top_backordered_products,
    waiting_age_buckets,
)
from notifications.models import DiscountCode, Notification, NotificationKind, NotificationStatus
from orders.models import OrderLine, SalesOrder, Shipment
from orders.services.receiving import purchase_order_receive
from suppliers.models import ExpectedDateRevision, PurchaseOrder, PurchaseOrderLine
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.factories import (
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    SalesOrderFactory,
    SupplierFactory,
)

pytestmark = pytest.mark.django_db


def days_ago(days: int, hour: int = 12) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def waiting_line(*, placed: dt.datetime, product: Any = None, **quantities: int) -> OrderLine:
    order = SalesOrderFactory.create(placed_at=placed)
    fields: dict[str, Any] = {"order": order, **quantities}
    if product is not None:
        fields["product"] = product
    return OrderLineFactory.create(**fields)


# --- each KPI on a small, hand-built shop ------------------------------------------


def test_backlog_ages_fill_rate_and_top_products() -> None:
    # given
    sofa, lamp, rug, vase = (
        ProductFactory.create(sku=s) for s in ("B-SOFA", "A-LAMP", "C-RUG", "D-VASE")
    )
    waiting_line(placed=days_ago(0), product=sofa, ordered=5, allocated=2)  # 3 waiting, 0 d
    waiting_line(placed=days_ago(10), product=sofa, ordered=4)  # 4 waiting, 10 d
    waiting_line(placed=days_ago(20), product=rug, ordered=2, cancelled=1)  # 1 waiting, 20 d
    waiting_line(placed=days_ago(45), product=lamp, ordered=3)  # 3 waiting, 45 d
    waiting_line(placed=days_ago(90), product=vase, ordered=1)  # 1 waiting, 90 d
    waiting_line(placed=days_ago(5), ordered=2, shipped=2)  # not waiting, recent
    waiting_line(placed=days_ago(40), ordered=2, allocated=2)  # not waiting, old

    # then
    backlog = backlog_now()
    assert (backlog.lines, backlog.units) == (5, 12)
    buckets = waiting_age_buckets()
    assert [(b.label, b.lines, b.units) for b in buckets] == [
        ("0–7 d", 1, 3),
        ("8–14 d", 1, 4),
        ("15–30 d", 1, 1),
        ("31–60 d", 1, 3),
        ("> 60 d", 1, 1),
    ]
    fill = line_fill_rate()
    assert (fill.placed, fill.not_waiting, fill.percent) == (4, 1, 25)
    top = top_backordered_products()
    assert [(p.sku, p.units, p.lines) for p in top] == [
        ("B-SOFA", 7, 2),
        ("A-LAMP", 3, 1),
        ("C-RUG", 1, 1),
        ("D-VASE", 1, 1),
    ]


def test_age_buckets_count_whole_days_on_the_shop_calendar() -> None:
    today = timezone.localdate()
    midnight = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=7), dt.time.min))
    waiting_line(placed=midnight, ordered=1)  # 7 days old: still the first bucket
    waiting_line(placed=midnight - dt.timedelta(minutes=1), ordered=1)  # 8 days old
    waiting_line(placed=days_ago(60, hour=0), ordered=1)  # 60 days: 31–60
    waiting_line(placed=days_ago(61, hour=23), ordered=1)  # 61 days: > 60

    assert [b.lines for b in waiting_age_buckets(today=today)] == [1, 1, 0, 1, 1]


def test_promises_kept_compare_the_latest_shipment_with_the_first_promise(shop) -> None:
    # given: five orders shipped through the services, then their promises set
    product = shop.product()
    shop.receive(product, 20)
    today = timezone.localdate()

    def shipped_order(first_promise: dt.date | None, *, quantity: int = 1) -> SalesOrder:
        order = shop.order(product, quantity)
        updates.shipment_create(order=order, tracking_number=f"TRK-{order.pk}", by=shop.clerk)
        order.lines.update(first_promised_date=first_promise)
        return order

    shipped_order(today + dt.timedelta(days=1))  # kept
    shipped_order(today)  # kept: shipped on the promised day
    shipped_order(today - dt.timedelta(days=3))  # late
    shipped_order(None)  # never promised: not counted
    old = shipped_order(today - dt.timedelta(days=200))  # shipped too long ago
    Shipment.objects.filter(order=old).update(shipped_at=timezone.now() - dt.timedelta(days=100))
    # Two shipments: the first before the promise, the last after it: late.
    split = shop.order(product, 2)
    line = split.lines.get()
    first = updates.shipment_create(
        order=split, tracking_number="TRK-A", by=shop.clerk, quantities={line.pk: 1}
    )
    Shipment.objects.filter(pk=first.pk).update(shipped_at=timezone.now() - dt.timedelta(days=5))
    updates.shipment_create(order=split, tracking_number="TRK-B", by=shop.clerk)
    split.lines.update(first_promised_date=today - dt.timedelta(days=2))

    # then
    promises = promises_kept()
    assert (promises.shipped, promises.kept, promises.percent) == (4, 2, 50)


def test_promises_kept_by_the_latest_promise_count_the_date_last_told(shop) -> None:
    # given: two shipped lines that slipped once; one shipped by its new date
    product = shop.product()
    shop.receive(product, 5)
    today = timezone.localdate()
    for latest in (today, today - dt.timedelta(days=1)):
        order = shop.order(product, 1)
        updates.shipment_create(order=order, tracking_number=f"TRK-{order.pk}", by=shop.clerk)
        order.lines.update(first_promised_date=today - dt.timedelta(days=5), promised_date=latest)

    # then
    promises = promises_kept()
    assert (promises.kept, promises.kept_latest, promises.percent_latest) == (0, 1, 50)


def test_slips_count_later_moves_per_supplier_in_the_last_90_days(shop) -> None:
    # given
    product = shop.product()
    today = timezone.localdate()
    ours = shop.purchase(product, 5, days=10)
    updates.purchase_order_move_expected_date(
        purchase_order=ours, new_date=today + dt.timedelta(days=15), reason="late", by=shop.clerk
    )
    updates.purchase_order_move_expected_date(
        purchase_order=ours, new_date=today + dt.timedelta(days=20), reason="later", by=shop.clerk
    )
    updates.purchase_order_move_expected_date(
        purchase_order=ours, new_date=today + dt.timedelta(days=12), reason="early", by=shop.clerk
    )
    other_supplier = SupplierFactory.create(name="Other Supplier")
    theirs = purchase_order_create(
        supplier=other_supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, 3)],
        expected_date=today + dt.timedelta(days=5),
        by=shop.clerk,
        confirm=True,
    )
    updates.purchase_order_move_expected_date(
        purchase_order=theirs, new_date=today + dt.timedelta(days=9), reason="late", by=shop.clerk
    )
    ancient = ExpectedDateRevision.objects.filter(line__purchase_order=theirs).get()
    ExpectedDateRevision.objects.create(
        line=ancient.line,
        old_date=today - dt.timedelta(days=120),
        new_date=today - dt.timedelta(days=110),
        reason="long ago",
    )
    ExpectedDateRevision.objects.filter(reason="long ago").update(
        changed_at=timezone.now() - dt.timedelta(days=100)
    )

    # then
    rows = supplier_slips()
    assert [(r.supplier, r.slips, r.purchase_orders) for r in rows] == [
        (shop.supplier.name, 2, 1),
        ("Other Supplier", 1, 1),
    ]


def test_supplier_on_time_rate_uses_the_original_date_and_the_receipt_day(shop) -> None:
    # given
    today = timezone.localdate()

    def received_po(*, due_in_days: int, moved_to_days: int | None = None, part: bool = False):
        product = shop.product()
        po = shop.purchase(product, 4, days=10)
        # Raised long ago: its first expected date is `due_in_days` from today.
        due = today + dt.timedelta(days=due_in_days)
        PurchaseOrder.objects.filter(pk=po.pk).update(expected_date=due)
        PurchaseOrderLine.objects.filter(purchase_order=po).update(expected_date=due)
        po.refresh_from_db()
        if moved_to_days is not None:
            updates.purchase_order_move_expected_date(
                purchase_order=po,
                new_date=today + dt.timedelta(days=moved_to_days),
                reason="supplier late",
                by=shop.clerk,
            )
        line = po.lines.get()
        purchase_order_receive(
            purchase_order=po, quantities={line.pk: 2 if part else 4}, by=shop.clerk
        )
        return po

    received_po(due_in_days=3)  # received before it was due: on time
    received_po(due_in_days=0)  # received on the day: on time
    received_po(due_in_days=-4)  # received 4 days late
    received_po(due_in_days=-2, moved_to_days=5)  # on time only against the moved date: late
    received_po(due_in_days=-9, part=True)  # not fully received: not rated

    # then
    rows = supplier_on_time()
    assert [(r.supplier, r.lines, r.on_time, r.percent) for r in rows] == [
        (shop.supplier.name, 4, 2, 50)
    ]


def test_compensation_counts_codes_and_apologies_of_the_last_30_days() -> None:
    customer = CustomerFactory.create()
    expires = timezone.localdate() + dt.timedelta(days=60)
    for code, percent in (("NEW10", "10"), ("NEW15", "15"), ("OLD20", "20")):
        DiscountCode.objects.create(
            code=code,
            customer=customer,
            percent=Decimal(percent),
            reason="late",
            expires_on=expires,
        )
    DiscountCode.objects.filter(code="OLD20").update(
        created_at=timezone.now() - dt.timedelta(days=40)
    )

    def message(kind: str, status: str, *, sent_days_ago: int | None = 0) -> None:
        sent_at = (
            None if sent_days_ago is None else timezone.now() - dt.timedelta(days=sent_days_ago)
        )
        Notification.objects.create(
            kind=kind,
            customer=customer,
            language="en",
            to_email=customer.email,
            subject="News",
            body_text="text",
            body_html="<p>html</p>",
            dedup_key=f"test:{Notification.objects.count()}",
            status=status,
            sent_at=sent_at,
        )

    message(NotificationKind.PROMISE_LATER, NotificationStatus.SENT)
    message(NotificationKind.PROMISE_LATER_DISCOUNT, NotificationStatus.SENT)
    message(NotificationKind.PROMISE_LATER, NotificationStatus.SENT, sent_days_ago=40)
    message(NotificationKind.SHIPPED, NotificationStatus.SENT)  # not an apology
    message(NotificationKind.PROMISE_LATER, NotificationStatus.PENDING, sent_days_ago=None)

    compensation = compensation_issued()
    assert compensation.discount_codes == 2
    assert compensation.average_percent == Decimal("12.5")
    assert (compensation.apologies_sent, compensation.apologies_waiting) == (2, 1)


# --- a fixed number of queries --------------------------------------------------


def build_lines(count: int) -> None:
    products = ProductFactory.create_batch(12)
    order = SalesOrderFactory.create(placed_at=days_ago(3))
    OrderLine.objects.bulk_create(
        OrderLineFactory.build(
            order=order,
            product=products[i % len(products)],
            warehouse=order.warehouse,
            placed_at=days_ago(i % 70),
            ordered=2,
            allocated=i % 2,
        )
        for i in range(count)
    )


def test_dashboard_kpis_runs_nine_queries(django_assert_num_queries: Any) -> None:
    build_lines(30)
    with django_assert_num_queries(9):
        dashboard_kpis()
