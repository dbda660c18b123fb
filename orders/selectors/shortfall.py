"""Reads of the shortfall: per product and warehouse, the backordered units that
neither the stock there nor an open purchase order covers, with what
purchasing needs to buy them (a supplier, a quantity) or move them instead
(free units in another warehouse).

A queue's shortfall is `max(waiting − available − inbound, 0)`: the units the
promise engine (`orders.promising`) finds no supply for. The lines it leaves
uncovered are those it gave an *estimate* (`promise_is_estimate`), kept with
every change of supply by `orders.services.promises`; the queues with such lines
are the candidates, and their units are counted afresh from the queue, the
stock levels and the open purchase order lines.

The worklist is a few grouped queries over those queues, whatever their
number, then filtered, sorted and cut into pages in Python: it has at most one
row per queue with an estimate, and a page runs a fixed number of queries with
no COUNT(*) of the order lines.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import Count, F, Max, Min, QuerySet, Sum
from django.utils import timezone

from inventory.limits import MAX_QUANTITY
from inventory.models import Product, StockLevel, Warehouse
from orders.models import OrderLine
from orders.selectors.transfers import in_transit_units
from suppliers.models import OPEN_PO_STATUSES, PurchaseOrderLine, Supplier, SupplierProduct
from suppliers.selectors import DeliveryRecord, supplier_delivery_records

# Units bought on top of the shortfall, as a percentage of it (the page's
# "buffer" field overrides it), and the most the field takes.
BUFFER_PERCENT = 10
MAX_BUFFER_PERCENT = 200

WAITING = F("ordered") - F("allocated") - F("shipped") - F("cancelled")

Key = tuple[int, int]  # (product id, warehouse id)


class LineFilter(Protocol):
    """What the selector needs of the page's filters (a django-filter FilterSet
    bound in the interface layer): validate, then narrow the waiting lines."""

    def is_valid(self) -> bool: ...

    def filter_queryset(self, queryset: QuerySet[OrderLine]) -> QuerySet[OrderLine]: ...


class SupplierSource:
    PREFERRED = "preferred"
    LAST = "last"
    CHOSEN = "chosen"


@dataclass
class ShortfallRow:
    """One product in one warehouse that needs buying (or moving)."""

    product: Product
    warehouse: Warehouse
    waiting: int
    """Backordered units of the whole queue."""
    available: int
    inbound: int
    """Outstanding units of open purchase orders for this warehouse, and of
    transfers in transit to it (neither is to be bought again)."""
    lines: int
    """Waiting lines with an estimate: those the shortfall leaves uncovered."""
    customers: int
    oldest_placed_at: dt.datetime
    free_elsewhere: int = 0
    """Units available in other warehouses beyond their own queues."""
    free_by_warehouse: dict[str, int] = field(default_factory=dict)
    supplier: Supplier | None = None
    supplier_source: str = ""
    pack_size: int = 1
    minimum_order: int = 1
    suggested_quantity: int = 0
    record: DeliveryRecord | None = None

    @property
    def shortfall(self) -> int:
        return max(self.waiting - self.available - self.inbound, 0)

    @property
    def key(self) -> str:
        """The row's id in forms: "<product id>-<warehouse id>"."""
        return f"{self.product.pk}-{self.warehouse.pk}"

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def warehouse_code(self) -> str:
        return self.warehouse.code

    @property
    def supplier_name(self) -> str:
        return self.supplier.name if self.supplier else ""

    @property
    def oldest_wait_days(self) -> int:
        return (timezone.localdate() - timezone.localdate(self.oldest_placed_at)).days


def parse_keys(values: Iterable[str], *, limit: int) -> list[Key]:
    """Row ids ("<product>-<warehouse>") from a form, at most `limit`; anything
    else is left out (the caller says so when nothing is left)."""
    keys: list[Key] = []
    for value in values:
        product, _dash, warehouse = str(value).partition("-")
        if product.isascii() and product.isdigit() and warehouse.isascii() and warehouse.isdigit():
            key = (int(product[:12]), int(warehouse[:12]))
            if key not in keys:
                keys.append(key)
        if len(keys) >= limit:
            break
    return keys


def suggested_quantity(
    *, shortfall: int, buffer_percent: int, pack_size: int, minimum_order: int
) -> int:
    """The shortfall plus the buffer, at least the minimum order, rounded up to
    whole packs (and never above the most one purchase order line takes)."""
    if shortfall <= 0:
        return 0
    wanted = shortfall + math.ceil(shortfall * buffer_percent / 100)
    wanted = max(wanted, minimum_order, 1)
    pack = max(pack_size, 1)
    wanted = math.ceil(wanted / pack) * pack
    if wanted > MAX_QUANTITY:
        wanted = (MAX_QUANTITY // pack) * pack or MAX_QUANTITY
    return wanted


def _candidates(lines: QuerySet[OrderLine]) -> dict[Key, tuple[int, int, dt.datetime]]:
    """The queues with uncovered lines: their count, customers and oldest placing."""
    grouped = (
        lines.filter(promise_is_estimate=True)
        .order_by()
        .values("product_id", "warehouse_id")
        .annotate(
            lines=Count("pk"),
            customers=Count("order__customer_id", distinct=True),
            oldest=Min("placed_at"),
        )
    )
    return {
        (row["product_id"], row["warehouse_id"]): (row["lines"], row["customers"], row["oldest"])
        for row in grouped
    }


def _waiting(product_ids: set[int]) -> dict[Key, int]:
    """Backordered units of every queue of `product_ids`, in every warehouse."""
    rows = (
        OrderLine.objects.backordered()
        .filter(product_id__in=product_ids)
        .order_by()
        .values("product_id", "warehouse_id")
        .annotate(units=Sum(WAITING))
    )
    return {(row["product_id"], row["warehouse_id"]): row["units"] for row in rows}


def _available(product_ids: set[int]) -> dict[Key, int]:
    rows = StockLevel.objects.filter(product_id__in=product_ids).values_list(
        "product_id", "warehouse_id", "on_hand", "allocated"
    )
    return {(p, w): max(on_hand - allocated, 0) for p, w, on_hand, allocated in rows}


def _inbound(product_ids: set[int]) -> dict[Key, int]:
    """Outstanding units of open purchase orders and of transfers in transit,
    by product and (destination) warehouse: two queries."""
    rows = (
        PurchaseOrderLine.objects.filter(
            product_id__in=product_ids,
            purchase_order__status__in=OPEN_PO_STATUSES,
            received__lt=F("ordered"),
        )
        .order_by()
        .values("product_id", "purchase_order__warehouse_id")
        .annotate(units=Sum(F("ordered") - F("received")))
    )
    inbound = {
        (row["product_id"], row["purchase_order__warehouse_id"]): row["units"] for row in rows
    }
    for key, units in in_transit_units(product_ids=product_ids).items():
        inbound[key] = inbound.get(key, 0) + units
    return inbound


def queue_figures(
    product_ids: set[int],
) -> tuple[dict[Key, int], dict[Key, int], dict[Key, int]]:
    """Waiting, available and inbound units of `product_ids` by (product,
    warehouse), in four queries: the figures a shortfall is made of."""
    return _waiting(product_ids), _available(product_ids), _inbound(product_ids)


def _last_suppliers(product_ids: set[int]) -> dict[int, int]:
    """The supplier each product was last bought from (its newest purchase order line)."""
    newest = (
        PurchaseOrderLine.objects.filter(product_id__in=product_ids)
        .order_by()
        .values("product_id")
        .annotate(newest=Max("pk"))
        .values("newest")
    )
    return dict(
        PurchaseOrderLine.objects.filter(pk__in=newest).values_list(
            "product_id", "purchase_order__supplier_id"
        )
    )


def shortfall_rows(
    *,
    filters: LineFilter | None = None,
    keys: Sequence[Key] | None = None,
    buffer_percent: int = BUFFER_PERCENT,
) -> list[ShortfallRow]:
    """Every queue with a shortfall (those of `keys` only, when given), most
    units short first, each with its suggested supplier and quantity.

    `filters` narrows the waiting lines (product, warehouse); the supplier,
    the least shortfall and "free units elsewhere" are the caller's to apply
    to the rows. Eight queries, however many rows; the suppliers' delivery
    records are `shortfall_rows_complete`'s, for the rows a page shows.
    """
    lines: QuerySet[OrderLine] = OrderLine.objects.backordered()
    if filters is not None:
        filters.is_valid()  # fills cleaned_data; invalid fields are skipped, not raised
        lines = filters.filter_queryset(lines)
    if keys is not None:
        wanted = set(keys)
        lines = lines.filter(
            product_id__in={p for p, _w in wanted}, warehouse_id__in={w for _p, w in wanted}
        )
    candidates = _candidates(lines)
    if keys is not None:
        candidates = {key: row for key, row in candidates.items() if key in wanted}
    if not candidates:
        return []
    product_ids = {p for p, _w in candidates}
    waiting = _waiting(product_ids)
    available = _available(product_ids)
    inbound = _inbound(product_ids)
    short = {
        key: row
        for key, row in candidates.items()
        if waiting.get(key, 0) - available.get(key, 0) - inbound.get(key, 0) > 0
    }
    if not short:
        return []
    product_ids = {p for p, _w in short}
    products = Product.objects.in_bulk(product_ids)
    warehouses = Warehouse.objects.in_bulk(
        {w for _p, w in waiting} | {w for _p, w in available} | {w for _p, w in short}
    )
    terms = list(
        SupplierProduct.objects.filter(product_id__in=product_ids).select_related("supplier")
    )
    preferred = {t.product_id: t.supplier for t in terms if t.preferred}
    terms_by_key = {(t.supplier_id, t.product_id): t for t in terms}
    last = _last_suppliers(product_ids - set(preferred))
    last_suppliers = Supplier.objects.in_bulk(set(last.values()))

    stocked: dict[int, list[tuple[int, int]]] = {}
    for (p, w), units in available.items():
        if units > 0:
            stocked.setdefault(p, []).append((w, units))

    rows: list[ShortfallRow] = []
    for (product_id, warehouse_id), (line_count, customer_count, oldest) in short.items():
        row = ShortfallRow(
            product=products[product_id],
            warehouse=warehouses[warehouse_id],
            waiting=waiting.get((product_id, warehouse_id), 0),
            available=available.get((product_id, warehouse_id), 0),
            inbound=inbound.get((product_id, warehouse_id), 0),
            lines=line_count,
            customers=customer_count,
            oldest_placed_at=oldest,
        )
        # Free elsewhere: what another warehouse has beyond its own queue.
        for w, units in stocked.get(product_id, ()):
            free = units - waiting.get((product_id, w), 0)
            if w != warehouse_id and free > 0:
                row.free_by_warehouse[warehouses[w].code] = free
                row.free_elsewhere += free
        if product_id in preferred:
            row.supplier, row.supplier_source = preferred[product_id], SupplierSource.PREFERRED
        elif product_id in last:
            row.supplier = last_suppliers.get(last[product_id])
            row.supplier_source = SupplierSource.LAST if row.supplier else ""
        if row.supplier is not None:
            supplier_terms = terms_by_key.get((row.supplier.pk, product_id))
            if supplier_terms is not None:
                row.pack_size = supplier_terms.pack_size
                row.minimum_order = supplier_terms.minimum_order
        row.suggested_quantity = suggested_quantity(
            shortfall=row.shortfall,
            buffer_percent=buffer_percent,
            pack_size=row.pack_size,
            minimum_order=row.minimum_order,
        )
        rows.append(row)
    rows.sort(key=lambda row: (-row.shortfall, row.oldest_placed_at, row.sku, row.warehouse_code))
    return rows


def shortfall_rows_assign(
    rows: Sequence[ShortfallRow], *, suppliers: dict[str, Supplier], buffer_percent: int
) -> None:
    """Give rows without a suggested supplier the one chosen for them (by row
    key), with its pack size and minimum order and the quantity they make (one query)."""
    wanted = [row for row in rows if row.supplier is None and row.key in suppliers]
    if not wanted:
        return
    terms = {
        (t.supplier_id, t.product_id): t
        for t in SupplierProduct.objects.filter(
            product_id__in={row.product.pk for row in wanted},
            supplier_id__in={supplier.pk for supplier in suppliers.values()},
        )
    }
    for row in wanted:
        row.supplier, row.supplier_source = suppliers[row.key], SupplierSource.CHOSEN
        found = terms.get((row.supplier.pk, row.product.pk))
        row.pack_size = found.pack_size if found else 1
        row.minimum_order = found.minimum_order if found else 1
        row.suggested_quantity = suggested_quantity(
            shortfall=row.shortfall,
            buffer_percent=buffer_percent,
            pack_size=row.pack_size,
            minimum_order=row.minimum_order,
        )


def shortfall_rows_complete(rows: Sequence[ShortfallRow]) -> None:
    """Give the rows a page shows their supplier's delivery record (one query)."""
    supplier_ids = {row.supplier.pk for row in rows if row.supplier is not None}
    if not supplier_ids:
        return
    records = supplier_delivery_records(supplier_ids=supplier_ids)
    for row in rows:
        if row.supplier is not None:
            row.record = records.get(row.supplier.pk, DeliveryRecord(supplier_id=row.supplier.pk))


@dataclass
class DraftGroup:
    """The draft purchase order the chosen rows make for one supplier and warehouse."""

    supplier: Supplier
    warehouse: Warehouse
    rows: list[ShortfallRow] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.supplier.pk}-{self.warehouse.pk}"

    @property
    def expected_date(self) -> dt.date:
        """Today plus the supplier's quoted lead time."""
        return timezone.localdate() + dt.timedelta(days=self.supplier.lead_time_days)

    @property
    def units(self) -> int:
        return sum(row.suggested_quantity for row in self.rows)


def draft_groups(rows: Iterable[ShortfallRow]) -> tuple[list[DraftGroup], list[ShortfallRow]]:
    """The rows grouped into one draft per supplier and warehouse (by supplier
    name, then warehouse code), and the rows with no supplier to suggest."""
    groups: dict[tuple[int, int], DraftGroup] = {}
    without: list[ShortfallRow] = []
    for row in rows:
        if row.supplier is None:
            without.append(row)
            continue
        key = (row.supplier.pk, row.warehouse.pk)
        group = groups.get(key)
        if group is None:
            group = groups[key] = DraftGroup(supplier=row.supplier, warehouse=row.warehouse)
        group.rows.append(row)
    ordered = sorted(groups.values(), key=lambda g: (g.supplier.name, g.warehouse.code))
    for group in ordered:
        group.rows.sort(key=lambda row: row.sku)
    return ordered, without
