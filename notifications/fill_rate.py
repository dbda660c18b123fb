"""Line fill rate as the trade defines it: of the order lines whose first
shipment left in a range, those shipped complete in that first shipment.

"Complete" means the first shipment carried every unit the customer still
wanted then: ordered minus units cancelled before it left. A line shipped in
two parts, or shipped short and its remainder cancelled afterwards, is not
filled. One query, by week."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications.accuracy import DateRange, shipped_in, week_start
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
        OrderLine.objects.filter(pk__in=shipped_in(since=since, until=until))
        .annotate(
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
    `span` and by week of that first shipment. One query: every shipment line
    of the lines shipped in `span`, with the units cancelled before it left
    (`first_shipped_lines` says the same as a queryset, for the orders list)."""
    cancelled_before = (
        Cancellation.objects.filter(
            order_line=OuterRef("order_line_id"),
            cancelled_at__lte=OuterRef("shipment__shipped_at"),
        )
        .values("order_line")
        .annotate(units=Sum("quantity"))
        .values("units")
    )
    first: dict[int, tuple[dt.datetime, int, bool]] = {}
    for line_id, shipped_at, shipment_id, quantity, ordered, cancelled in (
        ShipmentLine.objects.filter(
            order_line_id__in=shipped_in(since=span.since, until=span.until)
        )
        .annotate(cancelled_before=Coalesce(Subquery(cancelled_before), 0))
        .order_by("order_line_id", "shipment__shipped_at", "shipment_id")
        .values_list(
            "order_line_id",
            "shipment__shipped_at",
            "shipment_id",
            "quantity",
            "order_line__ordered",
            "cancelled_before",
        )
    ):
        if line_id not in first:
            first[line_id] = (shipped_at, shipment_id, quantity >= ordered - cancelled)
    by_week: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for shipped_at, _shipment, complete in first.values():
        if not span.since <= shipped_at < span.until:
            continue  # first shipped before the range
        counts = by_week[max(week_start(timezone.localdate(shipped_at)), span.first_day)]
        counts[0] += 1
        counts[1] += complete
    weeks = [
        WeekFill(first_day, last_day, FillCount(*by_week.get(first_day, (0, 0))))
        for first_day, last_day in span.weeks()
    ]
    return FillRate(
        span=span,
        total=FillCount(
            shipped=sum(w.fill.shipped for w in weeks),
            complete=sum(w.fill.complete for w in weeks),
        ),
        weeks=weeks,
    )
