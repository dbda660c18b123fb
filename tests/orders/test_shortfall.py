"""The shortfall worklist's selector: figures against a reference computed from
the queue and the open purchase order lines, suggested suppliers and
quantities, and drafts grouped by supplier and warehouse."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import StockLevel
from notifications import updates
from orders.models import QUEUE_ORDER, OrderLine
from orders.selectors.shortfall import (
    draft_groups,
    parse_keys,
    shortfall_rows,
    suggested_quantity,
)
from orders.services.intake import LineRequest, order_place
from orders.services.priority import order_line_set_priority
from orders.services.purchasing import purchase_order_create
from orders.services.receiving import purchase_order_receive
from suppliers.models import OPEN_PO_STATUSES, PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from suppliers.services import PurchaseLineRequest, supplier_product_terms_set
from tests.conftest import Shop
from tests.factories import CustomerFactory, SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


class _Rollback(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass


def reference() -> dict[tuple[int, int], tuple[int, int, int]]:
    """(shortfall units, uncovered lines, their customers) per queue, by walking
    each queue in queue order against the stock there and its open purchase orders."""
    supply: dict[tuple[int, int], int] = defaultdict(int)
    for level in StockLevel.objects.all():
        supply[(level.product_id, level.warehouse_id)] += max(level.on_hand - level.allocated, 0)
    for po_line in PurchaseOrderLine.objects.filter(
        purchase_order__status__in=OPEN_PO_STATUSES
    ).select_related("purchase_order"):
        supply[(po_line.product_id, po_line.purchase_order.warehouse_id)] += po_line.outstanding
    queues: dict[tuple[int, int], list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.backordered().select_related("order").order_by(*QUEUE_ORDER):
        queues[(line.product_id, line.warehouse_id)].append(line)
    expected = {}
    for key, lines in queues.items():
        covered, uncovered = supply[key], []
        waiting = 0
        for line in lines:
            waiting += line.backordered
            if waiting > covered:
                uncovered.append(line)
        if waiting > covered:
            customers = len({line.order.customer_id for line in uncovered})
            expected[key] = (waiting - covered, len(uncovered), customers)
    return expected


ACTION = st.one_of(
    st.tuples(st.just("order"), st.integers(0, 2), st.integers(0, 1), st.integers(1, 6)),
    st.tuples(st.just("po"), st.integers(0, 2), st.integers(0, 1), st.integers(1, 8)),
    st.tuples(st.just("receive"), st.integers(0, 2), st.integers(0, 1), st.integers(1, 5)),
    st.tuples(st.just("priority"), st.integers(0, 30), st.integers(0, 1), st.integers(-3, 3)),
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(ACTION, min_size=1, max_size=14))
def test_shortfall_matches_a_reference_from_the_queue_and_open_purchase_orders(
    shop: Shop, actions: list[tuple[str, int, int, int]]
) -> None:
    with rolled_back():
        # given: three products, two warehouses, orders, purchase orders and
        # receipts in any order, queue order shuffled by priorities
        products = [shop.product(sku=f"P{index}") for index in range(3)]
        warehouses = [shop.warehouse, WarehouseFactory.create(code="EAST")]
        customers = [CustomerFactory.create() for _ in range(3)]
        today = timezone.localdate()
        for step, (kind, a, b, n) in enumerate(actions):
            if kind == "order":
                order_place(
                    customer=customers[step % 3],
                    warehouse=warehouses[b],
                    lines=[LineRequest(products[a], n)],
                    by=shop.clerk,
                )
            elif kind in ("po", "receive"):
                po, _changes = purchase_order_create(
                    supplier=shop.supplier,
                    warehouse=warehouses[b],
                    lines=[PurchaseLineRequest(products[a], n)],
                    expected_date=today + dt.timedelta(days=5 + step),
                    by=shop.clerk,
                    confirm=True,
                )
                if kind == "receive":
                    po_line = po.lines.get()
                    purchase_order_receive(
                        purchase_order=po, quantities={po_line.pk: n}, by=shop.clerk
                    )
            else:
                waiting = list(OrderLine.objects.backordered().order_by("pk"))
                if waiting:
                    line = waiting[a % len(waiting)]
                    if line.priority != n:
                        order_line_set_priority(line=line, priority=n, by=shop.clerk)

        # when
        rows = shortfall_rows()

        # then
        found = {
            (row.product.pk, row.warehouse.pk): (row.shortfall, row.lines, row.customers)
            for row in rows
        }
        assert found == reference()
        assert [row.shortfall for row in rows] == sorted(
            (row.shortfall for row in rows), reverse=True
        )


def test_a_row_counts_stock_and_open_purchase_orders_and_free_units_elsewhere(
    shop: Shop,
) -> None:
    # given: 10 ordered in MAIN with 3 in stock (allocated at once, so 7 wait),
    # an open purchase order bringing 4, and 5 free units in EAST
    lamp = shop.product(sku="LAMP")
    east = WarehouseFactory.create(code="EAST")
    shop.receive(lamp, 3)
    purchase_order_create(
        supplier=shop.supplier,
        warehouse=east,
        lines=[PurchaseLineRequest(lamp, 5)],
        expected_date=timezone.localdate() + dt.timedelta(days=3),
        by=shop.clerk,
        confirm=True,
    )
    east_po = PurchaseOrder.objects.get(warehouse=east)
    purchase_order_receive(
        purchase_order=east_po, quantities={east_po.lines.get().pk: 5}, by=shop.clerk
    )
    shop.order(lamp, 6)
    shop.order(lamp, 4)
    purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(lamp, 4)],
        expected_date=timezone.localdate() + dt.timedelta(days=9),
        by=shop.clerk,
        confirm=True,
    )

    # when
    (row,) = shortfall_rows()

    # then: 10 ordered, 3 allocated from stock → 7 waiting, 4 inbound → 3 short
    assert (row.product, row.warehouse) == (lamp, shop.warehouse)
    assert (row.waiting, row.available, row.inbound, row.shortfall) == (7, 0, 4, 3)
    assert (row.lines, row.customers) == (1, 1)  # the second order's line
    assert row.free_elsewhere == 5
    assert row.free_by_warehouse == {"EAST": 5}
    assert row.supplier == shop.supplier and row.supplier_source == "last"


def test_the_preferred_supplier_and_its_pack_size_and_minimum_decide_the_quantity(
    shop: Shop,
) -> None:
    lamp = shop.product(sku="LAMP")
    shop.order(lamp, 7)
    assert shortfall_rows()[0].supplier is None  # never bought: nothing to suggest
    preferred = SupplierFactory.create(name="Lumen")
    supplier_product_terms_set(
        supplier=preferred, product=lamp, pack_size=6, minimum_order=20, preferred=True, by=None
    )

    (row,) = shortfall_rows(buffer_percent=10)

    assert row.supplier == preferred and row.supplier_source == "preferred"
    assert (row.pack_size, row.minimum_order) == (6, 20)
    assert row.shortfall == 7
    assert row.suggested_quantity == 24  # 7 + 1 buffer → minimum 20 → 4 packs of 6


@pytest.mark.parametrize(
    ("shortfall", "buffer", "pack", "minimum", "expected"),
    [
        (7, 0, 1, 1, 7),
        (7, 10, 1, 1, 8),  # 0.7 of a unit of buffer is one unit
        (7, 0, 5, 1, 10),
        (7, 0, 1, 12, 12),
        (7, 50, 4, 1, 12),  # 7 + 4 = 11 → 3 packs of 4
        (0, 10, 6, 20, 0),  # nothing short: nothing to buy
    ],
)
def test_suggested_quantity(
    shortfall: int, buffer: int, pack: int, minimum: int, expected: int
) -> None:
    assert (
        suggested_quantity(
            shortfall=shortfall, buffer_percent=buffer, pack_size=pack, minimum_order=minimum
        )
        == expected
    )


def test_only_one_preferred_supplier_per_product(shop: Shop) -> None:
    lamp = shop.product(sku="LAMP")
    other = SupplierFactory.create()
    supplier_product_terms_set(
        supplier=shop.supplier, product=lamp, pack_size=1, minimum_order=1, preferred=True, by=None
    )
    supplier_product_terms_set(
        supplier=other, product=lamp, pack_size=1, minimum_order=1, preferred=True, by=None
    )
    assert list(lamp.supplier_terms.filter(preferred=True).values_list("supplier", flat=True)) == [
        other.pk
    ]
    with pytest.raises(ValidationError) as refused:
        supplier_product_terms_set(
            supplier=other, product=lamp, pack_size=0, minimum_order=10**9, preferred=False, by=None
        )
    assert set(refused.value.message_dict) == {"pack_size", "minimum_order"}
    assert lamp.supplier_terms.get(supplier=other).preferred  # nothing saved


def test_drafts_are_grouped_by_supplier_and_warehouse(shop: Shop) -> None:
    # given: four short queues, two suppliers, two warehouses, one never bought
    east = WarehouseFactory.create(code="EAST")
    other = SupplierFactory.create(name="Zeta")
    lamp, chair, desk, rug = (shop.product(sku=sku) for sku in ("LAMP", "CHAIR", "DESK", "RUG"))
    for product, supplier in ((lamp, shop.supplier), (chair, shop.supplier), (desk, other)):
        supplier_product_terms_set(
            supplier=supplier,
            product=product,
            pack_size=1,
            minimum_order=1,
            preferred=True,
            by=None,
        )
    customer = CustomerFactory.create()
    for warehouse, product in (
        (shop.warehouse, lamp),
        (shop.warehouse, chair),
        (east, lamp),
        (east, desk),
        (east, rug),
    ):
        order_place(
            customer=customer, warehouse=warehouse, lines=[LineRequest(product, 2)], by=shop.clerk
        )

    # when
    groups, without = draft_groups(shortfall_rows())

    # then
    assert [(g.supplier.name, g.warehouse.code, [r.sku for r in g.rows]) for g in groups] == [
        (shop.supplier.name, "EAST", ["LAMP"]),
        (shop.supplier.name, "MAIN", ["CHAIR", "LAMP"]),
        ("Zeta", "EAST", ["DESK"]),
    ]
    assert [row.sku for row in without] == ["RUG"]


def test_drafts_create_all_or_nothing_and_once_per_token(shop: Shop) -> None:
    lamp, chair = shop.product(sku="LAMP"), shop.product(sku="CHAIR")
    drafts = [
        updates.DraftRequest(
            supplier=shop.supplier,
            warehouse=shop.warehouse,
            lines=[PurchaseLineRequest(lamp, 5)],
            expected_date=timezone.localdate() + dt.timedelta(days=14),
        ),
        updates.DraftRequest(
            supplier=SupplierFactory.create(),
            warehouse=shop.warehouse,
            lines=[PurchaseLineRequest(chair, 0)],  # refused
            expected_date=timezone.localdate() + dt.timedelta(days=14),
        ),
    ]
    with pytest.raises(ValidationError):
        updates.purchase_order_drafts_create(drafts=drafts, by=shop.clerk, token="t1")
    assert not PurchaseOrder.objects.exists()

    created = updates.purchase_order_drafts_create(drafts=drafts[:1], by=shop.clerk, token="t2")
    assert [po.status for po in created] == [PurchaseOrderStatus.DRAFT]
    with pytest.raises(ValidationError) as again:
        updates.purchase_order_drafts_create(drafts=drafts[:1], by=shop.clerk, token="t2")
    assert again.value.code == "already_submitted"
    assert PurchaseOrder.objects.count() == 1


def test_parse_keys_takes_only_well_formed_ids() -> None:
    assert parse_keys(["1-2", "1-2", "x-1", "3", "-", "4-5", "६-1", "7-8"], limit=2) == [
        (1, 2),
        (4, 5),
    ]
