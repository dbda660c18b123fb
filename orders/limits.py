"""Bounds on order data, defined once (see inventory/limits.py); units on a
line are bounded by `inventory.limits.MAX_QUANTITY`."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from inventory.limits import range_message, range_validators

# A line's manual queue priority: higher is served first.
MIN_PRIORITY = -100
MAX_PRIORITY = 100
_PRIORITY = _("Enter a whole number from %(low)s to %(high)s.")
PRIORITY_MESSAGE = range_message(_PRIORITY, low=MIN_PRIORITY, high=MAX_PRIORITY)
priority_validators = range_validators(MIN_PRIORITY, MAX_PRIORITY, _PRIORITY)


def is_priority(value: object) -> bool:
    """A whole number (not a bool) within the queue's priority bounds."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (MIN_PRIORITY <= value <= MAX_PRIORITY)
    )
