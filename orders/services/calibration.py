"""The calibrated promise engine's inputs: each supplier's record, the
confidence asked, the warehouses' working days.

A supplier's record is read from the shop's own history: for every purchase
order line received, the days between the goods arriving (the ledger's first
receipt of it) and each date the shop had been given — the expected date at
order, then each revision made before the goods came. The records change only
when goods are received, so they are kept per day and last receipt.

The confidence belongs to the compensation policy (notifications), which this
app cannot import: notifications registers where to read it
(`promise_confidence_source_set`, in its AppConfig.ready); the setting
PROMISE_CONFIDENCE_PERCENT answers until then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from inventory.models import StockMove, StockMoveKind, Warehouse
from orders.calendars import working_days_for
from orders.promising import Calibration, supplier_lateness
from suppliers.models import ExpectedDateRevision, PurchaseOrderLine

_confidence_source: list[Callable[[], int]] = []


def promise_confidence_source_set(source: Callable[[], int]) -> None:
    """Where the confidence (in percent) the promises are made with is read."""
    _confidence_source[:] = [source]


def promise_confidence_percent() -> int:
    if _confidence_source:
        return _confidence_source[0]()
    return int(settings.PROMISE_CONFIDENCE_PERCENT)


@dataclass
class LatenessRecords:
    """Days late per delivery, by supplier id and for the whole shop: against
    the date quoted at order (`quoted`) and against the last date the supplier
    moved it to before the goods came (`revised`)."""

    quoted: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    revised: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    shop_quoted: list[int] = field(default_factory=list)
    shop_revised: list[int] = field(default_factory=list)


_records_cache: dict[tuple[str, dt.date, int | None], LatenessRecords] = {}


def supplier_lateness_records() -> LatenessRecords:
    """The shop's record of late deliveries (kept per day and last receipt)."""
    last_receipt = (
        StockMove.objects.filter(kind=StockMoveKind.RECEIPT)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    key = (str(settings.DATABASES["default"]["NAME"]), timezone.localdate(), last_receipt)
    if key not in _records_cache:
        _records_cache.clear()
        _records_cache[key] = _records_read()
    return _records_cache[key]


def _records_read() -> LatenessRecords:
    arrived: dict[tuple[str, int], dt.date] = {}
    for reference, product_id, first in (
        StockMove.objects.filter(kind=StockMoveKind.RECEIPT)
        .values("reference", "product_id")
        .annotate(first=Min("created_at"))
        .values_list("reference", "product_id", "first")
    ):
        arrived[(reference, product_id)] = timezone.localdate(first)
    revised: dict[int, list[tuple[dt.date, dt.date, dt.datetime]]] = defaultdict(list)
    for line_id, old, new, at in ExpectedDateRevision.objects.order_by("pk").values_list(
        "line_id", "old_date", "new_date", "changed_at"
    ):
        revised[line_id].append((old, new, at))
    records = LatenessRecords()
    for pk, product_id, number, supplier_id, expected in PurchaseOrderLine.objects.filter(
        received__gt=0
    ).values_list(
        "pk", "product_id", "purchase_order__number", "purchase_order__supplier_id", "expected_date"
    ):
        arrival = arrived.get((number, product_id))
        if arrival is None:
            continue
        revisions = revised.get(pk, [])
        quoted = revisions[0][0] if revisions else expected
        records.quoted[supplier_id].append((arrival - quoted).days)
        records.shop_quoted.append((arrival - quoted).days)
        before = [new for _old, new, at in revisions if timezone.localdate(at) < arrival]
        if before:
            records.revised[supplier_id].append((arrival - before[-1]).days)
            records.shop_revised.append((arrival - before[-1]).days)
    return records


def promise_calibrations(*, warehouse_ids: Iterable[int], today: dt.date) -> dict[int, Calibration]:
    """The calibrated engine's inputs per warehouse; empty with the naive engine."""
    if settings.PROMISE_ENGINE != "calibrated":
        return {}
    records = supplier_lateness_records()
    confidence = promise_confidence_percent() / 100

    def lateness(by_supplier: dict[int, list[int]], shop: list[int]) -> dict[int, int]:
        return {
            supplier: supplier_lateness(own=own, shop=shop, confidence=confidence)
            for supplier, own in by_supplier.items()
        }

    quoted = lateness(records.quoted, records.shop_quoted)
    revised = lateness(records.revised, records.shop_revised)
    shop_quoted = supplier_lateness(own=[], shop=records.shop_quoted, confidence=confidence)
    shop_revised = supplier_lateness(own=[], shop=records.shop_revised, confidence=confidence)
    return {
        pk: Calibration(
            lateness_days=quoted,
            shop_lateness_days=shop_quoted,
            working_days=working_days_for(code=code, around=today),
            revised_lateness_days=revised,
            shop_revised_lateness_days=shop_revised,
        )
        for pk, code in Warehouse.objects.filter(pk__in=set(warehouse_ids)).values_list(
            "pk", "code"
        )
    }
