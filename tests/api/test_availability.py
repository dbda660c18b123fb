"""GET and POST /api/v1/availability: what a line placed now would get, and
nothing written."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import Scope
from inventory.limits import MAX_QUANTITY
from inventory.models import BackorderPolicy
from orders.models import Tier
from tests.api.conftest import order_body, post_order

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


def ask(key: str | None, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client().get("/api/v1/availability", params, headers=headers)


def ask_cart(key: str | None, body: dict[str, Any]) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client().post(
        "/api/v1/availability", json.dumps(body), content_type="application/json", headers=headers
    )


def in_days(days: int) -> str:
    return (timezone.localdate() + dt.timedelta(days=days)).isoformat()


def test_a_quantity_in_stock_ships_after_handling(stocked, api_key) -> None:
    response = ask(api_key.key, sku="LAMP", quantity=2)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "sku": "LAMP",
        "warehouse": "MAIN",
        "quantity": 2,
        "available": 5,
        "in_stock": 2,
        "backordered": 0,
        "backorder_allowed": True,
        "backorder_room": None,
        "sellable": True,
        "reason": None,
        "promised_ship_date": in_days(1),  # the warehouse's handling day
        "promise_is_estimate": False,
    }


def test_a_backordered_quantity_gets_the_promise_the_placed_line_then_gets(
    stocked, api_key
) -> None:
    # given: 10 chairs arriving in 9 days, none in stock
    asked = ask(api_key.key, sku="CHAIR", quantity=3, warehouse="MAIN").json()
    assert (asked["available"], asked["in_stock"], asked["backordered"]) == (0, 0, 3)
    assert asked["sellable"] is True
    assert asked["promised_ship_date"] == in_days(9 + 1)
    assert asked["promise_is_estimate"] is False
    # when
    placed = post_order(api_key.key, order_body(lines=[{"sku": "CHAIR", "quantity": 3}])).json()
    # then
    [line] = placed["lines"]
    assert line["promised_ship_date"] == asked["promised_ship_date"]
    assert line["promise_is_estimate"] == asked["promise_is_estimate"]
    # and the next 8 would still be covered by the purchase order, the 9th not
    assert ask(api_key.key, sku="CHAIR", quantity=7).json()["promise_is_estimate"] is False
    beyond = ask(api_key.key, sku="CHAIR", quantity=8).json()
    assert beyond["promise_is_estimate"] is True
    assert beyond["promised_ship_date"] > asked["promised_ship_date"]


def test_a_denied_product_sells_only_its_stock(stocked, api_key) -> None:
    body = ask(api_key.key, sku="DESK", quantity=1).json()
    assert body["backorder_allowed"] is False
    assert body["backorder_room"] == 0
    assert body["sellable"] is False
    assert "backorder" in body["reason"]
    assert body["promised_ship_date"] is None


def test_a_capped_product_has_the_room_the_cap_leaves(stocked, api_key) -> None:
    # given: a cap of 5 with 3 waiting
    vase = stocked.product(sku="VASE", backorder_policy=BackorderPolicy.CAP, backorder_cap=5)
    stocked.order(vase, 3)
    # when / then
    fits = ask(api_key.key, sku="VASE", quantity=2).json()
    assert (fits["backorder_room"], fits["sellable"]) == (2, True)
    assert fits["promise_is_estimate"] is True
    over = ask(api_key.key, sku="VASE", quantity=3).json()
    assert (over["backorder_room"], over["sellable"]) == (2, False)
    assert "2 more may be backordered" in over["reason"]


def test_an_inactive_product_is_not_sellable(stocked, api_key) -> None:
    stocked.product(sku="OLD", active=False)
    body = ask(api_key.key, sku="OLD", quantity=1).json()
    assert body["sellable"] is False
    assert "inactive" in body["reason"]


def test_a_vip_joins_the_queue_ahead_of_standard_customers(stocked, api_key) -> None:
    # given: 10 chairs inbound, 9 already waiting for a standard customer
    chair = stocked.product(sku="STOOL")
    stocked.purchase(chair, 10, days=9)
    stocked.order(chair, 9, customer=stocked.customer(tier=Tier.STANDARD))
    # then: 2 more are covered for a VIP, not for a standard customer
    assert ask(api_key.key, sku="STOOL", quantity=2, tier=1).json()["promise_is_estimate"] is False
    assert ask(api_key.key, sku="STOOL", quantity=2).json()["promise_is_estimate"] is True


def test_a_cart_is_answered_line_by_line(stocked, api_key) -> None:
    body = {
        "lines": [
            {"sku": "LAMP", "quantity": 7},
            {"sku": "CHAIR", "quantity": 1},
            {"sku": "DESK", "quantity": 1},
        ],
        "warehouse": "MAIN",
    }
    response = ask_cart(api_key.key, body)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["warehouse"] == "MAIN"
    assert answer["sellable"] is False
    lamp, chair, desk = answer["lines"]
    assert (lamp["in_stock"], lamp["backordered"], lamp["sellable"]) == (5, 2, True)
    assert lamp["promise_is_estimate"] is True  # nothing inbound for the lamp
    assert chair["promised_ship_date"] == in_days(10)
    assert desk["sellable"] is False


def test_asking_writes_nothing(stocked, api_key) -> None:
    # given
    stocked.order(stocked.product(sku="SOFA"), 2)
    models = [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy]
    before = {m._meta.label: m._default_manager.count() for m in models}
    key = api_key.api_key
    key.refresh_from_db()
    # when
    ask(api_key.key, sku="SOFA", quantity=4)
    ask_cart(
        api_key.key, {"lines": [{"sku": "CHAIR", "quantity": 4}, {"sku": "LAMP", "quantity": 9}]}
    )
    # then
    assert {m._meta.label: m._default_manager.count() for m in models} == before


def test_a_cart_takes_as_many_queries_whatever_its_size(stocked, api_key) -> None:
    products = [stocked.product(sku=f"P{n}") for n in range(30)]
    for product in products[:10]:
        stocked.purchase(product, 3, days=5)
    for product in products[10:20]:
        stocked.order(product, 1)
    ask(api_key.key, sku="LAMP", quantity=1)  # the key's last use is written once a minute

    def queries(lines: list[dict[str, Any]]) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert ask_cart(api_key.key, {"lines": lines}).status_code == 200
        return len(captured)

    small = queries([{"sku": "LAMP", "quantity": 7}])
    large = queries(
        [{"sku": "LAMP", "quantity": 7}, *({"sku": p.sku, "quantity": 2} for p in products)]
    )
    assert small == large <= 6


def test_an_unknown_sku_is_named_by_its_line(stocked, api_key) -> None:
    body = {"lines": [{"sku": "LAMP", "quantity": 1}, {"sku": "NOPE", "quantity": 1}]}
    response = ask_cart(api_key.key, body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:backorder-desk:problem:unknown-reference"
    [error] = problem["errors"]
    assert error["pointer"] == "#/lines/1"
    assert "NOPE" in error["detail"]


def test_an_unknown_sku_or_warehouse_in_the_query_is_named(stocked, api_key) -> None:
    response = ask(api_key.key, sku="NOPE", quantity=1, warehouse="XX")
    assert response.status_code == 422
    assert {e.get("parameter") for e in response.json()["errors"]} == {"sku", "warehouse"}


def test_an_unknown_warehouse_of_a_cart_is_named(stocked, api_key) -> None:
    response = ask_cart(api_key.key, {"lines": [{"sku": "LAMP", "quantity": 1}], "warehouse": "XX"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"detail": "No warehouse has this code.", "pointer": "#/warehouse"}
    ]


def test_a_sku_twice_in_a_cart_is_refused(stocked, api_key) -> None:
    body = {"lines": [{"sku": "LAMP", "quantity": 1}, {"sku": "LAMP", "quantity": 2}]}
    response = ask_cart(api_key.key, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/lines/1"


@pytest.mark.parametrize("quantity", [0, -1, MAX_QUANTITY + 1, "two"])
def test_a_bad_quantity_is_refused(stocked, api_key, quantity) -> None:
    response = ask(api_key.key, sku="LAMP", quantity=quantity)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["parameter"] == "quantity"
    cart = ask_cart(api_key.key, {"lines": [{"sku": "LAMP", "quantity": quantity}]})
    assert cart.status_code == 422
    assert cart.json()["errors"][0]["pointer"] == "#/lines/0/quantity"


def test_a_cart_has_at_most_a_hundred_lines(stocked, api_key) -> None:
    products = [stocked.product(sku=f"C{n}") for n in range(101)]
    lines = [{"sku": p.sku, "quantity": 1} for p in products]
    assert ask_cart(api_key.key, {"lines": lines[:100]}).status_code == 200
    response = ask_cart(api_key.key, {"lines": lines})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/lines"


def test_a_key_without_the_scope_is_forbidden(stocked, new_key) -> None:
    key = new_key(scopes=[Scope.ORDERS_WRITE, Scope.ORDERS_READ]).key
    assert ask(key, sku="LAMP", quantity=1).status_code == 403
    response = ask_cart(key, {"lines": [{"sku": "LAMP", "quantity": 1}]})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "availability:read" in response.json()["detail"]


def test_no_key_is_unauthorized(stocked) -> None:
    assert ask(None, sku="LAMP", quantity=1).status_code == 401
    assert ask_cart(None, {"lines": [{"sku": "LAMP", "quantity": 1}]}).status_code == 401


@pytest.mark.parametrize(
    ("method", "query", "body"),
    [
        ("GET", {"sku": "LAMP", "quantity": 2}, None),
        ("GET", {"sku": "CHAIR", "quantity": 30, "warehouse": "MAIN", "tier": 1}, None),
        ("GET", {"sku": "DESK", "quantity": 1}, None),
        ("POST", None, {"lines": [{"sku": "LAMP", "quantity": 9}, {"sku": "DESK", "quantity": 1}]}),
    ],
)
def test_answers_about_real_products_conform_to_the_schema(
    stocked, api_key, method, query, body
) -> None:
    """Schemathesis rarely guesses a SKU that exists: the 200s, checked here."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        operation = schema["/api/v1/availability"][method]
        case = operation.Case(query=query) if body is None else operation.Case(body=body)
        response = case.call_and_validate(headers={"Authorization": f"Bearer {api_key.key}"})
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    assert response.status_code == 200
