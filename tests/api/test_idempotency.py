from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from api.idempotency import idempotency_records_purge
from api.models import IdempotencyRecord, IdempotencyState
from notifications.models import Notification
from orders.models import SalesOrder
from tests.api.conftest import order_body, post_order


@pytest.mark.django_db
def test_a_replay_with_the_same_body_gets_the_first_answer(stocked, api_key) -> None:
    first = post_order(api_key.key, order_body(), idempotency_key="order-1")
    again = post_order(api_key.key, order_body(), idempotency_key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert SalesOrder.objects.count() == 1
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_replayed_too(stocked, api_key) -> None:
    body = order_body(lines=[{"sku": "DESK", "quantity": 1}])
    first = post_order(api_key.key, body, idempotency_key="order-2")
    again = post_order(api_key.key, body, idempotency_key="order-2")
    assert first.status_code == again.status_code == 422
    assert again.content == first.content


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(stocked, api_key) -> None:
    post_order(api_key.key, order_body(), idempotency_key="order-3")
    other = post_order(
        api_key.key, order_body(lines=[{"sku": "LAMP", "quantity": 1}]), idempotency_key="order-3"
    )
    assert other.status_code == 422
    assert other["Content-Type"] == "application/problem+json"
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert SalesOrder.objects.count() == 1


@pytest.mark.django_db
def test_keys_of_another_api_key_do_not_collide(stocked, api_key, new_key) -> None:
    other = new_key()
    first = post_order(api_key.key, order_body(), idempotency_key="same")
    second = post_order(other.key, order_body(external_id="WEB-2002"), idempotency_key="same")
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] != second.json()["number"]
    assert IdempotencyRecord.objects.count() == 2


@pytest.mark.django_db
def test_a_key_in_flight_is_409_and_a_stale_claim_is_taken_over(stocked, api_key) -> None:
    claim = IdempotencyRecord.objects.create(
        api_key=api_key.api_key,
        key="busy",
        fingerprint="x",
        created_at=timezone.now(),
    )
    # a different body would be 422; the same one, while in flight, 409
    from api.idempotency import request_fingerprint
    from api.schemas import OrderIn

    claim.fingerprint = request_fingerprint(OrderIn(**order_body()).model_dump(mode="json"))
    claim.save()
    busy = post_order(api_key.key, order_body(), idempotency_key="busy")
    assert busy.status_code == 409
    assert busy.json()["type"].endswith("request-in-flight")
    assert not SalesOrder.objects.exists()
    # a claim whose process died long ago is taken over
    IdempotencyRecord.objects.filter(pk=claim.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert post_order(api_key.key, order_body(), idempotency_key="busy").status_code == 201


@pytest.mark.django_db
def test_answers_are_kept_24_hours(stocked, api_key) -> None:
    post_order(api_key.key, order_body(), idempotency_key="old")
    assert idempotency_records_purge() == 0
    assert idempotency_records_purge(now=timezone.now() + dt.timedelta(hours=25)) == 1
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_a_quoted_key_is_the_same_key(stocked, api_key) -> None:
    first = post_order(api_key.key, order_body(), idempotency_key='"abc"')
    again = post_order(api_key.key, order_body(), idempotency_key="abc")
    assert again.content == first.content
    assert IdempotencyRecord.objects.get().key == "abc"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_with_one_key_place_one_order(stocked, api_key) -> None:
    """All 20 start together. Each gets either the one order's 201 (the first, or
    a replay once it completed) or 409 while the first is in flight (the draft's
    answer: the client retries); a retry afterwards gets the same 201."""
    start = threading.Barrier(20)

    def post(_index: int):
        try:
            start.wait()
            return post_order(api_key.key, order_body(), idempotency_key="concurrent")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(post, range(20)))
    statuses = sorted(response.status_code for response in responses)
    assert set(statuses) <= {201, 409}, statuses
    assert 201 in statuses
    created = [response.content for response in responses if response.status_code == 201]
    assert len(set(created)) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["type"].endswith("request-in-flight")
    assert SalesOrder.objects.count() == 1
    assert Notification.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyState.COMPLETED
    retry = post_order(api_key.key, order_body(), idempotency_key="concurrent")
    assert retry.status_code == 201
    assert retry.content == created[0]
