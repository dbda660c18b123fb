"""The working days of each warehouse: weekends, and the public holidays of
the country it is in (the `holidays` library; WAREHOUSE_HOLIDAY_COUNTRIES)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache

import holidays
from django.conf import settings

from orders.promising import WorkingDays


@lru_cache(maxsize=64)
def _country_holidays(country: str, first_year: int, last_year: int) -> frozenset[dt.date]:
    try:
        found = holidays.country_holidays(country, years=range(first_year, last_year + 1))
    except NotImplementedError:
        return frozenset()
    return frozenset(found.keys())


def working_days_for(*, code: str, around: dt.date) -> WorkingDays:
    """The working days of the warehouse with `code`, for the years around `around`
    (the year before to two years after: far enough for any promise)."""
    country = settings.WAREHOUSE_HOLIDAY_COUNTRIES.get(code, "")
    if not country:
        return WorkingDays()
    return WorkingDays(holidays=_country_holidays(country, around.year - 1, around.year + 2))


def warehouses_working_days(
    *, warehouses: Iterable[tuple[int, str]], around: dt.date
) -> dict[int, WorkingDays]:
    """Working days by warehouse id, from (id, code) pairs."""
    return {pk: working_days_for(code=code, around=around) for pk, code in warehouses}
