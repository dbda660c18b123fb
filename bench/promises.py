"""B3: recompute promised dates — one product with a long queue, and the whole shop.

One product: a fresh queue of N lines (20,000 at full scale) and four open
purchase orders; `orders.services.promises_refresh` for that product, first
when no line has a promise (every line gets one and a history row), then after
every purchase order's date moved (every line changes again).

Whole shop: `promises_refresh()` over every (product, warehouse) with a queue
— the daily sweep's work — after every open purchase order line's expected
date moved a week (later, then back earlier on the next repeat), so most
promises change. Lines per second = backordered lines looked at ÷ seconds.

`python -m bench.promises` is `python -m bench --only B3`.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from bench.common import Context, Figure

TARGET_LINES_PER_SECOND = 20_000


def _one_product(ctx: Context) -> None:
    from django.utils import timezone

    from bench.scenario import bench_objects, build_queue, fresh_product
    from orders.services.promises import promises_refresh
    from suppliers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus

    lines = 20_000 if ctx.full else 5_000
    warehouse, supplier = bench_objects()
    first, moved = [], []
    for repeat in range(ctx.repeat):
        product = fresh_product("promise")
        build_queue(product=product, warehouse=warehouse, lines=lines, ordered=2)
        today = timezone.localdate()
        for week in range(1, 5):
            po = PurchaseOrder.objects.create(
                number=f"PO-BP{product.pk}-{week}",
                supplier=supplier,
                warehouse=warehouse,
                status=PurchaseOrderStatus.ORDERED,
                expected_date=today + dt.timedelta(weeks=week),
            )
            PurchaseOrderLine.objects.create(
                purchase_order=po,
                product=product,
                ordered=lines // 4,
                expected_date=po.expected_date,
            )
        key = [(product.pk, warehouse.pk)]
        started = time.perf_counter()
        changes = promises_refresh(keys=key, cause="bench")
        took = time.perf_counter() - started
        first.append(lines / took)
        if len(changes) != lines:
            ctx.problem("B3", f"first promises changed {len(changes)} lines, expected {lines}")
        PurchaseOrderLine.objects.filter(product=product).update(
            expected_date=today + dt.timedelta(weeks=6 + repeat)
        )
        started = time.perf_counter()
        changes = promises_refresh(keys=key, cause="bench moved")
        took = time.perf_counter() - started
        moved.append(lines / took)
        if len(changes) != lines:
            ctx.problem("B3", f"moved promises changed {len(changes)} lines, expected {lines}")
    for figure_key, label, samples in (
        ("B3.first", f"B3 first promises, 1 product × {lines:,} lines", first),
        ("B3.moved", f"B3 all dates moved, 1 product × {lines:,} lines", moved),
    ):
        ctx.add(
            Figure(
                key=figure_key,
                label=label,
                unit="lines/s",
                samples=samples,
                higher_is_better=True,
                target=TARGET_LINES_PER_SECOND,
                target_on="median",
            )
        )


def _whole_shop(ctx: Context) -> None:
    from django.db.models import F

    from orders.models import OrderLine
    from orders.services.promises import promises_refresh
    from suppliers.models import OPEN_PO_STATUSES, PurchaseOrderLine

    waiting = OrderLine.objects.backordered().count()
    keys = OrderLine.objects.backordered().values("product_id", "warehouse_id").distinct().count()
    rates, changed = [], []
    open_lines = PurchaseOrderLine.objects.filter(
        purchase_order__status__in=OPEN_PO_STATUSES, received__lt=F("ordered")
    )
    for repeat in range(ctx.repeat):
        shift = dt.timedelta(weeks=1 if repeat % 2 == 0 else -1)
        open_lines.update(expected_date=F("expected_date") + shift)
        started = time.perf_counter()
        changes = promises_refresh(cause="bench whole shop")
        took = time.perf_counter() - started
        rates.append(waiting / took)
        changed.append(len(changes))
    ctx.add(
        Figure(
            key="B3.shop",
            label=f"B3 whole shop: {waiting:,} lines in {keys:,} queues",
            unit="lines/s",
            samples=rates,
            higher_is_better=True,
            target=TARGET_LINES_PER_SECOND,
            target_on="median",
            extra={"lines_changed": changed, "queues": keys},
        )
    )
    ctx.notes.append(f"B3 whole shop: promises changed per run {changed}")


def run(ctx: Context) -> None:
    _one_product(ctx)
    _whole_shop(ctx)


def main() -> int:
    from bench.__main__ import main as bench_main

    return bench_main(["--only", "B3", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
