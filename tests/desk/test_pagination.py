"""The bounds on page numbers and page sizes every staff list shares (desk/pagination.py)."""

from __future__ import annotations

import pytest

from desk.pagination import MAX_PAGE, MAX_PAGE_SIZE, PAGE_SIZE, page_number, page_size, rows_page


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (None, 1),
        ("", 1),
        ("2", 2),
        (" 3 ", 3),
        ("007", 7),
        ("0", 1),
        ("-4", 1),
        ("1.5", 1),
        ("abc", 1),
        ("٣", 1),  # a digit, but not an ASCII one
        (str(MAX_PAGE), MAX_PAGE),
        (str(MAX_PAGE + 1), MAX_PAGE + 1),
        (str(10**30), MAX_PAGE + 1),
        ("9" * 5000, MAX_PAGE + 1),  # more digits than int() reads
    ],
)
def test_a_page_number_is_a_whole_number_from_one(value: object, number: int) -> None:
    assert page_number(value) == number


@pytest.mark.parametrize(
    ("value", "size"),
    [
        (None, PAGE_SIZE),
        ("", PAGE_SIZE),
        ("10", 10),
        ("0", PAGE_SIZE),
        ("-10", PAGE_SIZE),
        ("x", PAGE_SIZE),
        (str(MAX_PAGE_SIZE + 1), MAX_PAGE_SIZE),
        ("100000", MAX_PAGE_SIZE),
        (str(10**30), MAX_PAGE_SIZE),
    ],
)
def test_a_page_size_is_capped(value: object, size: int) -> None:
    assert page_size(value) == size


@pytest.mark.parametrize(
    ("value", "rows", "number", "has_next"),
    [
        ("1", list(range(0, 10)), 1, True),
        ("3", list(range(20, 25)), 3, False),
        ("4", list(range(20, 25)), 3, False),
        (str(10**30), list(range(20, 25)), 3, False),
        ("x", list(range(0, 10)), 1, True),
    ],
)
def test_rows_page_past_the_end_is_the_last_page(
    value: str, rows: list[int], number: int, has_next: bool
) -> None:
    assert rows_page(list(range(25)), value, per_page=10) == (rows, number, has_next)


def test_rows_page_of_nothing_is_an_empty_first_page() -> None:
    assert rows_page([], "9", per_page=10) == ([], 1, False)
