"""Bounds on purchase order data, defined once (see inventory/limits.py).

A lead time is bounded by `inventory.limits.MAX_LEAD_TIME_DAYS` and units by
`inventory.limits.MAX_QUANTITY`; what is particular to purchasing is how far
ahead an expected date may be: the promise engine adds lead and handling days
to it, and a typo such as 9999-12-31 would overflow the calendar.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# About five years.
MAX_EXPECTED_DAYS_AHEAD = 5 * 366
EXPECTED_DATE_MESSAGE = _(
    "An expected date can be at most %(days)d days ahead, until %(latest)s: check the year."
)


def latest_expected_date(today: dt.date | None = None) -> dt.date:
    """The last expected date accepted today."""
    return (today or timezone.localdate()) + dt.timedelta(days=MAX_EXPECTED_DAYS_AHEAD)


def validate_expected_date(value: dt.date) -> None:
    """Refuse an expected date more than MAX_EXPECTED_DAYS_AHEAD days ahead."""
    latest = latest_expected_date()
    if value is not None and value > latest:
        raise ValidationError(
            EXPECTED_DATE_MESSAGE,
            code="too_far_ahead",
            params={"days": MAX_EXPECTED_DAYS_AHEAD, "latest": latest.isoformat()},
        )


# A unit cost has 12 digits, 2 after the point (the model's DecimalField).
MAX_UNIT_COST = Decimal("10000000000")
