"""B9: a CSV import of 10,000 products — the check (a dry run of every row,
rolled back) and the apply (every row saved with its history, one transaction),
through the same functions the imports page and its worker call
(`notifications.imports.IMPORT_FORMATS`), django-import-export underneath.

The file is new products with a policy, a cap for a third of them, a price,
and a supplier's pack size for one row in ten; SKUs are fresh per run. Then the
same file is checked again: every row must come back unchanged (a problem
otherwise). Issue 15 asks for under 30 s for check and apply together.
One measurement at either scale (it writes 10,000 products each time).
"""

from __future__ import annotations

import time

from bench.common import Context, Figure

ROWS = 10_000
TARGET_SECONDS = 30.0


def product_file(rows: int, run: int, supplier: str) -> bytes:
    lines = ["sku,name,price,policy,cap,lead_time_days,supplier,pack_size,minimum_order"]
    for n in range(rows):
        policy = ("allow", "cap", "deny")[n % 3]
        cap = str(n % 50) if policy == "cap" else ""
        terms = (supplier, str(6 + n % 6), "12") if n % 10 == 0 else ("", "", "")
        lines.append(
            f"IMP-{run}-{n:05d},Imported product {n},{n % 500 + 1}.{n % 100:02d},{policy},{cap},"
            f"{7 + n % 21},{','.join(terms)}"
        )
    return ("\n".join(lines) + "\n").encode()


def run(ctx: Context) -> None:
    from bench.scenario import RUN, bench_objects
    from inventory.imports import UNCHANGED, read_csv
    from inventory.models import Product
    from notifications.imports import IMPORT_FORMATS
    from notifications.models import ImportKind

    _warehouse, supplier = bench_objects()
    spec = IMPORT_FORMATS[ImportKind.PRODUCTS]
    content = product_file(ROWS, RUN, supplier.name)

    def read():
        return read_csv(content=content, required=spec.columns, optional=spec.optional)

    started = time.perf_counter()
    report = spec.check(dataset=read())
    check_seconds = time.perf_counter() - started
    if not report.is_valid:
        ctx.problem("B9", f"the check refused rows: {report.errors[:3]}")
        return
    started = time.perf_counter()
    spec.apply(dataset=read(), by=None)
    apply_seconds = time.perf_counter() - started
    imported = Product.objects.filter(sku__startswith=f"IMP-{RUN}-").count()
    if imported != ROWS:
        ctx.problem("B9", f"{imported} of {ROWS} products imported")
    started = time.perf_counter()
    again = spec.check(dataset=read())
    again_seconds = time.perf_counter() - started
    changed = sum(1 for row in again.rows if row.status != UNCHANGED)
    if changed:
        ctx.problem("B9", f"the same file checked again: {changed} rows not unchanged")
    for key, label, seconds in (
        ("B9.check", f"B9 product import, check {ROWS:,} rows", check_seconds),
        ("B9.apply", f"B9 product import, apply {ROWS:,} rows", apply_seconds),
        ("B9.again", f"B9 the same file checked again ({ROWS:,} unchanged)", again_seconds),
    ):
        ctx.add(Figure(key=key, label=label, unit="s", samples=[seconds]))
    ctx.add(
        Figure(
            key="B9.total",
            label=f"B9 product import, check + apply {ROWS:,} rows",
            unit="s",
            samples=[check_seconds + apply_seconds],
            target=TARGET_SECONDS,
        )
    )
    ctx.notes.append(
        f"B9: {ROWS:,} product rows ({len(content) / 1024:.0f} KB): check {check_seconds:.1f} s, "
        f"apply {apply_seconds:.1f} s, the same file again {again_seconds:.1f} s (all unchanged)"
    )
