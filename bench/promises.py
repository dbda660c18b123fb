"""B3 (first cut): recompute promised dates for one product with N queued lines.

Usage: DATABASE_URL=postgres://… python -m bench.promises [--lines 20000] [--repeat 3]
Builds a queue of N backordered lines and a few open purchase orders (bulk
inserts), then times `promises_refresh` for that product twice per repeat: a
first computation (every line gets a promise and a history row) and a
recompute after the purchase orders' dates move (every line changes again).
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
    from orders.models import Customer, OrderLine, SalesOrder
    from orders.services import promises_refresh
    from suppliers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier

    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
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
    first, moved = [], []
    for repeat in range(args.repeat):
        product = Product.objects.create(
            sku=f"PROMISE-{run}-{repeat}", name="Bench product", price=Decimal("10.00")
        )
        start = timezone.now() - dt.timedelta(days=30)
        orders = SalesOrder.objects.bulk_create(
            SalesOrder(
                number=f"SO-P{run}-{repeat}-{i}",
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
                    ordered=2,
                )
                for order in orders
            ),
            batch_size=5000,
        )
        today = timezone.localdate()
        for week in range(1, 5):
            po = PurchaseOrder.objects.create(
                number=f"PO-P{run}-{repeat}-{week}",
                supplier=supplier,
                warehouse=warehouse,
                status=PurchaseOrderStatus.ORDERED,
                expected_date=today + dt.timedelta(weeks=week),
            )
            PurchaseOrderLine.objects.create(
                purchase_order=po,
                product=product,
                ordered=args.lines // 4,
                expected_date=po.expected_date,
            )
        key = [(product.pk, warehouse.pk)]
        began = time.perf_counter()
        changes = promises_refresh(keys=key, cause="bench")
        first.append(time.perf_counter() - began)
        assert len(changes) == args.lines
        PurchaseOrderLine.objects.filter(product=product).update(
            expected_date=today + dt.timedelta(weeks=6)
        )
        began = time.perf_counter()
        changes = promises_refresh(keys=key, cause="bench moved")
        moved.append(time.perf_counter() - began)
    for label, timings in (("first promises", first), ("all moved", moved)):
        median = statistics.median(timings)
        print(
            f"B3 {label} for {args.lines} queued lines on {connection.vendor}: "
            f"median {median:.3f} s, max {max(timings):.3f} s, "
            f"{args.lines / median:,.0f} lines/s ({args.repeat} runs)"
        )


if __name__ == "__main__":
    main()
