"""CSV imports that go through the use cases customers feel: stock counts
(each difference an adjustment through the stock service, ledgered with the
reason "count"; units found go to the waiting orders and their customers are
told) and purchase orders (drafts grouped per supplier, warehouse and
reference, through the purchase order use case). Also the table of the four
kinds the imports page offers.

A check reads every row and says what applying would do, writing nothing; an
apply checks again inside its transaction and refuses the whole file if any
row is refused (ImportRefused rolls it back). A row that would change nothing
is "unchanged", so the same file twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import tablib
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from inventory.imports import (
    CHANGED,
    INVALID,
    NEW,
    UNCHANGED,
    ImportRefused,
    ImportReport,
    PlainIntegerWidget,
    Progress,
    RowOutcome,
    cell,
    clean_cell,
    required_cells,
)
from inventory.limits import MAX_QUANTITY
from inventory.models import Product, StockLevel, Warehouse
from inventory.services import stock_levels_lock
from notifications.models import ImportKind
from notifications.updates.order_changes import stock_adjust
from notifications.updates.purchasing import purchase_order_create
from orders.imports import (
    CUSTOMER_COLUMNS,
    CUSTOMER_OPTIONAL_COLUMNS,
    CustomerResource,
    customers_apply,
    customers_check,
    customers_for_export,
)
from suppliers.imports import (
    PRODUCT_COLUMNS,
    PRODUCT_OPTIONAL_COLUMNS,
    ProductResource,
    products_apply,
    products_check,
    products_for_export,
)
from suppliers.limits import validate_expected_date
from suppliers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier
from suppliers.services import PurchaseLineRequest

STOCK_COUNT_COLUMNS = ("warehouse", "sku", "counted")
PURCHASE_ORDER_COLUMNS = ("supplier", "warehouse", "sku", "quantity", "expected_date")
# number and status are in the export, and ignored by the import.
PURCHASE_ORDER_OPTIONAL_COLUMNS = ("reference", "number", "status")
STOCK_COUNT_REASON = "count"

_INT = PlainIntegerWidget()
_DATE = widgets.DateWidget(format="%Y-%m-%d")


def _products(skus: Iterable[str]) -> dict[str, Product]:
    wanted = sorted({sku for sku in skus if sku})
    found: dict[str, Product] = {}
    for start in range(0, len(wanted), 2000):
        found.update(
            (product.sku, product)
            for product in Product.objects.filter(sku__in=wanted[start : start + 2000])
        )
    return found


def _units(row: Any, name: str, errors: list[str], *, low: int) -> int | None:
    value = clean_cell(row, name, _INT, errors)
    if value is not None and not (low <= value <= MAX_QUANTITY):
        errors.append(
            _("%(column)s: enter a whole number from %(low)d to %(high)d.")
            % {"column": name, "low": low, "high": MAX_QUANTITY}
        )
        return None
    return value


# Stock counts ---------------------------------------------------------------


class StockCountResource(resources.Resource):
    """The stock count file's columns; exported from the stock levels."""

    warehouse = fields.Field(attribute="warehouse__code", column_name="warehouse")
    sku = fields.Field(attribute="product__sku", column_name="sku")
    counted = fields.Field(attribute="on_hand", column_name="counted")

    class Meta:
        fields = STOCK_COUNT_COLUMNS


@dataclass
class _CountRow:
    line: int
    product: Product
    warehouse: Warehouse
    counted: int


def _stock_count_rows(dataset: tablib.Dataset) -> tuple[ImportReport, list[_CountRow]]:
    warehouses = {warehouse.code.lower(): warehouse for warehouse in Warehouse.objects.all()}
    products = _products(cell(row, "sku") for row in dataset.dict)
    report = ImportReport()
    rows: list[_CountRow] = []
    seen: dict[tuple[int, int], int] = {}
    for number, row in enumerate(dataset.dict, 2):
        errors: list[str] = []
        required_cells(row, STOCK_COUNT_COLUMNS, errors)
        code, sku = cell(row, "warehouse"), cell(row, "sku")
        warehouse = warehouses.get(code.lower())
        product = products.get(sku)
        if code and warehouse is None:
            errors.append(_("warehouse “%(code)s”: no such warehouse.") % {"code": code[:40]})
        if sku and product is None:
            errors.append(_("sku “%(sku)s”: no such product.") % {"sku": sku[:64]})
        counted = _units(row, "counted", errors, low=0) if cell(row, "counted") else None
        label = f"{code} · {sku}"
        if warehouse is not None and product is not None:
            key = (product.pk, warehouse.pk)
            if key in seen:
                errors.append(
                    _("%(sku)s in %(code)s is counted on line %(line)d too; keep one line.")
                    % {"sku": sku, "code": warehouse.code, "line": seen[key]}
                )
            seen.setdefault(key, number)
        if errors or counted is None or warehouse is None or product is None:
            report.rows.append(RowOutcome(number, INVALID, label, errors))
            continue
        report.rows.append(RowOutcome(number, UNCHANGED, label))
        rows.append(_CountRow(number, product, warehouse, counted))
    return report, rows


def _levels(rows: Sequence[_CountRow]) -> dict[tuple[int, int], StockLevel]:
    product_ids = {row.product.pk for row in rows}
    levels: dict[tuple[int, int], StockLevel] = {}
    ids = sorted(product_ids)
    for start in range(0, len(ids), 2000):
        for level in StockLevel.objects.filter(product_id__in=ids[start : start + 2000]):
            levels[(level.product_id, level.warehouse_id)] = level
    return levels


def _count_outcome(outcome: RowOutcome, row: _CountRow, level: StockLevel | None) -> int:
    """Classify a counted row against its level; the change it asks for."""
    on_hand = level.on_hand if level is not None else 0
    allocated = level.allocated if level is not None else 0
    if row.counted < allocated:
        outcome.status = INVALID
        outcome.errors.append(
            _(
                "counted %(counted)d: %(allocated)d units are allocated to orders in this "
                "warehouse; release or ship them first, or count again."
            )
            % {"counted": row.counted, "allocated": allocated}
        )
        return 0
    change = row.counted - on_hand
    outcome.status = UNCHANGED if change == 0 else (NEW if level is None else CHANGED)
    if change:
        outcome.label += f" ({on_hand} → {row.counted})"
    return change


def stock_counts_check(
    *, dataset: tablib.Dataset, progress: Progress | None = None
) -> ImportReport:
    """Each counted row against the stock on hand now: changed (an adjustment
    by the difference), unchanged, or refused."""
    report, rows = _stock_count_rows(dataset)
    levels = _levels(rows)
    outcomes = {outcome.line: outcome for outcome in report.rows}
    for row in rows:
        _count_outcome(outcomes[row.line], row, levels.get((row.product.pk, row.warehouse.pk)))
    return report


@transaction.atomic
def stock_counts_apply(
    *, dataset: tablib.Dataset, by: User | None, progress: Progress | None = None
) -> ImportReport:
    """Apply a stock count file: every difference one adjustment with the reason
    "count", the levels locked first (primary-key order); all rows or none."""
    report, rows = _stock_count_rows(dataset)
    if not report.is_valid:
        raise ImportRefused(report)
    levels = stock_levels_lock(keys=[(row.product.pk, row.warehouse.pk) for row in rows])
    outcomes = {outcome.line: outcome for outcome in report.rows}
    for done, row in enumerate(rows, 1):
        outcome = outcomes[row.line]
        level = levels[(row.product.pk, row.warehouse.pk)]
        level.refresh_from_db(fields=["on_hand", "allocated"])
        change = _count_outcome(outcome, row, level)
        if change and outcome.status != INVALID:
            try:
                stock_adjust(
                    product=row.product,
                    warehouse=row.warehouse,
                    change=change,
                    reason=STOCK_COUNT_REASON,
                    by=by,
                )
            except ValidationError as error:
                outcome.status = INVALID
                outcome.errors.extend(error.messages)
        if progress is not None and done % 50 == 0:
            progress(done, len(rows))
    if not report.is_valid:
        raise ImportRefused(report)
    report.applied = True
    return report


def stock_levels_for_export() -> QuerySet[StockLevel]:
    return StockLevel.objects.select_related("product", "warehouse").order_by(
        "warehouse__code", "product__sku"
    )


# Purchase orders --------------------------------------------------------------


class PurchaseOrderResource(resources.Resource):
    """The purchase order file's columns, one row per line; exported from the lines."""

    supplier = fields.Field(attribute="purchase_order__supplier__name", column_name="supplier")
    warehouse = fields.Field(attribute="purchase_order__warehouse__code", column_name="warehouse")
    sku = fields.Field(attribute="product__sku", column_name="sku")
    quantity = fields.Field(attribute="ordered", column_name="quantity")
    expected_date = fields.Field(
        attribute="expected_date", column_name="expected_date", widget=_DATE
    )
    reference = fields.Field(attribute="purchase_order__reference", column_name="reference")
    number = fields.Field(attribute="purchase_order__number", column_name="number")
    status = fields.Field(attribute="purchase_order__status", column_name="status")

    class Meta:
        fields = (*PURCHASE_ORDER_COLUMNS, *PURCHASE_ORDER_OPTIONAL_COLUMNS)


GroupKey = tuple[int, int, str]  # supplier, warehouse, reference


@dataclass
class _Group:
    supplier: Supplier
    warehouse: Warehouse
    reference: str
    lines: list[tuple[int, Product, int, dt.date]] = field(default_factory=list)

    def signature(self) -> frozenset[tuple[int, int, dt.date]]:
        return frozenset((product.pk, quantity, date) for _l, product, quantity, date in self.lines)


def _po_signature(order: PurchaseOrder) -> frozenset[tuple[int, int, dt.date]]:
    return frozenset(
        (line.product_id, line.ordered, line.expected_date) for line in order.lines.all()
    )


def _po_groups(dataset: tablib.Dataset) -> tuple[ImportReport, dict[GroupKey, _Group]]:
    suppliers = {s.name.lower(): s for s in Supplier.objects.annotate(lower=Lower("name"))}
    warehouses = {warehouse.code.lower(): warehouse for warehouse in Warehouse.objects.all()}
    products = _products(cell(row, "sku") for row in dataset.dict)
    today = timezone.localdate()
    report = ImportReport()
    groups: dict[GroupKey, _Group] = {}
    skus_seen: dict[tuple[GroupKey, int], int] = {}
    for number, row in enumerate(dataset.dict, 2):
        errors: list[str] = []
        required_cells(row, PURCHASE_ORDER_COLUMNS, errors)
        name, code, sku = cell(row, "supplier"), cell(row, "warehouse"), cell(row, "sku")
        reference = cell(row, "reference")[:64]
        supplier, warehouse = suppliers.get(name.lower()), warehouses.get(code.lower())
        product = products.get(sku)
        if name and supplier is None:
            errors.append(_("supplier “%(name)s”: no such supplier.") % {"name": name[:60]})
        if code and warehouse is None:
            errors.append(_("warehouse “%(code)s”: no such warehouse.") % {"code": code[:40]})
        if sku and product is None:
            errors.append(_("sku “%(sku)s”: no such product.") % {"sku": sku[:64]})
        quantity = _units(row, "quantity", errors, low=1) if cell(row, "quantity") else None
        date = (
            clean_cell(row, "expected_date", _DATE, errors) if cell(row, "expected_date") else None
        )
        if date is not None:
            if date < today:
                errors.append(_("expected_date %(date)s has passed.") % {"date": date.isoformat()})
            try:
                validate_expected_date(date)
            except ValidationError as error:
                errors.extend(f"expected_date: {message}" for message in error.messages)
        label = f"{name} → {code} · {sku} × {cell(row, 'quantity')}"
        if supplier is not None and warehouse is not None and product is not None:
            key = (supplier.pk, warehouse.pk, reference)
            if (key, product.pk) in skus_seen:
                errors.append(
                    _(
                        "%(sku)s is on line %(line)d of the same purchase order too; "
                        "combine the quantities."
                    )
                    % {"sku": sku, "line": skus_seen[(key, product.pk)]}
                )
            skus_seen.setdefault((key, product.pk), number)
        if errors or None in (supplier, warehouse, product, quantity, date):
            report.rows.append(RowOutcome(number, INVALID, label, errors))
            continue
        assert supplier and warehouse and product and quantity and date
        group = groups.setdefault(
            (supplier.pk, warehouse.pk, reference), _Group(supplier, warehouse, reference)
        )
        group.lines.append((number, product, quantity, date))
        report.rows.append(RowOutcome(number, NEW, label))
    _mark_imported_before(report, groups)
    return report, groups


def _mark_imported_before(report: ImportReport, groups: dict[GroupKey, _Group]) -> None:
    """Groups already created by an earlier import of the same lines are
    unchanged; a reference already used for other lines is refused."""
    if not groups:
        return
    references = {key[2] for key in groups if key[2]}
    existing = (
        PurchaseOrder.objects.filter(
            supplier_id__in={key[0] for key in groups},
            warehouse_id__in={key[1] for key in groups},
        )
        .filter(Q(reference__in=references) | Q(reference="", status=PurchaseOrderStatus.DRAFT))
        .exclude(status=PurchaseOrderStatus.CANCELLED)
        .prefetch_related("lines")
    )
    by_key: dict[GroupKey, list[PurchaseOrder]] = defaultdict(list)
    for order in existing:
        by_key[(order.supplier_id, order.warehouse_id, order.reference)].append(order)
    outcomes = {outcome.line: outcome for outcome in report.rows}
    for key, group in groups.items():
        orders = by_key.get(key, [])
        signature = group.signature()
        same = next((order for order in orders if _po_signature(order) == signature), None)
        for number, *_rest in group.lines:
            outcome = outcomes[number]
            if same is not None:
                outcome.status = UNCHANGED
                outcome.label += f" ({same.number})"
            elif key[2] and orders:
                outcome.status = INVALID
                outcome.errors.append(
                    _(
                        "reference “%(reference)s” is already %(number)s with other lines: "
                        "change that purchase order on its page, or use another reference."
                    )
                    % {"reference": key[2], "number": orders[0].number}
                )


def purchase_orders_check(
    *, dataset: tablib.Dataset, progress: Progress | None = None
) -> ImportReport:
    """Which rows would make new draft purchase orders, which an earlier
    import already made (unchanged), and which are refused."""
    report, _groups = _po_groups(dataset)
    return report


@transaction.atomic
def purchase_orders_apply(
    *, dataset: tablib.Dataset, by: User | None, progress: Progress | None = None
) -> ImportReport:
    """Create the file's purchase orders as drafts, one per supplier, warehouse
    and reference (expected on the earliest line's date; each line keeps its
    own); all or none."""
    report, groups = _po_groups(dataset)
    if not report.is_valid:
        raise ImportRefused(report)
    outcomes = {outcome.line: outcome for outcome in report.rows}
    for done, group in enumerate(groups.values(), 1):
        if outcomes[group.lines[0][0]].status == UNCHANGED:
            continue
        try:
            order, _changes = purchase_order_create(
                supplier=group.supplier,
                warehouse=group.warehouse,
                lines=[
                    PurchaseLineRequest(product=product, quantity=quantity, expected_date=date)
                    for _n, product, quantity, date in group.lines
                ],
                expected_date=min(date for *_rest, date in group.lines),
                reference=group.reference,
                by=by,
                confirm=False,
            )
        except ValidationError as error:
            for number, *_rest in group.lines:
                outcomes[number].status = INVALID
                outcomes[number].errors.extend(error.messages)
            continue
        for number, *_rest in group.lines:
            outcomes[number].label += f" ({order.number})"
        if progress is not None and done % 20 == 0:
            progress(done, len(groups))
    if not report.is_valid:
        raise ImportRefused(report)
    report.applied = True
    return report


def purchase_order_lines_for_export() -> QuerySet[PurchaseOrderLine]:
    return PurchaseOrderLine.objects.select_related(
        "purchase_order__supplier", "purchase_order__warehouse", "product"
    ).order_by("purchase_order__number", "pk")


# The kinds --------------------------------------------------------------------


@dataclass(frozen=True)
class ImportFormat:
    """One kind of file: its columns, how it is checked and applied, exported."""

    kind: ImportKind
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    check: Callable[..., ImportReport]
    apply: Callable[..., ImportReport]
    resource: Callable[[], resources.Resource]
    rows_for_export: Callable[[], QuerySet[Any]]


IMPORT_FORMATS: dict[str, ImportFormat] = {
    ImportKind.PRODUCTS: ImportFormat(
        ImportKind.PRODUCTS,
        PRODUCT_COLUMNS,
        PRODUCT_OPTIONAL_COLUMNS,
        products_check,
        products_apply,
        ProductResource,
        products_for_export,
    ),
    ImportKind.STOCK_COUNTS: ImportFormat(
        ImportKind.STOCK_COUNTS,
        STOCK_COUNT_COLUMNS,
        (),
        stock_counts_check,
        stock_counts_apply,
        StockCountResource,
        stock_levels_for_export,
    ),
    ImportKind.PURCHASE_ORDERS: ImportFormat(
        ImportKind.PURCHASE_ORDERS,
        PURCHASE_ORDER_COLUMNS,
        PURCHASE_ORDER_OPTIONAL_COLUMNS,
        purchase_orders_check,
        purchase_orders_apply,
        PurchaseOrderResource,
        purchase_order_lines_for_export,
    ),
    ImportKind.CUSTOMERS: ImportFormat(
        ImportKind.CUSTOMERS,
        CUSTOMER_COLUMNS,
        CUSTOMER_OPTIONAL_COLUMNS,
        customers_check,
        customers_apply,
        CustomerResource,
        customers_for_export,
    ),
}
