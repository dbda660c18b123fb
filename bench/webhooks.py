"""B8: webhook ingest — signed Shopify-shaped deliveries over HTTP to gunicorn.

The bench connects a Shopify shop, makes N orders/create deliveries (1,000 at
small scale, 5,000 at full; each a new shop order of one or two of the shop's
100 most ordered products, signed with the connection's secret) and re-sends
5 % of them (the same X-Shopify-Webhook-Id and body: the platform's retry).
Eight client threads post them over HTTP to `gunicorn config.wsgi` (3 sync
workers, the production command) on a free local port, while two real Celery
workers (`celery -A config worker`, one process each) on Redis process the
stored events into orders.

Deliveries accepted per second = 200 answers ÷ wall time of the posting;
latency = each POST until its 200. Then the time from the first POST until
every shop order is an order here. Afterwards: one stored event per distinct
delivery (a second one is a duplicate), one order per shop order (a missing
one is lost), no failed event — anything else fails the run. PostgreSQL and
Redis only (concurrent writers, real workers).
"""

from __future__ import annotations

import http.client
import json
import os
import queue
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import Context, Figure
from bench.delivery import _point_celery_at, _redis_ok, _Workers

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
GUNICORN_WORKERS = 3
DUPLICATE_SHARE = 0.05
TARGET_PER_SECOND = 300
TARGET_P95_MS = 50
SECRET = "bench-webhook-secret"  # noqa: S105 (the bench's own connection)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _deliveries(connection: Any, skus: list[str], count: int, rng: random.Random) -> list[dict]:
    """`count` signed orders/create deliveries, then 5 % of them again, shuffled."""
    from api.hooks.signing import body_signature

    body_template = json.loads(
        (ROOT / "api" / "hooks" / "samples" / "shopify_order.json").read_text()
    )
    run = uuid.uuid4().hex[:8]
    made = []
    for index in range(count):
        body = dict(body_template)
        body["id"] = 10_000_000 + index
        body["name"] = f"#B8-{run}-{index}"
        body["email"] = body["contact_email"] = f"b8-{run}-{index % 500}@example.com"
        body["line_items"] = [
            {**body_template["line_items"][0], "sku": sku, "quantity": rng.randint(1, 2)}
            for sku in rng.sample(skus, rng.randint(1, 2))
        ]
        raw = json.dumps(body).encode()
        made.append(
            {
                "body": raw,
                "headers": {
                    "Content-Type": "application/json",
                    "X-Shopify-Topic": "orders/create",
                    "X-Shopify-Shop-Domain": connection.domain,
                    "X-Shopify-Webhook-Id": f"b8-{run}-{index}",
                    "X-Shopify-Event-Id": f"b8-event-{run}-{index}",
                    "X-Shopify-Hmac-Sha256": body_signature(secret=SECRET, body=raw),
                },
            }
        )
    again = rng.sample(made, int(count * DUPLICATE_SHARE))
    everything = made + again
    rng.shuffle(everything)
    return everything


class _Gunicorn:
    def __init__(self, *, database_url: str, redis_url: str) -> None:
        self.port = _free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> _Gunicorn:
        (ROOT / "build").mkdir(exist_ok=True)
        self.log = open(ROOT / "build" / "bench-gunicorn.log", "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(GUNICORN_WORKERS),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not listen within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()


def _client(port: int, path: str, work: queue.Queue, out: list, go: threading.Event) -> None:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    go.wait()
    while True:
        try:
            delivery = work.get_nowait()
        except queue.Empty:
            break
        started = time.perf_counter()
        try:
            conn.request("POST", path, body=delivery["body"], headers=delivery["headers"])
            response = conn.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            status = 0
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    conn.close()
    out.append((latencies, statuses))


def _one_round(ctx: Context, *, count: int, skus: list[str], rng: random.Random) -> None:
    from api.hooks.services import shop_connection_create
    from api.models import InboundEvent, InboundStatus, ShopOrder
    from config.celery import app

    assert ctx.redis_url
    connection = shop_connection_create(
        platform="shopify",
        domain=f"b8-{uuid.uuid4().hex[:10]}.myshopify.com",
        secret=SECRET,
        channel="web",
    )
    deliveries = _deliveries(connection, skus, count, rng)
    work: queue.Queue = queue.Queue()
    for delivery in deliveries:
        work.put(delivery)
    app.control.purge()
    with (
        _Gunicorn(database_url=ctx.database_url, redis_url=ctx.redis_url) as server,
        _Workers(
            count=2, database_url=ctx.database_url, redis_url=ctx.redis_url, email_url="locmem://"
        ),
    ):
        go, out = threading.Event(), list[tuple[list[float], dict[int, int]]]()
        threads = [
            threading.Thread(
                target=_client, args=(server.port, connection.webhook_path, work, out, go)
            )
            for _ in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        started = time.perf_counter()
        go.set()
        for thread in threads:
            thread.join()
        posted = time.perf_counter() - started
        deadline = time.monotonic() + 120 + count / 5
        while time.monotonic() < deadline:
            if ShopOrder.objects.filter(connection=connection).count() >= count:
                break
            if InboundEvent.objects.filter(
                connection=connection, status=InboundStatus.FAILED
            ).exists():
                break
            time.sleep(0.25)
        all_placed = time.perf_counter() - started
    latencies = [ms for got, _statuses in out for ms in got]
    statuses: dict[int, int] = {}
    for _got, got_statuses in out:
        for status, n in got_statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    accepted = statuses.get(200, 0)
    events = InboundEvent.objects.filter(connection=connection)
    stored = events.count()
    failed = list(events.filter(status=InboundStatus.FAILED).values_list("error", flat=True)[:5])
    orders = ShopOrder.objects.filter(connection=connection).count()
    if accepted != len(deliveries):
        ctx.problem("B8", f"{len(deliveries) - accepted} deliveries not answered 200: {statuses}")
    if stored > count:
        ctx.problem("B8", f"{stored - count} duplicate events stored")
    if orders < count:
        ctx.problem("B8", f"{count - orders} shop orders lost (no order after the deadline)")
    for error in failed:
        ctx.problem("B8", f"an event failed: {error}")
    ctx.add(
        Figure(
            key="B8.rate",
            label=(
                f"B8 webhook ingest, {CLIENTS} clients: {len(deliveries):,} deliveries "
                f"({len(deliveries) - count} duplicates), {stored - count} dup stored, "
                f"{count - orders} lost"
            ),
            unit="deliveries/s",
            samples=[accepted / posted],
            higher_is_better=True,
            target=TARGET_PER_SECOND,
            target_on="median",
            extra={"statuses": statuses, "stored": stored, "orders": orders},
        )
    )
    ctx.add(
        Figure(
            key="B8.latency",
            label="B8 POST until its 200",
            unit="ms",
            samples=latencies or [0.0],
            target=TARGET_P95_MS,
        )
    )
    ctx.add(
        Figure(
            key="B8.all_orders",
            label=f"B8 first POST until all {count:,} orders exist (2 Celery workers)",
            unit="s",
            samples=[all_placed],
        )
    )


def run(ctx: Context) -> None:
    from django.db import connection

    from bench.intake import product_pool
    from bench.scenario import bench_objects
    from inventory.models import Product

    if connection.vendor != "postgresql":
        ctx.skip("B8", "needs PostgreSQL (concurrent writers): set DATABASE_URL=postgres://…")
        return
    if not ctx.redis_url or not _redis_ok(ctx.redis_url):
        ctx.skip("B8", "needs a Redis server: set REDIS_URL=redis://127.0.0.1:6379/0")
        return
    warehouse, _supplier = bench_objects()
    skus = list(
        Product.objects.filter(pk__in=product_pool(warehouse.pk)).values_list("sku", flat=True)
    )
    if len(skus) < 2:
        ctx.skip("B8", "the seeded shop has fewer than two products sold on backorder")
        return
    count = 5_000 if ctx.full else 1_000
    _point_celery_at(ctx.redis_url)
    try:
        for round_number in range(ctx.repeat if ctx.full else 1):
            _one_round(ctx, count=count, skus=skus, rng=random.Random(round_number))
    finally:
        from config.celery import app

        app.control.purge()
        _point_celery_at("memory://")
        app.conf.task_always_eager = True
