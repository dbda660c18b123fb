from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import StringIO
from typing import Any, cast

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.utils import timezone

from inventory.models import Product, StockLevel, StockMove, StockMoveKind, Warehouse
from notifications.updates import purchase_order_cancel, purchase_order_receive
from orders.checks import MAX_LISTED, stock_problems
from orders.models import Cancellation, OrderLine, Shipment, ShipmentLine
from suppliers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests import factories

pytestmark = pytest.mark.django_db


# Typed wrappers: factory_boy's stubs give the factory class, not the model.
def make_product(**fields: Any) -> Product:
    return cast(Product, factories.ProductFactory(**fields))


def make_warehouse(**fields: Any) -> Warehouse:
    return cast(Warehouse, factories.WarehouseFactory(**fields))


def make_line(**fields: Any) -> OrderLine:
    return cast(OrderLine, factories.OrderLineFactory(**fields))


def make_purchase_line(**fields: Any) -> PurchaseOrderLine:
    return cast(PurchaseOrderLine, factories.PurchaseOrderLineFactory(**fields))


@dataclass
class Shop:
    product: Product
    warehouse: Warehouse
    level: StockLevel
    line: OrderLine


def move(
    product: Product, warehouse: Warehouse, kind: str, on_hand: int, allocated: int
) -> StockMove:
    return StockMove.objects.create(
        product=product,
        warehouse=warehouse,
        kind=kind,
        quantity=max(abs(on_hand), abs(allocated)),
        on_hand_change=on_hand,
        allocated_change=allocated,
        reference="test",
    )


@pytest.fixture
def shop() -> Shop:
    """10 received, 3 of them allocated to a line of 5 (2 backordered): consistent."""
    product = make_product(sku="SKU-CHECK")
    warehouse = make_warehouse(code="CHK")
    level = StockLevel.objects.create(product=product, warehouse=warehouse, on_hand=10, allocated=3)
    move(product, warehouse, StockMoveKind.RECEIPT, 10, 0)
    move(product, warehouse, StockMoveKind.ALLOCATION, 0, 3)
    line = make_line(product=product, order__warehouse=warehouse, ordered=5, allocated=3)
    return Shop(product, warehouse, level, line)


def command_problems() -> str:
    """check_stock's output, asserting that it fails."""
    out = StringIO()
    with pytest.raises(CommandError, match="NOT consistent"):
        call_command("check_stock", stdout=out)
    return out.getvalue()


@contextmanager
def check_constraint_off(model: type[models.Model], name: str) -> Iterator[None]:
    """Let the test write a row the CHECK constraint would refuse, as a bad
    import or a hand edit in psql could. Undone when the test's transaction
    rolls back (PostgreSQL) or when the block ends (SQLite)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                yield
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
            return
        # ALTER TABLE refuses while deferred foreign key checks are pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    constraint = next(c for c in model._meta.constraints if c.name == name)
    with connection.schema_editor() as editor:
        editor.remove_constraint(model, constraint)
    yield


def test_check_stock_is_clean_on_an_empty_database() -> None:
    out = StringIO()

    call_command("check_stock", stdout=out)

    assert out.getvalue().strip() == (
        "Stock is consistent: 0 stock levels, 0 ledger rows, 0 order lines checked."
    )
    assert stock_problems() == []


def test_a_consistent_shop_is_clean(shop: Shop) -> None:
    # a zero stock level without moves is consistent too
    StockLevel.objects.create(product=shop.product, warehouse=make_warehouse(code="EMPTY"))
    out = StringIO()
    assert stock_problems() == []

    call_command("check_stock", stdout=out)

    assert "2 stock levels, 2 ledger rows, 1 order lines checked" in out.getvalue()


def test_a_stock_level_that_differs_from_its_ledger_is_reported(shop: Shop) -> None:
    StockLevel.objects.filter(pk=shop.level.pk).update(on_hand=12)

    output = command_problems()

    assert (
        "SKU-CHECK in warehouse CHK: the ledger adds up to 10 on hand and 3 allocated, "
        "but the stock level says 12 on hand and 3 allocated." in output
    )
    assert len(stock_problems()) == 1


def test_a_stock_level_without_moves_and_moves_without_a_level_are_reported(shop: Shop) -> None:
    StockLevel.objects.create(
        product=shop.product, warehouse=make_warehouse(code="NOMOVES"), on_hand=4
    )
    orphan = make_product(sku="SKU-ORPHAN")
    move(orphan, shop.warehouse, StockMoveKind.RECEIPT, 7, 0)

    output = command_problems()

    assert (
        "SKU-CHECK in warehouse NOMOVES: the stock level says 4 on hand and 0 allocated, "
        "but the ledger has no moves for it." in output
    )
    assert (
        "SKU-ORPHAN in warehouse CHK: the ledger has 1 moves (on hand +7, allocated +0) "
        "but there is no stock level for it." in output
    )


def test_line_allocations_that_differ_from_the_stock_level_are_reported(shop: Shop) -> None:
    OrderLine.objects.filter(pk=shop.line.pk).update(allocated=4)

    output = command_problems()

    assert (
        "SKU-CHECK in warehouse CHK: order lines hold 4 allocated units, but the stock level "
        "says 3 are allocated." in output
    )
    assert len(stock_problems()) == 1


def test_a_line_with_more_than_ordered_is_reported(shop: Shop) -> None:
    with check_constraint_off(OrderLine, "order_line_quantities_within_ordered"):
        bad = make_line(product=shop.product, ordered=2, shipped=2, cancelled=1)
        Shipment.objects.create(order=bad.order, tracking_number="T1").lines.create(
            order_line=bad, quantity=2
        )
        Cancellation.objects.create(order_line=bad, quantity=1, reason="test")

    output = command_problems()

    assert (
        f"Order {bad.order.number}, line {bad.pk} (SKU-CHECK): allocated 0 + shipped 2 + "
        "cancelled 1 is more than the 2 ordered." in output
    )
    assert len(stock_problems()) == 1


def test_shipped_units_that_do_not_match_shipments_are_reported(shop: Shop) -> None:
    without = make_line(product=shop.product, ordered=3, shipped=2)
    short = make_line(product=shop.product, ordered=3, shipped=3)
    shipment = Shipment.objects.create(order=short.order, tracking_number="T2")
    ShipmentLine.objects.create(shipment=shipment, order_line=short, quantity=1)
    ShipmentLine.objects.create(shipment=shipment, order_line=short, quantity=1)

    output = command_problems()

    assert (
        f"Order {without.order.number}, line {without.pk} (SKU-CHECK) says 2 shipped, "
        "but no shipment has it." in output
    )
    assert (
        f"Order {short.order.number}, line {short.pk} (SKU-CHECK) says 3 shipped, "
        "but its shipment lines add up to 2." in output
    )
    assert len(stock_problems()) == 2


def test_shipment_lines_for_a_line_that_says_nothing_shipped_are_reported(shop: Shop) -> None:
    shipment = Shipment.objects.create(order=shop.line.order, tracking_number="T3")
    ShipmentLine.objects.create(shipment=shipment, order_line=shop.line, quantity=1)

    assert stock_problems() == [
        f"Order {shop.line.order.number}, line {shop.line.pk} (SKU-CHECK) says 0 shipped, "
        "but its shipment lines add up to 1."
    ]


def test_cancelled_units_that_do_not_match_cancellations_are_reported(shop: Shop) -> None:
    without = make_line(product=shop.product, ordered=3, cancelled=1)
    wrong = make_line(product=shop.product, ordered=3, cancelled=1)
    Cancellation.objects.create(order_line=wrong, quantity=2, reason="test")

    output = command_problems()

    assert (
        f"Order {without.order.number}, line {without.pk} (SKU-CHECK) says 1 cancelled, "
        "but there is no cancellation for it." in output
    )
    assert (
        f"Order {wrong.order.number}, line {wrong.pk} (SKU-CHECK) says 1 cancelled, "
        "but its cancellations add up to 2." in output
    )
    assert len(stock_problems()) == 2


def test_a_purchase_order_line_received_beyond_ordered_is_reported(shop: Shop) -> None:
    with check_constraint_off(PurchaseOrderLine, "po_line_received_within_ordered"):
        line = make_purchase_line(
            product=shop.product,
            purchase_order__number="PO-BAD",
            purchase_order__status=PurchaseOrderStatus.RECEIVED,
            ordered=10,
            received=12,
        )

    output = command_problems()

    assert f"Purchase order PO-BAD, line {line.pk} (SKU-CHECK): 12 received of 10 ordered." in (
        output
    )
    assert len(stock_problems()) == 1


def test_many_problems_of_one_kind_are_listed_up_to_a_limit_and_counted(shop: Shop) -> None:
    for _ in range(MAX_LISTED + 3):
        make_line(product=shop.product, ordered=1, shipped=1)

    problems = stock_problems()

    assert len(problems) == MAX_LISTED + 1
    assert problems[-1] == ("… and 3 more order lines whose shipped units do not match shipments.")


# --- purchase order status against received units (issue 18, #1) -----------------

S = PurchaseOrderStatus


def purchase_order(status: str, *lines: tuple[int, int], number: str = "PO-CHK") -> PurchaseOrder:
    """A purchase order row with lines of (ordered, received) units."""
    order = cast(PurchaseOrder, factories.PurchaseOrderFactory(number=number, status=status))
    for ordered, received in lines:
        make_purchase_line(purchase_order=order, ordered=ordered, received=received)
    return order


@pytest.mark.parametrize(
    ("status", "lines"),
    [
        (S.DRAFT, [(5, 0)]),
        (S.DRAFT, []),
        (S.ORDERED, [(5, 0), (3, 0)]),
        (S.PARTIALLY_RECEIVED, [(5, 5), (3, 0)]),
        (S.PARTIALLY_RECEIVED, [(5, 2)]),
        (S.RECEIVED, [(5, 5), (3, 3)]),
        (S.CANCELLED, [(5, 0)]),
        (S.CANCELLED, [(5, 5), (3, 1)]),
        (S.CANCELLED, []),
    ],
)
def test_a_status_that_follows_from_the_receipts_is_clean(
    status: str, lines: list[tuple[int, int]]
) -> None:
    purchase_order(status, *lines)

    assert stock_problems() == []


@pytest.mark.parametrize(
    ("status", "lines", "problem"),
    [
        (
            S.DRAFT,
            [(5, 2)],
            "Purchase order PO-CHK is a draft, but 2 units were received on it; only an order "
            "sent to the supplier is received.",
        ),
        (
            S.ORDERED,
            [(5, 5), (3, 0)],
            "Purchase order PO-CHK is ordered, but 5 of its 8 units were received: it should be "
            "partially received or received.",
        ),
        (
            S.PARTIALLY_RECEIVED,
            [(5, 0)],
            "Purchase order PO-CHK is partially received, but nothing was received on it.",
        ),
        (
            S.PARTIALLY_RECEIVED,
            [(5, 5), (3, 3)],
            "Purchase order PO-CHK is partially received, but all 8 units were received: it "
            "should be received.",
        ),
        (
            S.RECEIVED,
            [(5, 5), (3, 1)],
            "Purchase order PO-CHK is received, but only 6 of its 8 units were received.",
        ),
        (S.RECEIVED, [], "Purchase order PO-CHK is received, but it has no lines."),
        (
            S.CANCELLED,
            [(5, 5)],
            "Purchase order PO-CHK is cancelled, but all 5 units were received: it should be "
            "received.",
        ),
    ],
)
def test_a_status_the_receipts_contradict_is_reported(
    status: str, lines: list[tuple[int, int]], problem: str
) -> None:
    purchase_order(status, *lines)

    output = command_problems()

    assert stock_problems() == [problem]
    assert problem in output


def test_purchase_orders_made_by_the_services_are_clean() -> None:
    supplier = cast(Any, factories.SupplierFactory())
    warehouse = make_warehouse(code="SVC")
    products = [make_product(), make_product()]

    def create() -> PurchaseOrder:
        return purchase_order_create(
            supplier=supplier,
            warehouse=warehouse,
            lines=[PurchaseLineRequest(product, 4) for product in products],
            expected_date=timezone.localdate(),
            by=None,
            confirm=True,
        )

    partly, fully, cancelled = create(), create(), create()
    create()  # ordered, nothing received
    first = partly.lines.order_by("pk").first()
    assert first is not None
    purchase_order_receive(purchase_order=partly, quantities={first.pk: 4}, by=None)
    purchase_order_receive(
        purchase_order=fully, quantities={line.pk: 4 for line in fully.lines.all()}, by=None
    )
    last = cancelled.lines.order_by("pk").last()
    assert last is not None
    purchase_order_receive(purchase_order=cancelled, quantities={last.pk: 1}, by=None)
    purchase_order_cancel(purchase_order=cancelled, by=None)

    assert stock_problems() == []


def test_a_received_count_written_back_under_the_ledger_is_reported() -> None:
    # what a history revert of a received line did: the line says 0 received,
    # the ledger has the receipt under the purchase order's number

    warehouse = make_warehouse(code="REV")
    product = make_product(sku="SKU-REV")
    order = purchase_order_create(
        supplier=cast(Any, factories.SupplierFactory()),
        warehouse=warehouse,
        lines=[PurchaseLineRequest(product, 5)],
        expected_date=timezone.localdate(),
        by=None,
        confirm=True,
    )
    line = order.lines.get()
    purchase_order_receive(purchase_order=order, quantities={line.pk: 5}, by=None)
    assert stock_problems() == []

    order.history.filter(status=S.ORDERED).earliest("history_date").instance.save()
    status_reverted = stock_problems()
    PurchaseOrderLine.objects.filter(pk=line.pk).update(received=0)

    assert status_reverted == [
        f"Purchase order {order.number} is ordered, but 5 of its 5 units were received: "
        "it should be partially received or received."
    ]
    # both written back: the status agrees with the lines, the ledger does not
    assert stock_problems() == [
        f"Purchase order {order.number}, line {line.pk} (SKU-REV) says 0 received, but the "
        "ledger has 5 units received under it."
    ]


def test_receipts_under_a_purchase_order_outside_its_warehouse_are_reported() -> None:
    order = purchase_order(S.RECEIVED, (5, 5), number="PO-MOVED")
    line = order.lines.get()
    elsewhere = make_warehouse(code="ELSE")
    StockLevel.objects.create(product=line.product, warehouse=elsewhere, on_hand=5)
    StockMove.objects.create(
        product=line.product,
        warehouse=elsewhere,
        kind=StockMoveKind.RECEIPT,
        quantity=5,
        on_hand_change=5,
        allocated_change=0,
        reference="PO-MOVED",
    )

    assert stock_problems() == [
        f"Purchase order PO-MOVED, line {line.pk} ({line.product.sku}): the ledger has 5 "
        f"units received under it outside its warehouse {order.warehouse.code}."
    ]
