"""Cancelling what is backordered (and what was allocated goes back to the queue)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from config.roles import acting_user
from inventory.models import StockLevel, StockMoveKind
from inventory.services import (
    Move,
    require_positive_quantity,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.models import (
    Cancellation,
    OrderLine,
    SalesOrder,
)
from orders.services import recording
from orders.services.allocation import queue_allocate
from orders.services.promises import promises_recompute
from orders.services.refunds import refund_due_record
from orders.services.touching import orders_touch


def cancel_units(
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
    orders_touch(order_ids=[line.order_id])
    if released:
        stock_moves_apply(
            level=level,
            moves=[Move(StockMoveKind.RELEASE, released, line.reference, reason)],
            by=by,
        )
    cancellation = Cancellation.objects.create(
        order_line=line,
        quantity=quantity,
        # Set by refunds.refund_due_record from what the shop really took.
        refund_due=Decimal("0.00"),
        reason=reason[:255],
        cancelled_by=acting_user(by),
    )
    recording.cancellation_record(cancellation.pk)
    return cancellation, released


class NothingToCancel(ValidationError):
    """Nothing the cancellation asked for is waiting on backorder."""


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
    cancellation, _released = cancel_units(
        line=locked, quantity=quantity, level=level, reason=reason, by=by
    )
    refund_due_record(cancellations=[cancellation], reason=reason, by=by)
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
        cancellation, released = cancel_units(
            line=line, quantity=line.open_quantity, level=level, reason=reason, by=by
        )
        cancellations.append(cancellation)
        if released:
            refill.add(line.product_id)
    refund_due_record(cancellations=cancellations, reason=reason, by=by)
    for product_id in sorted(refill):
        queue_allocate(
            level=levels[(product_id, order.warehouse_id)], reference=order.number, by=by
        )
    promises_recompute(
        keys=[(pid, order.warehouse_id) for pid in product_ids], cause=f"{order.number} cancelled"
    )
    return cancellations


@retry_on_conflict()
@transaction.atomic
def order_backorders_cancel(
    *, order: SalesOrder, reason: str, by: User | None, line_ids: Iterable[int] | None = None
) -> list[Cancellation]:
    """Cancel the backordered remainder of an order's lines (all of them, or
    those in `line_ids`); allocated and shipped units stay as they are.

    Raises NothingToCancel when none of those lines has units waiting.
    """
    reason = _require_reason(reason)
    wanted = None if line_ids is None else set(line_ids)
    product_ids = set(order.lines.values_list("product_id", flat=True))
    levels = stock_levels_lock(keys=[(pid, order.warehouse_id) for pid in product_ids])
    lines = [
        line
        for line in order.lines.select_for_update().select_related("order").order_by("pk")
        if line.backordered and (wanted is None or line.pk in wanted)
    ]
    if not lines:
        raise NothingToCancel(
            _("Nothing on order %(number)s is waiting on backorder.") % {"number": order.number}
        )
    cancellations = [
        cancel_units(
            line=line,
            quantity=line.backordered,
            level=levels[(line.product_id, order.warehouse_id)],
            reason=reason,
            by=by,
        )[0]
        for line in lines
    ]
    refund_due_record(cancellations=cancellations, reason=reason, by=by)
    promises_recompute(
        keys=sorted({(line.product_id, order.warehouse_id) for line in lines}),
        cause=f"{order.number} cancelled in part",
    )
    return cancellations
