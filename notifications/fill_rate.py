"""Line fill rate as the trade defines it: of the order lines whose first
shipment left in a range, those shipped complete in that first shipment.

"Complete" means the first shipment carried every unit the customer still
wanted then: ordered minus units cancelled before it left. A line shipped in
two parts, or shipped short and its remainder cancelled afterwards, is not
filled. One query, by week."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from notifications.accuracy import DateRange, week_start
from orders.models import Cancellation, OrderLine, ShipmentLine


def first_shipped_lines(
    *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet[Any]:
    """Lines whose first shipment left in [since, until), annotated with
    `first_shipped_at` and `complete_first` (shipped complete in it)."""
    first = ShipmentLine.objects.filter(order_line=OuterRef("pk")).order_by(
        "shipment__shipped_at", "shipment_id"
    )
    cancelled_before = (
        Cancellation.objects.filter(
            order_line=OuterRef("pk"), cancelled_at__lte=OuterRef("first_shipped_at")
        )
        .values("order_line")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    lines = (
        OrderLine.objects.annotate(
            first_shipped_at=Subquery(first.values("shipment__shipped_at")[:1]),
            first_quantity=Subquery(first.values("quantity")[:1], output_field=IntegerField()),
        )
        .filter(first_shipped_at__isnull=False)
        .annotate(cancelled_before=Coalesce(Subquery(cancelled_before), 0))
        .annotate(
            complete_first=ExpressionWrapper(
                Q(first_quantity__gte=F("ordered") - F("cancelled_before")),
                output_field=BooleanField(),
            )
        )
    )
    if since is not None:
        lines = lines.filter(first_shipped_at__gte=since)
    if until is not None:
        lines = lines.filter(first_shipped_at__lt=until)
    return lines


@dataclass(frozen=True)
class FillCount:
    shipped: int
    complete: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.complete / self.shipped) if self.shipped else None

    @property
    def split(self) -> int:
        return self.shipped - self.complete


@dataclass(frozen=True)
class WeekFill:
    first_day: dt.date
    last_day: dt.date
    fill: FillCount


@dataclass(frozen=True)
class FillRate:
    span: DateRange
    total: FillCount
    weeks: list[WeekFill]


def line_fill_rate(span: DateRange) -> FillRate:
    """Lines shipped complete in their first shipment ÷ lines first shipped, in
    `span` and by week of that first shipment (one query)."""
    rows = (
        first_shipped_lines(since=span.since, until=span.until)
        .annotate(week=TruncWeek("first_shipped_at"))
        .values("week")
        .annotate(shipped=Count("pk"), complete=Count("pk", filter=Q(complete_first=True)))
        .order_by("week")
    )
    by_week: dict[dt.date, FillCount] = {}
    for row in rows:
        week = row["week"]
        day = timezone.localdate(week) if isinstance(week, dt.datetime) else week
        by_week[week_start(day)] = FillCount(row["shipped"], row["complete"])
    weeks = []
    for first, last in span.weeks():
        weeks.append(WeekFill(first, last, by_week.get(week_start(first), FillCount(0, 0))))
    return FillRate(
        span=span,
        total=FillCount(
            shipped=sum(w.fill.shipped for w in weeks),
            complete=sum(w.fill.complete for w in weeks),
        ),
        weeks=weeks,
    )
