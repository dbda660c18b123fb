"""Bounded retries of a use case the database aborted for a lock conflict."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from config.db import ConcurrencyConflict, retry_on_conflict


class PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def conflict(sqlstate: str = "40P01") -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = PgError(sqlstate)
    return error


def flaky(failures: list[BaseException]):
    calls: list[int] = []

    @retry_on_conflict(attempts=3)
    def use_case() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "done"

    return use_case, calls


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_is_retried_and_then_succeeds() -> None:
    use_case, calls = flaky([conflict("40P01"), conflict("40001")])
    assert use_case() == "done"
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_after_the_last_try_the_person_gets_a_clear_error_not_a_500() -> None:
    use_case, calls = flaky([conflict(), conflict(), conflict(), conflict()])
    with pytest.raises(ConcurrencyConflict, match="Nothing was changed; please try again"):
        use_case()
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_other_database_errors_are_not_retried() -> None:
    use_case, calls = flaky([OperationalError("disk full")])
    with pytest.raises(OperationalError, match="disk full"):
        use_case()
    assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_inside_an_enclosing_transaction_the_outer_use_case_retries() -> None:
    use_case, calls = flaky([conflict()])
    with pytest.raises(OperationalError), transaction.atomic():
        use_case()
    assert len(calls) == 1
