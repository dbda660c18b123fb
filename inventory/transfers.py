"""Stock writes of a transfer between warehouses, on levels the caller has locked.

Shipping takes free units out of the sending warehouse (`transfer_out`: on
hand down, nothing allocated changes); receiving adds them to the destination
(`transfer_in`). Between the two the units are in transit: in neither
warehouse's stock, counted by the open transfer (`inventory.checks`).
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from config.roles import acting_user
from inventory.limits import MAX_QUANTITY, QUANTITY_MESSAGE, range_message
from inventory.models import (
    DEFAULT_TRANSIT_DAYS,
    StockLevel,
    StockMove,
    StockMoveKind,
    Transfer,
    TransferRoute,
    TransferStatus,
    Warehouse,
)
from inventory.services import require_positive_quantity


def transit_days(*, from_warehouse_id: int, to_warehouse_id: int) -> int:
    """The route's transit days, DEFAULT_TRANSIT_DAYS when there is no route."""
    days = (
        TransferRoute.objects.filter(
            from_warehouse_id=from_warehouse_id, to_warehouse_id=to_warehouse_id
        )
        .values_list("transit_days", flat=True)
        .first()
    )
    return DEFAULT_TRANSIT_DAYS if days is None else days


def transfer_validate(
    *, from_warehouse: Warehouse | None, to_warehouse: Warehouse | None, quantity: object
) -> tuple[Warehouse, Warehouse, int]:
    """The shape of a transfer, before any lock: two different warehouses and
    a whole number of units within the limits. Returns them."""
    if from_warehouse is None:
        raise ValidationError({"from_warehouse": _("Choose the warehouse the units leave.")})
    if to_warehouse is None:
        raise ValidationError({"to_warehouse": _("Choose the warehouse the units go to.")})
    if from_warehouse.pk == to_warehouse.pk:
        raise ValidationError(
            {"to_warehouse": _("Choose a warehouse other than the one the units leave.")}
        )
    units = require_positive_quantity(quantity)
    if units > MAX_QUANTITY:
        raise ValidationError(
            {"quantity": range_message(QUANTITY_MESSAGE, low=1, high=MAX_QUANTITY)}
        )
    return from_warehouse, to_warehouse, units


def transfer_ship_stock(
    *,
    source: StockLevel,
    to_warehouse: Warehouse,
    quantity: int,
    by: User | None,
    today: dt.date | None = None,
) -> Transfer:
    """Take `quantity` free units out of the locked `source` level and put them
    in transit to `to_warehouse`. Refused when fewer units are free: units
    allocated to the sending warehouse's orders never leave."""
    if quantity > source.available:
        raise ValidationError(
            {
                "quantity": _(
                    "Only %(free)d units are free in %(warehouse)s; %(allocated)d are "
                    "allocated to its orders."
                )
                % {
                    "free": max(source.available, 0),
                    "warehouse": source.warehouse.code,
                    "allocated": source.allocated,
                }
            }
        )
    days = transit_days(from_warehouse_id=source.warehouse_id, to_warehouse_id=to_warehouse.pk)
    today = today or timezone.localdate()
    transfer = Transfer.objects.create(
        product_id=source.product_id,
        from_warehouse=source.warehouse,
        to_warehouse=to_warehouse,
        quantity=quantity,
        expected_date=today + dt.timedelta(days=days),
        shipped_by=acting_user(by),
    )
    source.on_hand -= quantity
    source.save(update_fields=["on_hand", "updated_at"])
    StockMove.objects.create(
        product_id=source.product_id,
        warehouse_id=source.warehouse_id,
        kind=StockMoveKind.TRANSFER_OUT,
        quantity=quantity,
        on_hand_change=-quantity,
        allocated_change=0,
        reference=transfer.number,
        created_by=acting_user(by),
    )
    return transfer


def transfer_receive_stock(
    *, transfer: Transfer, destination: StockLevel, by: User | None
) -> StockMove:
    """Add a locked, in-transit transfer's units to the locked destination level."""
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise ValidationError(
            _("Transfer %(number)s is %(status)s; only a transfer in transit can be received.")
            % {"number": transfer.number, "status": transfer.get_status_display().lower()}
        )
    if (destination.product_id, destination.warehouse_id) != (
        transfer.product_id,
        transfer.to_warehouse_id,
    ):
        raise ValueError("destination level is not the transfer's")
    transfer.status = TransferStatus.RECEIVED
    transfer.received_at = timezone.now()
    transfer.received_by = acting_user(by)
    transfer.save(update_fields=["status", "received_at", "received_by"])
    destination.on_hand += transfer.quantity
    destination.save(update_fields=["on_hand", "updated_at"])
    return StockMove.objects.create(
        product_id=transfer.product_id,
        warehouse_id=transfer.to_warehouse_id,
        kind=StockMoveKind.TRANSFER_IN,
        quantity=transfer.quantity,
        on_hand_change=transfer.quantity,
        allocated_change=0,
        reference=transfer.number,
        created_by=acting_user(by),
    )
