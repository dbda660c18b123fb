"""The order lines behind each figure of the dashboard's range, as the orders
list filters them (`/orders/?shipped=…&shipped_from=…&shipped_to=…&broke=…`):
the link under a figure lists exactly the orders of the lines it counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from notifications.accuracy import DateRange, promise_accuracy, promised_lines_shipped
from notifications.fill_rate import first_shipped_lines
from orders.models import OrderLine

EARLIEST = dt.date(2000, 1, 1)
"""Where an open-ended "shipped until" range starts for the broken-promise reasons."""


def _bound(day: dt.date | None, *, after: bool = False) -> dt.datetime | None:
    if day is None:
        return None
    if after:
        if day >= dt.date.max - dt.timedelta(days=1):
            return None
        day += dt.timedelta(days=1)
    if day.year < 2:
        return None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def lines_shipped(
    *, first_day: dt.date | None, last_day: dt.date | None, kind: str
) -> QuerySet[Any]:
    """The lines a dashboard figure counts, shipped from `first_day` to `last_day`
    (either may be open): `any` line with a shipment then; `promised` lines
    whose last shipment left then (the promise figures), of them `kept_first`,
    `late_first`, `kept_latest`, `late_latest`; lines first shipped then (the fill rate),
    of them `complete_first` or `split`."""
    since, until = _bound(first_day), _bound(last_day, after=True)
    if kind in ("promised", "kept_first", "late_first", "kept_latest", "late_latest"):
        lines = promised_lines_shipped(since=since, until=until)
        if kind == "kept_first":
            return lines.filter(last_shipped_on__lte=F("first_promised_date"))
        if kind == "late_first":
            return lines.filter(last_shipped_on__gt=F("first_promised_date"))
        if kind == "kept_latest":
            return lines.filter(last_shipped_on__lte=F("promised_date"))
        if kind == "late_latest":
            return lines.filter(last_shipped_on__gt=F("promised_date"))
        return lines
    if kind in ("first_shipped", "complete_first", "split"):
        lines = first_shipped_lines(since=since, until=until)
        if kind == "complete_first":
            return lines.filter(complete_first=True)
        if kind == "split":
            return lines.filter(complete_first=False)
        return lines
    lines = OrderLine.objects.all()
    if since is not None:
        lines = lines.filter(shipment_lines__shipment__shipped_at__gte=since)
    if until is not None:
        lines = lines.filter(shipment_lines__shipment__shipped_at__lt=until)
    return lines


def orders_shipped(
    *,
    first_day: dt.date | None,
    last_day: dt.date | None,
    kind: str = "any",
    reason: str = "",
    rested_on: str = "",
) -> QuerySet[Any]:
    """The order ids (a subquery) of `lines_shipped`; with `reason`, only the
    lines whose promise broke for that reason; with `rested_on` (a supplier's
    id, or "none"), only the lines whose first promise rested on a purchase
    order of that supplier, or on none (`notifications.accuracy`)."""
    lines = lines_shipped(first_day=first_day, last_day=last_day, kind=kind)
    if reason or rested_on:
        span = DateRange(
            first_day=max(first_day or EARLIEST, EARLIEST),
            last_day=min(last_day or timezone.localdate(), timezone.localdate()),
        )
        if span.days <= 0:
            return lines.none().values("order_id")
        accuracy = promise_accuracy(span)
        if reason:
            lines = lines.filter(pk__in=accuracy.lines_by_reason.get(reason, []))
        if rested_on:
            supplier = None if rested_on == "none" else int(rested_on)
            lines = lines.filter(pk__in=accuracy.lines_by_supplier.get(supplier, []))
    return lines.values("order_id")
