"""Stock writes. Every change of a stock level writes its ledger row.

Callers lock the levels first with `stock_levels_lock` (rows in primary-key
order, so two use cases touching the same products can never deadlock on each
other) and pass the locked rows in; these functions never lock on their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.roles import acting_user
from inventory.limits import ADJUSTMENT_MESSAGE, MAX_QUANTITY
from inventory.models import StockLevel, StockMove, StockMoveKind

Key = tuple[int, int]  # (product_id, warehouse_id)


def require_positive_quantity(quantity: object, *, field: str = "quantity") -> int:
    """A whole number of units above zero, or a ValidationError that says so."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ValidationError({field: _("Enter a whole number of units.")}, code="not_integer")
    if quantity <= 0:
        raise ValidationError(
            {field: _("Enter a number of units above zero.")}, code="not_positive"
        )
    return quantity


def stock_levels_lock(*, keys: Iterable[Key]) -> dict[Key, StockLevel]:
    """Lock (and create if missing) the stock levels for (product, warehouse) pairs.

    The levels are locked with SELECT … FOR UPDATE in primary-key order: one
    query when they all exist, as they do for every order but a product's
    first in a warehouse. Missing ones are then created (a concurrent creator
    is ignored) and all are locked again. That insert can wait on another
    transaction creating the same level while this one holds locks; a
    deadlock that results is retried by the use case (`retry_on_conflict`).
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    product_ids = {p for p, _w in wanted}
    warehouse_ids = {w for _p, w in wanted}
    levels = (
        StockLevel.objects.select_for_update(of=("self",))
        .filter(product_id__in=product_ids, warehouse_id__in=warehouse_ids)
        .order_by("pk")
    )
    locked = {(level.product_id, level.warehouse_id): level for level in levels}
    missing = [StockLevel(product_id=p, warehouse_id=w) for p, w in wanted if (p, w) not in locked]
    if missing:
        StockLevel.objects.bulk_create(missing, ignore_conflicts=True)
        locked = {(level.product_id, level.warehouse_id): level for level in levels.all()}
    return {key: locked[key] for key in wanted}


@dataclass(frozen=True)
class Move:
    """One ledger entry to write against a locked level."""

    kind: StockMoveKind
    quantity: int
    reference: str
    note: str = ""


_EFFECTS: dict[str, tuple[int, int]] = {
    # kind: (on_hand sign, allocated sign)
    StockMoveKind.RECEIPT: (1, 0),
    StockMoveKind.ALLOCATION: (0, 1),
    StockMoveKind.RELEASE: (0, -1),
    StockMoveKind.SHIPMENT: (-1, -1),
}


def stock_moves_apply(
    *, level: StockLevel, moves: Sequence[Move], by: User | None
) -> list[StockMove]:
    """Apply moves of kinds receipt/allocation/release/shipment to a locked level.

    One UPDATE of the level and one bulk INSERT of the ledger rows, whatever
    the number of moves. The CHECK constraints are the backstop; the callers
    check availability first so a person sees a message, not an IntegrityError.
    """
    if not moves:
        return []
    rows = []
    for move in moves:
        on_hand_sign, allocated_sign = _EFFECTS[move.kind]
        rows.append(
            StockMove(
                product_id=level.product_id,
                warehouse_id=level.warehouse_id,
                kind=move.kind,
                quantity=move.quantity,
                on_hand_change=on_hand_sign * move.quantity,
                allocated_change=allocated_sign * move.quantity,
                reference=move.reference,
                note=move.note,
                created_by=acting_user(by),
            )
        )
    level.on_hand += sum(row.on_hand_change for row in rows)
    level.allocated += sum(row.allocated_change for row in rows)
    level.save(update_fields=["on_hand", "allocated", "updated_at"])
    return StockMove.objects.bulk_create(rows, batch_size=2000)


@transaction.atomic
def stock_level_adjust(
    *, level: StockLevel, change: int, reason: str, by: User | None
) -> StockMove:
    """Count correction on a locked level: units found (+) or lost/damaged (−).

    Refused when it would take on-hand below what is allocated to orders, or
    moves more than MAX_QUANTITY units either way (inventory.limits).
    """
    if isinstance(change, bool) or not isinstance(change, int):
        raise ValidationError({"change": _("Enter a whole number of units.")})
    if change == 0:
        raise ValidationError({"change": _("Enter a change other than zero.")})
    if abs(change) > MAX_QUANTITY:
        raise ValidationError({"change": ADJUSTMENT_MESSAGE})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the stock changes.")})
    if level.on_hand + change < level.allocated:
        raise ValidationError(
            {
                "change": _(
                    "Only %(free)d units are free; %(allocated)d are allocated to orders. "
                    "Cancel or release those first."
                )
                % {"free": level.available, "allocated": level.allocated}
            }
        )
    level.on_hand += change
    level.save(update_fields=["on_hand", "updated_at"])
    return StockMove.objects.create(
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        kind=StockMoveKind.ADJUSTMENT,
        quantity=abs(change),
        on_hand_change=change,
        allocated_change=0,
        reference=_("adjustment"),
        note=reason[:255],
        created_by=acting_user(by),
    )
