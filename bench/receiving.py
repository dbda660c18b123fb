"""B2 (first cut): receive N units of one product into a queue of N backordered lines.

Usage: DATABASE_URL=postgres://… python -m bench.receiving [--lines 10000] [--repeat 3]
Builds the queue with bulk inserts (backordered lines need no ledger rows), then
times `purchase_order_receive`, which allocates in queue order and writes one
ledger row per line. Prints median and max; each repeat uses a fresh product.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from decimal import Decimal


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from inventory.models import Product, Warehouse
    from orders.checks import stock_problems
    from orders.models import Customer, OrderLine, SalesOrder
    from orders.services import purchase_order_receive
    from suppliers.models import Supplier
    from suppliers.services import PurchaseLineRequest, purchase_order_create

    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    run = int(time.time())
    warehouse, _ = Warehouse.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    supplier, _ = Supplier.objects.get_or_create(
        name="Bench supplier", defaults={"contact_email": "bench@example.com"}
    )
    customer, _ = Customer.objects.get_or_create(
        email="bench@example.com", defaults={"name": "Bench customer"}
    )
    timings = []
    for repeat in range(args.repeat):
        product = Product.objects.create(
            sku=f"BENCH-{run}-{repeat}", name="Bench product", price=Decimal("10.00")
        )
        start = timezone.now() - dt.timedelta(days=30)
        orders = SalesOrder.objects.bulk_create(
            SalesOrder(
                number=f"SO-B{run}-{repeat}-{i}",
                customer=customer,
                warehouse=warehouse,
                placed_at=start + dt.timedelta(seconds=i),
            )
            for i in range(args.lines)
        )
        OrderLine.objects.bulk_create(
            (
                OrderLine(
                    order=order,
                    product=product,
                    warehouse=warehouse,
                    customer_tier=3,
                    placed_at=order.placed_at,
                    unit_price=product.price,
                    ordered=1,
                )
                for order in orders
            ),
            batch_size=5000,
        )
        po = purchase_order_create(
            supplier=supplier,
            warehouse=warehouse,
            lines=[PurchaseLineRequest(product, args.lines)],
            expected_date=timezone.localdate(),
            by=None,
            confirm=True,
        )
        line = po.lines.get()
        began = time.perf_counter()
        result = purchase_order_receive(
            purchase_order=po, quantities={line.pk: args.lines}, by=None
        )
        timings.append(time.perf_counter() - began)
        assert sum(a.quantity for a in result.allocations) == args.lines
    problems = stock_problems()
    print(
        f"B2 receive {args.lines} units into {args.lines} lines on {connection.vendor}: "
        f"median {statistics.median(timings):.3f} s, max {max(timings):.3f} s "
        f"({args.repeat} runs); stock problems: {len(problems)}"
    )


if __name__ == "__main__":
    main()
