"""Transfers between warehouses: free units shipped from one warehouse, in
transit (inbound supply for the destination's promises), received and handed
to the destination's queue in queue order.

Locks follow the global order: the stock levels first (`stock_levels_lock`,
primary-key order), then the transfer row.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from inventory.models import Product, Transfer, TransferStatus, Warehouse
from inventory.services import stock_levels_lock
from inventory.transfers import (
    transfer_receive_stock,
    transfer_ship_stock,
    transfer_validate,
)
from orders.services.allocation import queue_allocate
from orders.services.promises import promises_recompute
from orders.services.recording import Allocation, PromiseChange


@dataclass(frozen=True)
class TransferShipped:
    transfer: Transfer
    changes: list[PromiseChange]
    """Promises the units in transit moved (at the destination, mostly earlier)."""


@dataclass(frozen=True)
class TransferReceived:
    transfer: Transfer
    allocations: list[Allocation]
    left_in_stock: int
    """Units the destination's queue did not need."""

    @property
    def ready_orders(self) -> list[str]:
        return sorted({a.order_number for a in self.allocations if a.ready_to_ship})


@retry_on_conflict()
@transaction.atomic
def transfer_ship(
    *,
    product: Product | None,
    from_warehouse: Warehouse | None,
    to_warehouse: Warehouse | None,
    quantity: object,
    by: User | None,
) -> TransferShipped:
    """Ship free units of `product` from one warehouse to another.

    Refused, with nothing written, for a missing product or warehouse, the same
    warehouse twice, a quantity that is not a whole number of units above zero,
    or more units than are free (unallocated) at the sending warehouse. The
    destination's promises are recomputed: the units count as inbound supply
    arriving on the shipping date plus the route's transit days.
    """
    if product is None:
        raise ValidationError({"product": _("Choose a product by its SKU.")})
    sender, destination, units = transfer_validate(
        from_warehouse=from_warehouse, to_warehouse=to_warehouse, quantity=quantity
    )
    source_key = (product.pk, sender.pk)
    destination_key = (product.pk, destination.pk)
    levels = stock_levels_lock(keys=[source_key, destination_key])
    source = levels[source_key]
    source.warehouse = sender
    transfer = transfer_ship_stock(source=source, to_warehouse=destination, quantity=units, by=by)
    transfer.product = product
    changes = promises_recompute(
        keys=[source_key, destination_key], cause=f"{transfer.number} shipped"
    )
    return TransferShipped(transfer=transfer, changes=changes)


@retry_on_conflict()
@transaction.atomic
def transfer_receive(*, transfer_id: int, by: User | None) -> TransferReceived:
    """Receive a transfer in transit at its destination: the units go into
    stock and straight to the destination's queue, in queue order (the same
    allocation as a purchase order's receipt). A transfer already received or
    cancelled is refused with nothing written (a double click receives once).
    """
    found = (
        Transfer.objects.filter(pk=transfer_id).values_list("product_id", "to_warehouse_id").first()
    )
    if found is None:
        raise ValidationError(_("There is no such transfer."))
    key = (found[0], found[1])
    level = stock_levels_lock(keys=[key])[key]
    transfer = (
        Transfer.objects.select_for_update(of=("self",))
        .select_related("product", "to_warehouse")
        .get(pk=transfer_id)
    )
    if transfer.status != TransferStatus.IN_TRANSIT:
        raise ValidationError(
            _("Transfer %(number)s was already %(status)s.")
            % {"number": transfer.number, "status": transfer.get_status_display().lower()}
        )
    transfer_receive_stock(transfer=transfer, destination=level, by=by)
    allocations = queue_allocate(level=level, reference=transfer.number, by=by)
    promises_recompute(keys=[key], cause=f"{transfer.number} received")
    return TransferReceived(
        transfer=transfer, allocations=allocations, left_in_stock=max(level.available, 0)
    )
