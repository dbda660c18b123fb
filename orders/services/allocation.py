"""The queue takes units: allocation of a stock level's free units in queue order.

Allocation walks the queue in `QUEUE_ORDER`: manual priority, customer tier,
placed time. Units go to the first line until it is complete, then the next.
The caller holds the stock level's lock (`stock_levels_lock`), so the queue
cannot change under an allocation."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from inventory.models import Product, StockLevel, StockMoveKind, Warehouse
from inventory.services import (
    Move,
    stock_level_adjust,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.models import (
    OrderLine,
)
from orders.services.promises import promises_recompute
from orders.services.recording import Allocation, allocations_record
from orders.services.touching import orders_of_lines_touch, touch_orders_returning_sql


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
    allocations_record(allocations)
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
    """Add allocated units to many lines in one statement, and stamp their
    orders as changed (`SalesOrder.updated_at`).

    On PostgreSQL one UPDATE … FROM unnest(ids, units), the orders' stamp in
    the same statement: bulk_update's CASE per row was 5 s of a 10,000-line
    receipt. SQLite (the embedded mode) runs one prepared UPDATE per row, which
    there is 10× faster than bulk_update, then stamps the orders.
    """
    if not changes:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                touch_orders_returning_sql(
                    f"UPDATE {OrderLine._meta.db_table} AS line "  # noqa: S608 - table name from the model
                    "SET allocated = line.allocated + change.units "
                    "FROM unnest(%s::bigint[], %s::integer[]) AS change(id, units) "
                    "WHERE line.id = change.id"
                ),
                [[pk for pk, _units in changes], [units for _pk, units in changes], now],
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {OrderLine._meta.db_table} SET allocated = allocated + %s WHERE id = %s",  # noqa: S608
            [(units, pk) for pk, units in changes],
        )
    orders_of_lines_touch(line_ids=[pk for pk, _units in changes], now=now)


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
