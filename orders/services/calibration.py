"""The calibrated promise engine's inputs: each supplier's record, the
confidence asked, the warehouses' working days.

A supplier's record is read from the shop's own history: for every purchase
order line received, the days between the goods arriving (the ledger's first
receipt of it) and each date the shop had been given — the expected date at
order, then each revision made before the goods came. The records change only
when goods are received, so they are read incrementally, receipt by receipt.

The confidence belongs to the compensation policy (notifications), which this
app cannot import: notifications registers where to read it
(`promise_confidence_source_set`, in its AppConfig.ready); the setting
PROMISE_CONFIDENCE_PERCENT answers until then.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
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


@dataclass
class _RecordsRead:
    """The records read so far from one database, up to one receipt move."""

    last_receipt: int = 0
    last_receipt_at: dt.datetime | None = None
    arrived: set[tuple[str, int]] = field(default_factory=set)
    """(reference, product) pairs whose first receipt is already counted."""
    records: LatenessRecords = field(default_factory=LatenessRecords)
    lateness: dict[int, _Lateness] = field(default_factory=dict)
    """Each supplier's lateness by confidence (percent), for these records."""


@dataclass(frozen=True)
class _Lateness:
    quoted: dict[int, int]
    revised: dict[int, int]
    shop_quoted: int
    shop_revised: int


_records_cache: dict[str, _RecordsRead] = {}
_records_lock = threading.Lock()

_OVERLAP = 500
"""Receipt moves read again before the last one read: on PostgreSQL a receipt
whose transaction took its id before another's but committed after it would
otherwise be passed over (a delivery already counted is never counted twice)."""


def supplier_lateness_records() -> LatenessRecords:
    """The shop's record of late deliveries. Records change only when goods
    are received, so they are read incrementally: the receipt moves after the
    last one read, and only the purchase order lines and date revisions those
    new receipts complete (a year of history was read again after every
    receipt: a fifth of a simulated year's time)."""
    return _records_current().records


def _records_current() -> _RecordsRead:
    with _records_lock:  # threads of one process share the records
        return _records_current_locked()


def _records_current_locked() -> _RecordsRead:
    database = str(settings.DATABASES["default"]["NAME"])
    newest = (
        StockMove.objects.filter(kind=StockMoveKind.RECEIPT)
        .order_by("-pk")
        .values_list("pk", "created_at")
        .first()
    )
    state = _records_cache.get(database)
    if state is not None and newest is not None and newest[0] > state.last_receipt:
        # Still the same history (a test's rolled-back database may reuse ids)?
        last_at = state.last_receipt_at
        if (
            last_at is not None
            and not StockMove.objects.filter(pk=state.last_receipt, created_at=last_at).exists()
        ):
            state = None
    elif state is not None and (newest or (0, None)) != (
        state.last_receipt,
        state.last_receipt_at,
    ):
        state = None
    if state is None:
        _records_cache.clear()
        state = _records_cache[database] = _RecordsRead()
    if newest is not None and newest[0] > state.last_receipt:
        _records_read(state, up_to=newest[0])
        state.last_receipt, state.last_receipt_at = newest
        state.lateness.clear()
    return state


def _records_read(state: _RecordsRead, *, up_to: int) -> None:
    """Add the deliveries first received in receipt moves after the last read."""
    arrived: dict[tuple[str, int], dt.date] = {}
    for reference, product_id, at in (
        StockMove.objects.filter(
            kind=StockMoveKind.RECEIPT,
            pk__gt=max(state.last_receipt - _OVERLAP, 0),
            pk__lte=up_to,
        )
        .order_by("pk")
        .values_list("reference", "product_id", "created_at")
    ):
        key = (reference, product_id)
        if key in state.arrived:
            continue
        day = timezone.localdate(at)
        arrived[key] = min(day, arrived.get(key, day))
    if not arrived:
        return
    state.arrived.update(arrived)
    lines = [
        row
        for row in PurchaseOrderLine.objects.filter(
            received__gt=0,
            purchase_order__number__in={number for number, _product in arrived},
            product_id__in={product for _number, product in arrived},
        )
        .order_by("pk")
        .values_list(
            "pk",
            "product_id",
            "purchase_order__number",
            "purchase_order__supplier_id",
            "expected_date",
        )
        if (row[2], row[1]) in arrived
    ]
    revised: dict[int, list[tuple[dt.date, dt.date, dt.datetime]]] = defaultdict(list)
    for line_id, old, new, at in (
        ExpectedDateRevision.objects.filter(line_id__in=[row[0] for row in lines])
        .order_by("pk")
        .values_list("line_id", "old_date", "new_date", "changed_at")
    ):
        revised[line_id].append((old, new, at))
    records = state.records
    for pk, product_id, number, supplier_id, expected in lines:
        arrival = arrived[(number, product_id)]
        revisions = revised.get(pk, [])
        quoted = revisions[0][0] if revisions else expected
        records.quoted[supplier_id].append((arrival - quoted).days)
        records.shop_quoted.append((arrival - quoted).days)
        before = [new for _old, new, at in revisions if timezone.localdate(at) < arrival]
        if before:
            records.revised[supplier_id].append((arrival - before[-1]).days)
            records.shop_revised.append((arrival - before[-1]).days)


def _lateness_at(state: _RecordsRead, percent: int) -> _Lateness:
    """Each supplier's lateness at `percent` confidence, computed once per
    records read and confidence."""
    if percent not in state.lateness:
        records = state.records
        confidence = percent / 100

        def lateness(by_supplier: dict[int, list[int]], shop: list[int]) -> dict[int, int]:
            return {
                supplier: supplier_lateness(own=own, shop=shop, confidence=confidence)
                for supplier, own in by_supplier.items()
            }

        state.lateness[percent] = _Lateness(
            quoted=lateness(records.quoted, records.shop_quoted),
            revised=lateness(records.revised, records.shop_revised),
            shop_quoted=supplier_lateness(own=[], shop=records.shop_quoted, confidence=confidence),
            shop_revised=supplier_lateness(
                own=[], shop=records.shop_revised, confidence=confidence
            ),
        )
    return state.lateness[percent]


def promise_calibrations(*, warehouse_ids: Iterable[int], today: dt.date) -> dict[int, Calibration]:
    """The calibrated engine's inputs per warehouse; empty with the naive engine."""
    if settings.PROMISE_ENGINE != "calibrated":
        return {}
    found = _lateness_at(_records_current(), promise_confidence_percent())
    return {
        pk: Calibration(
            lateness_days=found.quoted,
            shop_lateness_days=found.shop_quoted,
            working_days=working_days_for(code=code, around=today),
            revised_lateness_days=found.revised,
            shop_revised_lateness_days=found.shop_revised,
        )
        for pk, code in Warehouse.objects.filter(pk__in=set(warehouse_ids)).values_list(
            "pk", "code"
        )
    }
