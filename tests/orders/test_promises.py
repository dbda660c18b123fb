"""Promised ship dates kept by the order use cases, with their history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import OrderLine, PromiseRevision, Tier
from orders.services.promises import promises_refresh
from orders.services.purchasing import (
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_move_expected_date,
)
from orders.services.recording import promise_changes_recorded
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.factories import OrderLineFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def draft_po(shop, product, quantity: int, in_days: int):
    return purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, quantity)],
        expected_date=days(in_days),
        by=shop.clerk,
    )


def test_a_line_no_purchase_order_covers_gets_an_estimate(shop) -> None:
    product = shop.product(default_lead_time_days=20)
    line = shop.order(product, 2).lines.get()
    # today + product lead time (no supplier yet) + 1 handling day
    assert (line.promised_date, line.promise_is_estimate) == (days(21), True)
    assert line.first_promised_date == days(21)
    revision = PromiseRevision.objects.get(line=line)
    assert (revision.old_date, revision.new_date) == (None, days(21))
    assert revision.cause.endswith("placed")


def test_confirming_a_purchase_order_gives_a_firm_earlier_date(shop) -> None:
    product = shop.product()
    line = shop.order(product, 2).lines.get()
    po = draft_po(shop, product, 5, in_days=6)
    with promise_changes_recorded() as changes:
        purchase_order_confirm(purchase_order=po, by=shop.clerk)
    line.refresh_from_db()
    assert (line.promised_date, line.promise_is_estimate) == (days(7), False)
    assert line.times_slipped == 0
    assert [(c.line_id, c.new_date, c.covered_by) for c in changes] == [
        (line.pk, days(7), po.number)
    ]
    assert changes[0].days_moved < 0


def test_moving_the_expected_date_later_is_a_slip_with_history(shop) -> None:
    product = shop.product()
    po = shop.purchase(product, 5, days=6)
    line = shop.order(product, 2).lines.get()
    assert line.promised_date == days(7)
    revisions, changes = purchase_order_move_expected_date(
        purchase_order=po, new_date=days(8), reason="port delay", by=shop.clerk
    )
    line.refresh_from_db()
    assert line.promised_date == days(9)
    assert (line.times_slipped, line.days_slipped, line.first_promised_date) == (1, 2, days(7))
    assert [c.days_moved for c in changes] == [2]
    latest = PromiseRevision.objects.filter(line=line).first()
    assert latest is not None and latest.cause == f"{po.number} expected date moved"
    assert len(revisions) == 1


def test_queue_order_decides_which_line_the_purchase_order_covers(shop) -> None:
    product = shop.product(default_lead_time_days=30)
    shop.purchase(product, 2, days=5)
    first = shop.order(product, 2).lines.get()
    second = shop.order(product, 2).lines.get()
    assert (first.promised_date, first.promise_is_estimate) == (days(6), False)
    assert second.promise_is_estimate
    # a VIP order arrives and takes the purchase order's units: the first line slips
    vip = shop.order(product, 2, customer=shop.customer(Tier.VIP)).lines.get()
    first.refresh_from_db()
    assert (vip.promised_date, vip.promise_is_estimate) == (days(6), False)
    assert first.promise_is_estimate and first.times_slipped == 1


def test_cancelling_a_purchase_order_falls_back_to_an_estimate(shop) -> None:
    product = shop.product()
    po = shop.purchase(product, 5, days=3)
    line = shop.order(product, 1).lines.get()
    assert not line.promise_is_estimate
    purchase_order_cancel(purchase_order=po, by=shop.clerk)
    line.refresh_from_db()
    # the supplier's lead time (14) now that the product was bought from them
    assert (line.promised_date, line.promise_is_estimate) == (days(15), True)


def test_receiving_makes_lines_ready_and_moves_the_rest_up(shop) -> None:
    product = shop.product()
    po_soon = shop.purchase(product, 1, days=2)
    shop.purchase(product, 1, days=9)
    first = shop.order(product, 1).lines.get()
    second = shop.order(product, 1).lines.get()
    assert (first.promised_date, second.promised_date) == (days(3), days(10))
    from orders.services.receiving import purchase_order_receive

    purchase_order_receive(
        purchase_order=po_soon, quantities={po_soon.lines.get().pk: 1}, by=shop.clerk
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.allocated == 1
    assert second.promised_date == days(10)  # still the later purchase order


def test_overdue_supply_is_promised_from_today_not_the_past(shop) -> None:
    product = shop.product()
    shop.purchase(product, 3, days=-4)
    line = shop.order(product, 1).lines.get()
    assert line.promised_date == days(1)


def test_refresh_all_recomputes_only_what_changed(shop) -> None:
    product = shop.product()
    shop.order(product, 1)
    shop.order(shop.product(), 1)
    assert promises_refresh(cause="nightly") == []
    OrderLine.objects.update(promised_date=None)
    changes = promises_refresh(cause="nightly")
    assert len(changes) == 2 and all(c.is_first for c in changes)


def test_overdue_sweep_moves_late_purchase_orders_and_counts_slips(shop) -> None:
    from orders.services.purchasing import purchase_orders_sweep_overdue
    from suppliers.models import ExpectedDateRevision

    product = shop.product()
    po = shop.purchase(product, 3, days=2)
    line = shop.order(product, 1).lines.get()
    assert line.promised_date == days(3)
    # when the sweep runs five days later and nothing arrived
    later = days(5)
    result = purchase_orders_sweep_overdue(today=later)
    # then the purchase order moves to that day + the supplier's lead time (14)
    assert result.purchase_orders_moved == [po.number]
    revision = ExpectedDateRevision.objects.get()
    assert (revision.cause, revision.new_date) == ("overdue", later + dt.timedelta(days=14))
    line.refresh_from_db()
    assert line.promised_date == later + dt.timedelta(days=15)
    assert line.times_slipped == 1
    # a second run the same day changes nothing
    assert purchase_orders_sweep_overdue(today=later).lines_moved == 0


def test_overdue_sweep_refreshes_promises_that_passed(shop) -> None:
    from orders.services.purchasing import purchase_orders_sweep_overdue

    product = shop.product()
    line = shop.order(product, 1).lines.get()
    OrderLine.objects.filter(pk=line.pk).update(promised_date=days(-2))
    result = purchase_orders_sweep_overdue()
    line.refresh_from_db()
    assert line.promised_date > timezone.localdate()
    assert [c.line_id for c in result.promise_changes] == [line.pk]


def test_a_purchase_order_created_confirmed_covers_the_queue_at_once(shop) -> None:
    from orders.services.purchasing import purchase_order_create
    from suppliers.services import PurchaseLineRequest

    product = shop.product()
    line = shop.order(product, 2).lines.get()
    assert line.promise_is_estimate
    _po, changes = purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, 5)],
        expected_date=days(4),
        by=shop.clerk,
        confirm=True,
    )
    line.refresh_from_db()
    assert (line.promised_date, line.promise_is_estimate) == (days(5), False)
    assert [c.line_id for c in changes] == [line.pk]


@pytest.mark.postgres
def test_moving_promises_rewrites_lines_in_place_without_touching_their_indexes(shop) -> None:
    # given four products' queues filling several table pages, interleaved as
    # orders arrive, and one product's promises to write
    products = [shop.product() for _ in range(4)]
    order = SalesOrderFactory.create(warehouse=shop.warehouse)
    OrderLine.objects.bulk_create(
        OrderLineFactory.build(order=order, product=products[i % 4], warehouse=shop.warehouse)
        for i in range(800)
    )

    def updates() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
                "WHERE relid = %s::regclass",
                [OrderLine._meta.db_table],
            )
            return cursor.fetchone()

    before = updates()
    # when its lines get their promises
    changes = promises_refresh(keys=[(products[0].pk, shop.warehouse.pk)], cause="test")
    # then each was a heap-only update: the pages kept room for it (migration
    # 0006); at the default fillfactor every page is full and each update
    # writes all the table's indexes
    updated, hot = (after - start for after, start in zip(updates(), before, strict=True))
    assert len(changes) == updated == 200
    assert hot >= 0.9 * updated
