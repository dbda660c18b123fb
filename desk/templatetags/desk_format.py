"""Formats the staff pages share: machine-readable dates for `<time datetime>`,
and money in the shop's currency."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.conf import settings
from django.utils.formats import number_format

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


# ISO 4217 currencies without minor units that a shop here may use.
WHOLE_UNIT_CURRENCIES = frozenset({"IDR", "JPY", "KRW", "VND", "CLP", "ISK", "HUF"})


def money_text(amount: Decimal | int | None, currency: str | None = None) -> str:
    """An amount in the shop's currency, as the reader's language writes
    numbers: 'EUR 1,234.50' in English, 'EUR 1.234,50' in Dutch, 'IDR 1.250.000'
    (no decimals for a currency without minor units)."""
    if amount is None:
        return ""
    code = (currency or settings.SHOP_CURRENCY).upper()
    places = 0 if code in WHOLE_UNIT_CURRENCIES else 2
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    number = number_format(value, decimal_pos=places, use_l10n=True, force_grouping=True)
    return f"{code}\N{NO-BREAK SPACE}{number}"


@register.filter
def money(amount: Decimal | int | None) -> str:
    """`{{ line.unit_price|money }}`: see `money_text`."""
    return money_text(amount)
