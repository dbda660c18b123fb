"""POST /api/v1/orders/{number}/cancel: the customer cancelled in the shop."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client

from notifications.models import Notification, NotificationKind
from orders.models import Cancellation, OrderLine
from tests.api.conftest import order_body, post_order

pytestmark = pytest.mark.django_db


def post_cancel(
    key: str, number: str, body: dict[str, Any], idempotency_key: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
    return Client().post(
        f"/api/v1/orders/{number}/cancel",
        json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


@pytest.fixture
def placed(stocked, api_key) -> str:
    """An order of the key's channel: LAMP 2 allocated, CHAIR 3 backordered."""
    response = post_order(api_key.key, order_body())
    assert response.status_code == 201, response.content
    return response.json()["number"]


def test_the_backordered_remainder_is_cancelled_and_the_customer_told(placed, api_key) -> None:
    # when
    response = post_cancel(api_key.key, placed, {"reason": "Found it elsewhere"})
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    get = Client().get(
        f"/api/v1/orders/{placed}", headers={"Authorization": f"Bearer {api_key.key}"}
    )
    assert body == get.json()
    lamp, chair = body["lines"]
    assert (lamp["allocated"], lamp["cancelled"]) == (2, 0)
    assert (chair["backordered"], chair["cancelled"], chair["status"]) == (0, 3, "cancelled")
    assert body["status"] == "ready_to_ship"
    cancellation = Cancellation.objects.get()
    assert (cancellation.quantity, cancellation.reason) == (3, "Found it elsewhere")
    told = Notification.objects.select_related("order").get(kind=NotificationKind.CANCELLED)
    assert told.order is not None
    assert told.order.number == placed


def test_only_the_lines_of_the_skus_listed_are_cancelled(stocked, api_key) -> None:
    stocked.product(sku="SOFA", name="Sofa")
    body = order_body(lines=[{"sku": "CHAIR", "quantity": 3}, {"sku": "SOFA", "quantity": 1}])
    number = post_order(api_key.key, body).json()["number"]
    # when
    response = post_cancel(api_key.key, number, {"reason": "No chair", "skus": ["CHAIR"]})
    # then
    assert response.status_code == 200, response.content
    chair, sofa = response.json()["lines"]
    assert (chair["cancelled"], chair["backordered"]) == (3, 0)
    assert (sofa["cancelled"], sofa["backordered"]) == (0, 1)
    assert sofa["promised_ship_date"] is not None


def test_a_replay_answers_the_same_and_cancels_once(placed, api_key) -> None:
    first = post_cancel(api_key.key, placed, {"reason": "x"}, idempotency_key="c-1")
    again = post_cancel(api_key.key, placed, {"reason": "x"}, idempotency_key="c-1")
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Cancellation.objects.count() == 1
    assert Notification.objects.filter(kind=NotificationKind.CANCELLED).count() == 1


def test_the_same_idempotency_key_on_another_order_is_refused(placed, api_key) -> None:
    post_cancel(api_key.key, placed, {"reason": "x"}, idempotency_key="c-2")
    response = post_cancel(api_key.key, "SO-OTHER", {"reason": "x"}, idempotency_key="c-2")
    assert response.status_code == 422
    assert response.json()["type"] == "urn:backorder-desk:problem:idempotency-key-reused"


def test_nothing_left_to_cancel_is_409(placed, api_key) -> None:
    post_cancel(api_key.key, placed, {"reason": "x"})
    # when
    response = post_cancel(api_key.key, placed, {"reason": "x"})
    # then
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:backorder-desk:problem:nothing-to-cancel"
    assert Cancellation.objects.count() == 1


def test_a_line_with_nothing_waiting_is_409(placed, api_key, unchanged) -> None:
    with unchanged():
        response = post_cancel(api_key.key, placed, {"reason": "x", "skus": ["LAMP"]})
    assert response.status_code == 409


def test_a_sku_the_order_has_not_is_422_naming_it_and_nothing_is_cancelled(
    placed, api_key, unchanged
) -> None:
    with unchanged():
        response = post_cancel(api_key.key, placed, {"reason": "x", "skus": ["CHAIR", "SOFA"]})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["pointer"] == "#/skus/1"
    assert "SOFA" in error["detail"]
    assert not Notification.objects.filter(kind=NotificationKind.CANCELLED).exists()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"reason": "   "}, "#/reason"),
        ({}, "#/reason"),
        ({"reason": "x", "skus": []}, "#/skus"),
        ({"reason": "x", "skus": ["no/slash"]}, "#/skus/0"),
    ],
)
def test_bad_input_is_422_naming_the_field(placed, api_key, unchanged, body, pointer) -> None:
    with unchanged():
        response = post_cancel(api_key.key, placed, body)
    assert response.status_code == 422
    assert pointer in [error.get("pointer") for error in response.json()["errors"]]


def test_another_channels_order_is_404(placed, new_key, unchanged) -> None:
    phone = new_key(channel="phone")
    with unchanged():
        response = post_cancel(phone.key, placed, {"reason": "x"})
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_a_key_without_orders_write_is_403(placed, new_key, unchanged) -> None:
    reader = new_key(scopes=["orders:read"])
    with unchanged():
        response = post_cancel(reader.key, placed, {"reason": "x"})
    assert response.status_code == 403


def test_without_an_idempotency_key_is_400(placed, api_key) -> None:
    response = Client().post(
        f"/api/v1/orders/{placed}/cancel",
        json.dumps({"reason": "x"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key.key}"},
    )
    assert response.status_code == 400
    assert OrderLine.objects.filter(cancelled__gt=0).count() == 0
