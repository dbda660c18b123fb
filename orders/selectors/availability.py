"""Availability: can a shop sell this quantity now, and when would it ship?

Read only. What a new line would get if it were placed now is what intake
gives it: the units free now, the product's backorder policy and cap, and the
promise engine's answer for a line joining its queue (`queue_tails` and
`tail_promise`, which intake uses inside its lock). A cart of any size is
answered in a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.models import (
    TRANSFER_PREFIX,
    BackorderPolicy,
    Product,
    StockLevel,
    Transfer,
    TransferStatus,
    Warehouse,
)
from orders.models import OrderLine, Tier
from orders.promising import Calibration, Promise, Supply, promise_at_end
from orders.selectors.storefront import storefront_warehouse
from orders.services.calibration import promise_calibrations
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
)

NEW_LINE_PRIORITY = 0
"""The manual priority a line is placed with."""


@dataclass
class QueueTail:
    """One product's queue in a warehouse, as a new line joining it sees it."""

    waiting_ahead: int
    """Backordered units of the lines ahead of the new line in QUEUE_ORDER: those
    strictly ahead, and those tying with it (a new line has the highest pk)."""
    behind: bool
    """Some line is strictly behind the new line."""
    tie: bool
    """Some line has the new line's priority, tier and placed time."""
    lead_days: int
    handling_days: int
    supply: list[Supply] = field(default_factory=list)
    estimate_supplier: int | None = None
    calibration: Calibration | None = None


def queue_tails(
    *,
    product_ids: Sequence[int],
    warehouse_id: int,
    priority: int,
    tier: int,
    placed_at: dt.datetime,
) -> dict[int, QueueTail]:
    """For a new line of each product: the units waiting ahead of it, whether
    any line waits behind it or ties with it, the lead and handling days and
    the open purchase order and transfer supply the promise engine needs — one statement.

    Written in SQL because it runs inside every order's stock lock: building
    the same query with the ORM (five subqueries) cost more than running it.
    The conditions are QUEUE_ORDER's (as intake's `_behind`); the EXISTS are
    probes of the order_line_queue index and the sum reads the lines ahead.
    """
    line = OrderLine._meta.db_table
    po_line = PurchaseOrderLine._meta.db_table
    po = PurchaseOrder._meta.db_table
    supplier = PurchaseOrder._meta.get_field("supplier").related_model._meta.db_table
    revision = ExpectedDateRevision._meta.db_table
    placed = connection.ops.adapt_datetimefield_value(placed_at)
    ids = ", ".join(["%s"] * len(product_ids))
    statuses = ", ".join(["%s"] * len(OPEN_PO_STATUSES))
    queue = (
        f"FROM {line} l WHERE l.product_id = p.id AND l.warehouse_id = %s "
        "AND l.ordered > l.allocated + l.shipped + l.cancelled"
    )
    # table names from the models, values as parameters
    sql = (
        "SELECT 0, p.id, "  # noqa: S608
        f"(SELECT COALESCE(SUM(l.ordered - l.allocated - l.shipped - l.cancelled), 0) {queue} "
        "AND (l.priority > %s OR (l.priority = %s AND (l.customer_tier < %s "
        "OR (l.customer_tier = %s AND l.placed_at <= %s))))), "
        f"EXISTS (SELECT 1 {queue} "
        "AND (l.priority < %s OR (l.priority = %s AND (l.customer_tier > %s "
        "OR (l.customer_tier = %s AND l.placed_at > %s))))), "
        f"EXISTS (SELECT 1 {queue} "
        "AND l.priority = %s AND l.customer_tier = %s AND l.placed_at = %s), "
        f"COALESCE((SELECT s.lead_time_days FROM {po_line} pl "
        f"JOIN {po} o ON o.id = pl.purchase_order_id JOIN {supplier} s ON s.id = o.supplier_id "
        "WHERE pl.product_id = p.id ORDER BY pl.id DESC LIMIT 1), p.default_lead_time_days), "
        f"(SELECT w.handling_days FROM {Warehouse._meta.db_table} w WHERE w.id = %s), "
        "NULL, NULL, "
        f"(SELECT o.supplier_id FROM {po_line} pl JOIN {po} o ON o.id = pl.purchase_order_id "
        "WHERE pl.product_id = p.id ORDER BY pl.id DESC LIMIT 1), NULL "
        f"FROM {Product._meta.db_table} p WHERE p.id IN ({ids}) "
        "UNION ALL "
        "SELECT 1, pl.product_id, pl.ordered - pl.received, FALSE, FALSE, 0, 0, "
        "pl.expected_date, o.number, o.supplier_id, "
        f"EXISTS (SELECT 1 FROM {revision} r WHERE r.line_id = pl.id) "
        f"FROM {po_line} pl JOIN {po} o ON o.id = pl.purchase_order_id "
        f"WHERE pl.product_id IN ({ids}) AND o.warehouse_id = %s "
        f"AND o.status IN ({statuses}) AND pl.received < pl.ordered "
        "UNION ALL "
        "SELECT 2, t.product_id, t.quantity, FALSE, FALSE, 0, 0, t.expected_date, "
        "CAST(t.id AS VARCHAR(20)), NULL, FALSE "
        f"FROM {Transfer._meta.db_table} t WHERE t.product_id IN ({ids}) "
        "AND t.to_warehouse_id = %s AND t.status = %s"
    )
    params = [
        *(warehouse_id, priority, priority, tier, tier, placed),
        *(warehouse_id, priority, priority, tier, tier, placed),
        *(warehouse_id, priority, tier, placed),
        warehouse_id,
        *product_ids,
        *product_ids,
        warehouse_id,
        *OPEN_PO_STATUSES,
        *product_ids,
        warehouse_id,
        TransferStatus.IN_TRANSIT.value,
    ]
    calibration = promise_calibrations(
        warehouse_ids=[warehouse_id], today=timezone.localdate()
    ).get(warehouse_id)
    tails: dict[int, QueueTail] = {}
    supply: list[tuple[int, Supply]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for (
            kind,
            product_id,
            units,
            behind,
            tie,
            lead,
            handling,
            expected,
            number,
            supplier_id,
            revised,
        ) in cursor:
            if kind == 0:
                tails[product_id] = QueueTail(
                    waiting_ahead=units,
                    behind=bool(behind),
                    tie=bool(tie),
                    lead_days=lead,
                    handling_days=handling,
                    estimate_supplier=supplier_id,
                    calibration=calibration,
                )
            else:
                if isinstance(expected, str):  # SQLite
                    expected = dt.date.fromisoformat(expected)
                supply.append(
                    (
                        product_id,
                        Supply(
                            date=expected,
                            quantity=units,
                            reference=number,
                            supplier=supplier_id,
                            revised=bool(revised),
                        )
                        if kind == 1
                        else Supply(
                            date=expected,
                            quantity=units,
                            reference=f"{TRANSFER_PREFIX}{number}",
                            in_transit=True,
                        ),
                    )
                )
    for product_id, row in supply:
        tails[product_id].supply.append(row)
    return tails


def backordered_units(*, product_ids: Sequence[int]) -> dict[int, int]:
    """Units waiting on backorder per product, in every warehouse (what a cap limits)."""
    if not product_ids:
        return {}
    rows = (
        OrderLine.objects.backordered()
        .filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(units=Sum(F("ordered") - F("allocated") - F("shipped") - F("cancelled")))
    )
    return {row["product_id"]: row["units"] for row in rows}


def tail_promise(
    *, tail: QueueTail, available: int, quantity: int, today: dt.date
) -> Promise | None:
    """The promise of `quantity` backordered units of a new line joining this
    queue with `available` units free after what the line took from stock."""
    return promise_at_end(
        available_now=available,
        supply=tail.supply,
        waiting_ahead=tail.waiting_ahead,
        quantity=quantity,
        today=today,
        handling_days=tail.handling_days,
        estimate_lead_days=tail.lead_days,
        calibration=tail.calibration,
        estimate_supplier=tail.estimate_supplier,
    )


@dataclass(frozen=True)
class LineAvailability:
    """What placing `quantity` units of a product in a warehouse now would give."""

    product: Product
    warehouse: Warehouse
    quantity: int
    available: int
    """Units free now at the warehouse (on hand minus allocated)."""
    in_stock: int
    """Units the line would take from stock now."""
    backorder_allowed: bool
    backorder_room: int | None
    """Units that may still be backordered: the cap minus the units waiting;
    None when uncapped, 0 when the policy denies backorders."""
    sellable: bool
    """The whole quantity can be sold (in stock, or backordered within policy)."""
    reason: str | None
    """Why not, when not sellable."""
    promised_date: dt.date | None
    """When the whole quantity would ship: today plus handling when it is in
    stock, the backordered units' promise otherwise; None when not sellable."""
    promise_is_estimate: bool

    @property
    def backordered(self) -> int:
        return self.quantity - self.in_stock


def line_availabilities(
    *,
    warehouse: Warehouse,
    lines: Sequence[tuple[Product, int]],
    tier: int = Tier.STANDARD,
    placed_at: dt.datetime | None = None,
    today: dt.date | None = None,
) -> list[LineAvailability]:
    """Availability of each (product, quantity) in `warehouse` for a customer of
    `tier` placing a line now, as intake would place it (`order_place`); writes
    nothing. At most three queries, whatever the number of lines."""
    placed = placed_at or timezone.now()
    today = today or timezone.localdate()
    product_ids = [product.pk for product, _quantity in lines]
    free = {
        product_id: max(on_hand - allocated, 0)
        for product_id, on_hand, allocated in StockLevel.objects.filter(
            product_id__in=product_ids, warehouse=warehouse
        ).values_list("product_id", "on_hand", "allocated")
    }
    capped = [p.pk for p, _q in lines if p.backorder_policy == BackorderPolicy.CAP]
    waiting = backordered_units(product_ids=capped)
    answers: list[LineAvailability] = []
    for product, quantity in lines:
        available = free.get(product.pk, 0)
        take = min(available, quantity)
        room = _backorder_room(product, waiting.get(product.pk, 0))
        reason = _not_sellable_because(product, take=take, short=quantity - take, room=room)
        answers.append(
            LineAvailability(
                product=product,
                warehouse=warehouse,
                quantity=quantity,
                available=available,
                in_stock=take,
                backorder_allowed=product.backorder_policy != BackorderPolicy.DENY,
                backorder_room=room,
                sellable=reason is None,
                reason=reason,
                promised_date=None,
                promise_is_estimate=False,
            )
        )
    queued = [line.product.pk for line in answers if line.sellable and line.backordered]
    tails = (
        queue_tails(
            product_ids=queued,
            warehouse_id=warehouse.pk,
            priority=NEW_LINE_PRIORITY,
            tier=tier,
            placed_at=placed,
        )
        if queued
        else {}
    )
    from_stock = today + dt.timedelta(days=warehouse.handling_days)
    for index, line in enumerate(answers):
        if not line.sellable:
            continue
        if not line.backordered:
            answers[index] = replace(line, promised_date=from_stock)
            continue
        promise = tail_promise(
            tail=tails[line.product.pk],
            available=line.available - line.in_stock,
            quantity=line.backordered,
            today=today,
        )
        assert promise is not None  # a positive quantity always gets one
        answers[index] = replace(
            line, promised_date=promise.promised_date, promise_is_estimate=promise.is_estimate
        )
    return answers


def _not_sellable_because(
    product: Product, *, take: int, short: int, room: int | None
) -> str | None:
    """Why intake would refuse this line (its reasons), or None."""
    if not product.active:
        return _("%(sku)s is no longer sold (inactive product).") % {"sku": product.sku}
    if short and product.backorder_policy == BackorderPolicy.DENY:
        return _(
            "%(sku)s: only %(available)d in stock and this product is not sold on backorder."
        ) % {"sku": product.sku, "available": take}
    if short and room is not None and short > room:
        return _("%(sku)s: only %(available)d in stock and %(room)d more may be backordered.") % {
            "sku": product.sku,
            "available": take,
            "room": room,
        }
    return None


def _backorder_room(product: Product, waiting: int) -> int | None:
    if product.backorder_policy == BackorderPolicy.DENY:
        return 0
    if product.backorder_policy == BackorderPolicy.CAP:
        return max((product.backorder_cap or 0) - waiting, 0)
    return None


class AvailabilityQuestionRefused(Exception):
    """A warehouse code or SKUs that name nothing (or a SKU asked twice)."""

    def __init__(self, *, warehouse: str | None, lines: list[tuple[int, str]]) -> None:
        super().__init__("; ".join([*([warehouse] if warehouse else []), *(r for _i, r in lines)]))
        self.warehouse = warehouse
        self.lines = lines


def storefront_availability(
    *, warehouse_code: str | None, lines: Sequence[tuple[str, int]], tier: int = Tier.STANDARD
) -> list[LineAvailability]:
    """Availability of (SKU, quantity) lines in the warehouse with this code (the
    default warehouse without one), as `line_availabilities` answers it.

    Raises AvailabilityQuestionRefused naming the unknown warehouse and each
    line with an unknown or repeated SKU. Five queries, whatever the number of lines.
    """
    warehouse = storefront_warehouse(code=warehouse_code)
    products = {p.sku: p for p in Product.objects.filter(sku__in=[sku for sku, _q in lines])}
    refused: list[tuple[int, str]] = []
    seen: set[str] = set()
    for index, (sku, _quantity) in enumerate(lines):
        if sku not in products:
            refused.append((index, _("%(sku)s: no product has this SKU.") % {"sku": sku}))
        elif sku in seen:
            refused.append((index, _("%(sku)s: each product may appear only once.") % {"sku": sku}))
        seen.add(sku)
    if warehouse is None or refused:
        raise AvailabilityQuestionRefused(
            warehouse=None if warehouse is not None else _("No warehouse has this code."),
            lines=refused,
        )
    return line_availabilities(
        warehouse=warehouse,
        lines=[(products[sku], quantity) for sku, quantity in lines],
        tier=tier,
    )
