"""B7: availability of a cart — `POST /api/v1/availability` with 10 lines.

Server time in-process, through Django's test client (the whole middleware
stack, the API key's authentication, ninja's validation and the answer's
serialisation; no network, no gunicorn), as B1 measures the queue page, so the
two figures compare. Each request asks for 10 different products drawn from
the 200 with the most backordered units in the bench's warehouse (so every
line's promise walks a real queue and its open purchase orders), one to three
units each, as a standard customer. The queries of one request are counted
too: the selector promises a fixed number whatever the cart.

Runs on SQLite as well as PostgreSQL; the figure that counts is at full scale
(about 1,000,000 order lines).
"""

from __future__ import annotations

import json
import random
import statistics
import time

from bench.common import Context, Figure

LINES = 10
POOL = 200
TARGET_P95_MS = 20


def _pool(warehouse_id: int) -> list[str]:
    from django.db.models import F, Sum

    from inventory.models import BackorderPolicy
    from orders.models import OrderLine

    return list(
        OrderLine.objects.backordered()
        .filter(
            warehouse_id=warehouse_id,
            product__active=True,
            product__backorder_policy__in=[BackorderPolicy.ALLOW, BackorderPolicy.CAP],
        )
        .values("product__sku")
        .annotate(waiting=Sum(F("ordered") - F("allocated") - F("shipped") - F("cancelled")))
        .order_by("-waiting", "product__sku")
        .values_list("product__sku", flat=True)[:POOL]
    )


def run(ctx: Context) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from api.keys import api_key_create
    from api.models import Scope
    from bench.scenario import RUN, bench_objects
    from orders.models import Channel

    warehouse, _supplier = bench_objects()
    skus = _pool(warehouse.pk)
    if len(skus) < LINES:
        ctx.problem("B7", f"only {len(skus)} products with a queue to ask about")
        return
    made = api_key_create(
        name=f"bench B7 {RUN}", channel=Channel.WEB, scopes=[Scope.AVAILABILITY_READ], by=None
    )
    client = Client(headers={"Authorization": f"Bearer {made.key}"})
    rng = random.Random(7)

    def cart() -> str:
        return json.dumps(
            {
                "warehouse": warehouse.code,
                "lines": [
                    {"sku": sku, "quantity": rng.randint(1, 3)} for sku in rng.sample(skus, LINES)
                ],
            }
        )

    def ask(body: str):
        response = client.post("/api/v1/availability", body, content_type="application/json")
        if response.status_code != 200 or len(response.json()["lines"]) != LINES:
            raise RuntimeError(
                f"availability answered {response.status_code}: {response.content!r}"
            )
        return response

    for _ in range(10):  # warm: URL resolution, schemas, plans
        ask(cart())
    with CaptureQueriesContext(connection) as captured:
        answer = ask(cart()).json()
    # now: every request starts by emptying the connection's query log
    queries = len(captured.captured_queries)
    requests = (200 if ctx.full else 100) * ctx.repeat
    samples: list[float] = []
    cpu_samples: list[float] = []  # this process's CPU: the app's share, not the database's
    backordered = 0
    for _ in range(requests):
        body = cart()
        started, cpu = time.perf_counter(), time.process_time()
        response = ask(body)
        samples.append((time.perf_counter() - started) * 1000)
        cpu_samples.append((time.process_time() - cpu) * 1000)
        backordered += sum(1 for line in response.json()["lines"] if line["backordered"])
    ctx.add(
        Figure(
            key="B7.cart",
            label=f"B7 availability, cart of {LINES} lines (in-process)",
            unit="ms",
            samples=samples,
            target=TARGET_P95_MS,
            extra={
                "queries": queries,
                "requests": requests,
                "cpu_ms_median": statistics.median(cpu_samples),
            },
        )
    )
    ctx.notes.append(
        f"B7: {requests} carts of {LINES} lines from the {len(skus)} most waited-for products, "
        f"{backordered / max(requests, 1):.1f} lines a cart backordered (a promise each); "
        f"{queries} queries and a median {statistics.median(cpu_samples):.1f} ms of the "
        "app's CPU a request (the rest is the database and waiting for a core) "
        f"(one cart: sellable {answer['sellable']})"
    )
