"""The pages' machine-readable dates (`<time datetime>`) are values HTML accepts."""

from __future__ import annotations

import datetime as dt

from desk.templatetags.desk_format import datetime_attr


def test_a_datetime_keeps_whole_seconds_and_its_offset() -> None:
    # Python writes six digits of a second; HTML allows three at most.
    moment = dt.datetime(2026, 12, 4, 1, 27, 10, 85164, tzinfo=dt.UTC)
    assert moment.isoformat() == "2026-12-04T01:27:10.085164+00:00"
    assert datetime_attr(moment) == "2026-12-04T01:27:10+00:00"


def test_a_date_is_year_month_day_and_nothing_is_empty() -> None:
    assert datetime_attr(dt.date(2027, 1, 8)) == "2027-01-08"
    assert datetime_attr(None) == ""
