"""The compensation policy's bounds and a discount's percentage, defined once
(see inventory/limits.py) and attached to the model fields as validators.

`POLICY_LIMITS` has the shape of the policy page's form table (name → low,
high, message), so that form can use it as it is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from inventory.limits import DAYS_MESSAGE, range_message, range_validators

_SLIPS = _("Enter a number of slips from %(low)s to %(high)s.")
_MINUTES = _("Enter a number of minutes from %(low)s to %(high)s (one day).")

# name → (low, high, unformatted message)
_POLICY_BOUNDS: dict[str, tuple[int, int, Any]] = {
    "apology_after_days": (0, 365, DAYS_MESSAGE),
    "discount_after_days": (1, 365, DAYS_MESSAGE),
    "discount_after_slips": (1, 100, _SLIPS),
    "combine_window_minutes": (0, 24 * 60, _MINUTES),
    "discount_valid_days": (1, 3650, DAYS_MESSAGE),
}

# name → (low, high, message): the whole-number fields of CompensationPolicy.
POLICY_LIMITS: dict[str, tuple[int, int, Any]] = {
    name: (low, high, range_message(message, low=low, high=high))
    for name, (low, high, message) in _POLICY_BOUNDS.items()
}


def policy_validators(name: str) -> list[Any]:
    """The validators of one of the policy's whole-number fields."""
    low, high, message = _POLICY_BOUNDS[name]
    return range_validators(low, high, message)


# The confidence promises are made with: how many deliveries in a hundred
# arrive by the date the engine counts on (the calibrated engine).
MIN_PROMISE_CONFIDENCE, MAX_PROMISE_CONFIDENCE = 50, 99
promise_confidence_validators = range_validators(
    MIN_PROMISE_CONFIDENCE,
    MAX_PROMISE_CONFIDENCE,
    _("Enter a percentage from %(low)s to %(high)s."),
)

# A discount: more than 0 and at most 100 percent (the policy's, and every code's).
MIN_DISCOUNT_PERCENT = Decimal("0.01")
MAX_DISCOUNT_PERCENT = Decimal("100")
_PERCENT = _("Enter a percentage from %(low)s to %(high)s.")
DISCOUNT_PERCENT_MESSAGE = range_message(
    _PERCENT, low=MIN_DISCOUNT_PERCENT, high=MAX_DISCOUNT_PERCENT
)
discount_percent_validators = range_validators(MIN_DISCOUNT_PERCENT, MAX_DISCOUNT_PERCENT, _PERCENT)
