"""Celery: eager in-process by default, a real worker on Redis in CI."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from config.celery import database_connections_checked, ping


def test_tasks_run_in_process_when_eager() -> None:
    assert ping.delay().get(timeout=1) == "pong"


@pytest.mark.redis
def test_a_real_worker_answers_through_redis(celery_worker_process) -> None:
    # given a worker process consuming from Redis
    result = ping.delay()
    # then the task travels broker → worker → result backend
    assert result.get(timeout=30) == "pong"
    assert result.successful()


def _task(*, eager: bool) -> SimpleNamespace:
    return SimpleNamespace(request=SimpleNamespace(is_eager=eager))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_until_it_is_too_old() -> None:
    assert settings.CELERY_DB_REUSE_MAX  # Celery's fixup must not close it after each task
    connection.ensure_connection()
    held = connection.connection
    connection.close_at = time.monotonic() + 60
    # a task in a worker keeps a connection younger than CONN_MAX_AGE…
    database_connections_checked(task=_task(eager=False))
    assert connection.connection is held
    assert connection.health_check_done is False  # type: ignore[attr-defined]  # checked on first use
    # …and closes one past it, like Django between requests
    connection.close_at = time.monotonic() - 1
    database_connections_checked(task=_task(eager=True))
    assert connection.connection is held  # an eager task runs inside a request: untouched
    database_connections_checked(task=_task(eager=False))
    assert connection.connection is None
    assert ping.delay().get(timeout=1) == "pong"
