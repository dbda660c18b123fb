"""The dashboard's date range: the last 7, 30 or 90 days, or from–to."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from desk.widgets import Select
from notifications.accuracy import DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, DateRange

PERIODS = [
    ("7", _("Last 7 days")),
    ("30", _("Last 30 days")),
    ("90", _("Last 90 days")),
    ("custom", _("From – to")),
]


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DashboardRangeForm(forms.Form):
    """Binds `?period=7|30|90|custom&from=YYYY-MM-DD&to=YYYY-MM-DD`.

    From and to given without a period mean a custom range. Invalid input
    leaves the errors for the page to show; `span` is then the default range."""

    period = forms.ChoiceField(label=_("Range"), choices=PERIODS, required=False, widget=Select)

    def __init__(
        self, data: Any = None, *args: Any, today: dt.date | None = None, **kwargs: Any
    ) -> None:
        if data is not None and not any(data.get(name) for name in ("period", "from", "to")):
            data = {"period": str(DEFAULT_RANGE_DAYS)}  # nothing asked: the default, shown chosen
        super().__init__(data, *args, **kwargs)
        self.today = today or timezone.localdate()
        # "from" is a Python keyword: the fields are added by name.
        self.fields["from"] = forms.DateField(label=_("From"), required=False, widget=_date_input())
        self.fields["to"] = forms.DateField(label=_("To"), required=False, widget=_date_input())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period = data.get("period") or ""
        first, last = data.get("from"), data.get("to")
        if period != "custom" and (first or last) and not period:
            period = data["period"] = "custom"
        if period != "custom" or self.errors:
            return data
        if first is None or last is None:
            raise forms.ValidationError(
                _("Enter both dates of the range, like 2026-01-01 and 2026-01-31.")
            )
        if last > self.today or first > self.today:
            raise forms.ValidationError(
                _("The range cannot end in the future: the last day can be today at most.")
            )
        if last < first:
            raise forms.ValidationError(_("The range ends before it starts: swap the dates."))
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(
                _("The range can be a year (%(days)d days) at most.") % {"days": MAX_RANGE_DAYS}
            )
        return data

    @property
    def span(self) -> DateRange:
        """The range asked for, or the last 90 days when none is, or it is invalid."""
        if not self.is_valid():
            return DateRange.last_days(DEFAULT_RANGE_DAYS, today=self.today)
        period = self.cleaned_data.get("period") or ""
        if period == "custom":
            return DateRange(self.cleaned_data["from"], self.cleaned_data["to"])
        days = int(period) if period else DEFAULT_RANGE_DAYS
        return DateRange.last_days(days, today=self.today)

    @property
    def chosen_period(self) -> str:
        """The period shown as chosen: the one asked for when valid, else the default."""
        if self.is_valid() and self.cleaned_data.get("period"):
            return str(self.cleaned_data["period"])
        return str(DEFAULT_RANGE_DAYS)
