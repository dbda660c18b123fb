"""What the storefront API reads: a channel's own orders, with their lines."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet

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
