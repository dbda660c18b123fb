"""The storefront's use cases: an order as a shop sends it, placed through the
same use case as the staff's (notifications.updates.order_place)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from inventory.catalogue import ProductUpsert, product_upsert
from inventory.models import Product
from notifications import updates
from orders.models import SalesOrder
from orders.selectors.storefront import storefront_warehouse
from orders.services.customers import customer_find_or_create
from orders.services.intake import LineRequest
from orders.services.shipping import order_delivery_set, order_ship_preference_set


@dataclass(frozen=True)
class StorefrontLine:
    sku: str
    quantity: int
    unit_price: Decimal | None


class LinesRefused(Exception):
    """Lines the order cannot have; nothing was saved. Each: (line index or None, reason)."""

    def __init__(self, errors: list[tuple[int | None, str]]) -> None:
        super().__init__("; ".join(reason for _index, reason in errors))
        self.errors = errors


class UnknownWarehouse(Exception):
    pass


class OrderNotFound(Exception):
    """The key's channel has no order with this number."""


@transaction.atomic
def storefront_order_place(
    *,
    channel: str,
    external_id: str,
    placed_at: dt.datetime | None,
    customer_email: str,
    customer_name: str,
    customer_language: str,
    customer_tier: int | None,
    lines: Sequence[StorefrontLine],
    warehouse_code: str | None,
    payment_status: str,
    amount_paid: Decimal | None = None,
    amount_refunded: Decimal | None = None,
    currency: str | None = None,
    ship_preference: str = "",
    shipping_address: str = "",
    carrier: str = "",
) -> SalesOrder:
    """Place a storefront's order on its channel (an API key's, or a shop
    connection's: the API and the shop webhooks share this intake).

    Raises LinesRefused (unknown SKU, inactive, denied or over the backorder cap,
    naming each line), UnknownWarehouse, or ValidationError for the external id
    already taken. The customer is found by email, or made, in the same transaction.
    """
    warehouse = storefront_warehouse(code=warehouse_code)
    if warehouse is None:
        raise UnknownWarehouse(warehouse_code or "")
    products = {p.sku: p for p in Product.objects.filter(sku__in=[line.sku for line in lines])}
    unknown: list[tuple[int | None, str]] = [
        (index, f"{line.sku}: no product has this SKU.")
        for index, line in enumerate(lines)
        if line.sku not in products
    ]
    if unknown:
        raise LinesRefused(unknown)
    customer = customer_find_or_create(
        email=customer_email, name=customer_name, language=customer_language, tier=customer_tier
    )
    try:
        order = updates.order_place(
            customer=customer,
            warehouse=warehouse,
            lines=[
                LineRequest(products[line.sku], line.quantity, line.unit_price) for line in lines
            ],
            by=None,
            channel=channel,
            placed_at=placed_at,
            external_reference=external_id,
            payment_status=payment_status,
            amount_paid=amount_paid,
            amount_refunded=amount_refunded,
            currency=currency,
        )
    except ValidationError as error:
        messages = getattr(error, "message_dict", {})
        if "lines" not in messages:
            raise
        raise LinesRefused(
            [(_line_index(lines, message), message) for message in messages["lines"]]
        ) from error
    if shipping_address or carrier:
        order_delivery_set(order=order, shipping_address=shipping_address, carrier=carrier, by=None)
    if ship_preference:
        order_ship_preference_set(order=order, preference=ship_preference, by=None)
    return order


def _line_index(lines: Sequence[StorefrontLine], message: str) -> int | None:
    """Which line a reason of intake is about: its messages start with the SKU."""
    for index, line in enumerate(lines):
        if message.startswith(f"{line.sku}:") or message.startswith(f"{line.sku} "):
            return index
    return None


@transaction.atomic
def storefront_order_cancel(
    *, channel: str, number: str, reason: str, skus: Sequence[str] | None
) -> SalesOrder:
    """The customer cancelled in the shop: the backordered remainder of every
    line of the order, or of the lines with these SKUs (every line of a SKU
    listed), through `updates.order_backorders_cancel` (the "cancelled" email).

    Raises OrderNotFound (not this channel's), LinesRefused (a SKU listed that
    the order has no line of, naming its index), or NothingToCancel.
    """
    order = SalesOrder.objects.filter(channel=channel, number=number).first()
    if order is None:
        raise OrderNotFound(number)
    line_ids: list[int] | None = None
    if skus is not None:
        lines_by_sku: dict[str, list[int]] = defaultdict(list)
        for pk, sku in order.lines.values_list("pk", "product__sku"):
            lines_by_sku[sku].append(pk)
        missing: list[tuple[int | None, str]] = [
            (index, f"{sku}: this order has no line of this SKU.")
            for index, sku in enumerate(skus)
            if sku not in lines_by_sku
        ]
        if missing:
            raise LinesRefused(missing)
        line_ids = [pk for sku in skus for pk in lines_by_sku[sku]]
    updates.order_backorders_cancel(order=order, reason=reason, by=None, line_ids=line_ids)
    return order


def storefront_product_upsert(
    *,
    sku: str,
    name: str,
    price: Decimal,
    active: bool,
    backorder_policy: str,
    backorder_cap: int | None,
) -> ProductUpsert:
    """The shop's product under this SKU, created or updated
    (`inventory.catalogue.product_upsert`). A request that raced another
    creating the same SKU updates the product that one made.

    No promise is refreshed: the policy, cap, price and active flag decide what
    new orders may have, and the promise engine reads none of them.
    """
    for attempt in range(2):
        try:
            with transaction.atomic():
                return product_upsert(
                    sku=sku,
                    name=name,
                    price=price,
                    active=active,
                    backorder_policy=backorder_policy,
                    backorder_cap=backorder_cap,
                    by=None,
                )
        except (IntegrityError, ValidationError) as error:
            duplicate = isinstance(error, IntegrityError) or "sku" in getattr(
                error, "message_dict", {}
            )
            if attempt or not duplicate or not Product.objects.filter(sku=sku).exists():
                raise
    raise AssertionError("unreachable")
