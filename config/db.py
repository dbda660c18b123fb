"""Database helpers shared by the services: bounded retries on lock conflicts."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection
from django.utils.translation import gettext as _

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


class ConcurrencyConflict(Exception):
    """The database stayed busy with conflicting work after several tries."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Another change to the same stock was being saved at the same moment. "
                "Nothing was changed; please try again."
            )
        )


def _is_retryable(error: OperationalError) -> bool:
    sqlstate = getattr(getattr(error, "__cause__", None), "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    # SQLite (the embedded mode) reports a busy database as "database is locked".
    return "database is locked" in str(error)


def retry_on_conflict(attempts: int = 4) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a whole atomic use case again when the database aborted it for a
    deadlock or a serialization failure; after `attempts` tries raise
    ConcurrencyConflict, which pages show as a message, never a 500.

    Only the outermost call retries: inside an enclosing transaction the error
    is re-raised for the outer use case to retry as a whole.
    """

    def decorator(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            if connection.in_atomic_block:
                return func(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                try:
                    return func(*args, **kwargs)
                except OperationalError as error:
                    if not _is_retryable(error):
                        raise
                    logger.warning("%s: conflict on try %d: %s", func.__name__, attempt, error)
                    if attempt == attempts:
                        raise ConcurrencyConflict() from error
                    time.sleep(random.uniform(0.01, 0.05) * attempt)
            raise AssertionError("unreachable")

        return wrapper

    return decorator
