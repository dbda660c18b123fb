"""B5: order intake — 8 concurrent clients placing orders while receipts run.

Eight client processes (separate processes, so Python runs on both cores as
several gunicorn workers would; each has its own database connection) call
`orders.services.order_place` in a loop: a random customer, one to three of
the shop's 100 most ordered products (backorders allowed), one to three
units each. Meanwhile a receiver thread in the bench process raises a
purchase order for five of those products and receives it through
`orders.services.purchase_order_receive`, again and again, so orders and
receipts fight over the same stock rows.

Orders per second = orders placed ÷ wall time of the round (one sample per
round); latency = each `order_place` call. Afterwards, for every product
touched: allocated ≤ on hand, the lines' allocated units add up to the stock
level, and the ledger sums to it — anything else is oversold stock and fails
the run. PostgreSQL only (SQLite serialises every writer).
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from typing import Any

from bench.common import Context, Figure

CLIENTS = 8
POOL = 100
TARGET_ORDERS_PER_SECOND = 150
TARGET_P95_MS = 100


def _client(
    index: int,
    product_ids: list[int],
    customer_ids: list[int],
    warehouse_id: int,
    seconds: float,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """One storefront client, in its own (spawned) process."""
    import django

    django.setup()  # a fresh interpreter: the environment says which database
    from django.core.exceptions import ValidationError
    from django.db import connection

    from config.db import ConcurrencyConflict
    from inventory.models import Product, Warehouse
    from orders.models import Customer
    from orders.services.intake import LineRequest, order_place

    rng = random.Random(index)
    products = Product.objects.in_bulk(product_ids)
    warehouse = Warehouse.objects.get(pk=warehouse_id)
    customers = list(Customer.objects.filter(pk__in=customer_ids))
    latencies: list[float] = []
    refused = conflicts = 0
    errors: list[str] = []
    ready.release()
    go.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        chosen = rng.sample(product_ids, rng.randint(1, 3))
        lines = [LineRequest(products[pk], rng.randint(1, 3)) for pk in chosen]
        started = time.perf_counter()
        try:
            order_place(customer=rng.choice(customers), warehouse=warehouse, lines=lines, by=None)
        except ValidationError:
            refused += 1
            continue
        except ConcurrencyConflict:
            conflicts += 1
            continue
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")
            if len(errors) > 20:
                break
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    connection.close()
    results.put((latencies, refused, conflicts, errors))


def receive_repeatedly(
    *, product_ids: list[int], warehouse: Any, supplier: Any, stop: threading.Event, out: dict
) -> None:
    from django.db import connection
    from django.utils import timezone

    from inventory.models import Product
    from orders.services.receiving import purchase_order_receive
    from suppliers.services import PurchaseLineRequest, purchase_order_create

    rng = random.Random(0)
    products = Product.objects.in_bulk(product_ids)
    receipts = units = 0
    try:
        while not stop.is_set():
            chosen = rng.sample(product_ids, 5)
            po = purchase_order_create(
                supplier=supplier,
                warehouse=warehouse,
                lines=[PurchaseLineRequest(products[pk], 20) for pk in chosen],
                expected_date=timezone.localdate(),
                by=None,
                confirm=True,
            )
            quantities = dict(po.lines.values_list("pk", "ordered"))
            purchase_order_receive(purchase_order=po, quantities=quantities, by=None)
            receipts += 1
            units += sum(quantities.values())
            stop.wait(0.2)
    except Exception as error:
        out["error"] = f"{type(error).__name__}: {error}"
    finally:
        connection.close()
        out.update(receipts=receipts, units=units)


def product_pool(warehouse_id: int) -> list[int]:
    from django.db.models import Count

    from inventory.models import BackorderPolicy, Product

    return list(
        Product.objects.filter(active=True, backorder_policy=BackorderPolicy.ALLOW)
        .annotate(lines=Count("order_lines"))
        .order_by("-lines", "pk")
        .values_list("pk", flat=True)[:POOL]
    )


def oversold(product_ids: list[int], warehouse_id: int) -> list[str]:
    from django.db.models import Sum

    from inventory.models import StockLevel, StockMove
    from orders.models import OrderLine

    problems = []
    levels = StockLevel.objects.filter(product_id__in=product_ids, warehouse_id=warehouse_id)
    lines = dict(
        OrderLine.objects.filter(product_id__in=product_ids, warehouse_id=warehouse_id)
        .order_by()
        .values_list("product_id")
        .annotate(Sum("allocated"))
    )
    ledger = {
        pid: (on_hand, allocated)
        for pid, on_hand, allocated in StockMove.objects.filter(
            product_id__in=product_ids, warehouse_id=warehouse_id
        )
        .order_by()
        .values_list("product_id")
        .annotate(Sum("on_hand_change"), Sum("allocated_change"))
    }
    for level in levels:
        if level.allocated > level.on_hand:
            problems.append(
                f"product {level.product_id}: allocated {level.allocated} > on hand {level.on_hand}"
            )
        if lines.get(level.product_id, 0) != level.allocated:
            problems.append(
                f"product {level.product_id}: lines hold {lines.get(level.product_id, 0)} "
                f"allocated units, the stock level {level.allocated}"
            )
        if ledger.get(level.product_id, (0, 0)) != (level.on_hand, level.allocated):
            problems.append(
                f"product {level.product_id}: ledger sums to {ledger.get(level.product_id)}, "
                f"stock level is ({level.on_hand}, {level.allocated})"
            )
    return problems


def run(ctx: Context) -> None:
    from django.db import connection

    from bench.scenario import bench_objects
    from orders.models import Customer

    if connection.vendor != "postgresql":
        ctx.skip("B5", "needs PostgreSQL (concurrent writers): set DATABASE_URL=postgres://…")
        return
    warehouse, supplier = bench_objects()
    product_ids = product_pool(warehouse.pk)
    customer_ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:2000])
    seconds = 20.0 if ctx.full else 5.0
    rates: list[float] = []
    latencies: list[float] = []
    totals = {"orders": 0, "refused": 0, "conflicts": 0, "receipts": 0, "units": 0}
    # spawn, not fork: a fork of a process with threads (the SMTP sink, Celery's
    # pools) can inherit a held lock and hang.
    fork = multiprocessing.get_context("spawn")
    for _round in range(ctx.repeat):
        ready, go, results = fork.Semaphore(0), fork.Event(), fork.Queue()
        children = [
            fork.Process(
                target=_client,
                args=(i, product_ids, customer_ids, warehouse.pk, seconds, ready, go, results),
            )
            for i in range(CLIENTS)
        ]
        for child in children:
            child.start()
        for _ in children:
            if not ready.acquire(timeout=60):
                raise RuntimeError("a B5 client did not start within 60 s")
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
        go.set()
        receiver.start()
        round_latencies: list[float] = []
        for _ in children:
            got, refused, conflicts, errors = results.get(timeout=seconds + 120)
            round_latencies += got
            totals["refused"] += refused
            totals["conflicts"] += conflicts
            for error in errors[:5]:
                ctx.problem("B5", f"order_place failed: {error}")
        wall = time.perf_counter() - started
        stop.set()
        receiver.join(timeout=60)
        for child in children:
            child.join(timeout=30)
        if "error" in receiver_out:
            ctx.problem("B5", f"receiver failed: {receiver_out['error']}")
        totals["receipts"] += receiver_out.get("receipts", 0)
        totals["units"] += receiver_out.get("units", 0)
        totals["orders"] += len(round_latencies)
        rates.append(len(round_latencies) / wall)
        latencies += round_latencies
    for problem in oversold(product_ids, warehouse.pk):
        ctx.problem("B5", f"oversold: {problem}")
    label = (
        f"B5 intake, {CLIENTS} clients + receipts: {totals['orders']:,} orders, "
        f"{totals['receipts']} receipts"
    )
    ctx.add(
        Figure(
            key="B5.rate",
            label=label,
            unit="orders/s",
            samples=rates,
            higher_is_better=True,
            target=TARGET_ORDERS_PER_SECOND,
            target_on="median",
            extra=totals,
        )
    )
    ctx.add(
        Figure(
            key="B5.latency",
            label="B5 order_place latency",
            unit="ms",
            samples=latencies or [0.0],
            target=TARGET_P95_MS,
        )
    )
    ctx.notes.append(
        f"B5: {totals['refused']} orders refused, {totals['conflicts']} gave up on lock "
        f"conflicts, {totals['units']:,} units received in {totals['receipts']} receipts"
    )
