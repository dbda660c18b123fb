"""B4: customer emails through real Celery workers on Redis into an SMTP sink.

N outbox rows (5,000 at full scale), rendered once like a backorder
confirmation, are published as `send_notification(id)` tasks to Redis and
sent by real `celery -A config worker` processes — the production command
(prefork pool), one process each (`--concurrency 1`), first 1 worker, then 2 —
into an aiosmtpd sink run by the bench (bench/smtp_sink.py).

Messages per second run from the first publish to the last message the sink
accepted. The samples are the rates of consecutive windows of N/10 messages
(several measurements in one run; the overall rate is in the label). Every
message the sink got twice is a duplicate and every row not accepted by the
deadline is lost: either makes the run fail.

The bench uses a Redis database of its own (13 unless BENCH_REDIS_URL says
otherwise), so another test run purging its queue cannot touch it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Context, Figure
from bench.smtp_sink import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_SECOND = 100


def _redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _point_celery_at(url: str) -> None:
    from config.celery import app

    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    app._pool = None  # type: ignore[attr-defined]
    app.amqp._producer_pool = None  # type: ignore[attr-defined]


def _rows(count: int, tag: str) -> list[tuple[int, str]]:
    """`count` pending outbox rows, rendered once; returns (id, Message-ID)."""
    from django.utils import timezone

    from notifications.models import Notification, NotificationKind, message_id_for
    from notifications.services.rendering import notification_render
    from orders.models import OrderLine

    line = OrderLine.objects.select_related("order__customer", "product").order_by("pk").first()
    if line is None:
        raise RuntimeError("B4 needs one order line in the database")
    order, customer = line.order, line.order.customer
    context = {
        "lines": [
            {
                "product": line.product.name,
                "sku": line.product.sku,
                "quantity": line.ordered,
                "promised_date": str(timezone.localdate()),
                "estimate": False,
            }
        ]
    }
    kind = NotificationKind.BACKORDER_CONFIRMED
    subject, text, html = notification_render(
        kind=kind, customer=customer, order=order, context=context
    )
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        (
            Notification(
                kind=kind,
                customer=customer,
                order=order,
                language=customer.language,
                to_email=customer.email,
                subject=subject,
                body_text=text,
                body_html=html,
                context=context,
                dedup_key=f"bench:{tag}:{i}",
                dispatched_at=now,
            )
            for i in range(count)
        ),
        batch_size=2000,
    )
    return [(row.pk, message_id_for(row.dedup_key)) for row in rows]


class _Workers:
    def __init__(self, *, count: int, database_url: str, redis_url: str, email_url: str) -> None:
        self.count = count
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "EMAIL_URL": f"{email_url}?timeout=10",
            "NOTIFICATION_RETRY_BACKOFF": "1",
            "NOTIFICATION_RETRY_BACKOFF_MAX": "2",
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    @staticmethod
    def _log(index: int):
        """Worker output goes to build/bench-worker-<n>.log (read it when B4 fails)."""
        (ROOT / "build").mkdir(exist_ok=True)
        return open(ROOT / "build" / f"bench-worker-{index}.log", "ab")

    def __enter__(self) -> _Workers:
        from config.celery import app

        for i in range(self.count):
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "--pool",
                        "prefork",
                        "--concurrency",
                        "1",
                        "--without-heartbeat",
                        "--without-mingle",
                        "--without-gossip",
                        "-l",
                        "warning",
                        "-n",
                        f"bench-{os.getpid()}-{i}@%h",
                    ],
                    cwd=ROOT,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=self._log(i),
                )
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a Celery worker exited with {process.returncode}")
            if len(app.control.ping(timeout=0.5) or []) >= self.count:
                return self
        self.__exit__()
        raise RuntimeError(f"{self.count} Celery workers did not answer a ping within 60 s")

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _one_run(ctx: Context, sink: SmtpSink, *, workers: int, messages: int) -> None:
    from django.db.models import Count

    from config.celery import app
    from notifications.models import Notification, NotificationStatus
    from notifications.tasks import send_notification

    assert ctx.redis_url
    tag = f"{os.getpid()}-{int(time.time())}-{workers}w"
    rows = _rows(messages, tag)
    expected = {mid for _pk, mid in rows}
    app.control.purge()
    sink.reset()
    with _Workers(
        count=workers, database_url=ctx.database_url, redis_url=ctx.redis_url, email_url=sink.url
    ):
        started = time.perf_counter()
        for pk, _mid in rows:
            send_notification.delay(pk)
        published = time.perf_counter() - started
        deadline = time.monotonic() + 60 + messages / 5
        while sink.count() < messages and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)  # late duplicates would arrive now
    ids, times = sink.snapshot()
    received = set(ids)
    duplicates = len(ids) - len(received)
    lost = len(expected - received)
    strangers = len(received - expected)
    statuses = dict(
        Notification.objects.filter(pk__in=[pk for pk, _ in rows])
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )
    not_sent = messages - statuses.get(NotificationStatus.SENT, 0)
    if duplicates:
        ctx.problem("B4", f"{workers} worker(s): {duplicates} duplicate messages")
    if lost or not_sent:
        ctx.problem("B4", f"{workers} worker(s): {lost} messages lost, {not_sent} rows not sent")
    if strangers:
        ctx.problem("B4", f"{workers} worker(s): {strangers} unexpected messages at the sink")
    if len(times) < 2:
        ctx.problem("B4", f"{workers} worker(s): the sink received {len(times)} messages")
        return
    times.sort()
    overall = len(times) / (times[-1] - started)
    window = max(1, messages // 10)
    samples = []
    previous = started
    for end in range(window, len(times) + 1, window):
        samples.append(window / (times[end - 1] - previous))
        previous = times[end - 1]
    ctx.add(
        Figure(
            key=f"B4.workers{workers}",
            label=(
                f"B4 delivery, {workers} worker{'s' if workers > 1 else ''}: {messages:,} msgs, "
                f"overall {overall:.0f}/s, {duplicates} dup, {lost} lost"
            ),
            unit="msg/s",
            samples=samples,
            higher_is_better=True,
            target=TARGET_PER_SECOND if workers == 2 else None,
            target_on="median",
            extra={
                "overall_per_second": overall,
                "publish_seconds": published,
                "duplicates": duplicates,
                "lost": lost,
                "not_sent": not_sent,
                "statuses": statuses,
            },
        )
    )


def run(ctx: Context) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        ctx.skip(
            "B4",
            "needs PostgreSQL (worker processes cannot share the bench's SQLite rows "
            "safely): set DATABASE_URL=postgres://…",
        )
        return
    if not ctx.redis_url or not _redis_ok(ctx.redis_url):
        ctx.skip("B4", "needs a Redis server: set REDIS_URL=redis://127.0.0.1:6379/0")
        return
    messages = 5_000 if ctx.full else 500
    _point_celery_at(ctx.redis_url)
    try:
        with SmtpSink() as sink:
            for workers in (1, 2):
                _one_run(ctx, sink, workers=workers, messages=messages)
    finally:
        from config.celery import app

        app.control.purge()
        _point_celery_at("memory://")
        app.conf.task_always_eager = True
