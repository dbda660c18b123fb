"""PUT and GET /api/v1/products/{sku}: the catalogue synced from the shop, and
what stands in each warehouse."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import BackorderPolicy, Product
from orders.models import OrderLine
from tests.api.conftest import order_body, post_order

pytestmark = pytest.mark.django_db


def put(key: str, sku: str, body: dict[str, Any]) -> Any:
    return Client().put(
        f"/api/v1/products/{sku}",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def get(key: str, sku: str) -> Any:
    return Client().get(f"/api/v1/products/{sku}", headers={"Authorization": f"Bearer {key}"})


def product_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Camping table",
        "price": "49.00",
        "active": True,
        "backorder_policy": "cap",
        "backorder_cap": 20,
    }
    body.update(overrides)
    return body


def test_a_new_sku_is_created_and_an_existing_one_updated(shop, api_key) -> None:
    # when
    created = put(api_key.key, "CP-CTR", product_body())
    # then
    assert created.status_code == 201, created.content
    product = Product.objects.get(sku="CP-CTR")
    assert (product.name, product.price, product.backorder_cap) == (
        "Camping table",
        Decimal("49.00"),
        20,
    )
    assert created.json()["warehouses"] == [
        {
            "warehouse": "MAIN",
            "on_hand": 0,
            "allocated": 0,
            "available": 0,
            "waiting": 0,
            "inbound": [],
        }
    ]
    # when
    updated = put(
        api_key.key,
        "CP-CTR",
        product_body(
            name="Camping table XL",
            price="59.5",
            active=False,
            backorder_policy="deny",
            backorder_cap=None,
        ),
    )
    # then
    assert updated.status_code == 200, updated.content
    product.refresh_from_db()
    assert (product.name, product.price, product.active) == (
        "Camping table XL",
        Decimal("59.50"),
        False,
    )
    assert (product.backorder_policy, product.backorder_cap) == (BackorderPolicy.DENY, None)
    assert updated.json()["price"] == "59.50"
    assert Product.objects.count() == 1
    assert product.history.count() == 2


def test_a_policy_change_leaves_the_promises_given_and_refuses_new_backorders(
    stocked, api_key
) -> None:
    post_order(api_key.key, order_body())
    chair = OrderLine.objects.get(product__sku="CHAIR")
    # when
    response = put(
        api_key.key,
        "CHAIR",
        product_body(name="Chair", backorder_policy="deny", backorder_cap=None),
    )
    # then
    assert response.status_code == 200
    before = (chair.promised_date, chair.promise_is_estimate)
    chair.refresh_from_db()
    assert (chair.promised_date, chair.promise_is_estimate) == before
    refused = post_order(
        api_key.key, order_body(external_id="WEB-2", lines=[{"sku": "CHAIR", "quantity": 1}])
    )
    assert refused.status_code == 422


def test_get_gives_stock_waiting_units_and_inbound_supply_per_warehouse(
    stocked, api_key, new_key, django_assert_max_num_queries
) -> None:
    post_order(api_key.key, order_body())  # LAMP 2 allocated, CHAIR 3 waiting
    reader = new_key(scopes=["availability:read"])
    # when
    with django_assert_max_num_queries(8):
        lamp = get(reader.key, "LAMP")
    chair = get(reader.key, "CHAIR").json()
    # then
    assert lamp.status_code == 200, lamp.content
    (main,) = lamp.json()["warehouses"]
    assert (main["on_hand"], main["allocated"], main["available"], main["waiting"]) == (5, 2, 3, 0)
    assert main["inbound"] == []
    (main,) = chair["warehouses"]
    assert (main["on_hand"], main["available"], main["waiting"]) == (0, 0, 3)
    (inbound,) = main["inbound"]
    assert inbound["quantity"] == 10
    assert inbound["expected_date"] == (timezone.localdate() + dt.timedelta(days=9)).isoformat()
    assert inbound["purchase_order"].startswith("PO")
    assert chair["backorder_policy"] == "allow"


def test_get_takes_a_catalogue_key_too_and_404s_an_unknown_sku(stocked, new_key) -> None:
    writer = new_key(scopes=["catalogue:write"])
    assert get(writer.key, "LAMP").status_code == 200
    unknown = get(writer.key, "NOPE")
    assert unknown.status_code == 404
    assert unknown["Content-Type"] == "application/problem+json"


def test_wrong_scopes_are_403_and_change_nothing(stocked, new_key, unchanged) -> None:
    reader = new_key(scopes=["availability:read", "orders:write", "orders:read"])
    orders_only = new_key(scopes=["orders:read"])
    with unchanged():
        assert put(reader.key, "LAMP", product_body(name="Renamed")).status_code == 403
        assert put(reader.key, "NEW-1", product_body()).status_code == 403
    assert get(orders_only.key, "LAMP").status_code == 403
    assert Product.objects.get(sku="LAMP").name == "Lamp"
    assert not Product.objects.filter(sku="NEW-1").exists()


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"price": "-1.00"}, "#/price"),
        ({"price": "1.005"}, "#/price"),
        ({"price": "123456789.00"}, "#/price"),
        ({"name": "  "}, "#/name"),
        ({"name": "x" * 201}, "#/name"),
        ({"backorder_policy": "maybe"}, "#/backorder_policy"),
        ({"backorder_cap": None}, "#/backorder_cap"),
        ({"backorder_cap": -1}, "#/backorder_cap"),
        ({"backorder_cap": 1_000_001}, "#/backorder_cap"),
        ({"backorder_policy": "allow", "backorder_cap": 5}, "#/backorder_cap"),
        ({"active": "perhaps"}, "#/active"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_nothing_is_saved(
    stocked, api_key, unchanged, overrides, pointer
) -> None:
    lamp = Product.objects.get(sku="LAMP")
    with unchanged():
        response = put(api_key.key, "LAMP", product_body(**overrides))
        created = put(api_key.key, "NEW-1", product_body(**overrides))
    assert response.status_code == created.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert pointer in [error.get("pointer") for error in response.json()["errors"]]
    fresh = Product.objects.get(sku="LAMP")
    assert (fresh.name, fresh.price, fresh.backorder_policy) == (
        lamp.name,
        lamp.price,
        lamp.backorder_policy,
    )
    assert not Product.objects.filter(sku="NEW-1").exists()


@pytest.mark.parametrize("sku", ["-LEADING-DASH", "has space", "x" * 65])
def test_a_sku_off_the_pattern_is_422_naming_it(shop, api_key, sku) -> None:
    response = put(api_key.key, sku, product_body())
    assert response.status_code == 422
    assert "sku" in [error.get("parameter") for error in response.json()["errors"]]
    assert not Product.objects.exists()
