"""Purchase order costs (issue 16): a unit cost per line, typed or prefilled
from the supplier's price; line costs and the total on the purchase order page
and the list, in the shop's currency as the reader's language writes it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from suppliers.models import PurchaseOrder, PurchaseOrderLine, SupplierProduct
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def new_po_data(shop: Shop, rows: list[tuple[str, int, str]]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "token": uuid.uuid4().hex,
        "supplier": shop.supplier.pk,
        "warehouse": shop.warehouse.pk,
        "expected_date": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
        "notes": "",
        "rows": 5,
    }
    for row in range(5):
        sku, quantity, cost = rows[row] if row < len(rows) else ("", "", "")
        data[f"sku_{row}"], data[f"quantity_{row}"], data[f"cost_{row}"] = sku, quantity, cost
    return data


def test_typed_costs_are_kept_and_an_empty_one_takes_the_suppliers_price(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    lamp = shop.product(sku="LAMP")
    chair = shop.product(sku="CHAIR")
    rug = shop.product(sku="RUG")
    SupplierProduct.objects.create(supplier=shop.supplier, product=chair, unit_cost="7.25")

    response = client_as(Role.PURCHASING).post(
        "/purchase-orders/new/",
        new_po_data(shop, [("LAMP", 3, "12,50"), ("CHAIR", 2, ""), ("RUG", 1, "")]),
    )

    assert response.status_code == 302, response.content.decode()
    costs = dict(PurchaseOrderLine.objects.values_list("product__sku", "unit_cost"))
    assert costs == {"LAMP": Decimal("12.50"), "CHAIR": Decimal("7.25"), "RUG": None}
    assert {lamp.pk, chair.pk, rug.pk} == set(
        PurchaseOrderLine.objects.values_list("product_id", flat=True)
    )


@pytest.mark.parametrize(
    ("cost", "message"),
    [
        ("-1", "A cost is 0 or more."),
        ("abc", "Enter a cost such as 12.50"),
        ("1.234", "2 decimals"),
    ],
)
def test_a_bad_cost_is_refused_beside_its_field(
    shop: Shop, client_as: Callable[..., Client], cost: str, message: str
) -> None:
    shop.product(sku="LAMP")

    response = client_as(Role.PURCHASING).post(
        "/purchase-orders/new/", new_po_data(shop, [("LAMP", 3, cost)]), headers=HX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html.split('id="id_cost_0_error"')[1].split("</p>")[0]
    assert not PurchaseOrder.objects.exists()


def test_the_sku_lookup_fills_an_empty_cost_with_the_suppliers_price(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    lamp = shop.product(sku="LAMP")
    SupplierProduct.objects.create(supplier=shop.supplier, product=lamp, unit_cost="4.10")
    query: dict[str, str | int] = {
        "sku_1": "LAMP",
        "cost_1": "",
        "warehouse": shop.warehouse.pk,
        "supplier": shop.supplier.pk,
    }
    client = client_as(Role.PURCHASING)

    empty = client.get(reverse("purchase-order-sku"), query, headers=HX).content.decode()
    typed = client.get(
        reverse("purchase-order-sku"), {**query, "cost_1": "3"}, headers=HX
    ).content.decode()

    assert 'name="cost_1"' in empty and 'value="4.10"' in empty
    assert 'name="cost_1"' not in typed


@override_settings(SHOP_CURRENCY="EUR")
def test_the_page_and_the_list_show_line_costs_and_the_total(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    lamp = shop.product(sku="LAMP")
    chair = shop.product(sku="CHAIR")
    rug = shop.product(sku="RUG")
    po = purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[
            PurchaseLineRequest(lamp, 1000, unit_cost=Decimal("12.50")),
            PurchaseLineRequest(chair, 2, unit_cost=Decimal("7.25")),
            PurchaseLineRequest(rug, 1),
        ],
        expected_date=timezone.localdate() + dt.timedelta(days=5),
        by=None,
        confirm=True,
    )
    client = client_as(Role.PURCHASING)

    page = client.get(reverse("purchase-order", args=[po.number])).content.decode()
    listing = client.get(reverse("purchase-orders")).content.decode()

    assert "EUR\xa012.50" in page and "EUR\xa012,500.00" in page and "EUR\xa014.50" in page
    assert 'id="po-cost-total"><strong>EUR\xa012,514.50' in page
    assert "1 line without a cost left out" in page
    assert "EUR\xa012,514.50" in listing and "1 line without a cost" in listing
    assert shop.warehouse.name in listing


@override_settings(SHOP_CURRENCY="IDR")
def test_the_total_follows_the_readers_language(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    lamp = shop.product(sku="LAMP")
    po = purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(lamp, 10, unit_cost=Decimal("125000"))],
        expected_date=timezone.localdate() + dt.timedelta(days=5),
        by=None,
    )
    client = client_as(Role.PURCHASING)

    page = client.get(
        reverse("purchase-order", args=[po.number]), headers={"Accept-Language": "nl"}
    ).content.decode()

    assert "IDR\xa01.250.000" in page


def test_a_cost_out_of_range_is_refused_by_the_service(shop: Shop, unchanged) -> None:
    lamp = shop.product(sku="LAMP")
    with unchanged(), pytest.raises(ValidationError):
        purchase_order_create(
            supplier=shop.supplier,
            warehouse=shop.warehouse,
            lines=[PurchaseLineRequest(lamp, 1, unit_cost=Decimal("-1"))],
            expected_date=timezone.localdate() + dt.timedelta(days=5),
            by=None,
        )


def test_a_purchase_order_without_costs_says_not_known(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    lamp = shop.product(sku="LAMP")
    po = purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(lamp, 3)],
        expected_date=timezone.localdate() + dt.timedelta(days=5),
        by=None,
    )

    page = client_as(Role.PURCHASING).get(reverse("purchase-order", args=[po.number]))

    total = page.content.decode().split('id="po-cost-total">')[1].split("</td>")[0]
    assert "not known" in total and "0.00" not in total
