"""Supplier scorecards: the dashboard's "on time", days late, lead times, what
is inbound, who waits on it and the promises it broke."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from notifications import updates
from notifications.dashboard import supplier_on_time
from orders.selectors.suppliers import supplier_scorecards, supplier_scorecards_complete
from orders.services.receiving import purchase_order_receive
from suppliers.models import PurchaseOrder, PurchaseOrderLine
from suppliers.selectors import percentile
from suppliers.services import PurchaseLineRequest
from tests.conftest import Shop
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert percentile([0] * 9 + [30], 0.9) == 0
    assert percentile([0] * 8 + [30, 40], 0.9) == 30


def test_scorecard_delivery_figures_agree_with_the_dashboard(shop: Shop) -> None:
    # given: lines due 3 days ahead, today, 4 days ago and 10 days ago, received today
    today = timezone.localdate()
    for due_in in (3, 0, -4, -10):
        product = shop.product()
        po = shop.purchase(product, 4, days=10)
        due = today + dt.timedelta(days=due_in)
        PurchaseOrder.objects.filter(pk=po.pk).update(expected_date=due)
        PurchaseOrderLine.objects.filter(purchase_order=po).update(expected_date=due)
        line = po.lines.get()
        purchase_order_receive(purchase_order=po, quantities={line.pk: 4}, by=shop.clerk)
    idle = SupplierFactory.create(name="Idle")

    # when
    cards = {card.supplier: card for card in supplier_scorecards()}

    # then
    record = cards[shop.supplier].record
    (dashboard,) = supplier_on_time()
    assert (record.lines, record.on_time) == (dashboard.lines, dashboard.on_time) == (4, 2)
    assert record.on_time_percent == dashboard.percent == 50
    assert record.days_late == [4, 10]
    assert record.average_days_late == 3.5  # 14 days late over 4 lines
    assert record.p90_days_late == 10
    assert cards[idle].record.lines == 0 and cards[idle].record.on_time_percent is None


def test_scorecard_counts_open_orders_lines_waiting_and_promises_broken(shop: Shop) -> None:
    # given: an open purchase order of 6 lamps covering two waiting lines
    lamp = shop.product(sku="LAMP")
    shop.order(lamp, 2)
    shop.order(lamp, 1)
    po, _changes = updates.purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(lamp, 6)],
        expected_date=timezone.localdate() + dt.timedelta(days=5),
        by=shop.clerk,
        confirm=True,
    )
    # when its date moves later, both promises move later
    updates.purchase_order_move_expected_date(
        purchase_order=po,
        new_date=timezone.localdate() + dt.timedelta(days=12),
        reason="port strike",
        by=shop.clerk,
    )

    (card,) = supplier_scorecards(supplier_ids=[shop.supplier.pk])
    assert card.lines_waiting is None  # a page completes it
    supplier_scorecards_complete([card])

    assert (card.open_orders, card.units_inbound) == (1, 6)
    assert card.lines_waiting == 2
    assert card.promises_broken == 2

    # cancelling it moves them later again, but that was purchasing's choice
    updates.purchase_order_cancel(purchase_order=po, by=shop.clerk)
    (card,) = supplier_scorecards(supplier_ids=[shop.supplier.pk])
    assert card.promises_broken == 2
