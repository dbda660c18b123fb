"""Formats the staff pages share: machine-readable dates for `<time datetime>`."""

from __future__ import annotations

import datetime as dt

from django import template

register = template.Library()


@register.filter
def datetime_attr(value: dt.date | dt.datetime | None) -> str:
    """A `<time datetime>` value HTML accepts: seconds at most (a fraction of a
    second may have three digits, Python writes six), dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()
