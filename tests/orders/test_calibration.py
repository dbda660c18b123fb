"""The calibrated engine's inputs read from the shop's own history
(orders.services.calibration), and the promises they give."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from inventory.models import StockMove, StockMoveKind
from notifications.models import CompensationPolicy
from orders.services import calibration
from orders.services.calibration import promise_calibrations
from orders.services.purchasing import purchase_order_move_expected_date
from orders.services.receiving import purchase_order_receive
from tests.conftest import Shop

MONDAY = dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_records() -> Iterator[None]:
    calibration._records_cache.clear()
    yield
    calibration._records_cache.clear()


def _history(shop: Shop, traveller: Any) -> None:  # time_machine's Coordinates
    """Two deliveries due on Thursday 11 June: one came four days late without
    a word; the other was moved to the 14th on the 9th and came on the 14th."""
    product = shop.product()
    silent = shop.purchase(product, 2, days=10)
    warned = shop.purchase(product, 2, days=10)
    traveller.move_to(MONDAY + dt.timedelta(days=8))
    purchase_order_move_expected_date(
        purchase_order=warned, new_date=dt.date(2026, 6, 14), reason="delayed", by=shop.clerk
    )
    traveller.move_to(MONDAY + dt.timedelta(days=13))
    for purchase_order in (warned,):
        line = purchase_order.lines.get()
        purchase_order_receive(purchase_order=purchase_order, quantities={line.pk: 2}, by=None)
    traveller.move_to(MONDAY + dt.timedelta(days=14))
    line = silent.lines.get()
    purchase_order_receive(purchase_order=silent, quantities={line.pk: 2}, by=None)


def test_the_record_is_read_from_receipts_and_date_revisions(shop: Shop) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        _history(shop, traveller)
        records = calibration.supplier_lateness_records()
        with override_settings(PROMISE_ENGINE="calibrated"):
            found = promise_calibrations(
                warehouse_ids=[shop.warehouse.pk], today=timezone.localdate()
            )[shop.warehouse.pk]

    supplier = shop.supplier.pk
    assert sorted(records.quoted[supplier]) == [3, 4]
    assert records.revised[supplier] == [0]
    assert found.lateness_of(supplier) == 4  # 80 % (the default) of two deliveries: the later one
    assert found.lateness_of(supplier, revised=True) == 0
    assert found.lateness_of(None) == 4  # the shop's record is this supplier's


def test_naive_has_no_calibration(shop: Shop) -> None:
    assert promise_calibrations(warehouse_ids=[shop.warehouse.pk], today=MONDAY.date()) == {}


def test_a_calibrated_promise_counts_the_record_and_the_policys_confidence(shop: Shop) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        _history(shop, traveller)
        product = shop.product()
        shop.purchase(product, 5, days=7)  # due Monday 22 June
        with override_settings(PROMISE_ENGINE="calibrated"):
            at_default = shop.order(product, 1).lines.get()
            policy = CompensationPolicy.current()
            policy.promise_confidence_percent = 50
            policy.save()
            at_50 = shop.order(product, 1).lines.get()
        naive = shop.order(product, 1).lines.get()

    assert naive.promised_date == dt.date(2026, 6, 23)
    # 22 June + 4 days late: Friday 26th; one handling day: Monday 29th.
    assert at_default.promised_date == dt.date(2026, 6, 29)
    # Half the deliveries came 3 days late or less: Thursday 25th, + 1: Friday 26th.
    assert at_50.promised_date == dt.date(2026, 6, 26)


def test_the_record_read_receipt_by_receipt_is_the_record_read_at_once(shop: Shop) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        product = shop.product()
        orders = [shop.purchase(product, 2, days=days) for days in (3, 5, 8)]
        purchase_order_move_expected_date(
            purchase_order=orders[2], new_date=dt.date(2026, 6, 12), reason="late", by=shop.clerk
        )
        for day, purchase_order in zip((6, 9, 11), orders, strict=True):
            traveller.move_to(MONDAY + dt.timedelta(days=day))
            line = purchase_order.lines.get()
            # Two receipts of the same line: only the first is its arrival.
            purchase_order_receive(purchase_order=purchase_order, quantities={line.pk: 1}, by=None)
            step = calibration.supplier_lateness_records()
            purchase_order_receive(purchase_order=purchase_order, quantities={line.pk: 1}, by=None)
        read_on_the_way = calibration.supplier_lateness_records()
        calibration._records_cache.clear()
        read_at_once = calibration.supplier_lateness_records()

    supplier = shop.supplier.pk
    assert step is read_on_the_way  # the same record, grown
    assert read_on_the_way == read_at_once
    # Due 4, 6, 9 June; came 7, 10, 12 June; the third was moved to the 12th on the 1st.
    assert read_at_once.quoted[supplier] == [3, 4, 3]
    assert read_at_once.revised[supplier] == [0]


def test_a_rolled_back_history_is_read_again(shop: Shop) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        product = shop.product()
        purchase_order = shop.purchase(product, 2, days=3)
        traveller.move_to(MONDAY + dt.timedelta(days=5))
        line = purchase_order.lines.get()
        purchase_order_receive(purchase_order=purchase_order, quantities={line.pk: 2}, by=None)
        assert calibration.supplier_lateness_records().quoted[shop.supplier.pk] == [2]
        # Another history in the same database (a test rolled back): no receipts at all.
        StockMove.objects.filter(kind=StockMoveKind.RECEIPT).delete()

        assert calibration.supplier_lateness_records().shop_quoted == []


def test_a_receipt_committed_after_a_later_one_is_still_counted(shop: Shop) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        product = shop.product()
        orders = [shop.purchase(product, 1, days=3) for _ in range(4)]
        traveller.move_to(MONDAY + dt.timedelta(days=4))
        for purchase_order in orders[:3]:
            line = purchase_order.lines.get()
            purchase_order_receive(purchase_order=purchase_order, quantities={line.pk: 1}, by=None)
        # The second receipt's transaction has not committed yet (PostgreSQL
        # hands out ids before commit): the records read now cannot see it.
        second = StockMove.objects.get(kind=StockMoveKind.RECEIPT, reference=orders[1].number)
        StockMove.objects.filter(pk=second.pk).update(kind=StockMoveKind.ADJUSTMENT)
        assert calibration.supplier_lateness_records().quoted[shop.supplier.pk] == [1, 1]
        StockMove.objects.filter(pk=second.pk).update(kind=StockMoveKind.RECEIPT)  # committed
        line = orders[3].lines.get()
        purchase_order_receive(purchase_order=orders[3], quantities={line.pk: 1}, by=None)

        assert calibration.supplier_lateness_records().quoted[shop.supplier.pk] == [1, 1, 1, 1]
