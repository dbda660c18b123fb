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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from inventory.models import BackorderPolicy, Product, StockLevel, StockMoveKind, Warehouse
from inventory.services import (
    Move,
    require_positive_quantity,
    stock_level_adjust,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.models import (
    Cancellation,
    Channel,
    Customer,
    OrderLine,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from suppliers.models import PurchaseOrder
from suppliers.services import purchase_order_lines_record_receipt


def _author(by: User | None) -> User | None:
    return by if by is not None and by.is_authenticated else None


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
    touched: list[OrderLine] = []
    batch = 1000
    offset = 0
    while available > 0:
        # Lines ahead of the cursor are being filled, so they leave the
        # backordered() set only after the update below: page by offset.
        chunk = list(
            queue.select_for_update(of=("self",)).select_related("order")[offset : offset + batch]
        )
        if not chunk:
            break
        offset += len(chunk)
        for line in chunk:
            take = min(line.backordered, available)
            if take <= 0:
                continue
            line.allocated += take
            available -= take
            touched.append(line)
            allocations.append(
                Allocation(
                    line_id=line.pk,
                    order_number=line.order.number,
                    quantity=take,
                    ready_to_ship=line.backordered == 0,
                )
            )
            if available == 0:
                break
    if not touched:
        return []
    _lines_add_allocated([(a.line_id, a.quantity) for a in allocations])
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
    row was 5 s of a 10,000-line receipt. SQLite (the embedded mode, small
    queues) uses bulk_update.
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
    lines = OrderLine.objects.in_bulk([pk for pk, _units in changes])
    for pk, units in changes:
        lines[pk].allocated += units
    OrderLine.objects.bulk_update(lines.values(), ["allocated"], batch_size=500)


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
    order = SalesOrder.objects.create(
        number=f"SO-TMP-{placed.timestamp()}-{customer.pk}",
        customer=customer,
        warehouse=warehouse,
        channel=channel,
        placed_at=placed,
        external_reference=external_reference,
        created_by=_author(by),
    )
    order.number = f"SO-{order.pk:07d}"
    order.save(update_fields=["number"])
    created = OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=request.product,
            warehouse=warehouse,
            customer_tier=customer.tier,
            placed_at=placed,
            unit_price=request.product.price,
            ordered=request.quantity,
            allocated=take,
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
    return order


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
        order=order, tracking_number=tracking_number, shipped_by=_author(by)
    )
    moves: dict[int, list[Move]] = defaultdict(list)
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        line.allocated -= quantity
        line.shipped += quantity
        line._history_user = _author(by)  # type: ignore[attr-defined]
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
    line._history_user = _author(by)  # type: ignore[attr-defined]
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
        cancelled_by=_author(by),
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
    locked._history_user = _author(by)  # type: ignore[attr-defined]
    locked.save(update_fields=["priority"])
    return locked


@retry_on_conflict()
@transaction.atomic
def stock_adjust(
    *, product: Product, warehouse: Warehouse, change: int, reason: str, by: User | None
) -> list[Allocation]:
    """Correct a stock count. Units found go to the queue straight away."""
    level = stock_levels_lock(keys=[(product.pk, warehouse.pk)])[(product.pk, warehouse.pk)]
    stock_level_adjust(level=level, change=change, reason=reason, by=by)
    if change > 0:
        return queue_allocate(level=level, reference=_("adjustment"), by=by)
    return []
