"""Reads of the list pages (`/products/`, `/orders/`, `/customers/`) and the
search box: querysets a page cuts lazily (one row past the page, no COUNT(*)),
with the figures each row shows as correlated subqueries, so only the rows a
page fetches compute them; `*_page_complete` adds what needs the rows first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from inventory.models import Product, StockLevel
from orders.models import Customer, OrderLine, SalesOrder
from orders.selectors.shortfall import queue_figures
from suppliers.models import OPEN_PO_STATUSES, PurchaseOrderLine

SEARCH_LIMIT = 10


class ListFilter(Protocol):
    """A django-filter FilterSet bound in the interface layer."""

    def is_valid(self) -> bool: ...

    def filter_queryset(self, queryset: Any) -> Any: ...


def _filtered(queryset: QuerySet[Any], filters: ListFilter | None) -> QuerySet[Any]:
    if filters is None:
        return queryset
    filters.is_valid()  # fills cleaned_data; invalid fields are skipped, not raised
    return filters.filter_queryset(queryset)


def _sum(queryset: QuerySet[Any], expression: Any) -> Coalesce:
    """SUM(expression) over `queryset` as a correlated subquery, 0 when empty
    (no GROUP BY: always one row)."""
    total = (
        queryset.order_by()
        .annotate(total=Func(expression, function="SUM", output_field=IntegerField()))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=IntegerField()), 0)


WAITING = F("ordered") - F("allocated") - F("shipped") - F("cancelled")


# --- products --------------------------------------------------------------------


def product_list(
    *, filters: ListFilter | None = None, warehouse_id: int | None = None
) -> QuerySet[Product]:
    """Products by SKU, each with `on_hand`, `waiting` (backordered units) and
    `inbound` (outstanding on open purchase orders): at `warehouse_id`, or
    over every warehouse."""
    levels = StockLevel.objects.filter(product=OuterRef("pk"))
    waiting = OrderLine.objects.backordered().filter(product=OuterRef("pk"))
    inbound = PurchaseOrderLine.objects.filter(
        product=OuterRef("pk"), purchase_order__status__in=OPEN_PO_STATUSES
    )
    if warehouse_id is not None:
        levels = levels.filter(warehouse_id=warehouse_id)
        waiting = waiting.filter(warehouse_id=warehouse_id)
        inbound = inbound.filter(purchase_order__warehouse_id=warehouse_id)
    products = Product.objects.annotate(
        on_hand=_sum(levels, F("on_hand")),
        waiting=_sum(waiting, WAITING),
        inbound=_sum(inbound, F("ordered") - F("received")),
    ).order_by("sku")
    return _filtered(products, filters)


def products_short() -> Exists:
    """For a Product queryset: the product has waiting lines no supply covers
    (an estimate: the shortfall worklist's candidates)."""
    return Exists(
        OrderLine.objects.backordered().filter(product=OuterRef("pk"), promise_is_estimate=True)
    )


def product_page_complete(products: Sequence[Product], *, warehouse_id: int | None = None) -> None:
    """Give a page of products `available` and `shortfall` (at `warehouse_id`,
    or summed over their warehouses, each warehouse's shortfall counted alone:
    free units in one do not cover another's queue until they are moved).
    Three queries."""
    waiting, available, inbound = queue_figures({product.pk for product in products})
    by_product: dict[int, tuple[int, int]] = {}
    for key in set(waiting) | set(available) | set(inbound):
        product_id, key_warehouse = key
        if warehouse_id is not None and key_warehouse != warehouse_id:
            continue
        short = max(waiting.get(key, 0) - available.get(key, 0) - inbound.get(key, 0), 0)
        free, total = by_product.get(product_id, (0, 0))
        by_product[product_id] = (free + available.get(key, 0), total + short)
    for product in products:
        free, short = by_product.get(product.pk, (0, 0))
        product.available = free  # type: ignore[attr-defined]
        product.shortfall = short  # type: ignore[attr-defined]


# --- orders ----------------------------------------------------------------------


def order_list(*, filters: ListFilter | None = None) -> QuerySet[SalesOrder]:
    """Orders, newest placed first, with the customer and warehouse, and
    `units_waiting`; `order_page_complete` adds the lines for the status."""
    orders = (
        SalesOrder.objects.select_related("customer", "warehouse")
        .annotate(
            units_waiting=_sum(
                OrderLine.objects.backordered().filter(order=OuterRef("pk")), WAITING
            )
        )
        .order_by("-placed_at", "-pk")
    )
    return _filtered(orders, filters)


def order_page_complete(orders: Sequence[SalesOrder]) -> None:
    """Give a page of orders their lines (one query), for `status` and counts."""
    lines: dict[int, list[OrderLine]] = {order.pk: [] for order in orders}
    for line in OrderLine.objects.filter(order_id__in=list(lines)).order_by("pk"):
        lines[line.order_id].append(line)
    for order in orders:
        order.page_lines = lines[order.pk]  # type: ignore[attr-defined]
        order.page_status = order.status_from(lines[order.pk])  # type: ignore[attr-defined]


def orders_waiting() -> Exists:
    return Exists(OrderLine.objects.backordered().filter(order=OuterRef("pk")))


def orders_ready() -> Exists:
    return Exists(OrderLine.objects.filter(order=OuterRef("pk"), allocated__gt=0))


def orders_open() -> Exists:
    return Exists(
        OrderLine.objects.filter(order=OuterRef("pk"), ordered__gt=F("shipped") + F("cancelled"))
    )


# --- customers -------------------------------------------------------------------


def customer_list(*, filters: ListFilter | None = None) -> QuerySet[Customer]:
    """Customers by name, each with `orders_count` and `units_waiting`."""
    customers = Customer.objects.annotate(
        orders_count=Coalesce(
            Subquery(
                SalesOrder.objects.filter(customer=OuterRef("pk"))
                .order_by()
                .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
                .values("n"),
                output_field=IntegerField(),
            ),
            0,
        ),
        units_waiting=_sum(
            OrderLine.objects.backordered().filter(order__customer=OuterRef("pk")), WAITING
        ),
    ).order_by("name", "pk")
    return _filtered(customers, filters)


# --- search ----------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResults:
    orders: list[SalesOrder]
    customers: list[Customer]
    products: list[Product]

    @property
    def count(self) -> int:
        return len(self.orders) + len(self.customers) + len(self.products)

    @property
    def only(self) -> SalesOrder | Customer | Product | None:
        """The one match when there is exactly one."""
        found: list[SalesOrder | Customer | Product] = [
            *self.orders,
            *self.customers,
            *self.products,
        ]
        return found[0] if len(found) == 1 else None


def search(*, text: str, limit: int = SEARCH_LIMIT) -> SearchResults:
    """Orders, customers and products matching `text` (three queries, at most
    `limit` of each). An exact order number, customer email or SKU is the only
    result; otherwise orders by number prefix (or storefront reference) when
    the text has a digit, customers by name or email and products by SKU or
    name, containing the text."""
    text = text.strip()
    if not text:
        return SearchResults(orders=[], customers=[], products=[])
    # Exact matches by the unique indexes (as typed, or in the case stored);
    # an order number prefix is looked for only when the text has a digit:
    # a name never makes the search read every order.
    exact_order = list(
        SalesOrder.objects.select_related("customer").filter(number__in={text, text.upper()})[:1]
    )
    orders = exact_order
    if not orders and any(character.isdigit() for character in text):
        orders = list(
            SalesOrder.objects.select_related("customer")
            .filter(Q(number__startswith=text.upper()) | Q(external_reference=text))
            .order_by("-placed_at", "-pk")[:limit]
        )
    exact_customer = list(Customer.objects.filter(email__in={text, text.lower()})[:1])
    customers = exact_customer or list(
        Customer.objects.filter(Q(name__icontains=text) | Q(email__icontains=text)).order_by(
            "name", "pk"
        )[:limit]
    )
    exact_product = list(Product.objects.filter(sku__iexact=text)[:1])
    products = exact_product or list(
        Product.objects.filter(Q(sku__icontains=text) | Q(name__icontains=text)).order_by("sku")[
            :limit
        ]
    )
    if exact_order or exact_customer or exact_product:
        # An exact hit is what was meant: the partial matches of other kinds are noise.
        orders = orders if exact_order else []
        customers = exact_customer
        products = exact_product
    return SearchResults(orders=orders, customers=customers, products=products)
