"""Page numbers and page sizes from a query string, bounded, for every staff list.

A list page fetches one row past the page instead of counting its rows (no
COUNT(*) on a page view). A page number is a whole number from 1 up; anything
else is page 1. A page past the end shows the last page: the list is counted
then, and only then. A number beyond MAX_PAGE is past the end without asking
the database, so an absurd number never reaches it as an offset (10**30 pages
down overflows the integer a database takes as OFFSET).

A page size (`per_page`) is a whole number from 1 to MAX_PAGE_SIZE; a bigger
one is cut to it, anything else is the page's default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.paginator import EmptyPage
from django.db.models import QuerySet
from django_tables2 import Table
from django_tables2.paginators import LazyPaginator

# Rows on a page unless the page says otherwise, and the most any page shows.
PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# No list here has this many pages; a page number above it is past the end.
MAX_PAGE = 100_000

Row = TypeVar("Row")


def _whole_number(value: object, *, above: int) -> int | None:
    """`value` as a whole number of ASCII digits, or None; any number over
    `above` (however many digits it has: int() reads at most 4300) is above + 1."""
    text = "" if value is None else str(value).strip()
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    return above + 1 if len(digits) > len(str(above)) else min(int(digits), above + 1)


def page_number(value: object) -> int:
    """The page a query asks for: a whole number from 1 up, else 1; any number
    past MAX_PAGE is MAX_PAGE + 1 (past the end)."""
    number = _whole_number(value, above=MAX_PAGE)
    return number if number is not None and number >= 1 else 1


def page_size(value: object, *, default: int = PAGE_SIZE) -> int:
    """The page size a query asks for, from 1 to MAX_PAGE_SIZE; else `default`."""
    size = _whole_number(value, above=MAX_PAGE_SIZE)
    if size is None or size < 1:
        return default
    return min(size, MAX_PAGE_SIZE)


def last_page(count: int, per_page: int) -> int:
    """The number of the last page of `count` rows (1 when there are none)."""
    return max(1, -(-count // per_page))


def _bounded(number: int, *, per_page: int, count: Callable[[], int]) -> int:
    return last_page(count(), per_page) if number > MAX_PAGE else number


def table_paginate(table: Table, value: object, *, per_page: int = PAGE_SIZE) -> None:
    """Paginate a django-tables2 table at the page `value` asks for, lazily;
    past the end, at its last page."""
    per_page = min(per_page, MAX_PAGE_SIZE)

    def count() -> int:
        return len(table.data)

    number = _bounded(page_number(value), per_page=per_page, count=count)
    try:
        table.paginate(paginator_class=LazyPaginator, per_page=per_page, page=number)
    except EmptyPage:
        table.paginate(
            paginator_class=LazyPaginator, per_page=per_page, page=last_page(count(), per_page)
        )


def rows_page(
    rows: QuerySet[Any] | Sequence[Row], value: object, *, per_page: int = PAGE_SIZE
) -> tuple[list[Any], int, bool]:
    """For a list without a table: the rows of the page `value` asks for (past
    the end, of the last page), its number, and whether another page follows."""
    per_page = min(per_page, MAX_PAGE_SIZE)

    def count() -> int:
        return rows.count() if isinstance(rows, QuerySet) else len(rows)

    def fetch(number: int) -> list[Any]:
        start = (number - 1) * per_page
        return list(rows[start : start + per_page + 1])

    number = _bounded(page_number(value), per_page=per_page, count=count)
    found = fetch(number)
    if not found and number > 1:
        number = last_page(count(), per_page)
        found = fetch(number)
    return found[:per_page], number, len(found) > per_page
