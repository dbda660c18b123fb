"""Reads of the supplier pages: scorecards (how each delivers, what is inbound
from it, who waits on it, which promises it broke) and one supplier's orders,
date moves and purchase terms.

A scorecard's delivery figures are `suppliers.selectors.supplier_delivery_records`,
the same "on time" as the dashboard's. Every figure is a grouped query over all
suppliers at once: the list runs a fixed number of queries however many there are.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from orders.models import OrderLine, PromiseRevision
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
    SupplierProduct,
)
from suppliers.selectors import DeliveryRecord, supplier_delivery_records

BROKEN_PROMISE_DAYS = 90


@dataclass
class Scorecard:
    """One supplier's record and what currently depends on it."""

    supplier: Supplier
    record: DeliveryRecord
    open_orders: int = 0
    units_inbound: int = 0
    lines_waiting: int | None = None
    """Waiting order lines whose promise rests on one of its open purchase
    orders (None until `supplier_scorecards_complete`)."""
    promises_broken: int = 0
    """Promises moved later in the last BROKEN_PROMISE_DAYS days by its orders'
    expected dates moving."""
    open_numbers: list[str] = field(default_factory=list)
    record_read: bool = True
    """False until `supplier_scorecards_complete` reads the delivery record."""

    @property
    def name(self) -> str:
        return self.supplier.name

    @property
    def on_time_percent(self) -> int:
        """For sorting: -1 when nothing was received yet."""
        percent = self.record.on_time_percent
        return -1 if percent is None else percent

    @property
    def lead_gap(self) -> float | None:
        """Delivered minus quoted lead time, in days (positive: slower than quoted)."""
        delivered = self.record.delivered_lead_days
        if delivered is None:
            return None
        return round(delivered - self.supplier.lead_time_days, 1)


def _open_orders(supplier_ids: set[int] | None) -> dict[int, tuple[int, int, list[str]]]:
    """Per supplier: open purchase orders, units outstanding, their numbers."""
    orders = PurchaseOrder.objects.filter(status__in=OPEN_PO_STATUSES)
    if supplier_ids is not None:
        orders = orders.filter(supplier_id__in=supplier_ids)
    rows = orders.annotate(
        outstanding=Coalesce(
            Sum(F("lines__ordered") - F("lines__received")), 0, output_field=IntegerField()
        )
    ).values_list("supplier_id", "number", "outstanding")
    found: dict[int, tuple[int, int, list[str]]] = {}
    for supplier_id, number, outstanding in rows:
        count, units, numbers = found.get(supplier_id, (0, 0, []))
        found[supplier_id] = (count + 1, units + outstanding, [*numbers, number])
    return found


def _lines_waiting_by_order(numbers: list[str]) -> dict[str, int]:
    """Waiting lines per purchase order number (of `numbers`) their current
    promise rests on: the latest promise revision's `covered_by`, as on the
    purchase order page. Only the queues those orders supply are read."""
    if not numbers:
        return {}
    keys = set(
        PurchaseOrderLine.objects.filter(purchase_order__number__in=numbers).values_list(
            "product_id", "purchase_order__warehouse_id"
        )
    )
    latest_cover = (
        PromiseRevision.objects.filter(line=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("covered_by")[:1]
    )
    rows = (
        OrderLine.objects.backordered()
        .filter(
            promise_is_estimate=False,
            product_id__in={p for p, _w in keys},
            warehouse_id__in={w for _p, w in keys},
        )
        .annotate(cover=Subquery(latest_cover))
        .filter(cover__in=numbers)
        .order_by()
        .values("cover")
        .annotate(lines=Count("pk"))
    )
    return {row["cover"]: row["lines"] for row in rows}


def supplier_scorecards_complete(cards: list[Scorecard]) -> None:
    """Give the scorecards a page shows `lines_waiting` (two queries), and
    their delivery records when `supplier_scorecards` left them out (one
    more): reading every waiting line's latest promise, or every received
    line's history, for every supplier took seconds at a million order lines."""
    waiting = _lines_waiting_by_order([n for card in cards for n in card.open_numbers])
    for card in cards:
        card.lines_waiting = sum(waiting.get(number, 0) for number in card.open_numbers)
    missing = [card for card in cards if not card.record_read]
    if missing:
        records = supplier_delivery_records(supplier_ids=[card.supplier.pk for card in missing])
        for card in missing:
            card.record = records.get(card.supplier.pk, DeliveryRecord(card.supplier.pk))
            card.record_read = True


# The cause of a promise moved by a purchase order's new expected date (a
# supplier's delay, typed by purchasing or found by the overdue sweep):
# orders.services.purchasing writes "<number> expected date moved".
DATE_MOVED_CAUSE = " expected date moved"


def _promises_broken(*, since: dt.datetime) -> dict[str, int]:
    """Promises moved later since `since` by a purchase order's expected date
    moving, per purchase order number. Not counted: a confirmation or a
    cancellation (purchasing's doing, not the supplier's)."""
    rows = (
        PromiseRevision.objects.filter(
            created_at__gte=since,
            new_date__gt=F("old_date"),
            cause__endswith=DATE_MOVED_CAUSE,
        )
        .order_by()
        .values("cause")
        .annotate(n=Count("pk"))
    )
    broken: dict[str, int] = defaultdict(int)
    for row in rows:
        number = row["cause"].split(" ", 1)[0]
        broken[number] += row["n"]
    return broken


def supplier_scorecards(
    *,
    supplier_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
    records: bool = True,
) -> list[Scorecard]:
    """A scorecard per supplier (those of `supplier_ids`, or every one), by
    name; `lines_waiting` is `supplier_scorecards_complete`'s, for a page, and
    so are the delivery records when `records` is False (a list not sorted by them).

    Five queries (four without records), however many suppliers.
    """
    wanted = None if supplier_ids is None else set(supplier_ids)
    suppliers = Supplier.objects.order_by("name")
    if wanted is not None:
        suppliers = suppliers.filter(pk__in=wanted)
    delivery = supplier_delivery_records(supplier_ids=wanted) if records else {}
    open_orders = _open_orders(wanted)
    broken = _promises_broken(since=(now or timezone.now()) - dt.timedelta(BROKEN_PROMISE_DAYS))
    # Which supplier each purchase order named in a broken promise belongs to.
    owners = dict(
        PurchaseOrder.objects.filter(number__in=list(broken)).values_list("number", "supplier_id")
    )
    broken_by_supplier: dict[int, int] = defaultdict(int)
    for number, count in broken.items():
        if number in owners:
            broken_by_supplier[owners[number]] += count
    cards = []
    for supplier in suppliers:
        count, units, numbers = open_orders.get(supplier.pk, (0, 0, []))
        cards.append(
            Scorecard(
                supplier=supplier,
                record=delivery.get(supplier.pk, DeliveryRecord(supplier_id=supplier.pk)),
                record_read=records,
                open_orders=count,
                units_inbound=units,
                promises_broken=broken_by_supplier.get(supplier.pk, 0),
                open_numbers=numbers,
            )
        )
    return cards


def supplier_purchase_orders(*, supplier: Supplier, limit: int = 50) -> QuerySet[PurchaseOrder]:
    """The supplier's purchase orders, newest first, each with `line_count` and
    `units_outstanding` (one query)."""
    return (
        PurchaseOrder.objects.filter(supplier=supplier)
        .select_related("warehouse")
        .annotate(
            line_count=Count("lines"),
            units_outstanding=Coalesce(
                Sum(F("lines__ordered") - F("lines__received")), 0, output_field=IntegerField()
            ),
        )
        .order_by("-created_at", "-pk")[:limit]
    )


def supplier_date_revisions(
    *, supplier: Supplier, limit: int = 50
) -> QuerySet[ExpectedDateRevision]:
    """Every move of an expected date on the supplier's lines, newest first (one query)."""
    return (
        ExpectedDateRevision.objects.filter(line__purchase_order__supplier=supplier)
        .select_related("line__purchase_order", "line__product", "changed_by")
        .order_by("-changed_at", "-pk")[:limit]
    )


def supplier_terms(*, supplier: Supplier) -> list[SupplierProduct]:
    """What the supplier sells on which terms, by SKU (one query)."""
    return list(
        SupplierProduct.objects.filter(supplier=supplier)
        .select_related("product")
        .order_by("product__sku")
    )


def supplier_products_bought(*, supplier: Supplier, limit: int = 200) -> list[str]:
    """SKUs ever bought from the supplier, for the terms form's suggestions (one query)."""
    return list(
        PurchaseOrderLine.objects.filter(purchase_order__supplier=supplier)
        .order_by("product__sku")
        .values_list("product__sku", flat=True)
        .distinct()[:limit]
    )
