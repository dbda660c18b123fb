"""The figures of a simulated run, read back from what the shop recorded: the
promise history (PromiseRevision), the stock ledger's shipment moves, the
order lines, the outbox and the discount codes — never from the simulator's
own counters, so the figures measure the product, not the simulation."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from inventory.models import StockMove, StockMoveKind
from notifications.models import DiscountCode, Notification, NotificationKind
from orders.checks import stock_check
from orders.models import OrderLine, PromiseRevision

WAITING_KINDS = (
    NotificationKind.BACKORDER_CONFIRMED,
    NotificationKind.PROMISE_LATER,
    NotificationKind.PROMISE_LATER_DISCOUNT,
    NotificationKind.PROMISE_EARLIER,
    NotificationKind.PROMISE_UPDATE,
)
"""The emails a customer gets *about waiting* (not ready, shipped, cancelled)."""


@dataclass
class YearFigures:
    engine: str
    seed: int
    days: int
    lines_backordered: int
    lines_shipped: int
    kept_first_pct: float
    kept_latest_pct: float
    emails_per_waiting_line: float
    median_abs_error_days: float
    p90_abs_error_days: float
    mean_promised_wait_days: float
    mean_actual_wait_days: float
    apologies: int
    discounts: int
    check_stock_clean: bool
    wall_s: float = 0.0
    cpu_s: float = 0.0  # this process's CPU time: the machine may be shared
    units_shipped_ledger: int = 0
    units_shipped_lines: int = 0
    broken_first_by: dict[str, int] = field(default_factory=dict)
    confidence_pct: int | None = None
    """The policy's promise confidence the calibrated engine ran with."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _cause_kind(cause: str) -> str:
    """A revision's cause in the words of "why promises broke"."""
    if "expected date moved" in cause:
        return "supplier slip"
    if "promised date passed" in cause:
        return "overdue without notice"
    if "cancel" in cause and "PO-" in cause:
        return "cancellation of supply"
    if cause.endswith(" received"):
        return "a receipt handed units out in another order"
    if "confirmed" in cause:
        return "estimate replaced by a later purchase order"
    if "priority" in cause or "placed" in cause:
        return "queue jump"
    return cause[:40]


def year_figures(*, engine: str, seed: int, first_day: dt.date, last_day: dt.date) -> YearFigures:
    """Measure every line that waited (had a promise) among the orders placed
    from `first_day` to `last_day`."""
    revisions: dict[int, list[tuple[dt.date | None, str, dt.date | None]]] = defaultdict(list)
    for line_id, new_date, cause, old_date in PromiseRevision.objects.order_by(
        "line_id", "pk"
    ).values_list("line_id", "new_date", "cause", "old_date"):
        revisions[line_id].append((new_date, cause, old_date))

    # When each line's last units left: the ledger's shipment moves ("SO-…/<line id>").
    shipped_on: dict[int, dt.date] = {}
    units_shipped_ledger = 0
    for reference, quantity, created_at in StockMove.objects.filter(
        kind=StockMoveKind.SHIPMENT
    ).values_list("reference", "quantity", "created_at"):
        line_id = int(reference.rsplit("/", 1)[1])
        units_shipped_ledger += quantity
        day = timezone.localdate(created_at)
        shipped_on[line_id] = max(shipped_on.get(line_id, day), day)

    lines = OrderLine.objects.filter(pk__in=revisions).values_list(
        "pk", "order_id", "placed_at", "ordered", "shipped", "cancelled"
    )
    kept_first = kept_latest = due = 0
    errors: list[int] = []
    promised_waits: list[int] = []
    actual_waits: list[int] = []
    broken: Counter[str] = Counter()
    waiting_orders: Counter[int] = Counter()
    for pk, order_id, placed_at, ordered, shipped, cancelled in lines:
        history = revisions[pk]
        placed = timezone.localdate(placed_at)
        first, latest = history[0][0], history[-1][0]
        waiting_orders[order_id] += 1
        if first is not None:
            promised_waits.append((first - placed).days)
        complete = shipped > 0 and shipped + cancelled == ordered
        if complete:
            ship_day = shipped_on[pk]
        elif shipped + cancelled < ordered and latest is not None and latest < last_day:
            ship_day = last_day  # still waiting past its promise: broken, at least until today
        else:
            continue  # cancelled, or still waiting within its promise
        due += 1
        kept_first += first is not None and ship_day <= first
        kept_latest += latest is not None and ship_day <= latest
        if first is not None and ship_day > first:
            later = next(
                (cause for new, cause, old in history[1:] if old and new and new > old), ""
            )
            broken[_cause_kind(later) if later else "shipped after its date, never moved"] += 1
        if complete:
            if first is not None:
                errors.append(abs((ship_day - first).days))
            actual_waits.append((ship_day - placed).days)

    waiting_emails = Notification.objects.filter(
        kind__in=WAITING_KINDS, order_id__in=list(waiting_orders)
    ).count()
    backordered = sum(waiting_orders.values())
    units_shipped_lines = OrderLine.objects.aggregate(total=Sum("shipped"))["total"] or 0
    return YearFigures(
        engine=engine,
        seed=seed,
        days=(last_day - first_day).days + 1,
        lines_backordered=backordered,
        lines_shipped=len(actual_waits),
        kept_first_pct=_pct(kept_first, due),
        kept_latest_pct=_pct(kept_latest, due),
        emails_per_waiting_line=round(waiting_emails / backordered, 2) if backordered else 0.0,
        median_abs_error_days=float(statistics.median(errors)) if errors else 0.0,
        p90_abs_error_days=_p90(errors),
        mean_promised_wait_days=_mean(promised_waits),
        mean_actual_wait_days=_mean(actual_waits),
        apologies=Notification.objects.filter(
            kind__in=(NotificationKind.PROMISE_LATER, NotificationKind.PROMISE_LATER_DISCOUNT)
        ).count(),
        discounts=DiscountCode.objects.count(),
        check_stock_clean=stock_check().consistent,
        units_shipped_ledger=units_shipped_ledger,
        units_shipped_lines=units_shipped_lines,
        broken_first_by=dict(broken.most_common()),
    )


def _pct(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def _mean(values: list[int]) -> float:
    return round(statistics.fmean(values), 2) if values else 0.0


def _p90(values: list[int]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))])
