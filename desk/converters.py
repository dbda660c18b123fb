"""The `<id:…>` path converter: a row id from a URL, bounded.

Django's `<int:…>` takes any number of digits, and an id no row can have
(10**30) then reaches the database and overflows its integer: a 500 instead
of a 404. `<id:…>` takes at most the largest primary key a row can have (the
backend's range for an id column), so such a URL simply does not match.
"""

from __future__ import annotations

from django.db import connection


def largest_id() -> int:
    """The largest primary key a row can have (a BigAutoField on this backend)."""
    return int(connection.ops.integer_field_range("BigAutoField")[1])


class RowIdConverter:
    regex = "[0-9]{1,19}"  # 2**63 - 1 has 19 digits; to_python refuses what is above

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > largest_id():
            raise ValueError("no row has this id")  # the URL does not match: 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)
