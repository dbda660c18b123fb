"""What the storefront API reads: a channel's own orders, with their lines."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from inventory.models import Product, Warehouse
from orders.models import OrderLine, SalesOrder
from orders.selectors.products import (
    product_inbound_lines,
    product_queue_summary,
    product_stock_levels,
    product_warehouses,
)
from suppliers.models import PurchaseOrderLine


def storefront_orders(*, channel: str) -> QuerySet[SalesOrder]:
    """The channel's orders, each with its customer and its lines' products
    (three queries whatever the number of orders)."""
    return (
        SalesOrder.objects.filter(channel=channel)
        .select_related("customer", "warehouse")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product").order_by("pk"))
        )
    )


def storefront_order(*, channel: str, number: str) -> SalesOrder | None:
    return storefront_orders(channel=channel).filter(number=number).first()


def storefront_order_by_external_reference(*, channel: str, reference: str) -> SalesOrder | None:
    if not reference:
        return None
    return storefront_orders(channel=channel).filter(external_reference=reference).first()


def storefront_warehouse(*, code: str | None) -> Warehouse | None:
    """The warehouse with this code; without one, the default: the first by code."""
    if code:
        return Warehouse.objects.filter(code=code).first()
    return Warehouse.objects.order_by("code", "pk").first()


def storefront_orders_changed(
    *,
    channel: str,
    since: dt.datetime | None = None,
    after: tuple[dt.datetime, int] | None = None,
    limit: int,
) -> list[SalesOrder]:
    """The channel's orders changed (`updated_at`) at or after `since`, or
    strictly after the position `after` (updated_at, pk) of a previous page;
    oldest change first, at most `limit` (index order_channel_updated)."""
    orders = storefront_orders(channel=channel).order_by("updated_at", "pk")
    if after is not None:
        stamp, pk = after
        orders = orders.filter(Q(updated_at__gt=stamp) | Q(updated_at=stamp, pk__gt=pk))
    elif since is not None:
        orders = orders.filter(updated_at__gte=since)
    return list(orders[:limit])


@dataclass(frozen=True)
class WarehouseStock:
    """One product in one warehouse, as the storefront sees it."""

    warehouse: Warehouse
    on_hand: int
    allocated: int
    waiting: int
    """Backordered units of the warehouse's queue for the product."""
    inbound: list[PurchaseOrderLine]
    """Open purchase order lines still expecting units, soonest first."""

    @property
    def available(self) -> int:
        return max(self.on_hand - self.allocated, 0)


@dataclass(frozen=True)
class StorefrontProductStock:
    product: Product
    warehouses: list[WarehouseStock]


def storefront_product_stock(*, sku: str) -> StorefrontProductStock | None:
    """The product with this SKU and its stock, waiting units and inbound supply
    in every warehouse (five queries); None for an unknown SKU."""
    product = Product.objects.filter(sku=sku).first()
    if product is None:
        return None
    levels = product_stock_levels(product=product)
    waiting = product_queue_summary(product=product)
    inbound: dict[int, list[PurchaseOrderLine]] = defaultdict(list)
    for line in product_inbound_lines(product=product):
        inbound[line.purchase_order.warehouse_id].append(line)
    return StorefrontProductStock(
        product=product,
        warehouses=[
            WarehouseStock(
                warehouse=warehouse,
                on_hand=levels[warehouse.pk].on_hand if warehouse.pk in levels else 0,
                allocated=levels[warehouse.pk].allocated if warehouse.pk in levels else 0,
                waiting=waiting[warehouse.pk].units if warehouse.pk in waiting else 0,
                inbound=inbound.get(warehouse.pk, []),
            )
            for warehouse in product_warehouses()
        ],
    )
