"""What the storefront API reads: a channel's own orders, with their lines."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from inventory.models import Warehouse
from orders.models import OrderLine, SalesOrder


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
