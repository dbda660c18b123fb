"""Reads of the shipping desk: orders with allocated units."""

from __future__ import annotations

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
)
from django.shortcuts import get_object_or_404

from orders.models import (
    OrderLine,
    SalesOrder,
)


def shipping_orders() -> QuerySet[SalesOrder]:
    """Orders with allocated units, oldest placed first, ready for the shipping page.

    Each order carries `ready_lines`: its lines with allocated units, with their
    products, in line order (one prefetch query for the whole page). The
    customer and warehouse come in the same query as the orders. Slice it:
    the page never counts.
    """
    return (
        SalesOrder.objects.filter(
            Exists(OrderLine.objects.ready_to_ship().filter(order=OuterRef("pk")))
        )
        .select_related("customer", "warehouse")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.ready_to_ship().select_related("product").order_by("pk"),
                to_attr="ready_lines",
            )
        )
        .order_by("placed_at", "pk")
    )


def shipping_order(*, number: str) -> SalesOrder:
    """One order with its `ready_lines` (possibly none left), 404 if unknown."""
    return get_object_or_404(
        SalesOrder.objects.select_related("customer", "warehouse").prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.ready_to_ship().select_related("product").order_by("pk"),
                to_attr="ready_lines",
            )
        ),
        number=number,
    )
