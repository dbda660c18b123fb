"""Bounds on what a product, a warehouse and a quantity of stock may be.

Each bound is defined here once and attached to the model fields as
validators, so the admin (ModelForm full_clean) applies it, and forms, the
storefront API and imports can use the same constants and validators. A value
outside them would save today only to break a page later: a SKU with "/" is
not a URL path segment, and a lead time of a million days overflows a date.

They are validators, not CHECK constraints: rows already stored outside them
keep migrating and loading (the migrations that add them change no SQL), and
`Model.full_clean()` names them.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


def range_message(message: Any, *, low: object, high: object) -> str:
    """`message` with its %(low)s and %(high)s filled in, translated when shown."""
    return lazy(lambda: str(message) % {"low": low, "high": high}, str)()


def range_validators(low: Any, high: Any, message: Any) -> list[Any]:
    """A Min- and a MaxValueValidator that both say the whole range."""
    text = range_message(message, low=low, high=high)
    return [MinValueValidator(low, message=text), MaxValueValidator(high, message=text)]


# A SKU is a URL path segment (/products/<sku>/) and a query value: letters,
# digits, dash, underscore and dot, starting with a letter or digit (so never
# "." or ".."); no slash, no spaces.
SKU_MAX_LENGTH = 64
SKU_PATTERN = r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z"
SKU_MESSAGE = _(
    "A SKU has letters, digits, dashes (-), underscores (_) and dots (.) only, "
    "and starts with a letter or digit: no slashes or spaces."
)
sku_validator = RegexValidator(SKU_PATTERN, message=SKU_MESSAGE, code="invalid_sku")
# The same pattern in the dialect of JSON Schema and OpenAPI (ECMA-262: ^…$),
# for the storefront API's schemas.
SKU_JSON_PATTERN = "^" + SKU_PATTERN.removeprefix(r"\A").removesuffix(r"\Z") + "$"

# Units on one order line, purchase order line, stock move or stock adjustment.
MAX_QUANTITY = 1_000_000
QUANTITY_MESSAGE = _("Enter a whole number of units from %(low)s to %(high)s.")
quantity_validators = range_validators(1, MAX_QUANTITY, QUANTITY_MESSAGE)
# A product's backorder cap: 0 (nothing may wait) up to the same maximum.
backorder_cap_validators = range_validators(0, MAX_QUANTITY, QUANTITY_MESSAGE)

DAYS_MESSAGE = _("Enter a number of days from %(low)s to %(high)s.")

# Days between goods arriving and the order leaving the warehouse.
MAX_HANDLING_DAYS = 60
handling_days_validators = range_validators(0, MAX_HANDLING_DAYS, DAYS_MESSAGE)

# A lead time in days: a product's default, a supplier's typical one.
MAX_LEAD_TIME_DAYS = 365
lead_time_days_validators = range_validators(0, MAX_LEAD_TIME_DAYS, DAYS_MESSAGE)

# A stock count correction is one adjustment move: MAX_QUANTITY units either way.
ADJUSTMENT_MESSAGE = range_message(QUANTITY_MESSAGE, low=-MAX_QUANTITY, high=MAX_QUANTITY)
