"""The pages' machine-readable dates (`<time datetime>`) are values HTML accepts;
money is written in the shop's currency, as the reader's language writes numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from desk.templatetags.desk_format import datetime_attr, money, money_text


def test_a_datetime_keeps_whole_seconds_and_its_offset() -> None:
    # Python writes six digits of a second; HTML allows three at most.
    moment = dt.datetime(2026, 12, 4, 1, 27, 10, 85164, tzinfo=dt.UTC)
    assert moment.isoformat() == "2026-12-04T01:27:10.085164+00:00"
    assert datetime_attr(moment) == "2026-12-04T01:27:10+00:00"


def test_a_date_is_year_month_day_and_nothing_is_empty() -> None:
    assert datetime_attr(dt.date(2027, 1, 8)) == "2027-01-08"
    assert datetime_attr(None) == ""


@pytest.mark.parametrize(
    ("language", "currency", "amount", "shown"),
    [
        ("en", "EUR", Decimal("1234.5"), "EUR\N{NO-BREAK SPACE}1,234.50"),
        ("nl", "EUR", Decimal("1234.5"), "EUR\N{NO-BREAK SPACE}1.234,50"),
        ("id", "IDR", Decimal("1250000"), "IDR\N{NO-BREAK SPACE}1.250.000"),
        ("en", "IDR", Decimal("1249999.50"), "IDR\N{NO-BREAK SPACE}1,250,000"),
        ("en", "eur", 0, "EUR\N{NO-BREAK SPACE}0.00"),
    ],
)
def test_money_in_the_shop_s_currency_as_the_reader_s_language_writes_it(
    language: str, currency: str, amount: Decimal, shown: str
) -> None:
    with translation.override(language):
        assert money_text(amount, currency) == shown


def test_money_uses_the_shop_s_currency(settings) -> None:
    settings.SHOP_CURRENCY = "IDR"
    with translation.override("en"):
        assert money(Decimal("75000")) == "IDR\N{NO-BREAK SPACE}75,000"
