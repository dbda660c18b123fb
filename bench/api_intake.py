"""B6: API intake — storefront clients posting orders over HTTP to gunicorn while receipts run.

The app runs under gunicorn as in production (bench/server.py: its own
process, the bench's database, Redis for the send tasks when there is one).
Eight client processes (spawned; plain http.client over a keep-alive
connection, no Django) post `POST /api/v1/orders` with `Authorization: Bearer`
and a fresh `Idempotency-Key` each: a customer of the shop, one to three of
its 100 most ordered products (backorders allowed), one to three units each.
One request in ten is a replay instead: a request this client sent before,
same key and same body, which must get the first answer back byte for byte
(status and body) marked `Idempotent-Replayed`. Meanwhile a thread of the
bench raises and receives purchase orders for the same products through the
real services (B5's receiver), so orders and receipts fight over the stock rows.

Orders per second = new orders answered 201 ÷ wall time of the round (one
sample per round); latency = each new order's request, as the client sees it
(replays are counted apart: they are cheaper and would flatter the figure).
Afterwards: one order per external id and per idempotency key, every 201 an
order in the database with the number it answered, no order without an
answer, every replay the first answer, and B5's stock check for every product
touched. Anything else fails the run; a timing never does.
PostgreSQL only (SQLite serialises every writer).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import Counter
from typing import Any

from bench.common import Context, Figure, fmt, percentile

CLIENTS = 8
REPLAY_SHARE = 0.10
TARGET_ORDERS_PER_SECOND = 150
TARGET_P95_MS = 100
WARM_UP_ORDERS = 3  # per client, before the clock starts


def _client(
    index: str,
    address: tuple[str, int],
    api_key: str,
    skus: list[str],
    customers: list[tuple[str, str]],
    warehouse: str,
    tag: str,
    seconds: float,
    ready: Any,
    goes: list[Any],
    results: Any,
) -> None:
    """One storefront, in its own (spawned) process: no Django, only HTTP.
    A round per event in `goes`: report ready, wait for the go, post for
    `seconds`, put what happened on `results`."""
    import http.client
    import json
    import random
    import uuid

    rng = random.Random(index)
    connection = http.client.HTTPConnection(*address, timeout=60)
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    sent: list[tuple[str, bytes, int, bytes]] = []  # key, body, first status, first answer
    placed: list[tuple[str, str, str]] = []  # external id, key, number answered
    errors: list[str] = []
    counter = reported = 0

    def post(key: str, body: bytes) -> tuple[int, bytes, bool, float]:
        started = time.perf_counter()
        for attempt in range(2):
            try:
                connection.request(
                    "POST", "/api/v1/orders", body, {**headers, "Idempotency-Key": key}
                )
                response = connection.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, OSError):
                # The server closed a kept-alive connection: open another and resend
                # (the same key, so a resend cannot place a second order).
                connection.close()
                if attempt:
                    raise
        took = (time.perf_counter() - started) * 1000
        return response.status, content, response.getheader("Idempotent-Replayed") == "true", took

    def new_order() -> tuple[int, bytes, float]:
        nonlocal counter
        counter += 1
        external_id = f"{tag}-{index}-{counter}"
        email, name = rng.choice(customers)
        document = {
            "external_id": external_id,
            "customer": {"email": email, "name": name},
            "lines": [
                {"sku": sku, "quantity": rng.randint(1, 3)}
                for sku in rng.sample(skus, rng.randint(1, 3))
            ],
            "warehouse": warehouse,
            "payment_status": "paid",
        }
        key = str(uuid.uuid4())
        body = json.dumps(document).encode()
        status, content, _replayed, took = post(key, body)
        sent.append((key, body, status, content))
        if status == 201:
            placed.append((external_id, key, json.loads(content)["number"]))
        elif len(errors) < 20:
            errors.append(f"new order answered {status}: {content[:300]!r}")
        return status, content, took

    def _round(seconds: float) -> dict[str, Any]:
        nonlocal reported
        latencies: list[float] = []
        replay_latencies: list[float] = []
        mismatches: list[str] = []
        statuses: Counter[int] = Counter()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline and len(errors) < 20:
            try:
                if sent and rng.random() < REPLAY_SHARE:
                    key, body, first_status, first_content = rng.choice(sent)
                    status, content, replayed, took = post(key, body)
                    replay_latencies.append(took)
                    if (status, content) != (first_status, first_content) or not replayed:
                        mismatches.append(
                            f"replay of {key}: {status} {content[:120]!r} (replayed header "
                            f"{replayed}), first {first_status} {first_content[:120]!r}"
                        )
                else:
                    status, _content, took = new_order()
                    if status == 201:
                        latencies.append(took)
                statuses[status] += 1
            except Exception as error:  # a refused or broken connection: report it, go on
                errors.append(f"{type(error).__name__}: {error}")
        return {
            "latencies": latencies,
            "replay_latencies": replay_latencies,
            "mismatches": mismatches,
            "errors": list(errors),
            "statuses": dict(statuses),
            "placed": list(placed),
            "keys": len(sent) - reported,  # the warm-up's count in the first round
        }

    for _ in range(WARM_UP_ORDERS):
        new_order()
        # a new connection each: the kernel hands it to any worker, so every
        # worker pays its first-request costs (imports, the broker connection:
        # about a second) before the clock starts
        connection.close()
    for go in goes:
        ready.release()
        go.wait()
        results.put(_round(seconds))
        reported = len(sent)
        placed.clear()
        errors.clear()
    connection.close()


def _customers() -> list[tuple[str, str]]:
    from orders.models import Customer

    return list(Customer.objects.order_by("pk").values_list("email", "name")[:2000])


def _redis_ok(url: str | None) -> bool:
    if not url:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _forget_published_tasks(url: str) -> None:
    """Drop the send tasks gunicorn published (no worker ran): the bench's own
    Redis database, so a later B4 or run starts from an empty queue."""
    import redis

    client = redis.Redis.from_url(url)
    for name in client.scan_iter("celery*"):
        client.delete(name)
    for name in client.scan_iter("_kombu*"):
        client.delete(name)


def _check_orders(
    ctx: Context, *, api_key: Any, tag: str, placed: list[tuple[str, str, str]], keys: int
) -> dict[str, int]:
    """One order per external id and key; every 201 an order with its number; no extra order."""
    from django.db.models import Count

    from api.models import IdempotencyRecord, IdempotencyState
    from orders.models import SalesOrder

    orders = SalesOrder.objects.filter(
        channel=api_key.channel, external_reference__startswith=f"{tag}-"
    )
    duplicates = list(
        orders.values("external_reference")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("external_reference", "n")[:10]
    )
    for reference, n in duplicates:
        ctx.problem("B6", f"duplicate: {n} orders for external id {reference}")
    in_database = dict(orders.values_list("external_reference", "number"))
    answered = {external_id: number for external_id, _key, number in placed}
    if len(answered) != len(placed):
        ctx.problem("B6", f"{len(placed) - len(answered)} external ids were answered 201 twice")
    lost = [eid for eid, number in answered.items() if in_database.get(eid) != number]
    for eid in lost[:10]:
        ctx.problem("B6", f"lost: {eid} answered {answered[eid]}, database {in_database.get(eid)}")
    unanswered = sorted(set(in_database) - set(answered))
    for eid in unanswered[:10]:
        ctx.problem("B6", f"order {in_database[eid]} ({eid}) placed without a 201 answer")
    records = IdempotencyRecord.objects.filter(api_key=api_key)
    if records.count() != keys:
        ctx.problem("B6", f"{records.count()} idempotency records for {keys} keys sent")
    unfinished = records.exclude(state=IdempotencyState.COMPLETED).count()
    if unfinished:
        ctx.problem("B6", f"{unfinished} idempotency records never completed")
    return {
        "orders_in_database": len(in_database),
        "duplicates": len(duplicates),
        "lost": len(lost),
        "unanswered": len(unanswered),
    }


def run(ctx: Context) -> None:
    from django.db import connection

    from api.keys import api_key_create
    from api.models import Scope
    from bench.intake import oversold, product_pool, receive_repeatedly
    from bench.scenario import RUN, bench_objects
    from bench.server import Gunicorn
    from inventory.models import Product
    from orders.models import Channel

    if connection.vendor != "postgresql":
        ctx.skip("B6", "needs PostgreSQL (concurrent writers): set DATABASE_URL=postgres://…")
        return
    warehouse, supplier = bench_objects()
    product_ids = product_pool(warehouse.pk)
    skus = list(Product.objects.filter(pk__in=product_ids).values_list("sku", flat=True))
    customers = _customers()
    made = api_key_create(
        name=f"bench B6 {RUN}",
        channel=Channel.API,
        scopes=[Scope.ORDERS_WRITE, Scope.ORDERS_READ],
        by=None,
    )
    tag = f"B6-{RUN}"
    seconds = 20.0 if ctx.full else 5.0
    redis_url = ctx.redis_url if _redis_ok(ctx.redis_url) else None
    rates: list[float] = []
    latencies: list[float] = []
    replay_latencies: list[float] = []
    placed: list[tuple[str, str, str]] = []
    statuses: Counter[int] = Counter()
    totals = {"orders": 0, "replays": 0, "mismatches": 0, "errors": 0, "receipts": 0, "units": 0}
    keys = 0
    server_cpu = 0.0
    fork = multiprocessing.get_context("spawn")  # as B5: never fork a threaded process
    server = Gunicorn(database_url=ctx.database_url, redis_url=redis_url)
    children: list[Any] = []
    began = time.monotonic()
    try:
        with server:
            ctx.say(
                f"  {server.description} on {server.host}:{server.port}, "
                f"serving after {time.monotonic() - began:.1f} s"
            )
            ready, results = fork.Semaphore(0), fork.Queue()
            goes = [fork.Event() for _ in range(ctx.repeat)]
            children += [
                fork.Process(
                    target=_client,
                    args=(
                        str(i),
                        (server.host, server.port),
                        made.key,
                        skus,
                        customers,
                        warehouse.code,
                        tag,
                        seconds,
                        ready,
                        goes,
                        results,
                    ),
                )
                for i in range(CLIENTS)
            ]
            for child in children:
                child.start()
            for go in goes:
                for _ in children:
                    if not ready.acquire(timeout=120):
                        raise RuntimeError("a B6 client was not ready within 120 s")
                if go is goes[0]:
                    ctx.say(f"  clients started and warmed after {time.monotonic() - began:.1f} s")
                stop, receiver_out = threading.Event(), dict[str, Any]()
                receiver = threading.Thread(
                    target=receive_repeatedly,
                    kwargs={
                        "product_ids": product_ids,
                        "warehouse": warehouse,
                        "supplier": supplier,
                        "stop": stop,
                        "out": receiver_out,
                    },
                )
                started = time.perf_counter()
                cpu_before = server.cpu_seconds()
                go.set()
                receiver.start()
                round_orders = 0
                for _ in children:
                    got = results.get(timeout=seconds + 180)
                    round_orders += len(got["latencies"])
                    latencies += got["latencies"]
                    replay_latencies += got["replay_latencies"]
                    placed += got["placed"]
                    keys += got["keys"]
                    statuses.update(got["statuses"])
                    totals["mismatches"] += len(got["mismatches"])
                    totals["errors"] += len(got["errors"])
                    for mismatch in got["mismatches"][:5]:
                        ctx.problem("B6", f"replay answered differently: {mismatch}")
                    for error in got["errors"][:5]:
                        ctx.problem("B6", f"request failed: {error}")
                wall = time.perf_counter() - started
                server_cpu += server.cpu_seconds() - cpu_before
                stop.set()
                receiver.join(timeout=60)
                if "error" in receiver_out:
                    ctx.problem("B6", f"receiver failed: {receiver_out['error']}")
                totals["receipts"] += receiver_out.get("receipts", 0)
                totals["units"] += receiver_out.get("units", 0)
                totals["orders"] += round_orders
                rates.append(round_orders / wall)
            for child in children:
                child.join(timeout=30)
    finally:
        for child in children:  # a client left waiting for a round that never came
            if child.is_alive():
                child.terminate()
                child.join(timeout=10)
        if redis_url:
            _forget_published_tasks(redis_url)
    totals["replays"] = len(replay_latencies)
    totals.update(_check_orders(ctx, api_key=made.api_key, tag=tag, placed=placed, keys=keys))
    for problem in oversold(product_ids, warehouse.pk):
        ctx.problem("B6", f"oversold: {problem}")
        totals["oversold"] = totals.get("oversold", 0) + 1
    totals.setdefault("oversold", 0)
    ctx.add(
        Figure(
            key="B6.rate",
            label=(
                f"B6 API intake, {CLIENTS} HTTP clients + receipts: {totals['orders']:,} orders, "
                f"{totals['replays']:,} replays, {totals['receipts']} receipts"
            ),
            unit="orders/s",
            samples=rates,
            higher_is_better=True,
            target=TARGET_ORDERS_PER_SECOND,
            target_on="median",
            extra={
                **totals,
                "server": server.description,
                "server_cpu_seconds": round(server_cpu, 1),
                "statuses": dict(statuses),
            },
        )
    )
    ctx.add(
        Figure(
            key="B6.latency",
            label="B6 POST /api/v1/orders latency (new orders, over HTTP)",
            unit="ms",
            samples=latencies or [0.0],
            target=TARGET_P95_MS,
        )
    )
    replay_median = fmt(percentile(replay_latencies, 0.5)) if replay_latencies else "-"
    ctx.notes.append(
        f"B6: {server.description}, Celery tasks "
        f"{'published to ' + redis_url if redis_url else 'run in the request (no Redis)'}; "
        f"{totals['replays']:,} replays (median {replay_median} ms), "
        f"{totals['mismatches']} answered differently; {totals['duplicates']} duplicates, "
        f"{totals['lost']} lost, {totals['oversold']} oversold; "
        f"{totals['units']:,} units received in {totals['receipts']} receipts; "
        f"statuses {dict(sorted(statuses.items()))}; gunicorn used "
        f"{1000 * server_cpu / max(totals['orders'] + totals['replays'], 1):.0f} ms of CPU a "
        f"request; {os.cpu_count()} cores shared by gunicorn, PostgreSQL, the clients and "
        "the receiver"
    )
