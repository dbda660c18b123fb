"""The dashboard's figures: KPI selectors over the whole database.

The dashboard reads orders, suppliers and the outbox, so it lives in the top
app. Each selector is a plain function returning a dataclass and runs a fixed
number of aggregate queries (one, except where its docstring says), whatever
the size of the shop: the database counts, Python only shapes the result.

`dashboard_kpis()` gathers them all for the page; the chart helpers at the end
turn figures into the geometry the SVG templates draw.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    F,
    IntegerField,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.accuracy import DEFAULT_RANGE_DAYS, DateRange
from notifications.models import DiscountCode, Notification, NotificationKind, NotificationStatus
from orders.models import OrderLine
from suppliers.models import ExpectedDateRevision
from suppliers.selectors import received_lines_dated

SLIP_DAYS = 90
COMPENSATION_DAYS = 30
TOP_PRODUCTS = 10
TOP_SUPPLIERS = 10

# (label, lowest age in days, highest age in days or None for "and older")
# "d": days, as the dashboard abbreviates them.
AGE_BUCKETS: tuple[tuple[Promise, int, int | None], ...] = (
    (gettext_lazy("0–7 d"), 0, 7),
    (gettext_lazy("8–14 d"), 8, 14),
    (gettext_lazy("15–30 d"), 15, 30),
    (gettext_lazy("31–60 d"), 31, 60),
    (gettext_lazy("> 60 d"), 61, None),
)

APOLOGY_KINDS = (NotificationKind.PROMISE_LATER, NotificationKind.PROMISE_LATER_DISCOUNT)

WAITING_UNITS = F("ordered") - F("allocated") - F("shipped") - F("cancelled")


def _percent(part: int, whole: int) -> int | None:
    """A whole percentage, or None when there is nothing to divide by."""
    if not whole:
        return None
    return round(100 * part / whole)


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- the backlog now ---------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    lines: int
    units: int


def backlog_now() -> Backlog:
    """Order lines with units still waiting, and how many units."""
    totals = OrderLine.objects.backordered().aggregate(
        lines=Count("pk"), units=Coalesce(Sum(WAITING_UNITS), 0)
    )
    return Backlog(lines=totals["lines"], units=totals["units"])


@dataclass(frozen=True)
class AgeBucket:
    label: str
    lines: int
    units: int


def waiting_age_buckets(*, today: dt.date | None = None) -> list[AgeBucket]:
    """Waiting lines by age in whole days since placed (placed today is 0 days)."""
    today = today or timezone.localdate()
    aggregates: dict[str, Aggregate | Coalesce] = {}
    for index, (_label, low, high) in enumerate(AGE_BUCKETS):
        # Placed `low` days ago or earlier, and (for a closed bucket) no
        # earlier than `high` days ago: days counted on the shop's calendar.
        condition = Q(placed_at__lt=_start_of_day(today - dt.timedelta(days=low - 1)))
        if high is not None:
            condition &= Q(placed_at__gte=_start_of_day(today - dt.timedelta(days=high)))
        aggregates[f"lines_{index}"] = Count("pk", filter=condition)
        aggregates[f"units_{index}"] = Coalesce(Sum(WAITING_UNITS, filter=condition), 0)
    totals = OrderLine.objects.backordered().aggregate(**aggregates)
    return [
        AgeBucket(label=str(label), lines=totals[f"lines_{i}"], units=totals[f"units_{i}"])
        for i, (label, _low, _high) in enumerate(AGE_BUCKETS)
    ]


# --- suppliers -----------------------------------------------------------------


@dataclass(frozen=True)
class SupplierSlips:
    supplier: str
    slips: int
    overdue: int
    purchase_orders: int


def supplier_slips(
    *,
    now: dt.datetime | None = None,
    days: int = SLIP_DAYS,
    since: dt.datetime | None = None,
    limit: int = TOP_SUPPLIERS,
) -> list[SupplierSlips]:
    """Expected-date moves to a later date in the last `days` days, per supplier,
    most first (one move of one purchase order line counts once)."""
    now = now or timezone.now()
    since = since or now - dt.timedelta(days=days)
    rows = (
        ExpectedDateRevision.objects.filter(
            changed_at__gte=since, changed_at__lt=now, new_date__gt=F("old_date")
        )
        .values(supplier=F("line__purchase_order__supplier__name"))
        .annotate(
            slips=Count("pk"),
            overdue=Count("pk", filter=Q(cause=ExpectedDateRevision.Cause.OVERDUE)),
            purchase_orders=Count("line__purchase_order", distinct=True),
        )
        .order_by("-slips", "supplier")[:limit]
    )
    return [SupplierSlips(**row) for row in rows]


@dataclass(frozen=True)
class SupplierOnTime:
    supplier: str
    lines: int
    on_time: int

    @property
    def percent(self) -> int:
        return _percent(self.on_time, self.lines) or 0


def supplier_on_time(*, limit: int = TOP_SUPPLIERS) -> list[SupplierOnTime]:
    """Per supplier, of its purchase order lines fully received, those received
    on or before their original expected date (`suppliers.selectors.
    received_lines_dated`, shared with the supplier scorecards); the most lines first.
    """
    rows = (
        received_lines_dated()
        .values(supplier=F("purchase_order__supplier__name"))
        .annotate(
            lines=Count("pk"),
            on_time=Count("pk", filter=Q(received_on__lte=F("original_date"))),
        )
        .order_by("-lines", "supplier")[:limit]
    )
    return [SupplierOnTime(**row) for row in rows]


# --- products and compensation ---------------------------------------------------


@dataclass(frozen=True)
class WaitingProduct:
    sku: str
    name: str
    units: int
    lines: int


def top_backordered_products(*, limit: int = TOP_PRODUCTS) -> list[WaitingProduct]:
    """The products with the most units waiting now."""
    rows = (
        OrderLine.objects.backordered()
        .values(sku=F("product__sku"), name=F("product__name"))
        .annotate(units=Sum(WAITING_UNITS, output_field=IntegerField()), lines=Count("pk"))
        .order_by("-units", "sku")[:limit]
    )
    return [WaitingProduct(**row) for row in rows]


@dataclass(frozen=True)
class Compensation:
    days: int
    discount_codes: int
    average_percent: Decimal | None
    apologies_sent: int
    apologies_waiting: int


def compensation_issued(
    *,
    now: dt.datetime | None = None,
    days: int = COMPENSATION_DAYS,
    since: dt.datetime | None = None,
) -> Compensation:
    """Discount codes created and apology emails (a later date, with or without
    a discount) sent in the last `days` days. Two queries."""
    now = now or timezone.now()
    since = since or now - dt.timedelta(days=days)
    codes = DiscountCode.objects.filter(created_at__gte=since, created_at__lt=now).aggregate(
        count=Count("pk"), average=Avg("percent")
    )
    apologies = Notification.objects.filter(kind__in=APOLOGY_KINDS).aggregate(
        sent=Count(
            "pk",
            filter=Q(status=NotificationStatus.SENT, sent_at__gte=since, sent_at__lt=now),
        ),
        waiting=Count(
            "pk",
            filter=Q(
                status__in=(NotificationStatus.PENDING, NotificationStatus.SENDING),
                created_at__gte=since,
                created_at__lt=now,
            ),
        ),
    )
    average = codes["average"]
    return Compensation(
        days=days,
        discount_codes=codes["count"],
        average_percent=None if average is None else Decimal(average).quantize(Decimal("0.1")),
        apologies_sent=apologies["sent"],
        apologies_waiting=apologies["waiting"],
    )


# --- everything the page shows ------------------------------------------------


@dataclass(frozen=True)
class DashboardKpis:
    generated_at: dt.datetime
    backlog: Backlog
    age_buckets: list[AgeBucket]
    slips: list[SupplierSlips]
    on_time: list[SupplierOnTime]
    top_products: list[WaitingProduct]
    compensation: Compensation
    span: DateRange | None = None


def dashboard_kpis(
    *, now: dt.datetime | None = None, span: DateRange | None = None
) -> DashboardKpis:
    """The dashboard's figures of the shop now, and of `span` (slips and
    compensation; the last 90 days unless given): seven aggregate queries.
    Promise accuracy and the fill rate: `notifications.accuracy`, `.fill_rate`."""
    now = now or timezone.now()
    span = span or DateRange.last_days(DEFAULT_RANGE_DAYS, today=timezone.localdate(now))
    until = min(now, span.until)
    return DashboardKpis(
        generated_at=now,
        backlog=backlog_now(),
        age_buckets=waiting_age_buckets(today=timezone.localdate(now)),
        slips=supplier_slips(now=until, days=span.days, since=span.since),
        on_time=supplier_on_time(),
        top_products=top_backordered_products(),
        compensation=compensation_issued(now=until, days=span.days, since=span.since),
        span=span,
    )


# --- chart geometry (the SVG templates only place what is computed here) -------


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the value as printed beside or above the bar
    x: float
    y: float
    width: float
    height: float
    description: str  # the bar's own <title>, read by screen readers

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def end(self) -> float:
        return round(self.x + self.width, 1)

    @property
    def above(self) -> float:
        return round(self.y - 8, 1)

    @property
    def middle(self) -> float:
        return round(self.y + self.height / 2, 1)


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    width: int
    height: int
    bars: list[Bar]
    baseline: float  # the y of the axis (column chart) or x where bars start (bar list)
    label_width: int = 0
    track_width: int = 0

    @property
    def label_y(self) -> int:
        """Where the column chart prints its category labels."""
        return self.height - 12


def column_chart(*, title: str, description: str, items: list[tuple[str, int, str]]) -> Chart:
    """Vertical bars: `items` are (label, value, description) left to right."""
    width, height, top, bottom, gap = 480, 220, 28, 34, 14
    plot_height = height - top - bottom
    step = width / max(len(items), 1)
    highest = max((value for _label, value, _d in items), default=0) or 1
    bars = []
    for index, (label, value, bar_description) in enumerate(items):
        bar_height = round(plot_height * value / highest, 1)
        bars.append(
            Bar(
                label=label,
                value=value,
                text=str(value),
                x=round(index * step + gap / 2, 1),
                y=round(top + plot_height - bar_height, 1),
                width=round(step - gap, 1),
                height=bar_height,
                description=bar_description,
            )
        )
    return Chart(title, description, width, height, bars, baseline=top + plot_height)


def bar_list(
    *,
    title: str,
    description: str,
    items: list[tuple[str, int, str, str]],
    maximum: int | None = None,
) -> Chart:
    """Horizontal bars, one row each: (label, value, printed value, description).
    `maximum` fixes the scale (100 for percentages); else the largest value."""
    width, row, label_width, value_width = 480, 28, 190, 56
    plot_width = width - label_width - value_width
    highest = maximum or max((value for _l, value, _t, _d in items), default=0) or 1
    bars = []
    for index, (label, value, text, bar_description) in enumerate(items):
        shown = label if len(label) <= 22 else label[:21].rstrip() + "…"
        bars.append(
            Bar(
                label=shown,
                value=value,
                text=text,
                x=label_width,
                y=index * row + 4,
                width=round(max(plot_width * value / highest, 2 if value else 0), 1),
                height=row - 10,
                description=bar_description,
            )
        )
    return Chart(
        title,
        description,
        width,
        max(len(items), 1) * row,
        bars,
        baseline=label_width,
        label_width=label_width,
        track_width=plot_width,
    )


@dataclass(frozen=True)
class DashboardCharts:
    ages: Chart
    slips: Chart | None
    on_time: Chart | None


def dashboard_charts(kpis: DashboardKpis) -> DashboardCharts:
    """The page's three charts, labelled in the user's language."""
    ages = column_chart(
        title=_("Waiting lines by age"),
        description=_("Order lines with units still waiting, by days since they were placed."),
        items=[
            (
                bucket.label,
                bucket.lines,
                _("%(label)s: %(lines)d lines, %(units)d units waiting")
                % {"label": bucket.label, "lines": bucket.lines, "units": bucket.units},
            )
            for bucket in kpis.age_buckets
        ],
    )
    slips = None
    days = kpis.span.days if kpis.span else SLIP_DAYS
    if kpis.slips:
        slips = bar_list(
            title=_("Later expected dates per supplier, %(days)d days") % {"days": days},
            description=_("Moves of a purchase order line's expected date to a later day."),
            items=[
                (
                    row.supplier,
                    row.slips,
                    str(row.slips),
                    _("%(supplier)s: %(slips)d moves later (%(overdue)d overdue) on %(pos)d POs")
                    % {
                        "supplier": row.supplier,
                        "slips": row.slips,
                        "overdue": row.overdue,
                        "pos": row.purchase_orders,
                    },
                )
                for row in kpis.slips
            ],
        )
    on_time = None
    if kpis.on_time:
        on_time = bar_list(
            title=_("Supplier on-time rate"),
            description=_("Share of fully received lines received by their original date."),
            items=[
                (
                    row.supplier,
                    row.percent,
                    f"{row.percent}%",
                    _("%(supplier)s: %(on_time)d of %(lines)d lines on time (%(percent)d%%)")
                    % {
                        "supplier": row.supplier,
                        "on_time": row.on_time,
                        "lines": row.lines,
                        "percent": row.percent,
                    },
                )
                for row in kpis.on_time
            ],
            maximum=100,
        )
    return DashboardCharts(ages=ages, slips=slips, on_time=on_time)
