"""Promise accuracy over a date range: promises kept (by the first and by the
latest date), by week and by supplier, and **why each broken promise broke**.

Everything is read back from what the shop recorded: the promise history
(`PromiseRevision`, with the cause of every move), the shipments, and the
stock ledger's allocation moves (when a line's units were set aside: "ready").
A fixed number of queries whatever the range: `promise_accuracy` runs two.

A promise is *kept by the first date* when the line's last shipment left on or
before the first date promised; *by the latest* when on or before the date the
customer was last told. A broken promise (by the first date) gets exactly one
reason (`broken_reason`, a pure function, tested on constructed histories).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    CharField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Concat, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import StockMove, StockMoveKind
from orders.models import OrderLine, PromiseRevision, ShipmentLine
from suppliers.models import PurchaseOrder

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 90


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def week_start(day: dt.date) -> dt.date:
    """The Monday of the day's week."""
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class DateRange:
    """Whole days from `first_day` to `last_day`, both included, on the shop's calendar."""

    first_day: dt.date
    last_day: dt.date

    @classmethod
    def last_days(cls, days: int, *, today: dt.date | None = None) -> DateRange:
        """The last `days` days, today included."""
        today = today or timezone.localdate()
        return cls(first_day=today - dt.timedelta(days=days - 1), last_day=today)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def since(self) -> dt.datetime:
        return _start_of(self.first_day)

    @property
    def until(self) -> dt.datetime:
        """The start of the day after the last: the range is [since, until)."""
        return _start_of(self.last_day + dt.timedelta(days=1))

    def weeks(self) -> list[tuple[dt.date, dt.date]]:
        """Each week the range touches, as (first day, last day) clamped to the range."""
        weeks = []
        monday = week_start(self.first_day)
        while monday <= self.last_day:
            sunday = monday + dt.timedelta(days=6)
            weeks.append((max(monday, self.first_day), min(sunday, self.last_day)))
            monday += dt.timedelta(days=7)
        return weeks


# --- why a promise broke -----------------------------------------------------------


class BrokenReason:
    """The reasons, in the order the page lists them; the code goes in URLs."""

    SUPPLIER_SLIP = "supplier_slip"
    QUEUE_JUMP = "queue_jump"
    SUPPLY_CANCELLED = "supply_cancelled"
    SHIPPED_LATE = "shipped_late"
    ESTIMATE_TOO_EARLY = "estimate_too_early"
    OVERDUE_UNTOLD = "overdue_untold"
    OTHER = "other"


REASONS: tuple[tuple[str, object, object], ...] = (
    (
        BrokenReason.SUPPLIER_SLIP,
        _("Supplier slip"),
        _("The purchase order's expected date moved later (by purchasing, or overdue)."),
    ),
    (
        BrokenReason.QUEUE_JUMP,
        _("Queue jump"),
        _("An order placed or raised in priority ahead of it took the supply."),
    ),
    (
        BrokenReason.SUPPLY_CANCELLED,
        _("Cancellation of supply"),
        _("The purchase order it waited for was cancelled."),
    ),
    (
        BrokenReason.SHIPPED_LATE,
        _("Ready but shipped late"),
        _("Its units were set aside by the promised date; the shipment left after it."),
    ),
    (
        BrokenReason.ESTIMATE_TOO_EARLY,
        _("Estimate too early"),
        _("No purchase order covered it: the estimated date was later replaced by a later one."),
    ),
    (
        BrokenReason.OVERDUE_UNTOLD,
        _("Overdue without notice"),
        _("The promised date passed before any new date was given."),
    ),
    (BrokenReason.OTHER, _("Other"), _("Any other cause, such as a stock count finding less.")),
)
REASON_CODES = tuple(code for code, _label, _how in REASONS)

_PO_CANCELLED = re.compile(r"\bPO-\S+ cancelled$")


@dataclass(frozen=True)
class Revision:
    """One move of a line's promise, as `PromiseRevision` records it."""

    created_at: dt.datetime
    old_date: dt.date | None
    new_date: dt.date | None
    old_is_estimate: bool
    cause: str
    covered_by: str = ""


def _reason_of_cause(revision: Revision) -> str:
    cause = revision.cause
    if revision.old_is_estimate:
        return BrokenReason.ESTIMATE_TOO_EARLY
    if cause.endswith("expected date moved"):
        return BrokenReason.SUPPLIER_SLIP
    if _PO_CANCELLED.search(cause):
        return BrokenReason.SUPPLY_CANCELLED
    if cause.endswith("promised date passed"):
        return BrokenReason.OVERDUE_UNTOLD
    if cause.endswith(" placed") or "priority changed" in cause or " substituted with " in cause:
        return BrokenReason.QUEUE_JUMP
    return BrokenReason.OTHER


def broken_reason(
    *,
    first_promise: dt.date,
    shipped_on: dt.date,
    ready_on: dt.date | None,
    history: Sequence[Revision],
) -> str | None:
    """Why a line shipped on `shipped_on` missed its first promise; None if it did not.

    1. Its units were all set aside (ready) on or before the first promise →
       ready but shipped late: whatever else moved, the warehouse held it.
    2. Else the first move of the promise past the first date says why, from
       its cause: the promise it replaced was an estimate → estimate too early;
       a purchase order's date moved → supplier slip; a purchase order
       cancelled → cancellation of supply; the daily check found the date
       passed → overdue without notice; an order placed, a priority raised or
       a substitute queued ahead → queue jump; anything else → other.
    3. Never moved past the first date, yet shipped after it → overdue without notice.
    """
    if shipped_on <= first_promise:
        return None
    if ready_on is not None and ready_on <= first_promise:
        return BrokenReason.SHIPPED_LATE
    for revision in sorted(history, key=lambda r: r.created_at):
        if revision.old_date is None or revision.new_date is None:
            continue
        if revision.new_date > first_promise and revision.new_date > revision.old_date:
            return _reason_of_cause(revision)
    return BrokenReason.OVERDUE_UNTOLD


# --- the lines measured -----------------------------------------------------------


def _last_shipped_at() -> Subquery:
    return Subquery(
        ShipmentLine.objects.filter(order_line=OuterRef("pk"))
        .order_by("-shipment__shipped_at")
        .values("shipment__shipped_at")[:1]
    )


def _ready_at() -> Subquery:
    """When the line's units were last set aside: its last allocation in the ledger
    (the ledger names a line "<order number>/<line id>")."""
    return Subquery(
        StockMove.objects.filter(
            product_id=OuterRef("product_id"),
            warehouse_id=OuterRef("warehouse_id"),
            kind=StockMoveKind.ALLOCATION,
            reference=Concat(
                OuterRef("order__number"),
                Value("/"),
                Cast(OuterRef("pk"), CharField()),
                output_field=CharField(),
            ),
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )


def shipped_in(*, since: dt.datetime | None, until: dt.datetime | None) -> QuerySet[Any]:
    """The ids of the lines with a shipment in [since, until) (a subquery): the
    figures look at these lines only, not at every line of the shop."""
    shipped = ShipmentLine.objects.all()
    if since is not None:
        shipped = shipped.filter(shipment__shipped_at__gte=since)
    if until is not None:
        shipped = shipped.filter(shipment__shipped_at__lt=until)
    return shipped.values("order_line_id")


def promised_lines_shipped(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet[Any]:
    """Lines with a promise whose last shipment left in [since, until), annotated
    with `last_shipped_at` and `last_shipped_on` (the shop's day)."""
    lines = (
        OrderLine.objects.filter(first_promised_date__isnull=False, shipped__gt=0)
        .filter(pk__in=shipped_in(since=since, until=until))
        .annotate(last_shipped_at=_last_shipped_at())
        .annotate(last_shipped_on=TruncDate("last_shipped_at"))
    )
    if since is not None:
        lines = lines.filter(last_shipped_at__gte=since)
    if until is not None:
        lines = lines.filter(last_shipped_at__lt=until)
    return lines


# --- the figures -------------------------------------------------------------------


@dataclass
class KeptCount:
    shipped: int = 0
    kept_first: int = 0
    kept_latest: int = 0

    @property
    def percent_first(self) -> int | None:
        return round(100 * self.kept_first / self.shipped) if self.shipped else None

    @property
    def percent_latest(self) -> int | None:
        return round(100 * self.kept_latest / self.shipped) if self.shipped else None

    @property
    def broken_first(self) -> int:
        return self.shipped - self.kept_first

    @property
    def broken_latest(self) -> int:
        return self.shipped - self.kept_latest

    def add(self, *, kept_first: bool, kept_latest: bool) -> None:
        self.shipped += 1
        self.kept_first += kept_first
        self.kept_latest += kept_latest


@dataclass(frozen=True)
class WeekKept:
    first_day: dt.date
    last_day: dt.date
    kept: KeptCount


@dataclass(frozen=True)
class SupplierKept:
    supplier: str  # empty: the first promise was an estimate or from stock
    supplier_id: int | None
    kept: KeptCount


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: object
    how: object
    lines: int


@dataclass
class PromiseAccuracy:
    span: DateRange
    total: KeptCount
    weeks: list[WeekKept]
    suppliers: list[SupplierKept]
    reasons: list[ReasonCount]
    lines_by_reason: dict[str, list[int]] = field(default_factory=dict)
    lines_by_supplier: dict[int | None, list[int]] = field(default_factory=dict)


NO_SUPPLIER = ""


def promise_accuracy(span: DateRange) -> PromiseAccuracy:
    """Promises of the lines whose last shipment left in `span`: kept by the first
    and the latest date, by week (of that shipment), by supplier (of the purchase
    order the first promise rested on) and the reason each broken one broke.
    Two queries: the lines, then their promise history."""
    rows = list(
        promised_lines_shipped(since=span.since, until=span.until)
        .annotate(ready_at=_ready_at())
        .values_list("pk", "first_promised_date", "promised_date", "last_shipped_at", "ready_at")
        .order_by("pk")
    )
    history: dict[int, list[Revision]] = defaultdict(list)
    first_supplier: dict[int, int | None] = {}
    names: dict[int | None, str] = {None: NO_SUPPLIER}
    if rows:
        purchase_order = PurchaseOrder.objects.filter(number=OuterRef("covered_by"))
        for line_id, created_at, old, new, old_estimate, cause, covered, supplier, name in (
            PromiseRevision.objects.filter(line_id__in=[row[0] for row in rows])
            .annotate(
                supplier=Subquery(purchase_order.values("supplier_id")[:1]),
                supplier_name=Subquery(purchase_order.values("supplier__name")[:1]),
            )
            .order_by("line_id", "created_at", "pk")
            .values_list(
                "line_id",
                "created_at",
                "old_date",
                "new_date",
                "old_is_estimate",
                "cause",
                "covered_by",
                "supplier",
                "supplier_name",
            )
        ):
            history[line_id].append(Revision(created_at, old, new, old_estimate, cause, covered))
            if old is None and line_id not in first_supplier:
                first_supplier[line_id] = supplier
                names[supplier] = name or NO_SUPPLIER

    weeks = {first: WeekKept(first, last, KeptCount()) for first, last in span.weeks()}
    total = KeptCount()
    suppliers: dict[int | None, KeptCount] = defaultdict(KeptCount)
    lines_by_supplier: dict[int | None, list[int]] = defaultdict(list)
    reasons: Counter[str] = Counter()
    lines_by_reason: dict[str, list[int]] = defaultdict(list)
    for pk, first, latest, shipped_at, ready_at in rows:
        if first is None:  # not in `rows`: they all have a first promise
            continue
        shipped_on = timezone.localdate(shipped_at)
        kept_first = shipped_on <= first
        kept_latest = latest is not None and shipped_on <= latest
        total.add(kept_first=kept_first, kept_latest=kept_latest)
        week = weeks.get(max(week_start(shipped_on), span.first_day))
        if week is not None:
            week.kept.add(kept_first=kept_first, kept_latest=kept_latest)
        supplier = first_supplier.get(pk)
        suppliers[supplier].add(kept_first=kept_first, kept_latest=kept_latest)
        lines_by_supplier[supplier].append(pk)
        reason = broken_reason(
            first_promise=first,
            shipped_on=shipped_on,
            ready_on=timezone.localdate(ready_at) if ready_at else None,
            history=history.get(pk, []),
        )
        if reason is not None:
            reasons[reason] += 1
            lines_by_reason[reason].append(pk)
    return PromiseAccuracy(
        span=span,
        total=total,
        weeks=list(weeks.values()),
        suppliers=sorted(
            (SupplierKept(names[pk], pk, kept) for pk, kept in suppliers.items()),
            key=lambda row: (row.supplier == NO_SUPPLIER, -row.kept.shipped, row.supplier),
        ),
        reasons=[
            ReasonCount(code=code, label=label, how=how, lines=reasons[code])
            for code, label, how in REASONS
        ],
        lines_by_reason=dict(lines_by_reason),
        lines_by_supplier=dict(lines_by_supplier),
    )
