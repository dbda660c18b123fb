"""orders.selectors.queue_lines: what the backorder queue page lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from desk.filters import QueueFilter
from orders.models import OrderLine, Tier
from orders.selectors.queue import queue_lines, queue_page_complete
from tests.conftest import Shop
from tests.factories import (
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderLineFactory,
    SalesOrderFactory,
    SupplierFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db


def days_ago(days: int, hour: int = 12) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def line(**fields: object) -> OrderLine:
    """A waiting line; `customer`, `warehouse` and `placed_at` go to its order."""
    order_fields = {
        key: fields.pop(key) for key in ("customer", "warehouse", "placed_at") if key in fields
    }
    return OrderLineFactory.create(order=SalesOrderFactory.create(**order_fields), **fields)


def positions(**filters: str) -> dict[int, int]:
    return {
        found.pk: annotation(found, "queue_position")
        for found in queue_lines(filters=QueueFilter(filters), positions=True)
    }


def annotation(line: OrderLine, name: str) -> Any:
    """A value the selector annotated (the model class does not declare it)."""
    return getattr(line, name)


def test_lists_only_lines_still_waiting_with_units_waiting() -> None:
    # given
    waiting = line(ordered=5, allocated=2)
    line(ordered=3, allocated=3)  # covered: ready to ship
    line(ordered=2, shipped=1, cancelled=1)  # done

    # when
    found = list(queue_lines())

    # then
    assert [(f.pk, annotation(f, "units_waiting")) for f in found] == [(waiting.pk, 3)]


def test_position_follows_priority_then_tier_then_first_come(shop: Shop) -> None:
    # given: four orders for one out-of-stock product, placed through the service
    product = shop.product()
    early = shop.order(product, 1, placed_at=days_ago(10))
    late = shop.order(product, 1, placed_at=days_ago(2))
    vip = shop.order(product, 1, customer=shop.customer(tier=Tier.VIP), placed_at=days_ago(1))
    pushed = shop.order(product, 1, placed_at=days_ago(0))
    pushed.lines.update(priority=5)

    # when
    found = positions()

    # then
    by_order = {o.number: found[o.lines.get().pk] for o in (early, late, vip, pushed)}
    assert by_order == {pushed.number: 1, vip.number: 2, early.number: 3, late.number: 4}


def test_position_is_in_the_whole_queue_when_filtered(shop: Shop) -> None:
    # given: the customer's line is third in its product's queue
    product = shop.product()
    shop.order(product, 1, placed_at=days_ago(9))
    shop.order(product, 2, placed_at=days_ago(8))
    ann = shop.customer(name="Ann Filtered")
    third = shop.order(product, 1, customer=ann, placed_at=days_ago(7)).lines.get()

    # when
    found = positions(customer="ann filtered")

    # then
    assert found == {third.pk: 3}


def test_position_counts_per_warehouse_and_ignores_lines_not_waiting() -> None:
    product = ProductFactory.create()
    main, other = WarehouseFactory.create(code="MAIN"), WarehouseFactory.create(code="EAST")
    line(product=product, warehouse=main, placed_at=days_ago(9), ordered=2, allocated=2)
    line(product=product, warehouse=other, placed_at=days_ago(8))
    mine = line(product=product, warehouse=main, placed_at=days_ago(7))

    assert positions(warehouse="MAIN") == {mine.pk: 1}


def test_ties_on_placed_at_go_to_the_lower_id() -> None:
    product, when = ProductFactory.create(), days_ago(3)
    order = SalesOrderFactory.create(placed_at=when)
    first = OrderLineFactory.create(order=order, product=product)
    second = OrderLineFactory.create(order=order, product=product)

    assert positions() == {first.pk: 1, second.pk: 2}


def test_default_order_is_the_queue_order() -> None:
    product = ProductFactory.create()
    old = line(product=product, placed_at=days_ago(5))
    vip = line(
        product=product, customer=CustomerFactory.create(tier=Tier.VIP), placed_at=days_ago(1)
    )
    urgent = line(placed_at=days_ago(0), priority=3)

    assert [f.pk for f in queue_lines()] == [urgent.pk, vip.pk, old.pk]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"product": "lamp"}, {"lamp"}),
        ({"product": "sku-lmp"}, {"lamp"}),
        ({"customer": "ANN@"}, {"ann"}),
        ({"customer": "bob"}, {"bob"}),
        ({"slipped": "on"}, {"slipped"}),
        ({"estimate": "on"}, {"estimate"}),
        ({"warehouse": "EAST"}, {"east"}),
        ({"min_age": "10"}, {"old"}),
        ({"min_age": "0"}, {"lamp", "ann", "bob", "slipped", "estimate", "east", "old"}),
    ],
)
def test_filters(filters: dict[str, str], expected: set[str]) -> None:
    # given: one line that each filter should find
    main = WarehouseFactory.create(code="MAIN")
    lines = {
        "lamp": line(product=ProductFactory.create(sku="SKU-LMP-1", name="Desk Lamp")),
        "ann": line(customer=CustomerFactory.create(name="Ann", email="ann@example.com")),
        "bob": line(customer=CustomerFactory.create(name="Bob Stone")),
        "slipped": line(times_slipped=2),
        "estimate": line(promise_is_estimate=True, promised_date=timezone.localdate()),
        "east": line(warehouse=WarehouseFactory.create(code="EAST")),
        "old": line(placed_at=days_ago(10, hour=0)),
    }
    OrderLine.objects.exclude(warehouse__code="EAST").update(warehouse=main)

    # when
    found = set(positions(**filters))

    # then
    assert found == {lines[name].pk for name in expected}


def test_min_age_counts_calendar_days() -> None:
    nine = line(placed_at=days_ago(9, hour=23))
    ten = line(placed_at=days_ago(10, hour=0))

    assert set(positions(min_age="10")) == {ten.pk}
    assert set(positions(min_age="9")) == {nine.pk, ten.pk}


def test_supplier_filter_finds_lines_of_products_on_its_purchase_orders() -> None:
    supplier, other = SupplierFactory.create(), SupplierFactory.create()
    bought, elsewhere = ProductFactory.create(), ProductFactory.create()
    # two purchase order lines for the same product must not list a line twice
    PurchaseOrderLineFactory.create_batch(2, purchase_order__supplier=supplier, product=bought)
    PurchaseOrderLineFactory.create(purchase_order__supplier=other, product=elsewhere)
    mine = line(product=bought)
    line(product=elsewhere)

    found = list(queue_lines(filters=QueueFilter({"supplier": str(supplier.pk)})))

    assert [f.pk for f in found] == [mine.pk]


def test_invalid_filter_values_are_left_out_not_raised() -> None:
    waiting = line()
    filters = QueueFilter({"min_age": "abc", "warehouse": "NOPE", "supplier": "x"})

    found = list(queue_lines(filters=filters))

    assert [f.pk for f in found] == [waiting.pk]
    assert set(filters.errors) == {"min_age", "warehouse", "supplier"}


def test_a_page_is_completed_with_positions_and_related_rows_in_one_query(
    shop: Shop, django_assert_num_queries: Any
) -> None:
    # given two products' queues, mixed priorities and tiers
    kettle, lamp = shop.product(), shop.product()
    for index in range(6):
        shop.order(kettle if index % 2 else lamp, 1, placed_at=days_ago(10 - index))
    urgent = shop.order(kettle, 1, placed_at=days_ago(1)).lines.get()
    urgent.priority = 5
    urgent.save(update_fields=["priority"])
    expected = positions()
    # when a page of bare lines is completed
    page = list(queue_lines(related=False))
    with django_assert_num_queries(1):
        queue_page_complete(page)
    # then each line has the place the SQL annotation gives it, and its
    # order, customer, product and warehouse without another query
    assert {found.pk: annotation(found, "queue_position") for found in page} == expected
    assert annotation(next(f for f in page if f.pk == urgent.pk), "queue_position") == 1
    with django_assert_num_queries(0):
        seen = {(f.order.customer.name, f.product.sku, f.warehouse.code) for f in page}
    assert seen == {
        (line.order.customer.name, line.product.sku, line.warehouse.code)
        for line in OrderLine.objects.backordered()
    }
    # and a completed page is not read again
    with django_assert_num_queries(0):
        queue_page_complete(page)
