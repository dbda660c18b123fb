"""Building blocks for the benchmarks: a fresh product with a queue of N lines.

Rows are bulk-inserted (a backordered line needs no ledger row), spread over
the shop's existing customers, so a benchmark works on one product's queue
inside a table of a million lines.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from decimal import Decimal
from typing import Any

RUN = int(time.time())
_counter = itertools.count(1)


def bench_objects() -> tuple[Any, Any]:
    """The warehouse and supplier the benchmarks use (the seeded shop's first ones)."""
    from inventory.models import Warehouse
    from suppliers.models import Supplier

    warehouse = Warehouse.objects.order_by("pk").first()
    if warehouse is None:
        warehouse = Warehouse.objects.create(code="BENCH", name="Bench")
    supplier = Supplier.objects.order_by("pk").first()
    if supplier is None:
        supplier = Supplier.objects.create(name="Bench supplier", contact_email="b@example.com")
    return warehouse, supplier


def fresh_product(label: str) -> Any:
    from inventory.models import Product

    n = next(_counter)
    return Product.objects.create(
        sku=f"BENCH-{label}-{RUN}-{n}", name=f"Bench {label} {n}", price=Decimal("10.00")
    )


def build_queue(*, product: Any, warehouse: Any, lines: int, ordered: int = 1) -> list[int]:
    """`lines` orders of one backordered line each for `product`, one second
    apart, customers taken round-robin from the shop. Returns the line ids in
    queue order."""
    from orders.models import Customer, OrderLine, SalesOrder

    customers = list(Customer.objects.order_by("pk").values_list("pk", "tier")[: max(lines, 1)])
    if not customers:
        customers = [(Customer.objects.create(name="Bench", email="bench@example.com").pk, 3)]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    tag = f"BP{product.pk}"  # order numbers are at most 32 characters
    orders = SalesOrder.objects.bulk_create(
        (
            SalesOrder(
                number=f"SO-{tag}-{i}",
                customer_id=customers[i % len(customers)][0],
                warehouse=warehouse,
                placed_at=start + dt.timedelta(seconds=i),
            )
            for i in range(lines)
        ),
        batch_size=5000,
    )
    created = OrderLine.objects.bulk_create(
        (
            OrderLine(
                order=order,
                product=product,
                warehouse=warehouse,
                customer_tier=customers[i % len(customers)][1],
                placed_at=order.placed_at,
                unit_price=product.price,
                ordered=ordered,
            )
            for i, order in enumerate(orders)
        ),
        batch_size=5000,
    )
    return [line.pk for line in created]


def copy_queue(*, source: Any, target: Any) -> int:
    """Copy every line of `source`'s queue to product `target` (same orders,
    same places in the queue): the data a baseline works on."""
    from django.db import connection

    from orders.models import OrderLine

    fields = [f for f in OrderLine._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    names = [str(f.column) for f in fields]
    columns = ", ".join(quote(name) for name in names)
    select = ", ".join("%s" if name == "product_id" else quote(name) for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(OrderLine._meta.db_table)} ({columns}) "
            f"SELECT {select} FROM {quote(OrderLine._meta.db_table)} WHERE product_id = %s",
            [target.pk, source.pk],
        )
        return cursor.rowcount


def analyze(*tables: str) -> None:
    """Fresh planner statistics after bulk inserts (PostgreSQL's autovacuum is
    slower than a benchmark)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(name)}")
