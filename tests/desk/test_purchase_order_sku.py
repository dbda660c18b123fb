"""The new purchase order form's SKU lookup (/purchase-orders/new/sku/)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from config.roles import Role
from suppliers.services import supplier_product_terms_set
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

URL = "/purchase-orders/new/sku/"
HX = {"HX-Request": "true"}


def test_a_typed_sku_shows_its_shortfall_and_fills_an_empty_quantity(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    lamp = shop.product(sku="LAMP", name="Desk lamp")
    shop.order(lamp, 5)
    supplier_product_terms_set(
        supplier=shop.supplier, product=lamp, pack_size=4, minimum_order=1, preferred=False, by=None
    )
    client = client_as(Role.PURCHASING)
    query: dict[str, str | int] = {
        "sku_2": "lamp",
        "quantity_2": "",
        "warehouse": shop.warehouse.pk,
    }

    page = client.get(URL, {**query, "supplier": shop.supplier.pk}, headers=HX).content.decode()

    assert "Desk lamp" in page and "5 short at Warehouse MAIN" in page
    assert 'name="quantity_2"' in page and 'value="8"' in page  # 5 + 1 → two packs of 4
    typed = client.get(URL, {**query, "quantity_2": "3"}, headers=HX).content.decode()
    assert 'name="quantity_2"' not in typed  # a typed quantity is left alone


@pytest.mark.parametrize(
    "query",
    [
        {"sku_0": "NOPE"},
        {},
        {"sku_999": "LAMP"},
        {"sku_0": "LAMP", "warehouse": "x" * 40},
        {"sku_0": "\x00"},
        {"sku_x": "LAMP", "supplier": "-1"},
    ],
)
def test_unknown_or_odd_input_answers_a_hint_not_an_error(
    client_as: Callable[..., Client], shop: Shop, query: dict
) -> None:
    shop.product(sku="LAMP")
    response = client_as(Role.PURCHASING).get(URL, query, headers=HX)
    assert response.status_code == 200
    if query.get("sku_0") == "NOPE":
        assert "No product has the SKU NOPE" in response.content.decode()


def test_the_form_asks_for_hints(client_as: Callable[..., Client]) -> None:
    page = client_as(Role.PURCHASING).get("/purchase-orders/new/").content.decode()
    assert f'hx-get="{URL}"' in page
