"""The dashboard's range charts: promises kept and line fill rate by week, and
why promises broke. Geometry only; `templates/desk/charts/` draws it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

from notifications.accuracy import PromiseAccuracy
from notifications.dashboard import Bar, Chart, bar_list
from notifications.fill_rate import FillRate

MAX_WEEK_LABELS = 13


def _day(day: dt.date) -> str:
    return formats.date_format(day, "j M")


def week_columns(
    *, title: str, description: str, weeks: list[tuple[dt.date, int | None, str]]
) -> Chart:
    """One column per week, scaled to 100 %: (first day, percent or None when
    nothing shipped that week, description). A week with nothing shows "–"."""
    width, height, top, bottom = 480, 220, 28, 34
    plot_height = height - top - bottom
    step = width / max(len(weeks), 1)
    gap = min(14.0, step / 4)
    label_every = -(-len(weeks) // MAX_WEEK_LABELS)  # ceiling division
    bars = []
    for index, (first_day, percent, bar_description) in enumerate(weeks):
        value = percent or 0
        bar_height = round(plot_height * value / 100, 1)
        bars.append(
            Bar(
                label=_day(first_day) if index % label_every == 0 else "",
                value=value,
                text=("–" if percent is None else f"{percent}%") if len(weeks) <= 26 else "",
                x=round(index * step + gap / 2, 1),
                y=round(top + plot_height - bar_height, 1),
                width=round(step - gap, 1),
                height=bar_height,
                description=bar_description,
            )
        )
    return Chart(title, description, width, height, bars, baseline=top + plot_height)


@dataclass(frozen=True)
class RangeCharts:
    kept_by_week: Chart | None
    fill_by_week: Chart | None
    reasons: Chart | None


def range_charts(accuracy: PromiseAccuracy, fill: FillRate) -> RangeCharts:
    kept = None
    if accuracy.total.shipped:
        kept = week_columns(
            title=_("Promises kept by the first date, by week"),
            description=_(
                "Per week of the last shipment: promised lines shipped by their first date, "
                "in percent."
            ),
            weeks=[
                (
                    week.first_day,
                    week.kept.percent_first,
                    _("Week of %(day)s: %(kept)d of %(shipped)d by the first date")
                    % {
                        "day": _day(week.first_day),
                        "kept": week.kept.kept_first,
                        "shipped": week.kept.shipped,
                    },
                )
                for week in accuracy.weeks
            ],
        )
    fill_chart = None
    if fill.total.shipped:
        fill_chart = week_columns(
            title=_("Line fill rate, by week"),
            description=_(
                "Per week of the first shipment: lines shipped complete in it, in percent."
            ),
            weeks=[
                (
                    week.first_day,
                    week.fill.percent,
                    _("Week of %(day)s: %(complete)d of %(shipped)d complete in the first shipment")
                    % {
                        "day": _day(week.first_day),
                        "complete": week.fill.complete,
                        "shipped": week.fill.shipped,
                    },
                )
                for week in fill.weeks
            ],
        )
    reasons = None
    if accuracy.total.broken_first:
        reasons = bar_list(
            title=_("Why promises broke"),
            description=_("Broken promises (by the first date), one reason each."),
            items=[
                (
                    str(row.label),
                    row.lines,
                    str(row.lines),
                    _("%(reason)s: %(lines)d lines") % {"reason": row.label, "lines": row.lines},
                )
                for row in accuracy.reasons
            ],
        )
    return RangeCharts(kept_by_week=kept, fill_by_week=fill_chart, reasons=reasons)
