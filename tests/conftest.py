"""Shared fixtures, and the rule for tests that need real services.

A test marked `postgres`, `redis` or `browser` skips with the reason when that
service is not there, and fails instead when CI=true: CI always has them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client

from config.roles import Role

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", settings.BASE_DIR / "build" / "screenshots"))


def missing(reason: str) -> None:
    """Skip a test that needs an absent service, or fail it in CI."""
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}", pytrace=False)
    pytest.skip(reason)


def redis_available() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing(
            "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/backorder_desk"
        )
    if item.get_closest_marker("redis") and not redis_available():
        missing("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0 with a server running")
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        missing(f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    """A user holding the given roles (`superuser=True` for an admin)."""
    counter = iter(range(1, 1_000_000))

    def make(*roles: Role, superuser: bool = False, username: str | None = None) -> User:
        name = username or f"user{next(counter)}"
        user = User.objects.create_user(
            username=name, password="secret-pass-123", is_staff=superuser, is_superuser=superuser
        )
        # get_or_create: transactional tests flush the groups the migration made
        user.groups.set([Group.objects.get_or_create(name=r.value)[0] for r in roles])
        return user

    return make


@pytest.fixture
def client_as(make_user: Callable[..., User]) -> Callable[..., Client]:
    """A test client logged in as a fresh user with the given roles."""

    def login(*roles: Role, superuser: bool = False) -> Client:
        client = Client()
        client.force_login(make_user(*roles, superuser=superuser))
        return client

    return login


@pytest.fixture
def celery_worker_process(request: pytest.FixtureRequest):
    """A real `celery -A config worker` on Redis, publishing from this process.

    The worker uses the test database (tests using it need `transaction=True`
    so their rows are committed and visible to it). Eager mode is turned off
    for the test and restored afterwards.
    """
    import subprocess
    import sys
    import time

    from config.celery import app as celery_app

    if not redis_available():
        missing("needs Redis for a real Celery worker")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "REDIS_URL": settings.REDIS_URL,
    }
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    celery_app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if celery_app.control.ping(timeout=0.5):
            break
        if worker.poll() is not None:
            pytest.fail(f"the Celery worker exited with {worker.returncode}")
    else:
        worker.kill()
        pytest.fail("the Celery worker did not answer a ping within 30 s")
    yield worker
    celery_app.conf.task_always_eager = previous
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
