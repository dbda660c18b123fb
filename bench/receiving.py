"""B2: receive N units of one product into a queue of N backordered lines.

The service under test is `orders.services.purchase_order_receive`: it locks
the stock level, records the receipt, allocates in queue order (one unit per
line here, so every line is touched) and writes one ledger row per line, then
recomputes the product's promises — one transaction, timed with its commit.

The baseline is the floor: the same allocation as one set-based SQL
statement (a running SUM over the queue in queue order; UPDATE the lines and
INSERT the ledger rows, the receipt row, the purchase order line and the
stock level in data-modifying CTEs), on a copy of the queue (same orders,
same places, a fresh product), inside a transaction that locks the stock
level first, timed the same way. PostgreSQL only.

`python -m bench.receiving` is `python -m bench --only B2`.
"""

from __future__ import annotations

import sys
import time

from bench.common import Context, Figure


def _floor_sql() -> str:
    from inventory.models import StockLevel, StockMove
    from orders.models import OrderLine, SalesOrder
    from suppliers.models import PurchaseOrder, PurchaseOrderLine

    line, move = OrderLine._meta.db_table, StockMove._meta.db_table
    level, order = StockLevel._meta.db_table, SalesOrder._meta.db_table
    po_line, po = PurchaseOrderLine._meta.db_table, PurchaseOrder._meta.db_table
    waiting = "ordered - allocated - shipped - cancelled"
    return f"""
WITH free AS (
    SELECT on_hand - allocated + %(units)s AS units FROM {level}
    WHERE product_id = %(product)s AND warehouse_id = %(warehouse)s
), queue AS (
    SELECT id, order_id, {waiting} AS waiting,
           SUM({waiting}) OVER (
               ORDER BY priority DESC, customer_tier, placed_at, id ROWS UNBOUNDED PRECEDING
           ) AS running
    FROM {line}
    WHERE product_id = %(product)s AND warehouse_id = %(warehouse)s
      AND ordered > allocated + shipped + cancelled
), take AS (
    SELECT q.id, LEAST(q.waiting, free.units - (q.running - q.waiting)) AS units
    FROM queue q, free WHERE q.running - q.waiting < free.units
), filled AS (
    UPDATE {line} AS l SET allocated = l.allocated + take.units
    FROM take WHERE l.id = take.id
    RETURNING l.id, l.order_id, take.units
), ledger AS (
    INSERT INTO {move} (product_id, warehouse_id, kind, quantity, on_hand_change,
                        allocated_change, reference, note, created_by_id, created_at)
    SELECT %(product)s, %(warehouse)s, 'allocation', filled.units, 0, filled.units,
           so.number || '/' || filled.id, %(reference)s, NULL, now()
    FROM filled JOIN {order} so ON so.id = filled.order_id
    RETURNING quantity
), receipt AS (
    INSERT INTO {move} (product_id, warehouse_id, kind, quantity, on_hand_change,
                        allocated_change, reference, note, created_by_id, created_at)
    VALUES (%(product)s, %(warehouse)s, 'receipt', %(units)s, %(units)s, 0, %(reference)s,
            '', NULL, now())
    RETURNING id
), po AS (
    UPDATE {po_line} SET received = received + %(units)s WHERE id = %(po_line)s RETURNING id
), po_status AS (
    -- the floor receives the whole (one-line) order, as the service does: it is received
    UPDATE {po} SET status = 'received'
    WHERE id = (SELECT purchase_order_id FROM {po_line} WHERE id = %(po_line)s)
    RETURNING id
), stock AS (
    UPDATE {level} SET on_hand = on_hand + %(units)s,
        allocated = allocated + (SELECT COALESCE(SUM(quantity), 0) FROM ledger),
        updated_at = now()
    WHERE product_id = %(product)s AND warehouse_id = %(warehouse)s
    RETURNING allocated
)
SELECT (SELECT COUNT(*) FROM ledger), (SELECT COALESCE(SUM(quantity), 0) FROM ledger),
       (SELECT COUNT(*) FROM receipt), (SELECT COUNT(*) FROM po),
       (SELECT allocated FROM stock), (SELECT COUNT(*) FROM po_status)
"""


def _purchase_order(product, warehouse, supplier, units):
    from django.utils import timezone

    from suppliers.services import PurchaseLineRequest, purchase_order_create

    po = purchase_order_create(
        supplier=supplier,
        warehouse=warehouse,
        lines=[PurchaseLineRequest(product, units)],
        expected_date=timezone.localdate(),
        by=None,
        confirm=True,
    )
    return po, po.lines.get()


def run(ctx: Context) -> None:
    from django.db import connection, transaction

    from bench.scenario import analyze, bench_objects, build_queue, copy_queue, fresh_product
    from inventory.models import StockLevel, StockMove
    from inventory.services import stock_levels_lock
    from orders.models import OrderLine
    from orders.services.receiving import purchase_order_receive

    lines = 10_000 if ctx.full else 2_000
    warehouse, supplier = bench_objects()
    service, floor = [], []
    floor_sql = _floor_sql()
    for repeat in range(ctx.repeat):
        product = fresh_product("receive")
        build_queue(product=product, warehouse=warehouse, lines=lines)
        copy = fresh_product("floor")
        copy_queue(source=product, target=copy)
        StockLevel.objects.create(product=copy, warehouse=warehouse)
        po, po_line = _purchase_order(product, warehouse, supplier, lines)
        _floor_po, floor_po_line = _purchase_order(copy, warehouse, supplier, lines)
        if repeat == 0:
            analyze(OrderLine._meta.db_table)

        started = time.perf_counter()
        result = purchase_order_receive(purchase_order=po, quantities={po_line.pk: lines}, by=None)
        service.append(time.perf_counter() - started)
        allocated = sum(a.quantity for a in result.allocations)
        if allocated != lines or len(result.allocations) != lines:
            ctx.problem(
                "B2",
                f"service allocated {allocated} units to {len(result.allocations)} lines, "
                f"expected {lines}",
            )
        ledger = StockMove.objects.filter(product=product, kind="allocation").count()
        if ledger != lines:
            ctx.problem("B2", f"service wrote {ledger} allocation ledger rows, expected {lines}")

        if connection.vendor != "postgresql":
            continue
        started = time.perf_counter()
        with transaction.atomic():
            stock_levels_lock(keys=[(copy.pk, warehouse.pk)])
            with connection.cursor() as cursor:
                cursor.execute(
                    floor_sql,
                    {
                        "product": copy.pk,
                        "warehouse": warehouse.pk,
                        "units": lines,
                        "reference": _floor_po.number,
                        "po_line": floor_po_line.pk,
                    },
                )
                rows, units, receipts, po_rows, level_allocated, received = cursor.fetchone()
        floor.append(time.perf_counter() - started)
        if (rows, units, receipts, po_rows, level_allocated, received) != (
            lines,
            lines,
            1,
            1,
            lines,
            1,
        ):
            ctx.problem(
                "B2",
                f"the SQL floor did {rows} rows / {units} units / {receipts} receipts, "
                f"expected {lines}",
            )
        # Same result as the service: every copied line got its unit.
        still_waiting = OrderLine.objects.backordered().filter(product=copy).count()
        if still_waiting:
            ctx.problem("B2", f"the SQL floor left {still_waiting} lines waiting")

    floor_median = None
    if floor:
        floor_figure = Figure(key="B2.floor", label="", unit="s", samples=floor)
        floor_median = floor_figure.median
        ctx.add(
            Figure(
                key="B2.floor",
                label=f"B2 SQL floor: one statement, {lines:,} lines",
                unit="s",
                samples=floor,
            )
        )
    else:
        ctx.skip("B2 floor", "the set-based SQL floor is written for PostgreSQL")
    ctx.add(
        Figure(
            key="B2.receive",
            label=f"B2 receive {lines:,} units into {lines:,} lines",
            unit="s",
            samples=service,
            target=2.0 if ctx.full else None,
            baseline=floor_median,
            baseline_label="one set-based SQL statement",
            ratio_target=3.0,
            ratio_kind="of_floor",
        )
    )


def main() -> int:
    from bench.__main__ import main as bench_main

    return bench_main(["--only", "B2", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
