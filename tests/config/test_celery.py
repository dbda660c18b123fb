"""Celery: eager in-process by default, a real worker on Redis in CI."""

from __future__ import annotations

import pytest

from config.celery import ping


def test_tasks_run_in_process_when_eager() -> None:
    assert ping.delay().get(timeout=1) == "pong"


@pytest.mark.redis
def test_a_real_worker_answers_through_redis(celery_worker_process) -> None:
    # given a worker process consuming from Redis
    result = ping.delay()
    # then the task travels broker → worker → result backend
    assert result.get(timeout=30) == "pong"
    assert result.successful()
