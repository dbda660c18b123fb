"""Bounds on order data, defined once (see inventory/limits.py); units on a
line are bounded by `inventory.limits.MAX_QUANTITY`."""

from __future__ import annotations

import re
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
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


# Money on an order as the shop reports it: amounts in its currency (ISO 4217,
# three capital letters), never negative, at most MAX_AMOUNT.
CURRENCY_PATTERN = r"^[A-Z]{3}$"
MAX_AMOUNT = Decimal("9999999999.99")  # twelve digits, two of them decimals
currency_validators = [
    RegexValidator(CURRENCY_PATTERN, _("Enter a currency code of three capital letters."))
]
amount_validators = [MinValueValidator(Decimal("0.00")), MaxValueValidator(MAX_AMOUNT)]


def shop_currency() -> str:
    """The currency an order is in when its shop does not say (SHOP_CURRENCY)."""
    return str(settings.SHOP_CURRENCY)


def is_currency(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(CURRENCY_PATTERN, value) is not None
