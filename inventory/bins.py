"""Bin locations: where a product sits on a warehouse's shelves (the pick list walks by them)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from inventory.models import Product, StockLevel, Warehouse
from inventory.services import stock_levels_lock

BIN_MAX_LENGTH = 32
BIN_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./_-]*")


@retry_on_conflict()
@transaction.atomic
def stock_bin_set(*, product: Product, warehouse: Warehouse, bin_location: str) -> StockLevel:
    """Set (or clear, with "") the bin of a product in a warehouse, upper-cased.

    A bin past 32 characters, or with characters other than letters, digits,
    spaces and . / _ -, raises ValidationError on `bin_location` and changes nothing.
    """
    value = " ".join((bin_location or "").split()).upper()
    if len(value) > BIN_MAX_LENGTH:
        raise ValidationError(
            {
                "bin_location": _("A bin location has at most %(max)d characters.")
                % {"max": BIN_MAX_LENGTH}
            }
        )
    if value and not BIN_PATTERN.fullmatch(value):
        raise ValidationError(
            {
                "bin_location": _(
                    "A bin location has letters, digits, spaces and . / _ - (like A-03-2)."
                )
            }
        )
    level = stock_levels_lock(keys=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    if level.bin_location != value:
        level.bin_location = value
        level.save(update_fields=["bin_location", "updated_at"])
    return level
