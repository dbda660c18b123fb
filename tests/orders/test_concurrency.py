"""Concurrent use cases on PostgreSQL, with real threads and real connections.

Many placements, receipts, cancellations and shipments race on three products;
afterwards the ledger, the stock levels and the order lines must agree, nothing
may be oversold, and no update may be lost. A refusal (ValidationError) is a
normal answer; anything else reaching a thread is a failure — deadlocks and
serialization failures are retried inside the services and must not surface.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import queue
import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import BackorderPolicy, StockLevel, StockMove, StockMoveKind
from orders.checks import stock_problems
from orders.models import Cancellation, Customer, OrderLine, SalesOrder, Shipment, Tier
from orders.services.cancelling import order_cancel, order_line_cancel
from orders.services.intake import LineRequest, order_place
from orders.services.receiving import purchase_order_receive
from orders.services.shipping import shipment_create
from suppliers.models import PurchaseOrder, PurchaseOrderLine
from tests.conftest import Shop

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 8


@dataclass(frozen=True)
class Outcome:
    """What one operation did, as the thread that ran it saw it."""

    kind: str
    refused: bool = False
    # placement: product id → units ordered; receipt and shipment: product id → units
    units: dict[int, int] = field(default_factory=dict)
    order_number: str = ""
    rows: int = 0  # cancellations written


@dataclass
class Failures:
    """Exceptions other than refusals that reached a thread."""

    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, error: BaseException) -> None:
        with self.lock:
            self.errors.append(f"{what}: {type(error).__module__}.{type(error).__name__}: {error}")


def run_concurrently(operations: list[Callable[[], Outcome]], failures: Failures) -> list[Outcome]:
    """Run the operations on WORKERS threads, each with its own connection,
    which it closes when the queue is empty."""
    pending: queue.SimpleQueue[Callable[[], Outcome]] = queue.SimpleQueue()
    for operation in operations:
        pending.put(operation)
    outcomes: list[Outcome] = []
    start = threading.Barrier(WORKERS)

    def worker() -> None:
        try:
            start.wait(timeout=30)
            while True:
                try:
                    operation = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcomes.append(operation())
                except Exception as error:
                    failures.add(getattr(operation, "__name__", "operation"), error)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for future in [pool.submit(worker) for _ in range(WORKERS)]:
            future.result(timeout=120)
    return outcomes


class RetryCounter(logging.Handler):
    """Counts the conflicts `retry_on_conflict` absorbed (it logs each one)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@pytest.fixture
def retries() -> Iterator[RetryCounter]:
    counter = RetryCounter()
    logger = logging.getLogger("config.db")
    logger.addHandler(counter)
    yield counter
    logger.removeHandler(counter)


def refusable(kind: str, run: Callable[[], Outcome]) -> Callable[[], Outcome]:
    """An operation for which a ValidationError is a normal answer."""

    def operation() -> Outcome:
        try:
            return run()
        except ValidationError:
            return Outcome(kind, refused=True)

    operation.__name__ = kind
    return operation


def test_mixed_concurrent_use_cases_keep_stock_consistent(
    shop: Shop, retries: RetryCounter
) -> None:
    rng = random.Random(20250301)
    # given: three products, customers in every tier, 30 orders already waiting
    products = [shop.product() for _ in range(3)]
    customers = [shop.customer(rng.choice(Tier.values)) for _ in range(12)]
    start = timezone.now() - dt.timedelta(days=2)
    waiting = [
        shop.order(
            rng.choice(products),
            rng.randint(1, 3),
            customer=rng.choice(customers),
            placed_at=start + dt.timedelta(minutes=i),
        )
        for i in range(30)
    ]
    known_orders: list[int] = [order.pk for order in waiting]
    # two purchase orders per product, confirmed up front, to arrive in pieces of 5:
    # less than the queue wants, so lines stay backordered and can be cancelled
    pieces: list[tuple[int, int, int]] = []  # (purchase order, its line, units)
    for product in products:
        for _ in range(2):
            po = shop.purchase(product, 30)
            pieces += [(po.pk, po.lines.get().pk, 5)] * 6

    def place(seed: int) -> Outcome:
        pick = random.Random(seed)
        chosen = pick.sample(products, pick.randint(1, 3))
        wanted = {product.pk: pick.randint(1, 3) for product in chosen}
        order = order_place(
            customer=pick.choice(customers),
            warehouse=shop.warehouse,
            lines=[LineRequest(product, wanted[product.pk]) for product in chosen],
            by=shop.clerk,
        )
        known_orders.append(order.pk)
        return Outcome("place", units=wanted, order_number=order.number)

    def receive(po_id: int, line_id: int, units: int) -> Outcome:
        result = purchase_order_receive(
            purchase_order=PurchaseOrder.objects.get(pk=po_id),
            quantities={line_id: units},
            by=shop.clerk,
        )
        product_id = PurchaseOrderLine.objects.values_list("product_id", flat=True).get(pk=line_id)
        assert result.received == {line_id: units}
        return Outcome("receive", units={product_id: units})

    def cancel_line(seed: int) -> Outcome:
        pick = random.Random(seed)
        line = pick.choice(list(OrderLine.objects.filter(order_id=pick.choice(known_orders))))
        order_line_cancel(line=line, reason="customer asked", by=shop.clerk)
        return Outcome("cancel_line", rows=1)

    def cancel_order(seed: int) -> Outcome:
        order = SalesOrder.objects.get(pk=random.Random(seed).choice(known_orders))
        cancellations = order_cancel(order=order, reason="customer asked", by=shop.clerk)
        return Outcome("cancel_order", rows=len(cancellations))

    def ship(seed: int) -> Outcome:
        order = SalesOrder.objects.get(pk=random.Random(seed).choice(known_orders))
        shipment = shipment_create(order=order, tracking_number=f"TRK-{seed}", by=shop.clerk)
        units: dict[int, int] = defaultdict(int)
        for product_id, quantity in shipment.lines.values_list(
            "order_line__product_id", "quantity"
        ):
            units[product_id] += quantity
        return Outcome("ship", units=dict(units))

    operations = [refusable("receive", partial(receive, *piece)) for piece in pieces]
    operations += [refusable("place", partial(place, s)) for s in range(90)]
    operations += [refusable("cancel_line", partial(cancel_line, s)) for s in range(25)]
    operations += [refusable("cancel_order", partial(cancel_order, s)) for s in range(20)]
    operations += [refusable("ship", partial(ship, s)) for s in range(29)]
    rng.shuffle(operations)
    assert len(operations) == 200

    # when
    failures = Failures()
    outcomes = run_concurrently(operations, failures)

    # then: nothing but refusals reached the threads, and every operation answered
    assert failures.errors == []
    assert len(outcomes) == len(operations)
    done = [o for o in outcomes if not o.refused]
    by_kind = Counter(o.kind for o in done)
    refused = Counter(o.kind for o in outcomes if o.refused)
    assert by_kind["receive"] == len(pieces), "a receipt within the ordered units was refused"
    assert by_kind["place"] == 90, "orders for products sold on backorder are never refused"
    assert by_kind["ship"] > 0 and by_kind["cancel_order"] > 0 and by_kind["cancel_line"] > 0

    # the ledger, the levels and the lines agree
    assert stock_problems() == []
    call_command("check_stock", stdout=io.StringIO())

    # nothing oversold
    received: dict[int, int] = defaultdict(int)
    shipped: dict[int, int] = defaultdict(int)
    for outcome in done:
        target = {"receive": received, "ship": shipped}.get(outcome.kind)
        if target is not None:
            for product_id, units in outcome.units.items():
                target[product_id] += units
    for level in StockLevel.objects.filter(warehouse=shop.warehouse):
        assert 0 <= level.allocated <= level.on_hand
        assert level.on_hand == received[level.product_id] - shipped[level.product_id]
        line_totals = OrderLine.objects.filter(product_id=level.product_id).aggregate(
            shipped=Sum("shipped"), allocated=Sum("allocated")
        )
        assert line_totals["shipped"] == shipped[level.product_id]
        assert line_totals["shipped"] + line_totals["allocated"] <= received[level.product_id]
        if level.available > 0:
            # the queue takes stock first, even under contention
            assert not OrderLine.objects.backordered().filter(product_id=level.product_id).exists()

    # no update lost: every receipt counted once, everywhere
    total_received = sum(received.values())
    assert total_received == 180
    assert (
        StockMove.objects.filter(kind=StockMoveKind.RECEIPT).aggregate(u=Sum("quantity"))["u"]
        == total_received
    )
    assert PurchaseOrderLine.objects.aggregate(u=Sum("received"))["u"] == total_received
    # every successful placement is there with its lines
    placed = [o for o in done if o.kind == "place"]
    assert SalesOrder.objects.count() == len(waiting) + len(placed)
    for outcome in placed:
        lines = OrderLine.objects.filter(order__number=outcome.order_number)
        assert dict(lines.values_list("product_id", "ordered")) == outcome.units
    # one row per successful cancellation and shipment
    assert Cancellation.objects.count() == sum(
        o.rows for o in done if o.kind in ("cancel_line", "cancel_order")
    )
    assert Shipment.objects.count() == by_kind["ship"]
    assert not OrderLine.objects.filter(
        ordered__lt=F("allocated") + F("shipped") + F("cancelled")
    ).exists()
    # conflicts absorbed by retry_on_conflict are fine; none surfaced (see failures above)
    print(  # shown with -s
        f"done {dict(by_kind)}, refused {dict(refused)}, retried conflicts {retries.count}"
    )


def test_simultaneous_orders_never_sell_more_than_the_stock(
    shop: Shop, retries: RetryCounter
) -> None:
    # given: 50 units of a product that is never sold on backorder
    product = shop.product(backorder_policy=BackorderPolicy.DENY)
    shop.receive(product, 50)
    buyers = [shop.customer(), shop.customer()]
    together = threading.Barrier(len(buyers))
    failures = Failures()

    def buy_fifty(customer: Customer) -> Counter[str]:
        answers: Counter[str] = Counter()
        try:
            for _ in range(50):
                together.wait(timeout=30)  # both threads order at the same moment
                try:
                    order_place(
                        customer=customer,
                        warehouse=shop.warehouse,
                        lines=[LineRequest(product, 1)],
                        by=None,
                    )
                    answers["sold"] += 1
                except ValidationError:
                    answers["refused"] += 1
                except Exception as error:
                    failures.add("order_place", error)
        finally:
            connection.close()
        return answers

    # when
    with ThreadPoolExecutor(max_workers=len(buyers)) as pool:
        results = list(pool.map(buy_fifty, buyers))

    # then
    assert failures.errors == []
    answers = sum(results, Counter())
    assert answers == Counter(sold=50, refused=50)
    level = StockLevel.objects.get(product=product, warehouse=shop.warehouse)
    assert (level.on_hand, level.allocated, level.available) == (50, 50, 0)
    assert OrderLine.objects.filter(product=product).aggregate(u=Sum("allocated"))["u"] == 50
    assert SalesOrder.objects.count() == 50
    assert stock_problems() == []
