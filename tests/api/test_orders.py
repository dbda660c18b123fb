from __future__ import annotations

import json

import pytest
from django.test import Client

from api import orders
from api.models import IdempotencyRecord
from notifications.models import Notification, NotificationKind
from orders.models import Customer, OrderLine, PaymentStatus, SalesOrder
from tests.api.conftest import order_body, post_order

pytestmark = pytest.mark.django_db


def test_an_order_with_an_allocated_and_a_backordered_line_is_placed(stocked, api_key) -> None:
    # when
    response = post_order(api_key.key, order_body())
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    order = SalesOrder.objects.get()
    assert body["number"] == order.number
    assert response["Location"] == body["url"] == f"/api/v1/orders/{order.number}"
    assert body["status"] == "backordered"
    assert body["channel"] == "web" == order.channel
    assert body["external_id"] == "WEB-1001" == order.external_reference
    assert order.payment_status == PaymentStatus.PAID
    lamp, chair = body["lines"]
    assert (lamp["sku"], lamp["allocated"], lamp["backordered"]) == ("LAMP", 2, 0)
    assert lamp["promised_ship_date"] is None
    assert (chair["sku"], chair["allocated"], chair["backordered"]) == ("CHAIR", 0, 3)
    assert chair["promised_ship_date"] is not None
    assert chair["promise_is_estimate"] is False
    assert chair["unit_price"] == "19.90"
    assert body["customer_links"]["cancel_url"].startswith("http")
    assert body["customer"] == {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "language": "en",
        "tier": 3,
    }
    confirmation = Notification.objects.get(order=order)
    assert confirmation.kind == NotificationKind.BACKORDER_CONFIRMED
    assert confirmation.to_email == "ada@example.com"


def test_the_unit_price_the_shop_charged_is_kept(stocked, api_key) -> None:
    body = order_body(lines=[{"sku": "LAMP", "quantity": 1, "unit_price": "12.50"}])
    assert post_order(api_key.key, body).json()["lines"][0]["unit_price"] == "12.50"
    assert str(OrderLine.objects.get().unit_price) == "12.50"


def test_an_existing_customer_is_found_by_email(stocked, api_key) -> None:
    ada = stocked.customer(email="Ada@Example.com", name="Ada L.", tier=1)
    post_order(api_key.key, order_body())
    assert Customer.objects.get() == ada
    assert SalesOrder.objects.get().customer == ada


def test_a_denied_line_is_refused_by_name_and_nothing_is_saved(stocked, api_key) -> None:
    body = order_body(
        customer={"email": "new@example.com", "name": "New"},
        lines=[{"sku": "LAMP", "quantity": 1}, {"sku": "DESK", "quantity": 2}],
    )
    response = post_order(api_key.key, body)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("order-refused")
    [error] = problem["errors"]
    assert error["pointer"] == "#/lines/1"
    assert "DESK" in error["detail"] and "backorder" in error["detail"]
    assert not SalesOrder.objects.exists()
    assert not OrderLine.objects.exists()
    assert not Customer.objects.exists()
    assert not Notification.objects.exists()


def test_an_unknown_sku_is_refused_naming_the_line(stocked, api_key) -> None:
    response = post_order(api_key.key, order_body(lines=[{"sku": "NOPE", "quantity": 1}]))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"detail": "NOPE: no product has this SKU.", "pointer": "#/lines/0"}
    ]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"lines": [{"sku": "LAMP", "quantity": 0}]}, "#/lines/0/quantity"),
        ({"lines": [{"sku": "LAMP", "quantity": 1_000_001}]}, "#/lines/0/quantity"),
        ({"lines": [{"sku": "LA/MP", "quantity": 1}]}, "#/lines/0/sku"),
        ({"lines": []}, "#/lines"),
        ({"customer": {"email": "not-an-email", "name": "X"}}, "#/customer/email"),
        (
            {"customer": {"email": "a@example.com", "name": "X", "language": "de"}},
            "#/customer/language",
        ),
        ({"placed_at": "2025-01-01T10:00:00"}, "#/placed_at"),
        ({"payment_status": "maybe"}, "#/payment_status"),
    ],
)
def test_an_invalid_body_is_422_listing_the_field(stocked, api_key, change, pointer) -> None:
    response = post_order(api_key.key, order_body(**change))
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    assert not SalesOrder.objects.exists()


def test_a_body_that_is_not_json_is_400(api_key) -> None:
    response = Client().post(
        "/api/v1/orders",
        "{nope",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key.key}",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_body_over_one_mebibyte_is_413(api_key) -> None:
    body = order_body(external_id="x", padding="y" * (1024 * 1024))
    response = post_order(api_key.key, body)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"


def test_the_idempotency_key_is_required(stocked, api_key) -> None:
    response = post_order(api_key.key, order_body(), idempotency_key=None)
    assert response.status_code == 400
    assert response.json()["type"].endswith("idempotency-key")
    assert not SalesOrder.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_a_second_order_with_the_same_external_id_is_409_with_its_url(stocked, api_key) -> None:
    first = post_order(api_key.key, order_body()).json()
    response = post_order(api_key.key, order_body(lines=[{"sku": "LAMP", "quantity": 1}]))
    assert response.status_code == 409
    assert response.json()["order_url"] == first["url"]
    assert SalesOrder.objects.count() == 1


def test_another_channel_may_use_the_same_external_id(stocked, api_key, new_key) -> None:
    phone = new_key(channel="phone")
    assert post_order(api_key.key, order_body()).status_code == 201
    assert post_order(phone.key, order_body()).status_code == 201


def test_an_unknown_warehouse_is_422(stocked, api_key) -> None:
    response = post_order(api_key.key, order_body(warehouse="NOPE"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/warehouse"


def test_an_order_is_read_by_number_and_by_external_id(stocked, api_key, new_key) -> None:
    placed = post_order(api_key.key, order_body()).json()
    auth = {"Authorization": f"Bearer {api_key.key}"}
    by_number = Client().get(placed["url"], headers=auth)
    assert by_number.status_code == 200
    # the customer's links are signed anew on every read (each has its own id)
    links = {"customer_links"}
    assert {k: v for k, v in by_number.json().items() if k not in links} == {
        k: v for k, v in placed.items() if k not in links
    }
    found = Client().get("/api/v1/orders", {"external_id": "WEB-1001"}, headers=auth).json()
    assert [item["number"] for item in found["items"]] == [placed["number"]]
    assert Client().get("/api/v1/orders", {"external_id": "other"}, headers=auth).json() == {
        "items": [],
        "next_cursor": None,
        "has_more": False,
    }
    # another channel's key sees none of it
    other = {"Authorization": f"Bearer {new_key(channel='phone').key}"}
    assert Client().get(placed["url"], headers=other).status_code == 404


def test_unknown_paths_and_methods_answer_problems(api_key) -> None:
    auth = {"Authorization": f"Bearer {api_key.key}"}
    missing = Client().get("/api/v1/nothing/here", headers=auth)
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    wrong = Client().delete("/api/v1/orders", headers=auth)
    assert wrong.status_code == 405
    assert wrong["Content-Type"] == "application/problem+json"
    assert json.loads(wrong.content)["status"] == 405


def test_an_external_id_placed_by_a_racing_request_is_409(stocked, api_key, monkeypatch) -> None:
    # given: the order exists, but this request's first look missed it (a race)
    first = post_order(api_key.key, order_body()).json()
    real = orders.storefront_order_by_external_reference
    looks = iter([None])
    monkeypatch.setattr(
        orders,
        "storefront_order_by_external_reference",
        lambda **kwargs: next(looks, None) or real(**kwargs),
    )
    # when
    response = post_order(api_key.key, order_body())
    # then: intake's own check answers, as 409 with the order, not 500
    assert response.status_code == 409
    assert response.json()["order_url"] == first["url"]
    assert SalesOrder.objects.count() == 1
