"""Transfers, their receipts, purchase order receipts and orders at once, on
PostgreSQL with real threads and connections: afterwards `check_stock` is
clean, nothing is oversold, no unit is lost or made up, and a transfer
received twice at the same moment is received once."""

from __future__ import annotations

import datetime as dt
import io
import random
import threading
from collections.abc import Callable
from functools import partial

import pytest
from django.core.management import call_command
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import StockLevel, StockMove, StockMoveKind, Transfer, TransferStatus
from notifications import updates
from orders.checks import stock_problems
from orders.models import OrderLine, Tier
from orders.services.allocation import stock_adjust
from orders.services.intake import LineRequest, order_place
from orders.services.receiving import purchase_order_receive
from orders.services.transfers import transfer_ship
from suppliers.models import PurchaseOrder
from tests.conftest import Shop
from tests.factories import WarehouseFactory
from tests.orders.test_concurrency import Failures, Outcome, refusable, run_concurrently

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_transfers_receipts_and_orders_at_once_keep_stock_consistent(shop: Shop) -> None:
    rng = random.Random(20261204)
    main, east = shop.warehouse, WarehouseFactory.create(code="EAST")
    warehouses = [main, east]
    products = [shop.product() for _ in range(3)]
    customers = [shop.customer(rng.choice(Tier.values)) for _ in range(8)]
    for product in products:
        for warehouse in warehouses:
            stock_adjust(product=product, warehouse=warehouse, change=30, reason="count", by=None)
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(24):
        order_place(
            customer=rng.choice(customers),
            warehouse=rng.choice(warehouses),
            lines=[LineRequest(rng.choice(products), rng.randint(1, 4))],
            placed_at=start + dt.timedelta(minutes=i),
            by=None,
        )
    # transfers already on the road, each to be received by two threads at once
    on_the_road = [
        transfer_ship(
            product=product, from_warehouse=source, to_warehouse=destination, quantity=1, by=None
        ).transfer.pk
        for product in products
        for source, destination in ((main, east), (east, main))
        if StockLevel.objects.get(product=product, warehouse=source).available > 0
    ]
    purchase_orders = [shop.purchase(product, 20) for product in products]
    stock_before = _units_in_the_shop()
    shipped_ids: list[int] = []
    lock = threading.Lock()

    def ship(seed: int) -> Outcome:
        pick = random.Random(seed)
        source, destination = pick.sample(warehouses, 2)
        result = updates.transfer_ship(
            product=pick.choice(products),
            from_warehouse=source,
            to_warehouse=destination,
            quantity=pick.randint(1, 4),
            by=shop.clerk,
        )
        with lock:
            shipped_ids.append(result.transfer.pk)
        return Outcome("ship", units={result.transfer.product_id: result.transfer.quantity})

    def receive_transfer(transfer_id: int | None) -> Outcome:
        if transfer_id is None:
            with lock:
                if not shipped_ids:
                    return Outcome("receive_transfer", refused=True)
                transfer_id = shipped_ids[-1]
        result = updates.transfer_receive(transfer_id=transfer_id, by=shop.clerk)
        return Outcome("receive_transfer", units={result.transfer.product_id: 1})

    def receive_po(po_id: int) -> Outcome:
        po = PurchaseOrder.objects.get(pk=po_id)
        line = po.lines.get()
        purchase_order_receive(purchase_order=po, quantities={line.pk: 4}, by=shop.clerk)
        return Outcome("receive_po", units={line.product_id: 4})

    def place(seed: int) -> Outcome:
        pick = random.Random(seed)
        product = pick.choice(products)
        order = updates.order_place(
            customer=pick.choice(customers),
            warehouse=pick.choice(warehouses),
            lines=[LineRequest(product, pick.randint(1, 5))],
            by=shop.clerk,
        )
        return Outcome("place", order_number=order.number)

    operations: list[Callable[[], Outcome]] = []
    for transfer_id in on_the_road:
        operations += [refusable("receive_transfer", partial(receive_transfer, transfer_id))] * 2
    for seed in range(30):
        operations.append(refusable("ship", partial(ship, seed)))
        operations.append(refusable("place", partial(place, 1000 + seed)))
    for _ in range(10):
        operations.append(refusable("receive_transfer", partial(receive_transfer, None)))
    for po in purchase_orders:
        operations += [refusable("receive_po", partial(receive_po, po.pk))] * 3
    rng.shuffle(operations)

    failures = Failures()
    outcomes = run_concurrently(operations, failures)

    assert failures.errors == []
    assert len(outcomes) == len(operations)
    assert sum(1 for o in outcomes if o.kind == "ship" and not o.refused) > 10
    # every transfer on the road was received by exactly one of its two threads
    received_early = [
        o for o in outcomes if o.kind == "receive_transfer" and not o.refused and o.units
    ]
    assert len(received_early) >= len(on_the_road)
    for transfer_id in on_the_road:
        assert Transfer.objects.get(pk=transfer_id).status == TransferStatus.RECEIVED
        assert (
            StockMove.objects.filter(
                kind=StockMoveKind.TRANSFER_IN, reference=f"TR-{transfer_id}"
            ).count()
            == 1
        )
    # nothing lost or made up: stock + in transit changed only by the receipts
    received_units = sum(
        sum(o.units.values()) for o in outcomes if o.kind == "receive_po" and not o.refused
    )
    assert _units_in_the_shop() == stock_before + received_units
    # nothing oversold, the ledger balances, check_stock is clean
    assert not StockLevel.objects.filter(allocated__gt=F("on_hand")).exists()
    assert not OrderLine.objects.filter(
        ordered__lt=F("allocated") + F("shipped") + F("cancelled")
    ).exists()
    assert stock_problems() == []
    out = io.StringIO()
    call_command("check_stock", stdout=out)
    assert "Stock is consistent" in out.getvalue()


def _units_in_the_shop() -> int:
    """Units on hand in every warehouse plus those in transit between them."""
    on_hand = StockLevel.objects.aggregate(units=Sum("on_hand"))["units"] or 0
    in_transit = (
        Transfer.objects.filter(status=TransferStatus.IN_TRANSIT).aggregate(units=Sum("quantity"))[
            "units"
        ]
        or 0
    )
    return on_hand + in_transit
