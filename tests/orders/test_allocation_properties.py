"""Property tests for allocation: the queue order, and the invariants that every
use case keeps, checked against random queues and random operation sequences.

Each example runs inside a savepoint that is rolled back afterwards, so the
examples hypothesis generates do not see each other's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from inventory.models import BackorderPolicy, Product, StockLevel
from orders.checks import stock_problems
from orders.models import OrderLine, SalesOrder, Tier
from orders.services.allocation import stock_adjust
from orders.services.cancelling import order_cancel, order_line_cancel
from orders.services.intake import LineRequest, order_place
from orders.services.priority import order_line_set_priority
from orders.services.receiving import purchase_order_receive
from orders.services.shipping import shipment_create
from suppliers.models import PurchaseOrder
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.conftest import Shop, db_snapshot

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
START = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
TIERS = st.sampled_from([Tier.VIP, Tier.PREFERRED, Tier.STANDARD])


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in a savepoint and undo it, whatever happens."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


# --- the queue order against a reference model -----------------------------


@dataclass(frozen=True)
class QueuedLine:
    product: int  # index into the example's products
    customer: int  # index into the example's customers
    placed_minutes: int
    placed_microseconds: int
    quantity: int
    priority: int

    @property
    def placed_at(self) -> dt.datetime:
        return START + dt.timedelta(
            minutes=self.placed_minutes, microseconds=self.placed_microseconds
        )


queued_lines = st.builds(
    QueuedLine,
    product=st.integers(0, 1),
    customer=st.integers(0, 3),
    # few distinct times, so ties on time (and then on id) are common
    placed_minutes=st.integers(0, 3),
    placed_microseconds=st.sampled_from([0, 1, 999_999]),
    quantity=st.integers(1, 5),
    priority=st.sampled_from([-2, 0, 0, 0, 1, 5]),
)
# units received for (product 0, product 1) in one receipt
receipts = st.tuples(st.integers(0, 6), st.integers(0, 6)).filter(any)


@dataclass(frozen=True)
class Waiting:
    id: int
    priority: int
    tier: int
    placed_at: dt.datetime
    ordered: int


def reference_allocation(lines: list[Waiting], units: int) -> dict[int, int]:
    """The queue as the design says: (-priority, tier, placed_at, id); each line
    is filled completely before the next one gets anything."""
    allocated = {}
    for line in sorted(lines, key=lambda w: (-w.priority, w.tier, w.placed_at, w.id)):
        allocated[line.id] = min(line.ordered, units)
        units -= allocated[line.id]
    return allocated


@PROPERTY_SETTINGS
@given(
    tiers=st.lists(TIERS, min_size=4, max_size=4),
    queue=st.lists(queued_lines, min_size=1, max_size=12),
    arrivals=st.lists(receipts, min_size=1, max_size=6),
)
def test_receipts_fill_the_queue_like_the_reference_model(
    shop: Shop, tiers: list[int], queue: list[QueuedLine], arrivals: list[tuple[int, int]]
) -> None:
    with rolled_back():
        # given: an empty shelf and a queue placed at random times, then reprioritised
        products = [shop.product(), shop.product()]
        customers = [shop.customer(tier) for tier in tiers]
        waiting: list[list[Waiting]] = [[], []]
        for wanted in queue:
            order = shop.order(
                products[wanted.product],
                wanted.quantity,
                customer=customers[wanted.customer],
                placed_at=wanted.placed_at,
            )
            line = order.lines.get()
            if wanted.priority:
                order_line_set_priority(line=line, priority=wanted.priority, by=shop.clerk)
            waiting[wanted.product].append(
                Waiting(
                    line.pk,
                    wanted.priority,
                    tiers[wanted.customer],
                    wanted.placed_at,
                    wanted.quantity,
                )
            )
        # one purchase order delivered in pieces
        total = [sum(a[i] for a in arrivals) for i in (0, 1)]
        po = purchase_order_create(
            supplier=shop.supplier,
            warehouse=shop.warehouse,
            lines=[
                PurchaseLineRequest(product, units + 1)
                for product, units in zip(products, total, strict=True)
            ],
            expected_date=START.date(),
            by=shop.clerk,
            confirm=True,
        )
        po_lines = [po.lines.get(product=product).pk for product in products]
        received = [0, 0]
        for arrival in arrivals:
            # when
            purchase_order_receive(
                purchase_order=po,
                quantities=dict(zip(po_lines, arrival, strict=True)),
                by=shop.clerk,
            )
            # then: every line holds what the reference queue gives it
            for i, product in enumerate(products):
                received[i] += arrival[i]
                expected = reference_allocation(waiting[i], received[i])
                actual = dict(
                    OrderLine.objects.filter(product=product).values_list("pk", "allocated")
                )
                assert actual == expected
                level = shop.level(product)
                assert (level.on_hand, level.allocated) == (received[i], sum(expected.values()))
        assert stock_problems() == []


# --- invariants under random operation sequences ---------------------------


class ShopOperations(RuleBasedStateMachine):
    """Random use cases against one warehouse with three products: one sold on
    backorder freely, one capped, one never backordered. A refused use case
    must leave the database exactly as it was; after every step the stock
    invariants hold."""

    shop: Shop  # set by the test
    orders = Bundle("orders")
    purchase_orders = Bundle("purchase_orders")

    def __init__(self) -> None:
        super().__init__()
        self._savepoint = transaction.atomic()
        self._savepoint.__enter__()
        shop = self.shop
        self.products: list[Product] = [
            shop.product(backorder_policy=BackorderPolicy.ALLOW),
            shop.product(backorder_policy=BackorderPolicy.CAP, backorder_cap=4),
            shop.product(backorder_policy=BackorderPolicy.DENY),
        ]
        self.customers = [shop.customer(tier) for tier in Tier.values]
        # on hand per product, kept by this model: receipts + adjustments − shipments
        self.on_hand = [0, 0, 0]

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._savepoint.__exit__(None, None, None)

    def attempt(self, use_case: Callable[[], object]) -> bool:
        """Run a use case; a refusal is fine but must change nothing."""
        before = db_snapshot()
        try:
            use_case()
        except ValidationError:
            assert db_snapshot() == before, "a refused use case changed the database"
            return False
        return True

    def line_of(self, order_id: int, index: int) -> OrderLine:
        lines = list(OrderLine.objects.filter(order_id=order_id).order_by("pk"))
        return lines[index % len(lines)]

    # --- operations --------------------------------------------------------

    @initialize(target=orders)
    def some_stock_and_a_waiting_order(self) -> object:
        self.receive_new(product=0, quantity=3)
        order = self.shop.order(self.products[0], 5, customer=self.customers[2])
        return order.pk

    def receive_new(self, *, product: int, quantity: int) -> None:
        self.shop.receive(self.products[product], quantity)
        self.on_hand[product] += quantity

    @rule(
        target=orders,
        lines=st.dictionaries(st.integers(0, 2), st.integers(1, 5), min_size=1, max_size=2),
        customer=st.integers(0, 2),
    )
    def place_order(self, lines: dict[int, int], customer: int) -> object:
        placed: list[SalesOrder] = []
        self.attempt(
            lambda: placed.append(
                order_place(
                    customer=self.customers[customer],
                    warehouse=self.shop.warehouse,
                    lines=[LineRequest(self.products[p], q) for p, q in lines.items()],
                    by=self.shop.clerk,
                )
            )
        )
        return multiple(*(order.pk for order in placed))

    @rule(target=purchase_orders, product=st.integers(0, 2), quantity=st.integers(1, 8))
    def buy(self, product: int, quantity: int) -> int:
        return self.shop.purchase(self.products[product], quantity).pk

    @rule(purchase_order=purchase_orders, quantity=st.integers(1, 9))
    def receive(self, purchase_order: int, quantity: int) -> None:
        po = PurchaseOrder.objects.get(pk=purchase_order)
        po_line = po.lines.get()
        if self.attempt(
            lambda: purchase_order_receive(
                purchase_order=po, quantities={po_line.pk: quantity}, by=self.shop.clerk
            )
        ):
            self.on_hand[self.products.index(po_line.product)] += quantity

    @rule(order=orders)
    def ship_allocated(self, order: int) -> None:
        sales_order = SalesOrder.objects.get(pk=order)
        allocated = {
            line.product_id: line.allocated for line in sales_order.lines.filter(allocated__gt=0)
        }
        if self.attempt(
            lambda: shipment_create(order=sales_order, tracking_number="TRK-1", by=self.shop.clerk)
        ):
            for i, product in enumerate(self.products):
                self.on_hand[i] -= allocated.get(product.pk, 0)

    @rule(order=orders, index=st.integers(0, 1), quantity=st.none() | st.integers(1, 4))
    def cancel_line_remainder(self, order: int, index: int, quantity: int | None) -> None:
        line = self.line_of(order, index)
        self.attempt(
            lambda: order_line_cancel(
                line=line, reason="customer asked", quantity=quantity, by=self.shop.clerk
            )
        )

    @rule(order=consumes(orders))
    def cancel_order(self, order: int) -> None:
        sales_order = SalesOrder.objects.get(pk=order)
        self.attempt(
            lambda: order_cancel(order=sales_order, reason="customer asked", by=self.shop.clerk)
        )

    @rule(product=st.integers(0, 2), change=st.integers(-4, 4))
    def adjust_stock(self, product: int, change: int) -> None:
        if self.attempt(
            lambda: stock_adjust(
                product=self.products[product],
                warehouse=self.shop.warehouse,
                change=change,
                reason="cycle count",
                by=self.shop.clerk,
            )
        ):
            self.on_hand[product] += change

    @rule(order=orders, index=st.integers(0, 1), priority=st.integers(-3, 3) | st.just(101))
    def change_priority(self, order: int, index: int, priority: int) -> None:
        line = self.line_of(order, index)
        self.attempt(
            lambda: order_line_set_priority(line=line, priority=priority, by=self.shop.clerk)
        )

    # --- invariants --------------------------------------------------------

    @invariant()
    def ledger_levels_and_lines_agree(self) -> None:
        assert stock_problems() == []

    @invariant()
    def stock_is_never_oversold(self) -> None:
        for level in StockLevel.objects.all():
            assert 0 <= level.allocated <= level.on_hand, level

    @invariant()
    def no_line_holds_more_than_ordered(self) -> None:
        overfull = OrderLine.objects.filter(
            ordered__lt=F("allocated") + F("shipped") + F("cancelled")
        )
        assert not overfull.exists()

    @invariant()
    def the_queue_takes_stock_first(self) -> None:
        for level in StockLevel.objects.filter(on_hand__gt=F("allocated")):
            waiting = OrderLine.objects.backordered().filter(
                product_id=level.product_id, warehouse_id=level.warehouse_id
            )
            assert not waiting.exists(), f"{level.available} units sit on the shelf of {level}"

    @invariant()
    def on_hand_is_what_came_in_minus_what_left(self) -> None:
        on_hand = dict(
            StockLevel.objects.filter(warehouse=self.shop.warehouse).values_list(
                "product_id", "on_hand"
            )
        )
        assert [on_hand.get(p.pk, 0) for p in self.products] == self.on_hand


def test_random_operations_keep_the_stock_invariants(shop: Shop) -> None:
    class Operations(ShopOperations):
        pass

    Operations.shop = shop
    run_state_machine_as_test(
        Operations,
        settings=settings(
            PROPERTY_SETTINGS,
            stateful_step_count=25,
        ),
    )
