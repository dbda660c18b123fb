"""Fixtures for delivery tests: a real SMTP sink and real Celery workers.

`smtp_sink` is an aiosmtpd server on a free local port that records the
Message-ID of every message it accepts; it can answer the next K messages with
a temporary 451, or hold one message unanswered (to kill a worker mid-send).
`notification_workers` starts `celery -A config worker` subprocesses that send
into the sink (EMAIL_URL) with fast retries, and can kill and restart them.
"""

from __future__ import annotations

import asyncio
import email
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import missing, redis_available


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], *, timeout: float, message: str) -> Any:
    """Poll `condition` until it is truthy; fail with `message` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s: {message}")
        time.sleep(0.05)


@dataclass
class SinkHandler:
    """aiosmtpd handler: 250 and record, or 451 while failures are armed."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    message_ids: list[str] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    peers: list[tuple[str, int]] = field(default_factory=list)
    """The client address of each accepted message (one per SMTP connection)."""
    fail_remaining: int = 0
    refused: int = 0
    hold_at: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.fail_remaining > 0:
                self.fail_remaining -= 1
                self.refused += 1
                return "451 4.3.0 Temporary failure, try again later"
            hold = self.hold_at is not None and len(self.message_ids) >= self.hold_at
            if hold:
                self.hold_at = None
        if hold:
            # Keep the client waiting for the answer to DATA: the message is
            # not accepted until "250", so when the client dies meanwhile the
            # message is dropped, like a real MTA does.
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Client went away"
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.message_ids.append(str(message["Message-ID"]))
            self.received_at.append(time.monotonic())
            self.peers.append(tuple(session.peer[:2]))
        return "250 OK"


@dataclass
class SmtpSink:
    port: int
    handler: SinkHandler
    controller: Any = None

    def connections(self) -> int:
        """How many SMTP connections delivered the accepted messages."""
        with self.handler.lock:
            return len(set(self.handler.peers))

    def restart(self) -> None:
        """Stop the server, dropping every open connection, and start it again
        on the same port (a restarted MTA)."""
        from aiosmtpd.controller import Controller

        self.controller.stop()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def message_ids(self) -> list[str]:
        with self.handler.lock:
            return list(self.handler.message_ids)

    def rate(self) -> float:
        """Messages per second between the first and the last accepted."""
        with self.handler.lock:
            times = list(self.handler.received_at)
        return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0

    def duplicates(self) -> dict[str, int]:
        return {mid: n for mid, n in Counter(self.message_ids()).items() if n > 1}

    def fail_next(self, count: int) -> None:
        """Answer the next `count` messages with 451 (a temporary failure)."""
        with self.handler.lock:
            self.handler.fail_remaining = count

    def hold_when_received(self, count: int) -> None:
        """Leave the message after the first `count` unanswered until `release()`."""
        with self.handler.lock:
            self.handler.hold_at = count

    def release(self) -> None:
        self.handler.release.set()


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    handler = SinkHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    sink = SmtpSink(port=port, handler=handler, controller=controller)
    try:
        yield sink
    finally:
        handler.release.set()
        sink.controller.stop()


class RedisServer:
    """A private `redis-server` on a free port that a test may stop and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
            except redis.RedisError:
                return False

        wait_for(answers, timeout=10, message="the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    if not shutil.which("redis-server"):
        missing("needs the redis-server binary")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def point_publisher_at(broker_url: str) -> None:
    """Make this process publish to `broker_url` (drops the pooled connections)."""
    from config.celery import app as celery_app

    celery_app.conf.update(broker_url=broker_url)
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


class Workers:
    """Start, kill and stop real Celery workers sending into the sink."""

    def __init__(self, email_url: str) -> None:
        self.email_url = email_url
        self.broker_url = settings.REDIS_URL
        self.processes: list[subprocess.Popen[bytes]] = []
        self.killed = False

    def env(self) -> dict[str, str]:
        db = connection.settings_dict
        env = {
            **os.environ,
            # Base settings: the test settings force the locmem email backend.
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "REDIS_URL": self.broker_url,
            "EMAIL_URL": f"{self.email_url}?timeout=10",
            "NOTIFICATION_RETRY_BACKOFF": "1",
            "NOTIFICATION_RETRY_BACKOFF_MAX": "1",
            "NOTIFICATION_SEND_MAX_RETRIES": "5",
        }
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        return env

    def start(self) -> subprocess.Popen[bytes]:
        from config.celery import app as celery_app

        name = f"notifications-{os.getpid()}-{len(self.processes)}@%h"
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
                name,
            ],
            cwd=settings.BASE_DIR,
            env=self.env(),
        )
        self.processes.append(worker)

        def answers() -> bool:
            if worker.poll() is not None:
                pytest.fail(f"the Celery worker exited with {worker.returncode}")
            return bool(celery_app.control.ping(timeout=0.5))

        wait_for(answers, timeout=30, message="the Celery worker did not answer a ping")
        return worker

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no shutdown, no ack, no chance to mark anything."""
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        self.killed = True

    def stop_all(self) -> None:
        for worker in self.processes:
            if worker.poll() is None:
                worker.terminate()
        for worker in self.processes:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)


@pytest.fixture
def notification_workers(smtp_sink: SmtpSink) -> Iterator[Workers]:
    """Real workers on Redis against the test database; eager mode off meanwhile."""
    import redis

    from config.celery import app as celery_app

    if not redis_available():
        missing("needs Redis for a real Celery worker")
    if connection.vendor != "postgresql":
        missing("a worker process cannot see SQLite's in-memory test database")
    workers = Workers(smtp_sink.url)
    previous_eager = celery_app.conf.task_always_eager
    previous_broker = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    try:
        yield workers
    finally:
        workers.stop_all()
        celery_app.conf.task_always_eager = previous_eager
        if celery_app.conf.broker_url != previous_broker:
            point_publisher_at(previous_broker)
        if workers.killed:
            # A killed worker's unacknowledged message would come back after the
            # visibility timeout (an hour) into some later test run.
            redis.Redis.from_url(settings.REDIS_URL).delete(
                "unacked", "unacked_index", "unacked_mutex"
            )
        celery_app.control.purge()
