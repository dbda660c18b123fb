"""CSV imports, the use cases: products, stock counts, purchase orders and
customers — a bad row changes nothing, the same file twice changes nothing the
second time, counts are ledgered with the reason "count", purchase orders are
drafts grouped per supplier, warehouse and reference."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.imports import (
    CHANGED,
    INVALID,
    NEW,
    UNCHANGED,
    ImportFileError,
    ImportRefused,
    read_csv,
)
from inventory.models import BackorderPolicy, Product, StockMove, StockMoveKind
from notifications.imports import IMPORT_FORMATS
from notifications.models import ImportKind
from orders.models import Customer, Tier
from suppliers.models import PurchaseOrder, PurchaseOrderStatus, SupplierProduct
from tests.conftest import Shop
from tests.factories import CustomerFactory, ProductFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def dataset(kind: str, content: bytes):
    spec = IMPORT_FORMATS[kind]
    return read_csv(content=content, required=spec.columns, optional=spec.optional)


def check(kind: str, content: bytes):
    return IMPORT_FORMATS[kind].check(dataset=dataset(kind, content))


def apply(kind: str, content: bytes, by=None):
    return IMPORT_FORMATS[kind].apply(dataset=dataset(kind, content), by=by)


def statuses(report) -> list[str]:
    return [row.status for row in report.rows]


# --- products --------------------------------------------------------------------

PRODUCT_HEADER = ("sku", "name", "price", "policy", "cap", "supplier", "pack_size")


def test_a_product_file_creates_and_changes_products_and_twice_changes_nothing(shop: Shop) -> None:
    # given one product already known
    kept = ProductFactory.create(sku="KEEP-1", name="Kept", price=Decimal("5.00"))
    supplier = SupplierFactory.create(name="Acme")
    content = csv_bytes(
        PRODUCT_HEADER,
        [
            ("NEW-1", "New one", "12.50", "cap", "4", "Acme", "6"),
            ("KEEP-1", "Kept", "7.00", "allow", "", "", ""),
        ],
    )

    # when it is checked: nothing written, each row classified
    report = check(ImportKind.PRODUCTS, content)
    assert statuses(report) == [NEW, CHANGED]
    assert not Product.objects.filter(sku="NEW-1").exists()

    # and applied
    applied = apply(ImportKind.PRODUCTS, content, by=shop.clerk)
    assert applied.applied and statuses(applied) == [NEW, CHANGED]
    new = Product.objects.get(sku="NEW-1")
    assert (new.price, new.backorder_policy, new.backorder_cap) == (Decimal("12.50"), "cap", 4)
    assert SupplierProduct.objects.get(product=new, supplier=supplier).pack_size == 6
    kept.refresh_from_db()
    assert kept.price == Decimal("7.00")
    assert kept.history.first().history_user == shop.clerk

    # the same file again: every row unchanged, no history written
    history = Product.history.count()
    assert statuses(check(ImportKind.PRODUCTS, content)) == [UNCHANGED, UNCHANGED]
    assert statuses(apply(ImportKind.PRODUCTS, content)) == [UNCHANGED, UNCHANGED]
    assert Product.history.count() == history


def test_one_bad_product_row_changes_nothing(shop: Shop) -> None:
    kept = ProductFactory.create(sku="KEEP-1", price=Decimal("5.00"))
    content = csv_bytes(
        ("sku", "name", "price", "policy", "cap"),
        [
            ("GOOD-1", "Good", "3.00", "allow", ""),
            ("KEEP-1", "Kept", "6.00", "allow", ""),
            ("BAD-1", "Bad price", "abc", "allow", ""),
            ("BAD-2", "Cap missing", "1.00", "cap", ""),
            ("BAD 3", "Slash", "1.00", "sometimes", ""),
        ],
    )
    before = (Product.objects.count(), Product.history.count())

    report = check(ImportKind.PRODUCTS, content)
    assert statuses(report) == [NEW, CHANGED, INVALID, INVALID, INVALID]
    errors = {row.line: " ".join(row.errors) for row in report.errors}
    assert set(errors) == {4, 5, 6}  # the header is line 1
    assert "price “abc”: enter a number such as 12.50" in errors[4]
    assert errors[5] == "cap: the “cap” policy needs a cap (0 or more units)."
    assert "SKU" in errors[6] and "policy “sometimes”: choose deny, allow, cap." in errors[6]

    with pytest.raises(ImportRefused) as refused:
        apply(ImportKind.PRODUCTS, content, by=shop.clerk)
    assert [row.line for row in refused.value.report.errors] == [4, 5, 6]
    assert (Product.objects.count(), Product.history.count()) == before
    kept.refresh_from_db()
    assert kept.price == Decimal("5.00")


def test_an_unknown_supplier_is_a_row_error(shop: Shop) -> None:
    content = csv_bytes(PRODUCT_HEADER, [("NEW-1", "New", "1.00", "allow", "", "Nobody", "6")])
    report = check(ImportKind.PRODUCTS, content)
    (row,) = report.errors
    assert row.line == 2
    assert "supplier “Nobody”: no such supplier." in " ".join(row.errors)


# --- stock counts ------------------------------------------------------------------


def test_a_stock_count_is_ledgered_with_the_reason_count_and_twice_changes_nothing(
    shop: Shop,
) -> None:
    # given 5 on hand of A, none of B, and an order waiting for 2 of B
    a, b = shop.product(sku="A-1"), shop.product(sku="B-1")
    shop.receive(a, 5)
    shop.order(b, 2)
    content = csv_bytes(("warehouse", "sku", "counted"), [("MAIN", "A-1", 3), ("main", "B-1", 4)])

    report = check(ImportKind.STOCK_COUNTS, content)
    assert statuses(report) == [CHANGED, CHANGED]
    assert [row.label for row in report.rows] == ["MAIN · A-1 (5 → 3)", "main · B-1 (0 → 4)"]

    apply(ImportKind.STOCK_COUNTS, content, by=shop.clerk)

    moves = list(StockMove.objects.filter(kind=StockMoveKind.ADJUSTMENT).order_by("pk"))
    assert [(m.product_id, m.on_hand_change, m.note, m.created_by) for m in moves] == [
        (a.pk, -2, "count", shop.clerk),
        (b.pk, 4, "count", shop.clerk),
    ]
    assert shop.level(a).on_hand == 3
    # the units found went to the waiting order at once
    assert (shop.level(b).on_hand, shop.level(b).allocated) == (4, 2)

    # the same count again changes nothing
    assert statuses(check(ImportKind.STOCK_COUNTS, content)) == [UNCHANGED, UNCHANGED]
    apply(ImportKind.STOCK_COUNTS, content, by=shop.clerk)
    assert StockMove.objects.filter(kind=StockMoveKind.ADJUSTMENT).count() == 2


def test_one_bad_count_row_changes_nothing(shop: Shop, unchanged) -> None:
    a, b = shop.product(sku="A-1"), shop.product(sku="B-1")
    shop.receive(b, 3)
    shop.order(b, 2)  # 2 of B allocated
    content = csv_bytes(
        ("warehouse", "sku", "counted"),
        [
            ("MAIN", "A-1", 7),
            ("MAIN", "NOPE", 1),
            ("ELSEWHERE", "A-1", 1),
            ("MAIN", "B-1", 1),
            ("MAIN", "A-1", -1),
            ("MAIN", "A-1", "x"),
        ],
    )
    report = check(ImportKind.STOCK_COUNTS, content)
    assert statuses(report) == [NEW, INVALID, INVALID, INVALID, INVALID, INVALID]
    errors = {row.line: " ".join(row.errors) for row in report.errors}
    assert "sku “NOPE”: no such product." in errors[3]
    assert "warehouse “ELSEWHERE”: no such warehouse." in errors[4]
    assert "2 units are allocated to orders" in errors[5]
    assert "counted: enter a whole number from 0 to 1000000." in errors[6]
    assert "counted “x”: enter a whole number" in errors[7]

    with unchanged(), pytest.raises(ImportRefused):
        apply(ImportKind.STOCK_COUNTS, content, by=shop.clerk)
    assert a.pk  # A-1's 7 were not applied either (unchanged() compares the levels)


# --- purchase orders -------------------------------------------------------------

PO_HEADER = ("supplier", "warehouse", "sku", "quantity", "expected_date", "reference")


def test_purchase_order_rows_become_drafts_grouped_and_twice_changes_nothing(shop: Shop) -> None:
    acme, bolt = SupplierFactory.create(name="Acme"), SupplierFactory.create(name="Bolt")
    WarehouseFactory.create(code="EAST")
    for sku in ("A-1", "B-1", "C-1"):
        shop.product(sku=sku)
    soon = timezone.localdate() + dt.timedelta(days=10)
    later = soon + dt.timedelta(days=5)
    content = csv_bytes(
        PO_HEADER,
        [
            ("Acme", "MAIN", "A-1", 10, soon, "R-1"),
            ("Bolt", "MAIN", "A-1", 5, soon, ""),
            ("acme", "MAIN", "B-1", 4, later, "R-1"),
            ("Acme", "EAST", "C-1", 2, soon, "R-1"),
            ("Acme", "MAIN", "C-1", 3, soon, "R-2"),
        ],
    )

    assert statuses(check(ImportKind.PURCHASE_ORDERS, content)) == [NEW] * 5
    assert not PurchaseOrder.objects.exists()

    apply(ImportKind.PURCHASE_ORDERS, content, by=shop.clerk)

    orders = {
        (po.supplier.name, po.warehouse.code, po.reference): po
        for po in PurchaseOrder.objects.select_related("supplier", "warehouse")
    }
    assert set(orders) == {
        ("Acme", "MAIN", "R-1"),
        ("Bolt", "MAIN", ""),
        ("Acme", "EAST", "R-1"),
        ("Acme", "MAIN", "R-2"),
    }
    first = orders[("Acme", "MAIN", "R-1")]
    assert first.status == PurchaseOrderStatus.DRAFT and first.created_by == shop.clerk
    assert first.expected_date == soon
    assert sorted(first.lines.values_list("product__sku", "ordered", "expected_date")) == [
        ("A-1", 10, soon),
        ("B-1", 4, later),
    ]
    assert {po.supplier for po in orders.values()} == {acme, bolt}

    # the same file again creates nothing
    assert statuses(check(ImportKind.PURCHASE_ORDERS, content)) == [UNCHANGED] * 5
    apply(ImportKind.PURCHASE_ORDERS, content, by=shop.clerk)
    assert PurchaseOrder.objects.count() == 4


def test_one_bad_purchase_order_row_changes_nothing(shop: Shop, unchanged) -> None:
    SupplierFactory.create(name="Acme")
    shop.product(sku="A-1")
    soon = timezone.localdate() + dt.timedelta(days=10)
    content = csv_bytes(
        PO_HEADER,
        [
            ("Acme", "MAIN", "A-1", 10, soon, "R-1"),
            ("Acme", "MAIN", "A-1", 2, soon, "R-1"),
            ("Acme", "MAIN", "A-1", 0, soon, "R-3"),
            ("Acme", "MAIN", "A-1", 1, "31/12/2026", "R-4"),
            ("Acme", "MAIN", "A-1", 1, timezone.localdate() - dt.timedelta(days=1), "R-5"),
            ("Nobody", "MAIN", "A-1", 1, soon, "R-6"),
        ],
    )
    report = check(ImportKind.PURCHASE_ORDERS, content)
    assert statuses(report) == [NEW] + [INVALID] * 5
    errors = {row.line: " ".join(row.errors) for row in report.errors}
    assert "on line 2 of the same purchase order" in errors[3]
    assert "quantity: enter a whole number from 1 to 1000000." in errors[4]
    assert "enter a date as YYYY-MM-DD" in errors[5]
    assert "has passed" in errors[6]
    assert "no such supplier" in errors[7]

    with unchanged(), pytest.raises(ImportRefused):
        apply(ImportKind.PURCHASE_ORDERS, content, by=shop.clerk)


def test_a_reference_used_for_other_lines_is_refused(shop: Shop) -> None:
    SupplierFactory.create(name="Acme")
    shop.product(sku="A-1")
    soon = timezone.localdate() + dt.timedelta(days=10)
    apply(
        ImportKind.PURCHASE_ORDERS, csv_bytes(PO_HEADER, [("Acme", "MAIN", "A-1", 10, soon, "R-1")])
    )
    report = check(
        ImportKind.PURCHASE_ORDERS, csv_bytes(PO_HEADER, [("Acme", "MAIN", "A-1", 11, soon, "R-1")])
    )
    assert statuses(report) == [INVALID]
    assert "already PO-" in report.errors[0].errors[0]


# --- customers ---------------------------------------------------------------------


def test_customers_new_changed_and_matched_by_email_whatever_its_case(shop: Shop) -> None:
    CustomerFactory.create(email="Ann@Example.com", name="Ann", tier=Tier.STANDARD)
    content = csv_bytes(
        ("email", "name", "tier", "language"),
        [("ann@example.com", "Ann", "vip", "nl"), ("ben@example.com", "Ben", "3", "EN")],
    )
    assert statuses(check(ImportKind.CUSTOMERS, content)) == [CHANGED, NEW]
    apply(ImportKind.CUSTOMERS, content, by=shop.clerk)
    ann = Customer.objects.get(email="Ann@Example.com")
    assert (ann.tier, ann.language) == (Tier.VIP, "nl")
    assert Customer.objects.get(email="ben@example.com").language == "en"
    assert statuses(check(ImportKind.CUSTOMERS, content)) == [UNCHANGED, UNCHANGED]


def test_a_bad_customer_row_changes_nothing(shop: Shop) -> None:
    content = csv_bytes(
        ("email", "name", "tier", "language"),
        [("new@example.com", "New", "3", "en"), ("not-an-email", "X", "9", "fr")],
    )
    with pytest.raises(ImportRefused) as refused:
        apply(ImportKind.CUSTOMERS, content)
    (row,) = refused.value.report.errors
    assert row.line == 3
    text = " ".join(row.errors)
    assert "email" in text and "tier" in text and "language" in text
    assert not Customer.objects.filter(email="new@example.com").exists()


# --- files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "This is not a CSV file"),
        ("sku,name,price,policy\nA,Caf\u00e9,1,allow\n".encode("latin-1"), "Line 2 is not UTF-8"),
        (b"sku;name;price;policy\nA;B;1;allow\n", "Columns missing: sku, name, price, policy"),
        (b"sku,name,price\nA,B,1\n", "Columns missing: policy"),
        (b"sku,name,price,policy,colour\nA,B,1,allow,red\n", "Columns not known: colour"),
        (b"sku,name,price,policy\n", "no rows"),
        (b"sku,name,price,policy\nA,B,1,allow,extra\n", "could not be read as CSV"),
    ],
)
def test_bad_files_are_refused_with_a_reason(content: bytes, message: str) -> None:
    with pytest.raises(ImportFileError) as refused:
        dataset(ImportKind.PRODUCTS, content)
    assert message in " ".join(refused.value.messages)


def test_a_file_too_big_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("inventory.imports.MAX_IMPORT_BYTES", 100)
    with pytest.raises(ImportFileError, match="at most"):
        dataset(ImportKind.PRODUCTS, b"sku,name,price,policy\n" + b"A,B,1,allow\n" * 20)


def test_a_byte_order_mark_and_header_case_are_fine() -> None:
    rows = dataset(ImportKind.PRODUCTS, "\ufeffSKU, Name ,Price,Policy\nA,B,1,allow\n".encode())
    assert rows.headers == ["sku", "name", "price", "policy"]
    assert BackorderPolicy.ALLOW in rows[0]


def test_a_key_twice_in_one_file_is_refused_naming_the_first_line(shop: Shop) -> None:
    products = csv_bytes(
        ("sku", "name", "price", "policy"),
        [("A-1", "One", "1", "allow"), ("B-1", "Two", "1", "allow"), ("A-1", "Again", "2", "deny")],
    )
    report = check(ImportKind.PRODUCTS, products)
    assert statuses(report) == [NEW, NEW, INVALID]
    assert report.errors[0].errors == ["sku “A-1” is on line 2 too; keep one line."]
    customers = csv_bytes(
        ("email", "name"), [("ann@example.com", "Ann"), ("ANN@example.com", "Ann again")]
    )
    report = check(ImportKind.CUSTOMERS, customers)
    assert statuses(report) == [NEW, INVALID]
    assert "is on line 2 too" in report.errors[0].errors[0]
