"""A small shop for the order tests, built through the services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from inventory.models import Product, StockLevel, Warehouse
from orders.models import Customer, SalesOrder, Tier
from orders.services.intake import LineRequest, order_place
from orders.services.receiving import ReceiptResult, purchase_order_receive
from suppliers.models import PurchaseOrder, Supplier
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    SupplierFactory,
    WarehouseFactory,
)


@dataclass
class Shop:
    warehouse: Warehouse
    supplier: Supplier
    clerk: User

    def product(self, **fields: object) -> Product:
        return ProductFactory.create(**fields)

    def customer(self, tier: int = Tier.STANDARD, **fields: object) -> Customer:
        return CustomerFactory.create(tier=tier, **fields)

    def order(
        self,
        product: Product,
        quantity: int,
        *,
        customer: Customer | None = None,
        placed_at: dt.datetime | None = None,
    ) -> SalesOrder:
        return order_place(
            customer=customer or self.customer(),
            warehouse=self.warehouse,
            lines=[LineRequest(product, quantity)],
            placed_at=placed_at,
            by=self.clerk,
        )

    def purchase(self, product: Product, quantity: int, days: int = 10) -> PurchaseOrder:
        return purchase_order_create(
            supplier=self.supplier,
            warehouse=self.warehouse,
            lines=[PurchaseLineRequest(product, quantity)],
            expected_date=timezone.localdate() + dt.timedelta(days=days),
            by=self.clerk,
            confirm=True,
        )

    def receive(self, product: Product, quantity: int) -> ReceiptResult:
        po = self.purchase(product, quantity)
        line = po.lines.get()
        return purchase_order_receive(
            purchase_order=po, quantities={line.pk: quantity}, by=self.clerk
        )

    def level(self, product: Product) -> StockLevel:
        return StockLevel.objects.get(product=product, warehouse=self.warehouse)


@pytest.fixture
def shop(make_user: Callable[..., User]) -> Shop:
    return Shop(
        warehouse=WarehouseFactory.create(code="MAIN"),
        supplier=SupplierFactory.create(),
        clerk=make_user(username="clerk"),
    )


def db_snapshot() -> dict[str, object]:
    """Everything a refused use case must leave untouched."""
    from inventory.models import StockMove
    from orders.models import Cancellation, OrderLine, Shipment, ShipmentLine
    from suppliers.models import ExpectedDateRevision, PurchaseOrderLine

    return {
        "levels": sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated")),
        "moves": StockMove.objects.count(),
        "orders": SalesOrder.objects.count(),
        "lines": sorted(
            OrderLine.objects.values_list(
                "pk", "ordered", "allocated", "shipped", "cancelled", "priority"
            )
        ),
        "shipments": (Shipment.objects.count(), ShipmentLine.objects.count()),
        "cancellations": Cancellation.objects.count(),
        "po": sorted(PurchaseOrder.objects.values_list("pk", "status", "expected_date")),
        "po_lines": sorted(
            PurchaseOrderLine.objects.values_list("pk", "received", "expected_date")
        ),
        "revisions": ExpectedDateRevision.objects.count(),
    }


@pytest.fixture
def unchanged() -> Callable[[], object]:
    """`with unchanged(): …` asserts the block changes nothing in the database."""
    from contextlib import contextmanager

    @contextmanager
    def check():
        before = db_snapshot()
        yield
        assert db_snapshot() == before

    return check
