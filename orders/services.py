"""Order writes: place, receive into the queue, ship, cancel, reprioritise, adjust.

The rules (DESIGN.md, "Rules that hold it together"):
- Every use case is one transaction. Stock levels are locked first, in primary-
  key order (`stock_levels_lock`), then the queue lines they fill, in queue
  order. Every use case that changes allocations or the queue of a product in a
  warehouse holds that stock level's lock, so the queue cannot change under an
  allocation.
- Allocation walks the queue in `QUEUE_ORDER`: manual priority, customer tier,
  placed time. Units go to the first line until it is complete, then the next.
- A deadlock or serialization failure re-runs the whole use case a few times
  (`retry_on_conflict`); it never reaches a person as a 500.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from config.roles import acting_user
from inventory.models import BackorderPolicy, Product, StockLevel, StockMoveKind, Warehouse
from inventory.services import (
    Move,
    require_positive_quantity,
    stock_level_adjust,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.links import CustomerLink, LinkError
from orders.models import (
    QUEUE_ORDER,
    Cancellation,
    Channel,
    Customer,
    CustomerChoice,
    FormSubmission,
    OrderLine,
    OrderNote,
    PromiseRevision,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from orders.promising import Promise, QueueEntry, Supply, promise_at_end, promise_queue
from suppliers import services as supplier_services
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from suppliers.services import purchase_order_lines_record_receipt


@dataclass(frozen=True)
class LineRequest:
    product: Product
    quantity: int


@dataclass(frozen=True)
class Allocation:
    """Units a queue line received from one allocation run."""

    line_id: int
    order_number: str
    quantity: int
    ready_to_ship: bool


# --- the queue -------------------------------------------------------------


def queue_allocate(*, level: StockLevel, reference: str, by: User | None) -> list[Allocation]:
    """Give a locked level's available units to its queue, in queue order.

    Runs inside the caller's transaction, with `level` already locked. Reads
    only as much of the queue as the units can fill, locks those lines in queue
    order, updates them in one statement per batch and writes one ledger row per
    line.
    """
    available = level.available
    if available <= 0:
        return []
    queue = (
        OrderLine.objects.backordered()
        .filter(product_id=level.product_id, warehouse_id=level.warehouse_id)
        .in_queue_order()
    )
    allocations: list[Allocation] = []
    # Every line in the queue waits for at least one unit: `available` units
    # fill at most that many lines, so lock no more (FOR UPDATE writes a lock
    # on each row it returns; a 20-unit receipt locked 1,000 lines).
    batch = min(1000, available)
    offset = 0
    waiting = F("ordered") - F("allocated") - F("shipped") - F("cancelled")
    while available > 0:
        # Lines ahead of the cursor are being filled, so they leave the
        # backordered() set only after the update below: page by offset.
        # Plain values, not model instances: building 10,000 lines and their
        # orders was a third of a 10,000-line receipt.
        chunk = list(
            queue.select_for_update(of=("self",))
            .annotate(waiting=waiting)
            .values_list("pk", "waiting", "order__number")[offset : offset + batch]
        )
        if not chunk:
            break
        offset += len(chunk)
        for line_id, line_waiting, order_number in chunk:
            take = min(line_waiting, available)
            if take <= 0:
                continue
            available -= take
            allocations.append(
                Allocation(
                    line_id=line_id,
                    order_number=order_number,
                    quantity=take,
                    ready_to_ship=line_waiting == take,
                )
            )
            if available == 0:
                break
    if not allocations:
        return []
    _lines_add_allocated([(a.line_id, a.quantity) for a in allocations])
    for recorder in _recorders.get():
        recorder.allocations.extend(allocations)
    stock_moves_apply(
        level=level,
        moves=[
            Move(
                StockMoveKind.ALLOCATION,
                line.quantity,
                f"{line.order_number}/{line.line_id}",
                reference,
            )
            for line in allocations
        ],
        by=by,
    )
    return allocations


def _lines_add_allocated(changes: Sequence[tuple[int, int]]) -> None:
    """Add allocated units to many lines in one statement.

    On PostgreSQL one UPDATE … FROM unnest(ids, units): bulk_update's CASE per
    row was 5 s of a 10,000-line receipt. SQLite (the embedded mode) runs one
    prepared UPDATE per row, which there is 10× faster than bulk_update.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {OrderLine._meta.db_table} AS line "  # noqa: S608 - table name from the model
                "SET allocated = line.allocated + change.units "
                "FROM unnest(%s::bigint[], %s::integer[]) AS change(id, units) "
                "WHERE line.id = change.id",
                [[pk for pk, _units in changes], [units for _pk, units in changes]],
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {OrderLine._meta.db_table} SET allocated = allocated + %s WHERE id = %s",  # noqa: S608
            [(units, pk) for pk, units in changes],
        )


# --- placing orders --------------------------------------------------------


@retry_on_conflict()
@transaction.atomic
def order_place(
    *,
    customer: Customer,
    warehouse: Warehouse,
    lines: Sequence[LineRequest],
    by: User | None,
    channel: str = Channel.WEB,
    placed_at: dt.datetime | None = None,
    external_reference: str = "",
) -> SalesOrder:
    """Place an order: each line takes what is available now, the rest waits on
    backorder if the product's policy allows it.

    A line that cannot be sold (inactive product, bad quantity, backorder
    denied or over the cap) refuses the whole order with a reason per line;
    nothing is saved.
    """
    if not lines:
        raise ValidationError({"lines": _("An order needs at least one line.")})
    errors: list[str] = []
    for request in lines:
        try:
            require_positive_quantity(request.quantity)
        except ValidationError:
            errors.append(
                _("%(sku)s: enter a whole number of units above zero.")
                % {"sku": request.product.sku}
            )
        if not request.product.active:
            errors.append(
                _("%(sku)s is no longer sold (inactive product).") % {"sku": request.product.sku}
            )
    if len({request.product.pk for request in lines}) != len(lines):
        errors.append(_("Each product may appear only once; combine the quantities."))
    if errors:
        raise ValidationError({"lines": errors})

    external_reference = (external_reference or "").strip()
    if (
        external_reference
        and SalesOrder.objects.filter(
            channel=channel, external_reference=external_reference
        ).exists()
    ):
        raise ValidationError(
            {"external_reference": _("An order with this storefront reference already exists.")}
        )

    levels = stock_levels_lock(keys=[(request.product.pk, warehouse.pk) for request in lines])
    capped = [r.product.pk for r in lines if r.product.backorder_policy == BackorderPolicy.CAP]
    waiting = _backordered_units(product_ids=capped)
    plan: list[tuple[LineRequest, int]] = []
    for request in lines:
        product = request.product
        level = levels[(product.pk, warehouse.pk)]
        take = min(max(level.available, 0), request.quantity)
        short = request.quantity - take
        if short and product.backorder_policy == BackorderPolicy.DENY:
            errors.append(
                _("%(sku)s: only %(available)d in stock and this product is not sold on backorder.")
                % {"sku": product.sku, "available": take}
            )
        elif short and product.backorder_policy == BackorderPolicy.CAP:
            room = max((product.backorder_cap or 0) - waiting.get(product.pk, 0), 0)
            if short > room:
                errors.append(
                    _(
                        "%(sku)s: only %(available)d in stock and %(room)d more may be backordered "
                        "(cap %(cap)d)."
                    )
                    % {
                        "sku": product.sku,
                        "available": take,
                        "room": room,
                        "cap": product.backorder_cap or 0,
                    }
                )
        plan.append((request, take))
    if errors:
        raise ValidationError({"lines": errors})

    placed = placed_at or timezone.now()
    order = SalesOrder(
        customer=customer,
        warehouse=warehouse,
        channel=channel,
        placed_at=placed,
        external_reference=external_reference,
        created_by=acting_user(by),
    )
    _sales_order_insert(order, placed=placed)
    # A backordered line is promised here, from the units waiting ahead of it,
    # and written with that promise; the lines ahead of it keep theirs, and
    # only the lines behind it that supply reaches are walked again
    # (`_new_line_promises`). Anything else recomputes its whole queue.
    today = timezone.localdate()
    joining = _new_line_promises(
        plan=plan,
        levels=levels,
        warehouse_id=warehouse.pk,
        tier=customer.tier,
        placed_at=placed,
        today=today,
    )
    created = OrderLine.objects.bulk_create(
        _new_line(
            order=order,
            request=request,
            take=take,
            customer=customer,
            placed_at=placed,
            joining=joining.get(request.product.pk),
        )
        for request, take in plan
    )
    for line, (request, take) in zip(created, plan, strict=True):
        if take:
            stock_moves_apply(
                level=levels[(request.product.pk, warehouse.pk)],
                moves=[Move(StockMoveKind.ALLOCATION, take, f"{order.number}/{line.pk}")],
                by=by,
            )
    cause = f"{order.number} placed"
    writes = _PromiseWrites()
    for line in created:
        joined = joining.get(line.product_id)
        if joined is None:
            continue
        writes.changes.append(
            PromiseChange(
                line_id=line.pk,
                order_id=order.pk,
                old_date=None,
                new_date=joined.promise.promised_date,
                old_is_estimate=False,
                new_is_estimate=joined.promise.is_estimate,
                covered_by=joined.promise.covered_by,
            )
        )
        if joined.behind:
            _promises_behind_new_line(
                line=line, joined=joined, priority=0, today=today, writes=writes
            )
    changes = writes.changes
    if writes.updates:
        _lines_set_promises(writes.updates)
    if changes:
        _promise_revisions_insert(changes, cause=cause)
        for recorder in _recorders.get():
            recorder.promises.extend(changes)
    queued = [
        (line.product_id, warehouse.pk)
        for line in created
        if line.backordered and line.product_id not in joining
    ]
    promises_recompute(keys=queued, cause=cause)
    return order


def _sales_order_insert(order: SalesOrder, *, placed: dt.datetime) -> None:
    """Insert an order numbered after its id. On PostgreSQL the id is taken
    from the sequence first, so the row goes in once with its number (one
    INSERT and one history row, not an INSERT and an UPDATE with two)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [SalesOrder._meta.db_table]
            )
            (order.pk,) = cursor.fetchone()
        order.number = f"SO-{order.pk:07d}"
        order.save(force_insert=True)
        return
    order.number = f"SO-TMP-{placed.timestamp()}-{order.customer_id}"
    order.save(force_insert=True)
    order.number = f"SO-{order.pk:07d}"
    order.save(update_fields=["number"])


def _new_line(
    *,
    order: SalesOrder,
    request: LineRequest,
    take: int,
    customer: Customer,
    placed_at: dt.datetime,
    joining: _Joining | None,
) -> OrderLine:
    line = OrderLine(
        order=order,
        product=request.product,
        warehouse=order.warehouse,
        customer_tier=customer.tier,
        placed_at=placed_at,
        unit_price=request.product.price,
        ordered=request.quantity,
        allocated=take,
    )
    if joining is not None:
        line.promised_date = line.first_promised_date = joining.promise.promised_date
        line.promise_is_estimate = joining.promise.is_estimate
    return line


@dataclass(frozen=True)
class _Joining:
    """A new backordered line promised without recomputing its whole queue,
    with the inputs that promise came from."""

    promise: Promise
    quantity: int
    waiting_ahead: int
    behind: bool
    """Some lines wait behind it (it jumped ahead of them)."""
    available: int
    supply: list[Supply]
    handling_days: int
    lead_days: int


def _new_line_promises(
    *,
    plan: Sequence[tuple[LineRequest, int]],
    levels: Mapping[tuple[int, int], StockLevel],
    warehouse_id: int,
    tier: int,
    placed_at: dt.datetime,
    today: dt.date,
) -> dict[int, _Joining]:
    """Promises for the backordered lines of an order being placed, by product
    id, where the whole queue need not be recomputed (one query).

    A line's promise depends only on the units waiting ahead of it
    (`promise_at_end`), and a line added to a queue changes no promise ahead of
    it, so the new line (priority 0, the customer's tier, placed now) is
    promised from the sum of the units strictly ahead of it in QUEUE_ORDER.
    Lines behind it, if it jumped ahead of some, are walked afterwards
    (`_promises_behind_new_line`). Two cases take the full recompute instead: a
    waiting line that ties with the new one on priority, tier and time (the
    order would rest on ids), and a line that took units from stock while
    others waited (which receiving normally leaves no room for): the promises
    ahead were made from units that are gone.
    """
    short = {
        request.product.pk: (request.quantity - take, take)
        for request, take in plan
        if request.quantity > take
    }
    if not short:
        return {}
    tails = _queue_tails(
        product_ids=list(short),
        warehouse_id=warehouse_id,
        priority=0,
        tier=tier,
        placed_at=placed_at,
    )
    joining_ids = [
        product_id
        for product_id, tail in tails.items()
        if not tail.tie
        and (short[product_id][1] == 0 or (tail.waiting_ahead == 0 and not tail.behind))
    ]
    if not joining_ids:
        return {}
    joining: dict[int, _Joining] = {}
    for product_id in joining_ids:
        quantity, take = short[product_id]
        tail = tails[product_id]
        available = max(levels[(product_id, warehouse_id)].available - take, 0)
        product_supply = tail.supply
        promise = promise_at_end(
            available_now=available,
            supply=product_supply,
            waiting_ahead=tail.waiting_ahead,
            quantity=quantity,
            today=today,
            handling_days=tail.handling_days,
            estimate_lead_days=tail.lead_days,
        )
        if promise is not None:
            joining[product_id] = _Joining(
                promise=promise,
                quantity=quantity,
                waiting_ahead=tail.waiting_ahead,
                behind=tail.behind,
                available=available,
                supply=product_supply,
                handling_days=tail.handling_days,
                lead_days=tail.lead_days,
            )
    return joining


def _ahead_of(*, priority: int, tier: int, placed_at: dt.datetime) -> Q:
    """Queue lines strictly ahead of a line with this priority, tier and time."""
    return (
        Q(priority__gt=priority)
        | Q(priority=priority, customer_tier__lt=tier)
        | Q(priority=priority, customer_tier=tier, placed_at__lt=placed_at)
    )


def _behind(*, priority: int, tier: int, placed_at: dt.datetime) -> Q:
    """Queue lines strictly behind a line with this priority, tier and time."""
    return (
        Q(priority__lt=priority)
        | Q(priority=priority, customer_tier__gt=tier)
        | Q(priority=priority, customer_tier=tier, placed_at__gt=placed_at)
    )


@dataclass
class _QueueTail:
    """One product's queue in a warehouse, as a new line joining it sees it."""

    waiting_ahead: int
    """Backordered units of the lines strictly ahead of the new line."""
    behind: bool
    """Some line is strictly behind the new line."""
    tie: bool
    """Some line has the new line's priority, tier and placed time."""
    lead_days: int
    handling_days: int
    supply: list[Supply] = field(default_factory=list)


def _queue_tails(
    *,
    product_ids: Sequence[int],
    warehouse_id: int,
    priority: int,
    tier: int,
    placed_at: dt.datetime,
) -> dict[int, _QueueTail]:
    """For a new line of each product: the units waiting ahead of it, whether
    any line waits behind it or ties with it, the lead and handling days and
    the open purchase order supply the promise engine needs — one statement.

    Written in SQL because it runs inside every order's stock lock: building
    the same query with the ORM (five subqueries) cost more than running it.
    The conditions are QUEUE_ORDER's (`_ahead_of`, `_behind`); the EXISTS are
    probes of the order_line_queue index and the sum reads the lines ahead.
    """
    line = OrderLine._meta.db_table
    po_line = PurchaseOrderLine._meta.db_table
    po = PurchaseOrder._meta.db_table
    supplier = PurchaseOrder._meta.get_field("supplier").related_model._meta.db_table
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
        "OR (l.customer_tier = %s AND l.placed_at < %s))))), "
        f"EXISTS (SELECT 1 {queue} "
        "AND (l.priority < %s OR (l.priority = %s AND (l.customer_tier > %s "
        "OR (l.customer_tier = %s AND l.placed_at > %s))))), "
        f"EXISTS (SELECT 1 {queue} "
        "AND l.priority = %s AND l.customer_tier = %s AND l.placed_at = %s), "
        f"COALESCE((SELECT s.lead_time_days FROM {po_line} pl "
        f"JOIN {po} o ON o.id = pl.purchase_order_id JOIN {supplier} s ON s.id = o.supplier_id "
        "WHERE pl.product_id = p.id ORDER BY pl.id DESC LIMIT 1), p.default_lead_time_days), "
        f"(SELECT w.handling_days FROM {Warehouse._meta.db_table} w WHERE w.id = %s), "
        "NULL, NULL "
        f"FROM {Product._meta.db_table} p WHERE p.id IN ({ids}) "
        "UNION ALL "
        "SELECT 1, pl.product_id, pl.ordered - pl.received, FALSE, FALSE, 0, 0, "
        "pl.expected_date, o.number "
        f"FROM {po_line} pl JOIN {po} o ON o.id = pl.purchase_order_id "
        f"WHERE pl.product_id IN ({ids}) AND o.warehouse_id = %s "
        f"AND o.status IN ({statuses}) AND pl.received < pl.ordered"
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
    ]
    tails: dict[int, _QueueTail] = {}
    supply: list[tuple[int, Supply]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, product_id, units, behind, tie, lead, handling, expected, number in cursor:
            if kind == 0:
                tails[product_id] = _QueueTail(
                    waiting_ahead=units,
                    behind=bool(behind),
                    tie=bool(tie),
                    lead_days=lead,
                    handling_days=handling,
                )
            else:
                if isinstance(expected, str):  # SQLite
                    expected = dt.date.fromisoformat(expected)
                supply.append((product_id, Supply(date=expected, quantity=units, reference=number)))
    for product_id, row in supply:
        tails[product_id].supply.append(row)
    return tails


BEHIND_BATCH = 500


def _promises_behind_new_line(
    *, line: OrderLine, joined: _Joining, priority: int, today: dt.date, writes: _PromiseWrites
) -> None:
    """Recompute the promises of the lines behind a new line that jumped ahead
    of them, as far as supply reaches.

    A line's promise depends only on the units waiting up to and including it.
    A line behind waits for `joined.quantity` more units than before; one that
    supply did not cover before (the units up to it exceed the units available
    and inbound) was an estimate and stays the same estimate, and so does every
    line after it. So the walk reads the lines behind in queue order only until
    the units up to them exceed supply: the whole queue's walk restricted to
    the lines whose promise can change.
    """
    supply_total = joined.available + sum(row.quantity for row in joined.supply)
    waiting = joined.waiting_ahead
    if waiting >= supply_total:
        return
    behind = (
        OrderLine.objects.backordered()
        .filter(product_id=line.product_id, warehouse_id=line.warehouse_id)
        .filter(_behind(priority=priority, tier=line.customer_tier, placed_at=line.placed_at))
        .in_queue_order()
        .annotate(waiting=F("ordered") - F("allocated") - F("shipped") - F("cancelled"))
        .values_list(*PROMISE_ROW)
    )
    rows: list[tuple[Any, ...]] = []
    offset = 0
    # Each line waits for at least one unit: the units supply has left after
    # the lines ahead reach at most that many lines behind (+1 to see past).
    batch = min(BEHIND_BATCH, supply_total - waiting + 1)
    while waiting <= supply_total:
        chunk = list(behind[offset : offset + batch])
        for row in chunk:
            waiting += row[2]
            if waiting > supply_total:
                break
            rows.append(row)
        if len(chunk) < batch:
            break
        offset += batch
    if not rows:
        return
    result = promise_queue(
        available_now=joined.available,
        supply=joined.supply,
        queue=[
            QueueEntry(line_id=0, quantity=joined.waiting_ahead),
            QueueEntry(line_id=-1, quantity=joined.quantity),
            *(QueueEntry(line_id=row[0], quantity=row[2]) for row in rows),
        ],
        today=today,
        handling_days=joined.handling_days,
        estimate_lead_days=joined.lead_days,
    )
    _promise_changes(rows, result.promises, writes)


def _backordered_units(*, product_ids: Sequence[int]) -> dict[int, int]:
    if not product_ids:
        return {}
    rows = (
        OrderLine.objects.backordered()
        .filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(units=Sum(F("ordered") - F("allocated") - F("shipped") - F("cancelled")))
    )
    return {row["product_id"]: row["units"] for row in rows}


# --- receiving -------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptResult:
    purchase_order: PurchaseOrder
    received: dict[int, int]  # purchase order line id → units
    allocations: list[Allocation]
    left_in_stock: dict[str, int]  # sku → units not needed by the queue

    @property
    def ready_orders(self) -> list[str]:
        return sorted({a.order_number for a in self.allocations if a.ready_to_ship})


@retry_on_conflict()
@transaction.atomic
def purchase_order_receive(
    *, purchase_order: PurchaseOrder, quantities: Mapping[int, int], by: User | None
) -> ReceiptResult:
    """Receive units on purchase order lines and allocate them to the queue.

    Over-receipt, unknown lines and bad quantities are refused before anything
    is written. Returns which order lines got how many units.
    """
    warehouse_id = purchase_order.warehouse_id
    # Lock the stock levels first (the global lock order), then the purchase order.
    product_ids = dict(
        purchase_order.lines.filter(pk__in=list(quantities)).values_list("pk", "product_id")
    )
    levels = stock_levels_lock(keys=[(pid, warehouse_id) for pid in product_ids.values()])
    order, received = purchase_order_lines_record_receipt(
        purchase_order=purchase_order, quantities=quantities
    )
    units_by_product: dict[int, int] = defaultdict(int)
    for line, quantity in received:
        units_by_product[line.product_id] += quantity
        stock_moves_apply(
            level=levels[(line.product_id, warehouse_id)],
            moves=[Move(StockMoveKind.RECEIPT, quantity, order.number)],
            by=by,
        )
    allocations: list[Allocation] = []
    left: dict[str, int] = {}
    for line, _quantity in received:
        level = levels[(line.product_id, warehouse_id)]
        if line.product_id in units_by_product:
            allocations += queue_allocate(level=level, reference=order.number, by=by)
            units_by_product.pop(line.product_id)
            if level.available:
                left[line.product.sku] = level.available
    promises_recompute(
        keys=[(line.product_id, warehouse_id) for line, _quantity in received],
        cause=f"{order.number} received",
    )
    return ReceiptResult(
        purchase_order=order,
        received={line.pk: quantity for line, quantity in received},
        allocations=allocations,
        left_in_stock=left,
    )


# --- shipping --------------------------------------------------------------


@retry_on_conflict()
@transaction.atomic
def shipment_create(
    *,
    order: SalesOrder,
    tracking_number: str,
    by: User | None,
    quantities: Mapping[int, int] | None = None,
) -> Shipment:
    """Ship allocated units of an order (all of them by default) with a tracking number.

    A line may ship partly; what is not allocated stays backordered.
    """
    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        raise ValidationError({"tracking_number": _("Enter the carrier's tracking number.")})
    line_products = dict(order.lines.values_list("pk", "product_id"))
    levels = stock_levels_lock(
        keys=[(pid, order.warehouse_id) for pid in set(line_products.values())]
    )
    lines = {line.pk: line for line in order.lines.select_for_update().order_by("pk")}
    if quantities is None:
        wanted = {pk: line.allocated for pk, line in lines.items() if line.allocated}
    else:
        wanted = dict(quantities)
    errors: dict[str, list[str]] = {}
    for line_id, quantity in wanted.items():
        field = f"line_{line_id}"
        line = lines.get(line_id)
        if line is None:
            errors[field] = [_("This line is not on order %(number)s.") % {"number": order.number}]
            continue
        try:
            require_positive_quantity(quantity, field=field)
        except ValidationError:
            errors[field] = [_("Enter a whole number of units above zero.")]
            continue
        if quantity > line.allocated:
            errors[field] = [
                _("Only %(allocated)d units of this line are allocated and can ship.")
                % {"allocated": line.allocated}
            ]
    if errors:
        raise ValidationError(errors)
    if not wanted:
        raise ValidationError(
            _("Nothing on order %(number)s is ready to ship.") % {"number": order.number}
        )
    shipment = Shipment.objects.create(
        order=order, tracking_number=tracking_number, shipped_by=acting_user(by)
    )
    moves: dict[int, list[Move]] = defaultdict(list)
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        line.allocated -= quantity
        line.shipped += quantity
        line._history_user = acting_user(by)  # type: ignore[attr-defined]
        line.save(update_fields=["allocated", "shipped"])
        moves[line.product_id].append(
            Move(StockMoveKind.SHIPMENT, quantity, f"{order.number}/{line.pk}", tracking_number)
        )
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line_id=line_id, quantity=quantity)
        for line_id, quantity in wanted.items()
    )
    for product_id, product_moves in moves.items():
        stock_moves_apply(
            level=levels[(product_id, order.warehouse_id)], moves=product_moves, by=by
        )
    return shipment


# --- cancelling ------------------------------------------------------------


def _cancel_units(
    *, line: OrderLine, quantity: int, level: StockLevel, reason: str, by: User | None
) -> tuple[Cancellation, int]:
    """Cancel `quantity` open units of a locked line: backordered units first,
    then allocated ones, which are released. Returns the cancellation and the
    number of units released."""
    from_backorder = min(quantity, line.backordered)
    released = quantity - from_backorder
    line.cancelled += quantity
    line.allocated -= released
    line._history_user = acting_user(by)  # type: ignore[attr-defined]
    line.save(update_fields=["cancelled", "allocated"])
    if released:
        stock_moves_apply(
            level=level,
            moves=[Move(StockMoveKind.RELEASE, released, line.reference, reason)],
            by=by,
        )
    cancellation = Cancellation.objects.create(
        order_line=line,
        quantity=quantity,
        refund_due=(line.unit_price * quantity).quantize(Decimal("0.01")),
        reason=reason[:255],
        cancelled_by=acting_user(by),
    )
    return cancellation, released


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the units are cancelled.")})
    return reason


@retry_on_conflict()
@transaction.atomic
def order_line_cancel(
    *, line: OrderLine, reason: str, by: User | None, quantity: int | None = None
) -> Cancellation:
    """Cancel the backordered remainder of a line (or `quantity` of it).

    Only units still waiting can be cancelled here; to give back allocated
    units too, cancel the whole order.
    """
    reason = _require_reason(reason)
    level = stock_levels_lock(keys=[(line.product_id, line.warehouse_id)])[
        (line.product_id, line.warehouse_id)
    ]
    locked = OrderLine.objects.select_for_update().select_related("order").get(pk=line.pk)
    if quantity is None:
        quantity = locked.backordered
        if quantity == 0:
            raise ValidationError(_("Nothing on this line is waiting on backorder."))
    require_positive_quantity(quantity)
    if quantity > locked.backordered:
        raise ValidationError(
            {
                "quantity": _("Only %(backordered)d units of this line are backordered.")
                % {"backordered": locked.backordered}
            }
        )
    cancellation, _released = _cancel_units(
        line=locked, quantity=quantity, level=level, reason=reason, by=by
    )
    promises_recompute(
        keys=[(locked.product_id, locked.warehouse_id)],
        cause=f"{locked.order.number} cancelled in part",
    )
    return cancellation


@retry_on_conflict()
@transaction.atomic
def order_cancel(*, order: SalesOrder, reason: str, by: User | None) -> list[Cancellation]:
    """Cancel everything on an order that has not shipped.

    Allocated units go back to stock and on to the next lines in the queue.
    """
    reason = _require_reason(reason)
    product_ids = set(order.lines.values_list("product_id", flat=True))
    levels = stock_levels_lock(keys=[(pid, order.warehouse_id) for pid in product_ids])
    lines = [line for line in order.lines.select_for_update().order_by("pk") if line.open_quantity]
    if not lines:
        raise ValidationError(
            _("Order %(number)s has nothing left to cancel.") % {"number": order.number}
        )
    cancellations = []
    refill: set[int] = set()
    for line in lines:
        level = levels[(line.product_id, order.warehouse_id)]
        cancellation, released = _cancel_units(
            line=line, quantity=line.open_quantity, level=level, reason=reason, by=by
        )
        cancellations.append(cancellation)
        if released:
            refill.add(line.product_id)
    for product_id in sorted(refill):
        queue_allocate(
            level=levels[(product_id, order.warehouse_id)], reference=order.number, by=by
        )
    promises_recompute(
        keys=[(pid, order.warehouse_id) for pid in product_ids], cause=f"{order.number} cancelled"
    )
    return cancellations


# --- priority and stock ----------------------------------------------------


@retry_on_conflict()
@transaction.atomic
def order_line_set_priority(*, line: OrderLine, priority: int, by: User | None) -> OrderLine:
    """Move a line up (higher) or down the queue. Units already allocated stay."""
    if isinstance(priority, bool) or not isinstance(priority, int) or not -100 <= priority <= 100:
        raise ValidationError({"priority": _("Enter a whole number from -100 to 100.")})
    stock_levels_lock(keys=[(line.product_id, line.warehouse_id)])
    locked = OrderLine.objects.select_for_update().get(pk=line.pk)
    if locked.backordered == 0:
        raise ValidationError(_("This line is not waiting in the queue."))
    locked.priority = priority
    locked._history_user = acting_user(by)  # type: ignore[attr-defined]
    locked.save(update_fields=["priority"])
    promises_recompute(
        keys=[(locked.product_id, locked.warehouse_id)], cause="queue priority changed"
    )
    locked.refresh_from_db()
    return locked


@retry_on_conflict()
@transaction.atomic
def stock_adjust(
    *, product: Product, warehouse: Warehouse, change: int, reason: str, by: User | None
) -> list[Allocation]:
    """Correct a stock count. Units found go to the queue straight away."""
    level = stock_levels_lock(keys=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    stock_level_adjust(level=level, change=change, reason=reason, by=by)
    allocations = []
    if change > 0:
        allocations = queue_allocate(level=level, reference=_("adjustment"), by=by)
    promises_recompute(keys=[(product.pk, warehouse.pk)], cause="stock adjusted")
    return allocations


# --- promises --------------------------------------------------------------


@dataclass(frozen=True)
class PromiseChange:
    """A line whose promised ship date changed in one recompute."""

    line_id: int
    order_id: int
    old_date: dt.date | None
    new_date: dt.date
    old_is_estimate: bool
    new_is_estimate: bool
    covered_by: str | None

    @property
    def is_first(self) -> bool:
        return self.old_date is None

    @property
    def days_moved(self) -> int:
        """Positive when the promise moved later (a slip), negative when earlier."""
        return 0 if self.old_date is None else (self.new_date - self.old_date).days


@dataclass
class RecordedChanges:
    """What the use cases inside `changes_recorded()` did that customers feel."""

    promises: list[PromiseChange] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)


_recorders: ContextVar[tuple[RecordedChanges, ...]] = ContextVar("change_recorders", default=())


@contextmanager
def changes_recorded() -> Iterator[RecordedChanges]:
    """Collect every promise change and allocation the use cases inside the block make.

    The layer above (notifications) wraps a use case in this, inside its own
    transaction, to tell each customer whose date moved or whose order became
    ready — without every use case having to return what it did to others.
    """
    recorded = RecordedChanges()
    token = _recorders.set((*_recorders.get(), recorded))
    try:
        yield recorded
    finally:
        _recorders.reset(token)


@contextmanager
def promise_changes_recorded() -> Iterator[list[PromiseChange]]:
    """The promise changes only (see `changes_recorded`)."""
    with changes_recorded() as recorded:
        yield recorded.promises


@dataclass
class _QueueInputs:
    """What the promise engine needs for one (product, warehouse) queue."""

    queue: list[tuple[Any, ...]] = field(default_factory=list)
    available: int = 0
    supply: list[Supply] = field(default_factory=list)
    handling_days: int = 0
    lead_days: int = 0


def _promise_inputs(keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], _QueueInputs]:
    """The inputs of many queues in five queries, however many queues: the
    whole-shop refresh was one round trip per query per queue (7,000 queues ×
    6 queries ≈ 100 s at a million lines)."""
    wanted = set(keys)
    product_ids = {p for p, _w in wanted}
    warehouse_ids = {w for _p, w in wanted}
    inputs: dict[tuple[int, int], _QueueInputs] = {}
    backordered = F("ordered") - F("allocated") - F("shipped") - F("cancelled")
    # One index range scan per queue (order_line_queue), already in queue order.
    queues = (
        OrderLine.objects.backordered()
        .filter(product_id__in=product_ids, warehouse_id__in=warehouse_ids)
        .order_by("product_id", "warehouse_id", *QUEUE_ORDER)
        .annotate(waiting=backordered)
        .values_list("product_id", "warehouse_id", *PROMISE_ROW)
    )
    for product_id, warehouse_id, *row in queues:
        key = (product_id, warehouse_id)
        if key in wanted:
            inputs.setdefault(key, _QueueInputs()).queue.append(tuple(row))
    if not inputs:
        return inputs
    for product_id, warehouse_id, on_hand, allocated in StockLevel.objects.filter(
        product_id__in=product_ids, warehouse_id__in=warehouse_ids
    ).values_list("product_id", "warehouse_id", "on_hand", "allocated"):
        if (product_id, warehouse_id) in inputs:
            inputs[(product_id, warehouse_id)].available = max(on_hand - allocated, 0)
    for key, supply in _open_supply(product_ids, warehouse_ids).items():
        if key in inputs:
            inputs[key].supply = supply
    handling = dict(
        Warehouse.objects.filter(pk__in=warehouse_ids).values_list("pk", "handling_days")
    )
    lead = {
        pk: default if supplier_lead is None else supplier_lead
        for pk, supplier_lead, default in Product.objects.filter(pk__in=product_ids)
        .annotate(supplier_lead=_last_supplier_lead())
        .values_list("pk", "supplier_lead", "default_lead_time_days")
    }
    for (product_id, warehouse_id), found in inputs.items():
        found.handling_days = handling[warehouse_id]
        found.lead_days = lead[product_id]
    return inputs


def _open_supply(
    product_ids: Iterable[int], warehouse_ids: Iterable[int]
) -> dict[tuple[int, int], list[Supply]]:
    """Inbound supply by (product, warehouse): the outstanding units of open
    purchase order lines (one query)."""
    supply: dict[tuple[int, int], list[Supply]] = defaultdict(list)
    for product_id, warehouse_id, expected, outstanding, number in PurchaseOrderLine.objects.filter(
        product_id__in=set(product_ids),
        purchase_order__warehouse_id__in=set(warehouse_ids),
        purchase_order__status__in=OPEN_PO_STATUSES,
        received__lt=F("ordered"),
    ).values_list(
        "product_id",
        "purchase_order__warehouse_id",
        "expected_date",
        F("ordered") - F("received"),
        "purchase_order__number",
    ):
        supply[(product_id, warehouse_id)].append(
            Supply(date=expected, quantity=outstanding, reference=number)
        )
    return supply


def _last_supplier_lead() -> Subquery:
    """For a Product queryset: the lead time of the supplier the product was
    last bought from (None if never bought; the product's default applies)."""
    return Subquery(
        PurchaseOrderLine.objects.filter(product_id=OuterRef("pk"))
        .order_by("-pk")
        .values("purchase_order__supplier__lead_time_days")[:1]
    )


@dataclass
class _PromiseWrites:
    """Promise changes of many queues, written together: one UPDATE of the
    lines and one INSERT of their history."""

    updates: list[tuple[int, dt.date, bool, dt.date, int]] = field(default_factory=list)
    changes: list[PromiseChange] = field(default_factory=list)

    def flush(self, *, cause: str) -> None:
        if not self.updates:
            return
        _lines_set_promises(self.updates)
        _promise_revisions_insert(self.changes, cause=cause)
        self.updates, self.changes = [], []


PROMISE_BATCH_QUEUES = 1000


def promises_recompute(
    *, keys: Iterable[tuple[int, int]], cause: str, today: dt.date | None = None
) -> list[PromiseChange]:
    """Recompute the promised dates of the queue of each (product, warehouse).

    Runs inside the calling use case, whose stock levels are already locked
    (or locks them itself through `promises_refresh`). Feeds the pure engine
    (`orders.promising.promise_queue`) with the units available now, the open
    purchase order lines and the queue in queue order; writes only the lines
    whose promise changed, with a PromiseRevision each; counts a slip when a
    promise moves later. Returns the changes, for the caller to tell customers.

    Queues are read and written in batches of PROMISE_BATCH_QUEUES: a fixed
    number of queries per batch, not per queue.
    """
    today = today or timezone.localdate()
    changes: list[PromiseChange] = []
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), PROMISE_BATCH_QUEUES):
        batch = ordered[start : start + PROMISE_BATCH_QUEUES]
        inputs = _promise_inputs(batch)
        writes = _PromiseWrites()
        for product_id, warehouse_id in batch:
            if (product_id, warehouse_id) not in inputs:
                continue
            changes += _promises_recompute_one(
                product_id=product_id,
                warehouse_id=warehouse_id,
                cause=cause,
                today=today,
                inputs=inputs[(product_id, warehouse_id)],
                writes=writes,
            )
        writes.flush(cause=cause)
    for recorder in _recorders.get():
        recorder.promises.extend(changes)
    return changes


def _promises_recompute_one(
    *,
    product_id: int,
    warehouse_id: int,
    cause: str,
    today: dt.date,
    inputs: _QueueInputs | None = None,
    writes: _PromiseWrites | None = None,
) -> list[PromiseChange]:
    """One queue: its inputs read here unless given, its changes written here
    unless `writes` collects them for the caller to write."""
    if inputs is None:
        inputs = _promise_inputs([(product_id, warehouse_id)]).get((product_id, warehouse_id))
        if inputs is None:
            return []
    queue = inputs.queue
    if not queue:
        return []
    result = promise_queue(
        available_now=inputs.available,
        supply=inputs.supply,
        queue=[QueueEntry(line_id=row[0], quantity=row[2]) for row in queue],
        today=today,
        handling_days=inputs.handling_days,
        estimate_lead_days=inputs.lead_days,
    )
    own_writes = writes is None
    collected = _PromiseWrites() if writes is None else writes
    changes = _promise_changes(queue, result.promises, collected)
    if own_writes:
        collected.flush(cause=cause)
    return changes


PROMISE_ROW = (
    "pk",
    "order_id",
    "waiting",
    "promised_date",
    "promise_is_estimate",
    "first_promised_date",
    "times_slipped",
)
"""The columns of a queue row as `_promise_changes` reads them (annotate
`waiting` with the line's backordered units)."""


def _promise_changes(
    rows: Iterable[tuple[Any, ...]], promises: Mapping[int, Promise], writes: _PromiseWrites
) -> list[PromiseChange]:
    """Compare queue rows (pk, order id, waiting, promised date, estimate, first
    promised date, times slipped) with their new promises; collect the lines
    whose promise changed into `writes`, counting a slip when it moved later."""
    changes: list[PromiseChange] = []
    for pk, order_id, _waiting, old_date, old_estimate, first_date, slipped in rows:
        promise = promises.get(pk)
        if promise is None:
            continue
        new_date, new_estimate = promise.promised_date, promise.is_estimate
        if new_date == old_date and new_estimate == old_estimate:
            continue
        if old_date is not None and new_date > old_date:
            slipped += 1
        writes.updates.append((pk, new_date, new_estimate, first_date or new_date, slipped))
        changes.append(
            PromiseChange(
                line_id=pk,
                order_id=order_id,
                old_date=old_date,
                new_date=new_date,
                old_is_estimate=old_estimate,
                new_is_estimate=new_estimate,
                covered_by=promise.covered_by,
            )
        )
    writes.changes += changes
    return changes


_REVISION_COLUMNS = {
    "id",
    "line_id",
    "old_date",
    "new_date",
    "old_is_estimate",
    "new_is_estimate",
    "cause",
    "covered_by",
    "created_at",
}


def _promise_revisions_insert(changes: Sequence[PromiseChange], *, cause: str) -> None:
    """One history row per change: INSERT … SELECT FROM unnest on PostgreSQL
    (bulk_create built 190,000 model objects for a whole-shop refresh), while
    the table has exactly the columns written here; bulk_create otherwise."""
    columns = {f.column for f in PromiseRevision._meta.concrete_fields}
    if connection.vendor == "postgresql" and columns == _REVISION_COLUMNS:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {PromiseRevision._meta.db_table} "  # noqa: S608 - table name from the model
                "(line_id, old_date, new_date, old_is_estimate, new_is_estimate, cause, "
                "covered_by, created_at) "
                "SELECT r.line_id, r.old_date, r.new_date, r.old_is_estimate, r.new_is_estimate, "
                "%s, r.covered_by, statement_timestamp() "
                "FROM unnest(%s::bigint[], %s::date[], %s::date[], %s::boolean[], "
                "%s::boolean[], %s::varchar[]) "
                "AS r(line_id, old_date, new_date, old_is_estimate, new_is_estimate, covered_by)",
                [
                    cause[:120],
                    [c.line_id for c in changes],
                    [c.old_date for c in changes],
                    [c.new_date for c in changes],
                    [c.old_is_estimate for c in changes],
                    [c.new_is_estimate for c in changes],
                    [c.covered_by or "" for c in changes],
                ],
            )
        return
    PromiseRevision.objects.bulk_create(
        (
            PromiseRevision(
                line_id=change.line_id,
                old_date=change.old_date,
                new_date=change.new_date,
                old_is_estimate=change.old_is_estimate,
                new_is_estimate=change.new_is_estimate,
                cause=cause[:120],
                covered_by=change.covered_by or "",
            )
            for change in changes
        ),
        batch_size=2000,
    )


def _lines_set_promises(updates: Sequence[tuple[int, dt.date, bool, dt.date, int]]) -> None:
    """Write new promises to many lines: one UPDATE … FROM unnest on PostgreSQL."""
    if connection.vendor == "postgresql":
        ids, dates, estimates, firsts, slips = (
            list(column) for column in zip(*updates, strict=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {OrderLine._meta.db_table} AS line "  # noqa: S608 - table name from the model
                "SET promised_date = p.promised_date, promise_is_estimate = p.is_estimate, "
                "first_promised_date = p.first_date, times_slipped = p.slipped "
                "FROM unnest(%s::bigint[], %s::date[], %s::boolean[], %s::date[], %s::integer[]) "
                "AS p(id, promised_date, is_estimate, first_date, slipped) "
                "WHERE line.id = p.id",
                [ids, dates, estimates, firsts, slips],
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {OrderLine._meta.db_table} SET promised_date = %s, "  # noqa: S608
            "promise_is_estimate = %s, first_promised_date = %s, times_slipped = %s WHERE id = %s",
            [
                (promised, estimate, first, slipped, pk)
                for pk, promised, estimate, first, slipped in updates
            ],
        )


@retry_on_conflict()
@transaction.atomic
def promises_refresh(
    *, keys: Iterable[tuple[int, int]] | None = None, cause: str, today: dt.date | None = None
) -> list[PromiseChange]:
    """Lock the stock levels and recompute promises for `keys` (every product
    and warehouse with a queue when None): the daily sweep, the demo loader,
    `manage.py recompute_promises`."""
    if keys is None:
        keys = set(
            OrderLine.objects.backordered().values_list("product_id", "warehouse_id").distinct()
        )
    keys = sorted(set(keys))
    stock_levels_lock(keys=keys)
    return promises_recompute(keys=keys, cause=cause, today=today)


# --- purchase orders, as they change supply -----------------------------------


def _po_keys(purchase_order: PurchaseOrder) -> list[tuple[int, int]]:
    return [
        (product_id, purchase_order.warehouse_id)
        for product_id in purchase_order.lines.values_list("product_id", flat=True).distinct()
    ]


@retry_on_conflict()
@transaction.atomic
def purchase_order_create(
    *, token: str = "", **kwargs: Any
) -> tuple[PurchaseOrder, list[PromiseChange]]:
    """`suppliers.services.purchase_order_create`; one created already confirmed
    is inbound supply at once, so the promises it covers are recomputed.

    With `token` (the form's one-time token) the same form submitted twice
    creates one purchase order: the second raises ValidationError with the
    code "already_submitted" and writes nothing.
    """
    if token:
        form_submission_record(token=token, action="purchase_order_create", by=kwargs.get("by"))
    order = supplier_services.purchase_order_create(**kwargs)
    if order.status == PurchaseOrderStatus.DRAFT:
        return order, []
    keys = _po_keys(order)
    stock_levels_lock(keys=keys)
    return order, promises_recompute(keys=keys, cause=f"{order.number} ordered")


@retry_on_conflict()
@transaction.atomic
def purchase_order_confirm(
    *, purchase_order: PurchaseOrder, by: User | None, token: str = ""
) -> tuple[PurchaseOrder, list[PromiseChange]]:
    """Confirm a draft; its lines become inbound supply, so promises move earlier.

    With `token` (the form's one-time token) the same form submitted twice
    confirms once: the second raises ValidationError with the code
    "already_submitted" and writes nothing.
    """
    if token:
        form_submission_record(token=token, action="purchase_order_confirm", by=by)
    keys = _po_keys(purchase_order)
    stock_levels_lock(keys=keys)
    order = supplier_services.purchase_order_confirm(purchase_order=purchase_order, by=by)
    return order, promises_recompute(keys=keys, cause=f"{order.number} confirmed")


@retry_on_conflict()
@transaction.atomic
def purchase_order_cancel(
    *, purchase_order: PurchaseOrder, by: User | None, token: str = ""
) -> tuple[PurchaseOrder, list[PromiseChange]]:
    """Cancel a purchase order; the lines it covered fall back to other supply or estimates.

    With `token` (the form's one-time token) the same form submitted twice
    cancels once: the second raises ValidationError with the code
    "already_submitted" and writes nothing.
    """
    if token:
        form_submission_record(token=token, action="purchase_order_cancel", by=by)
    keys = _po_keys(purchase_order)
    stock_levels_lock(keys=keys)
    order = supplier_services.purchase_order_cancel(purchase_order=purchase_order, by=by)
    return order, promises_recompute(keys=keys, cause=f"{order.number} cancelled")


@retry_on_conflict()
@transaction.atomic
def purchase_order_move_expected_date(
    *,
    purchase_order: PurchaseOrder,
    new_date: dt.date,
    reason: str,
    by: User | None,
    line_ids: Sequence[int] | None = None,
    cause: str = ExpectedDateRevision.Cause.MANUAL,
) -> tuple[list[ExpectedDateRevision], list[PromiseChange]]:
    """Move a purchase order's expected date and recompute the promises it feeds."""
    keys = _po_keys(purchase_order)
    stock_levels_lock(keys=keys)
    revisions = supplier_services.purchase_order_move_expected_date(
        purchase_order=purchase_order,
        new_date=new_date,
        reason=reason,
        by=by,
        line_ids=line_ids,
        cause=cause,
    )
    if not revisions:
        return revisions, []
    return revisions, promises_recompute(
        keys=keys, cause=f"{purchase_order.number} expected date moved"
    )


# --- the overdue sweep -----------------------------------------------------


@dataclass(frozen=True)
class OverdueSweepResult:
    purchase_orders_moved: list[str]
    lines_moved: int
    promise_changes: list[PromiseChange]


def purchase_orders_sweep_overdue(
    *, today: dt.date | None = None, extra_days: int | None = None, by: User | None = None
) -> OverdueSweepResult:
    """Daily: what should have arrived and did not gets a new, honest date.

    Open purchase order lines whose expected date has passed move to today +
    the supplier's lead time (or `extra_days`), as an overdue revision; the
    promises they feed move with them and count as slips. Backordered lines
    whose promised date has passed for any other reason are recomputed too.
    Each purchase order moves in its own transaction, so one conflict does not
    undo the others.
    """
    today = today or timezone.localdate()
    overdue = (
        PurchaseOrderLine.objects.filter(
            purchase_order__status__in=OPEN_PO_STATUSES,
            received__lt=F("ordered"),
            expected_date__lt=today,
        )
        .values_list("purchase_order_id", "pk")
        .order_by("purchase_order_id", "pk")
    )
    by_po: dict[int, list[int]] = defaultdict(list)
    for po_id, line_id in overdue:
        by_po[po_id].append(line_id)
    moved: list[str] = []
    lines_moved = 0
    changes: list[PromiseChange] = []
    for po in PurchaseOrder.objects.filter(pk__in=by_po).select_related("supplier").order_by("pk"):
        days = extra_days if extra_days is not None else po.supplier.lead_time_days
        revisions, po_changes = purchase_order_move_expected_date(
            purchase_order=po,
            new_date=today + dt.timedelta(days=max(days, 1)),
            reason=_(
                "Not received by the expected date; new estimate from the supplier's lead time."
            ),
            by=by,
            line_ids=by_po[po.pk],
            cause=ExpectedDateRevision.Cause.OVERDUE,
        )
        if revisions:
            moved.append(po.number)
            lines_moved += len(revisions)
            changes += po_changes
    stale = set(
        OrderLine.objects.backordered()
        .filter(promised_date__lt=today)
        .values_list("product_id", "warehouse_id")
        .distinct()
    )
    if stale:
        changes += promises_refresh(keys=stale, cause="promised date passed", today=today)
    return OverdueSweepResult(
        purchase_orders_moved=moved, lines_moved=lines_moved, promise_changes=changes
    )


# --- customers' own choices (signed links) ------------------------------------


@dataclass(frozen=True)
class CustomerChoiceResult:
    order: SalesOrder
    choice: str
    cancellations: list[Cancellation]

    @property
    def refund_due(self) -> Decimal:
        return sum((c.refund_due for c in self.cancellations), Decimal("0.00"))


def order_customer_choose(*, link: CustomerLink) -> CustomerChoiceResult:
    """Carry out what a customer chose through a signed link, once.

    Keep waiting is recorded; cancel cancels the backordered remainder of every
    line (allocated units stay: they are on their way). A link used before, or
    for an order with nothing left waiting, raises LinkError and changes nothing.
    """
    try:
        return _order_customer_choose(link=link)
    except IntegrityError as error:
        # Two clicks on the same link at once: the unique link id let one through.
        raise LinkError(_("This link has already been used.")) from error


@retry_on_conflict()
@transaction.atomic
def _order_customer_choose(*, link: CustomerLink) -> CustomerChoiceResult:
    try:
        order = SalesOrder.objects.get(pk=link.order_id)
    except SalesOrder.DoesNotExist as error:
        raise LinkError(_("We could not find this order. Please contact us.")) from error
    if CustomerChoice.objects.filter(link_id=link.link_id).exists():
        raise LinkError(_("This link has already been used."))
    # Written first: a second use of the same link waits here and then fails.
    CustomerChoice.objects.create(order=order, choice=link.action, link_id=link.link_id)
    cancellations: list[Cancellation] = []
    if link.action == CustomerChoice.Choice.CANCEL:
        waiting = [line for line in order.lines.order_by("pk") if line.backordered]
        if not waiting:
            raise LinkError(
                _("Nothing on order %(number)s is waiting any more: it is ready or on its way.")
                % {"number": order.number}
            )
        for line in waiting:
            cancellations.append(
                order_line_cancel(line=line, reason=_("Cancelled by the customer"), by=None)
            )
    return CustomerChoiceResult(order=order, choice=link.action, cancellations=cancellations)


@retry_on_conflict()
@transaction.atomic
def order_lines_set_priority(
    *, line_ids: Sequence[int], priority: int, by: User | None
) -> list[OrderLine]:
    """Set the manual priority of several waiting lines at once (a bulk action).

    The stock levels of every queue touched are locked first, then the lines
    in primary-key order; promises are recomputed once per (product,
    warehouse), not once per line. Lines no longer waiting, and lines already
    at `priority`, are left alone, so running it twice changes nothing the
    second time. Returns the lines whose priority changed.
    """
    if isinstance(priority, bool) or not isinstance(priority, int) or not -100 <= priority <= 100:
        raise ValidationError({"priority": _("Enter a whole number from -100 to 100.")})
    ids = sorted(set(line_ids))
    keys = set(OrderLine.objects.filter(pk__in=ids).values_list("product_id", "warehouse_id"))
    stock_levels_lock(keys=keys)
    author = acting_user(by)
    changed: list[OrderLine] = []
    for line in OrderLine.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if line.backordered == 0 or line.priority == priority:
            continue
        line.priority = priority
        line._history_user = author  # type: ignore[attr-defined]
        line.save(update_fields=["priority"])  # one history row per line: who moved it
        changed.append(line)
    if changed:
        promises_recompute(
            keys={(line.product_id, line.warehouse_id) for line in changed},
            cause="queue priority changed",
        )
    return changed


# --- the delays page: one-time form tokens, internal notes, substitutes ---------


def form_submission_record(*, token: str, action: str, by: User | None) -> None:
    """Spend a form's one-time token inside the caller's transaction.

    Raises ValidationError when the token was spent before: the same form
    submitted twice (a double click, a resent POST) applies once. Two submits
    that arrive together both insert; the unique token makes the second wait
    for the first and then fail, so its whole transaction rolls back.
    """
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise ValidationError({"token": _("This form is out of date: reload the page.")})
    try:
        with transaction.atomic():
            FormSubmission.objects.create(
                token=token, action=action[:64], submitted_by=acting_user(by)
            )
    except IntegrityError as error:
        raise ValidationError(
            _("This form was already submitted: nothing was done a second time."),
            code="already_submitted",
        ) from error


ORDER_NOTE_MAX_LENGTH = 2000


@transaction.atomic
def order_note_add(*, order: SalesOrder, body: str, by: User | None, token: str = "") -> OrderNote:
    """Write an internal note on an order (never sent to the customer).

    With `token` (the form's one-time token) a second submit of the same form
    writes nothing and raises ValidationError.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write the note first.")})
    if len(body) > ORDER_NOTE_MAX_LENGTH:
        raise ValidationError(
            {"body": _("A note has at most %(max)d characters.") % {"max": ORDER_NOTE_MAX_LENGTH}}
        )
    if token:
        form_submission_record(token=token, action="order_note_add", by=by)
    return OrderNote.objects.create(order=order, body=body, author=acting_user(by))


@dataclass(frozen=True)
class Substitution:
    """What `order_line_substitute` did: the remainder cancelled, the line added."""

    cancellation: Cancellation
    line: OrderLine  # the new line, for the alternative product

    @property
    def allocated(self) -> int:
        return self.line.allocated

    @property
    def backordered(self) -> int:
        return self.line.backordered


@retry_on_conflict()
@transaction.atomic
def order_line_substitute(*, line: OrderLine, product: Product, by: User | None) -> Substitution:
    """Swap a line's backordered remainder to one of its product's alternatives.

    In one transaction: the remainder of `line` is cancelled (reason
    "Substituted with <SKU>", refund due recorded; units already allocated to
    it stay and ship), and a new line for `product` on the same order takes as
    many units as are available now and waits on backorder for the rest if the
    alternative's backorder policy allows it. The new line joins the
    alternative's queue now (placed now, the old line's manual priority), so it
    does not jump ahead of customers who were already waiting for it. Promises
    of both products are recomputed. Refused, changing nothing, when `product`
    is not an active alternative, when nothing on the line waits any more (a
    second submit), or when the alternative cannot be backordered.
    """
    warehouse_id = line.warehouse_id
    keys = [(line.product_id, warehouse_id), (product.pk, warehouse_id)]
    levels = stock_levels_lock(keys=keys)
    locked = (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("order", "product")
        .get(pk=line.pk)
    )
    if (
        product.pk == locked.product_id
        or not locked.product.alternatives.filter(pk=product.pk).exists()
    ):
        raise ValidationError(
            {
                "product": _("%(sku)s is not an alternative of %(original)s.")
                % {"sku": product.sku, "original": locked.product.sku}
            }
        )
    if not product.active:
        raise ValidationError(
            {"product": _("%(sku)s is no longer sold (inactive product).") % {"sku": product.sku}}
        )
    quantity = locked.backordered
    if quantity == 0:
        raise ValidationError(_("Nothing on this line is waiting on backorder."))
    level = levels[(product.pk, warehouse_id)]
    take = min(max(level.available, 0), quantity)
    short = quantity - take
    if short and product.backorder_policy == BackorderPolicy.DENY:
        raise ValidationError(
            {
                "product": _(
                    "Only %(available)d of %(sku)s in stock and it is not sold on backorder."
                )
                % {"available": take, "sku": product.sku}
            }
        )
    if short and product.backorder_policy == BackorderPolicy.CAP:
        room = max(
            (product.backorder_cap or 0)
            - _backordered_units(product_ids=[product.pk]).get(product.pk, 0),
            0,
        )
        if short > room:
            raise ValidationError(
                {
                    "product": _(
                        "Only %(available)d of %(sku)s in stock and %(room)d more may be "
                        "backordered (cap %(cap)d)."
                    )
                    % {
                        "available": take,
                        "sku": product.sku,
                        "room": room,
                        "cap": product.backorder_cap or 0,
                    }
                }
            )
    reason = _("Substituted with %(sku)s") % {"sku": product.sku}
    cancellation, _released = _cancel_units(
        line=locked,
        quantity=quantity,
        level=levels[(locked.product_id, warehouse_id)],
        reason=reason,
        by=by,
    )
    new_line = OrderLine(
        order=locked.order,
        product=product,
        warehouse_id=warehouse_id,
        customer_tier=locked.customer_tier,
        placed_at=timezone.now(),
        unit_price=product.price,
        ordered=quantity,
        allocated=take,
        priority=locked.priority,
        substitute_for=locked,
    )
    new_line._history_user = acting_user(by)  # type: ignore[attr-defined]
    new_line.save()
    if take:
        stock_moves_apply(
            level=level,
            moves=[Move(StockMoveKind.ALLOCATION, take, new_line.reference, reason)],
            by=by,
        )
    promises_recompute(
        keys=keys,
        cause=f"{locked.order.number}: {locked.product.sku} substituted with {product.sku}",
    )
    # The promise was written by an UPDATE; keep the cached order and product.
    new_line.refresh_from_db(
        fields=["promised_date", "promise_is_estimate", "first_promised_date", "times_slipped"]
    )
    return Substitution(cancellation=cancellation, line=new_line)
