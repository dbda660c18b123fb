from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Sum
from django.test import override_settings
from django.utils import timezone

from inventory.models import Product, StockLevel, StockMove, Warehouse
from orders.checks import stock_problems
from orders.models import Customer, OrderLine, SalesOrder
from suppliers.models import OPEN_PO_STATUSES, PurchaseOrderLine, Supplier
from tests.factories import SalesOrderFactory

pytestmark = pytest.mark.django_db


def test_seed_builds_a_proportionate_consistent_shop() -> None:
    out = StringIO()

    call_command("seed", order_lines=2000, seed=3, stdout=out)

    # about 2,000 lines, about a fifth of them backordered
    lines = OrderLine.objects.count()
    assert 1600 <= lines <= 2400
    backordered = OrderLine.objects.backordered().count()
    assert 0.10 * lines <= backordered <= 0.30 * lines
    # a proportionate catalogue
    assert Product.objects.count() >= 20
    assert Warehouse.objects.count() == 3
    assert Supplier.objects.count() >= 5
    assert 150 <= Customer.objects.count() <= 250
    assert set(Customer.objects.values_list("language", flat=True)) == {"en", "id", "nl"}
    assert len(set(Customer.objects.values_list("tier", flat=True))) == 3
    sizes = set(SalesOrder.objects.annotate(n=Count("lines")).values_list("n", flat=True))
    assert sizes <= {1, 2, 3, 4}
    assert Product.objects.filter(sku__regex=r"^SKU-[0-9]{6}$").count() == (Product.objects.count())
    assert SalesOrder.objects.filter(number__regex=r"^SO-S[0-9]{7}$").count() == (
        SalesOrder.objects.count()
    )
    # stock agrees with the lines and the ledger
    assert stock_problems() == []
    check = StringIO()
    call_command("check_stock", stdout=check)
    assert check.getvalue().startswith("Stock is consistent:")
    ledger = {
        (row["product_id"], row["warehouse_id"]): (row["on_hand"], row["allocated"])
        for row in StockMove.objects.order_by()
        .values("product_id", "warehouse_id")
        .annotate(on_hand=Sum("on_hand_change"), allocated=Sum("allocated_change"))
    }
    for level in StockLevel.objects.all():
        assert ledger.get((level.product_id, level.warehouse_id), (0, 0)) == (
            level.on_hand,
            level.allocated,
        )
        assert level.on_hand >= level.allocated
    # where lines wait, nothing is free: the queue would have taken it
    short = set(OrderLine.objects.backordered().values_list("product_id", "warehouse_id"))
    assert short
    for level in StockLevel.objects.all():
        if (level.product_id, level.warehouse_id) in short:
            assert level.available == 0
    # open purchase orders cover the backordered products; some are already late
    open_lines = PurchaseOrderLine.objects.filter(purchase_order__status__in=OPEN_PO_STATUSES)
    assert {p for p, _w in short} == set(open_lines.values_list("product_id", flat=True))
    assert open_lines.filter(expected_date__gt=timezone.localdate()).exists()
    assert open_lines.filter(received__lte=F("ordered")).count() == open_lines.count()
    assert f"{lines:,} order lines ({backordered:,} backordered)" in out.getvalue()


def test_seed_refuses_a_database_that_has_orders_unless_forced() -> None:
    SalesOrderFactory()

    with pytest.raises(CommandError, match="fresh database"):
        call_command("seed", order_lines=100, stdout=StringIO())
    assert OrderLine.objects.count() == 0

    call_command("seed", order_lines=100, force=True, stdout=StringIO())
    assert OrderLine.objects.count() >= 80
    assert stock_problems() == []


@override_settings(DEMO_DATA_ALLOWED=False)
def test_seed_is_refused_in_production() -> None:
    with pytest.raises(CommandError, match="DEMO_DATA_ALLOWED is False"):
        call_command("seed", order_lines=100, stdout=StringIO())
    assert not Product.objects.exists()
