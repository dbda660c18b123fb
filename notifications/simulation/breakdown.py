"""What bounds a simulated year's figures: the same measures as figures.py,
per supplier, beside each supplier's record of lateness.

Run it on a year's database (simulate_year keeps it under build/):

    DATABASE_URL=sqlite:///$PWD/build/simulate_year-1-calibrated.sqlite3 \\
      .venv/bin/python manage.py shell -c \\
      "from notifications.simulation.breakdown import print_breakdown; print_breakdown()"
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.utils import timezone

from inventory.models import StockMove, StockMoveKind
from orders.models import OrderLine, PromiseRevision
from orders.services.calibration import supplier_lateness_records
from suppliers.models import PurchaseOrderLine, Supplier


@dataclass
class SupplierRow:
    supplier: str
    lines: int
    kept_first_pct: float
    median_promise_minus_actual: float
    median_abs_error: float
    mean_promised_wait: float
    mean_actual_wait: float
    lateness_p50: int
    lateness_p80: int
    lateness_p90: int


def supplier_breakdown() -> list[SupplierRow]:
    """Per supplier, over the lines shipped complete: kept by first promise,
    median of first promise − ship day (signed, and absolute), the mean
    promised and actual waits, and the supplier's lateness against the date
    quoted (median, 80th and 90th percentile of its deliveries)."""
    first: dict[int, dt.date | None] = {}
    for line_id, new_date in PromiseRevision.objects.order_by("line_id", "pk").values_list(
        "line_id", "new_date"
    ):
        first.setdefault(line_id, new_date)
    shipped_on: dict[int, dt.date] = {}
    for reference, created_at in StockMove.objects.filter(kind=StockMoveKind.SHIPMENT).values_list(
        "reference", "created_at"
    ):
        line_id = int(reference.rsplit("/", 1)[1])
        day = timezone.localdate(created_at)
        shipped_on[line_id] = max(shipped_on.get(line_id, day), day)
    supplier_of: dict[int, Counter[int]] = defaultdict(Counter)
    for product_id, supplier_id in PurchaseOrderLine.objects.values_list(
        "product_id", "purchase_order__supplier_id"
    ):
        supplier_of[product_id][supplier_id] += 1
    names = dict(Supplier.objects.values_list("pk", "name"))
    rows: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for pk, product_id, placed_at, ordered, shipped, cancelled in OrderLine.objects.filter(
        pk__in=first
    ).values_list("pk", "product_id", "placed_at", "ordered", "shipped", "cancelled"):
        promised = first[pk]
        if promised is None or not shipped or shipped + cancelled != ordered:
            continue
        if not supplier_of[product_id]:
            continue
        supplier = supplier_of[product_id].most_common(1)[0][0]
        placed = timezone.localdate(placed_at)
        ship_day = shipped_on[pk]
        rows[supplier].append(
            (
                (promised - ship_day).days,
                (promised - placed).days,
                (ship_day - placed).days,
            )
        )
    records = supplier_lateness_records()
    found = []
    for supplier, values in sorted(rows.items(), key=lambda item: names[item[0]]):
        late = sorted(records.quoted.get(supplier, [])) or [0]
        found.append(
            SupplierRow(
                supplier=names[supplier],
                lines=len(values),
                kept_first_pct=round(100 * sum(v[0] >= 0 for v in values) / len(values), 1),
                median_promise_minus_actual=statistics.median(v[0] for v in values),
                median_abs_error=statistics.median(abs(v[0]) for v in values),
                mean_promised_wait=round(statistics.fmean(v[1] for v in values), 2),
                mean_actual_wait=round(statistics.fmean(v[2] for v in values), 2),
                lateness_p50=late[int(0.5 * (len(late) - 1))],
                lateness_p80=late[int(0.8 * (len(late) - 1))],
                lateness_p90=late[int(0.9 * (len(late) - 1))],
            )
        )
    return found


def print_breakdown() -> None:
    header = (
        "supplier | lines | kept first % | median promise-actual | median |err| | "
        "promised wait | actual wait | lateness p50/p80/p90"
    )
    print(header)
    for row in supplier_breakdown():
        print(
            f"{row.supplier} | {row.lines} | {row.kept_first_pct} | "
            f"{row.median_promise_minus_actual} | {row.median_abs_error} | "
            f"{row.mean_promised_wait} | {row.mean_actual_wait} | "
            f"{row.lateness_p50}/{row.lateness_p80}/{row.lateness_p90}"
        )
