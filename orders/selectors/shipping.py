"""Reads of the shipping desk: orders with allocated units, with every open line."""

from __future__ import annotations

from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    QuerySet,
)
from django.shortcuts import get_object_or_404

from inventory.models import StockLevel, Warehouse
from orders.models import (
    OrderLine,
    SalesOrder,
)


def _open_lines() -> QuerySet[OrderLine]:
    """Lines with units neither shipped nor cancelled: ready, partly ready or waiting."""
    return (
        OrderLine.objects.filter(ordered__gt=F("shipped") + F("cancelled"))
        .select_related("product")
        .order_by("pk")
    )


def _with_lines(orders: QuerySet[SalesOrder]) -> QuerySet[SalesOrder]:
    return (
        orders.select_related("customer", "warehouse")
        .annotate(has_waiting=Exists(OrderLine.objects.backordered().filter(order=OuterRef("pk"))))
        .prefetch_related(Prefetch("lines", queryset=_open_lines(), to_attr="open_lines"))
    )


def shipping_orders(*, warehouse_id: int | None = None) -> QuerySet[SalesOrder]:
    """Orders with allocated units, oldest placed first, ready for the shipping page.

    Each order carries `open_lines`: every line not yet shipped or cancelled —
    ready, partly ready and still waiting (with its promise) — with its
    product, in line order (one prefetch query for the whole page), and
    `has_waiting`: whether any line still waits for units. The customer and
    warehouse come in the same query as the orders. Slice it: the page never
    counts.
    """
    orders = SalesOrder.objects.filter(
        Exists(OrderLine.objects.ready_to_ship().filter(order=OuterRef("pk")))
    )
    if warehouse_id is not None:
        orders = orders.filter(warehouse_id=warehouse_id)
    return _with_lines(orders).order_by("placed_at", "pk")


def shipping_order(*, number: str) -> SalesOrder:
    """One order with its `open_lines` and `has_waiting` (possibly nothing
    ready any more), 404 if unknown."""
    return get_object_or_404(_with_lines(SalesOrder.objects.all()), number=number)


def shipping_warehouses() -> list[Warehouse]:
    """The warehouses a shipping or receiving page may be filtered by, by code."""
    return list(Warehouse.objects.order_by("code"))


def bin_locations(*, keys: set[tuple[int, int]]) -> dict[tuple[int, int], str]:
    """The bin of each (product id, warehouse id) that has one (one query)."""
    if not keys:
        return {}
    product_ids = {product_id for product_id, _warehouse_id in keys}
    warehouse_ids = {warehouse_id for _product_id, warehouse_id in keys}
    rows = (
        StockLevel.objects.filter(product_id__in=product_ids, warehouse_id__in=warehouse_ids)
        .exclude(bin_location="")
        .values_list("product_id", "warehouse_id", "bin_location")
    )
    return {(p, w): bin_location for p, w, bin_location in rows if (p, w) in keys}
