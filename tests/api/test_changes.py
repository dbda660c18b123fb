"""GET /api/v1/orders?updated_since=…: the shop's poll for changed orders, a
cursor per page; every use case that changes what a customer sees stamps the order."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from api.cursors import cursor_encode
from notifications import updates
from orders.models import SalesOrder
from suppliers.models import PurchaseOrder
from tests.api.conftest import order_body, post_order

pytestmark = pytest.mark.django_db

SINCE = "2000-01-01T00:00:00Z"


def poll(key: str, **params: Any) -> Any:
    return Client().get("/api/v1/orders", params, headers={"Authorization": f"Bearer {key}"})


def place(key: str, external_id: str, lines: list[dict[str, Any]] | None = None) -> str:
    body = order_body(external_id=external_id)
    if lines is not None:
        body["lines"] = lines
    response = post_order(key, body)
    assert response.status_code == 201, response.content
    return response.json()["number"]


def changed_after(key: str, cursor: str) -> list[str]:
    page = poll(key, cursor=cursor)
    assert page.status_code == 200, page.content
    return [item["number"] for item in page.json()["items"]]


def test_pages_go_oldest_change_first_with_a_cursor(stocked, api_key) -> None:
    numbers = [place(api_key.key, f"WEB-{n}") for n in range(3)]
    # when
    first = poll(api_key.key, updated_since=SINCE, limit=2).json()
    second = poll(api_key.key, cursor=first["next_cursor"], limit=2).json()
    third = poll(api_key.key, cursor=second["next_cursor"], limit=2).json()
    # then
    assert [item["number"] for item in first["items"]] == numbers[:2]
    assert first["has_more"] is True
    assert [item["number"] for item in second["items"]] == numbers[2:]
    assert second["has_more"] is False
    assert third == {"items": [], "next_cursor": second["next_cursor"], "has_more": False}
    stamps = [item["updated_at"] for item in first["items"] + second["items"]]
    assert stamps == sorted(stamps)


def test_updated_since_is_inclusive_and_later_ones_only(stocked, api_key) -> None:
    old = place(api_key.key, "WEB-OLD")
    SalesOrder.objects.filter(number=old).update(updated_at=timezone.now() - dt.timedelta(days=2))
    new = place(api_key.key, "WEB-NEW")
    since = SalesOrder.objects.get(number=new).updated_at
    page = poll(api_key.key, updated_since=since.isoformat()).json()
    assert [item["number"] for item in page["items"]] == [new]


def test_a_moved_promise_an_allocation_a_shipment_and_a_cancellation_stamp_the_order(
    stocked, api_key
) -> None:
    # given: A waits for 3 chairs, B has a lamp allocated; the poll is up to date
    a = place(api_key.key, "WEB-A", [{"sku": "CHAIR", "quantity": 3}])
    b = place(api_key.key, "WEB-B", [{"sku": "LAMP", "quantity": 1}])
    cursor = poll(api_key.key, updated_since=SINCE).json()["next_cursor"]
    assert changed_after(api_key.key, cursor) == []
    # when: the chairs' purchase order slips (A's promise moves)
    purchase_order = PurchaseOrder.objects.get(lines__product__sku="CHAIR")
    updates.purchase_order_move_expected_date(
        purchase_order=purchase_order,
        new_date=timezone.localdate() + dt.timedelta(days=30),
        reason="Supplier late",
        by=None,
    )
    # then
    assert changed_after(api_key.key, cursor) == [a]
    cursor = poll(api_key.key, cursor=cursor).json()["next_cursor"]
    # when: B ships
    updates.shipment_create(
        order=SalesOrder.objects.get(number=b), tracking_number="TRK-1", by=None
    )
    assert changed_after(api_key.key, cursor) == [b]
    cursor = poll(api_key.key, cursor=cursor).json()["next_cursor"]
    # when: chairs arrive (A's line is allocated)
    stocked.receive(purchase_order.lines.get().product, 3)
    assert changed_after(api_key.key, cursor) == [a]
    cursor = poll(api_key.key, cursor=cursor).json()["next_cursor"]
    # when: another order's backorder is cancelled through the API
    c = place(api_key.key, "WEB-C", [{"sku": "CHAIR", "quantity": 2}])
    cursor = poll(api_key.key, cursor=cursor).json()["next_cursor"]
    response = Client().post(
        f"/api/v1/orders/{c}/cancel",
        {"reason": "x"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_key.key}", "Idempotency-Key": "k"},
    )
    assert response.status_code == 200
    assert changed_after(api_key.key, cursor) == [c]


def test_only_the_keys_channel_is_shown(stocked, api_key, new_key) -> None:
    place(api_key.key, "WEB-1")
    phone = new_key(channel="phone")
    page = poll(phone.key, updated_since=SINCE).json()
    assert page == {"items": [], "next_cursor": None, "has_more": False}


def test_a_page_runs_a_fixed_number_of_queries(
    stocked, api_key, django_assert_max_num_queries
) -> None:
    for n in range(5):
        place(api_key.key, f"WEB-{n}")
    with django_assert_max_num_queries(6):
        page = poll(api_key.key, updated_since=SINCE, limit=100)
    assert len(page.json()["items"]) == 5


def test_a_key_without_orders_read_is_403(stocked, new_key) -> None:
    writer = new_key(scopes=["orders:write"])
    assert poll(writer.key, updated_since=SINCE).status_code == 403


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"updated_since": "2026-12-01T09:00:00"}, "updated_since"),
        ({"updated_since": "0.5"}, "updated_since"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": cursor_encode(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1)[:-3]}, "cursor"),
        ({"updated_since": SINCE, "limit": 101}, "limit"),
        ({"updated_since": SINCE, "limit": 0}, "limit"),
        ({}, "updated_since"),
        ({"external_id": "WEB-1", "updated_since": SINCE}, "external_id"),
    ],
)
def test_bad_parameters_are_422_naming_them(stocked, api_key, params, parameter) -> None:
    response = poll(api_key.key, **params)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert parameter in [error.get("parameter") for error in response.json()["errors"]]
