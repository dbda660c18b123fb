"""Reads of a product: stock per warehouse, inbound supply, its queue."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Sum,
)
from django.shortcuts import get_object_or_404

from inventory.models import Product, StockLevel, Warehouse
from orders.models import (
    QUEUE_ORDER,
    OrderLine,
)
from suppliers.models import (
    OPEN_PO_STATUSES,
    PurchaseOrderLine,
)

PRODUCT_QUEUE_LIMIT = 200


@dataclass
class ProductQueueSummary:
    """The waiting lines and units of one product in one warehouse."""

    warehouse_id: int
    lines: int
    units: int


def product_get(*, sku: str) -> Product:
    """One product by SKU (404 if unknown)."""
    return get_object_or_404(Product, sku=sku)


def product_warehouses() -> list[Warehouse]:
    """Every warehouse, by code (a handful: the stock table has a row for each)."""
    return list(Warehouse.objects.order_by("code"))


def product_stock_levels(*, product: Product) -> dict[int, StockLevel]:
    """The product's stock level in each warehouse that has one, by warehouse id."""
    return {level.warehouse_id: level for level in StockLevel.objects.filter(product=product)}


def product_inbound_lines(*, product: Product) -> list[PurchaseOrderLine]:
    """Open purchase order lines still expecting the product, soonest expected first."""
    return list(
        PurchaseOrderLine.objects.filter(
            product=product,
            purchase_order__status__in=OPEN_PO_STATUSES,
            received__lt=F("ordered"),
        )
        .select_related("purchase_order__supplier", "purchase_order__warehouse")
        .order_by("expected_date", "purchase_order__number", "pk")
    )


def product_queue_summary(*, product: Product) -> dict[int, ProductQueueSummary]:
    """Waiting lines and backordered units of the product per warehouse (one query)."""
    rows = (
        OrderLine.objects.backordered()
        .filter(product=product)
        .order_by()
        .values("warehouse_id")
        .annotate(
            line_count=Count("pk"),
            units=Sum(F("ordered") - F("allocated") - F("shipped") - F("cancelled")),
        )
    )
    return {
        row["warehouse_id"]: ProductQueueSummary(
            warehouse_id=row["warehouse_id"], lines=row["line_count"], units=row["units"] or 0
        )
        for row in rows
    }


def product_queue(*, product: Product, limit: int = PRODUCT_QUEUE_LIMIT) -> list[OrderLine]:
    """The product's waiting lines per warehouse (by code), each in queue order.

    Each line carries `queue_position` (1 = next to get stock in its warehouse)
    and `units_waiting`; order, customer and warehouse come in the same query.
    At most `limit` lines: the positions stay right because each warehouse's
    queue is read from its start.
    """
    lines: list[OrderLine] = list(
        OrderLine.objects.backordered()
        .filter(product=product)
        .select_related("order__customer", "warehouse")
        .annotate(
            units_waiting=ExpressionWrapper(
                F("ordered") - F("allocated") - F("shipped") - F("cancelled"),
                output_field=IntegerField(),
            )
        )
        .order_by("warehouse__code", *QUEUE_ORDER)[:limit]
    )
    position: dict[int, int] = {}
    for line in lines:
        position[line.warehouse_id] = position.get(line.warehouse_id, 0) + 1
        line.queue_position = position[line.warehouse_id]  # type: ignore[attr-defined]
    return lines
