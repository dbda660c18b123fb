"""Receiving a purchase order: units into stock and straight to the queue."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from config.db import retry_on_conflict
from inventory.models import StockMoveKind
from inventory.services import (
    Move,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.services.allocation import queue_allocate
from orders.services.promises import promises_recompute
from orders.services.recording import Allocation
from suppliers.models import (
    PurchaseOrder,
)
from suppliers.services import purchase_order_lines_record_receipt


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
