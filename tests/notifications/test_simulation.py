"""simulate_year's engine, on a small shop for a month: the figures are read
back from the outbox, the ledger and the promise history, and the same seed
plays the same events whatever the promise engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Sum

from inventory.models import StockMove, StockMoveKind
from notifications.models import CompensationPolicy, DiscountCode, Notification, NotificationKind
from notifications.simulation import SimulationSize, simulate
from notifications.simulation.breakdown import supplier_breakdown
from orders.checks import stock_check
from orders.models import OrderLine, PromiseRevision, SalesOrder
from orders.services import calibration
from suppliers.models import ExpectedDateRevision, PurchaseOrder

SMALL = SimulationSize(products=30, customers=60, orders_per_day=6)


@pytest.fixture(autouse=True)
def _fresh_supplier_records() -> Iterator[None]:
    # The records are kept per database, day and last receipt; a rolled-back
    # test could leave one behind with the same key.
    calibration._records_cache.clear()
    yield
    calibration._records_cache.clear()


@pytest.mark.django_db
def test_a_month_is_measured_from_the_outbox_and_the_ledger() -> None:
    figures = simulate(seed=3, days=30, engine="naive", size=SMALL)

    promised_lines = PromiseRevision.objects.values("line_id").distinct().count()
    assert figures.lines_backordered == promised_lines > 0
    shipped_in_ledger = StockMove.objects.filter(kind=StockMoveKind.SHIPMENT).aggregate(
        units=Sum("quantity")
    )["units"]
    assert figures.units_shipped_ledger == shipped_in_ledger > 0
    assert figures.units_shipped_lines == OrderLine.objects.aggregate(units=Sum("shipped"))["units"]
    assert (
        figures.apologies
        == Notification.objects.filter(
            kind__in=[NotificationKind.PROMISE_LATER, NotificationKind.PROMISE_LATER_DISCOUNT]
        ).count()
    )
    assert figures.discounts == DiscountCode.objects.count()
    confirmations = Notification.objects.filter(kind=NotificationKind.BACKORDER_CONFIRMED).count()
    assert (
        confirmations
        == SalesOrder.objects.filter(lines__first_promised_date__isnull=False).distinct().count()
    )
    assert figures.emails_per_waiting_line >= confirmations / figures.lines_backordered
    assert 0 < figures.lines_shipped <= figures.lines_backordered
    assert 0 <= figures.kept_first_pct <= figures.kept_latest_pct <= 100
    assert figures.check_stock_clean is stock_check().consistent is True
    # The month's work happened: suppliers were late and said so, goods came in.
    assert ExpectedDateRevision.objects.exists()
    assert StockMove.objects.filter(kind=StockMoveKind.RECEIPT).exists()


def _events() -> dict[str, object]:
    """What happened in the shop, none of it about promises."""
    return {
        # customers by email: PostgreSQL does not roll its id sequences back
        "orders": list(
            SalesOrder.objects.order_by("pk").values_list("placed_at", "customer__email")
        ),
        "lines": list(
            OrderLine.objects.order_by("pk").values_list("ordered", "shipped", "cancelled")
        ),
        "purchase_orders": list(
            PurchaseOrder.objects.order_by("pk")
            .annotate(line_count=Count("lines"))
            .values_list("created_at", "line_count")
        ),
        "revisions": list(ExpectedDateRevision.objects.order_by("pk").values_list("new_date")),
        "ledger": list(StockMove.objects.order_by("pk").values_list("kind", "quantity")),
    }


@pytest.mark.django_db
def test_the_same_seed_plays_the_same_events_for_either_engine() -> None:
    played = {}
    promised = {}
    for engine in ("naive", "calibrated"):
        with transaction.atomic():
            simulate(seed=5, days=21, engine=engine, size=SMALL)
            played[engine] = _events()
            promised[engine] = list(
                OrderLine.objects.order_by("pk").values_list("first_promised_date", flat=True)
            )
            transaction.set_rollback(True)

    assert played["naive"] == played["calibrated"]
    assert promised["naive"] != promised["calibrated"]


@pytest.mark.django_db
def test_a_calibrated_month_at_the_confidence_asked() -> None:
    figures = simulate(seed=3, days=30, engine="calibrated", size=SMALL, confidence=80)

    assert figures.confidence_pct == CompensationPolicy.current().promise_confidence_percent == 80
    assert figures.check_stock_clean is stock_check().consistent is True
    # The breakdown by supplier covers the lines shipped complete, no others.
    rows = supplier_breakdown()
    assert 0 < sum(row.lines for row in rows) <= figures.lines_shipped
    assert all(0 <= row.kept_first_pct <= 100 for row in rows)
    # The supplier record kept up receipt by receipt is the one read from scratch.
    # (in the order the goods came rather than the order the lines were raised)
    kept_up = _sorted(calibration.supplier_lateness_records())
    assert kept_up["shop_quoted"]  # goods came in and were measured
    calibration._records_cache.clear()
    assert _sorted(calibration.supplier_lateness_records()) == kept_up


def _sorted(records: calibration.LatenessRecords) -> dict[str, object]:
    return {
        "quoted": {supplier: sorted(days) for supplier, days in records.quoted.items()},
        "revised": {supplier: sorted(days) for supplier, days in records.revised.items()},
        "shop_quoted": sorted(records.shop_quoted),
        "shop_revised": sorted(records.shop_revised),
    }


def test_simulate_year_refuses_a_confidence_outside_50_to_99() -> None:
    with pytest.raises(CommandError, match="between 50 and 99"):
        call_command("simulate_year", "--days", "1", "--confidence", "100")
