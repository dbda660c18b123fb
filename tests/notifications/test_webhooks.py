"""Outbound webhooks: events written with the change, one per subscription,
signed, posted after commit, retried until a 2xx, never twice."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from notifications import updates
from notifications.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from notifications.services.webhooks import (
    webhook_deliveries_sweep,
    webhook_delivery_retry,
    webhook_delivery_send,
    webhook_signature,
)
from orders.models import Channel
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


@dataclass
class Receiver:
    """A tiny HTTP server in a thread: records every POST, answers the statuses queued."""

    url: str
    requests: list[tuple[Message, bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append((self.headers, body))
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/bd"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def subscribe(
    url: str,
    channel: str = Channel.WEB,
    secret: str = "s3cret",  # noqa: S107
    **fields: object,
) -> WebhookSubscription:
    return WebhookSubscription.objects.create(url=url, secret=secret, channel=channel, **fields)


def place(shop: Shop, product, quantity: int, channel: str = Channel.WEB, **kwargs: object):
    return updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, quantity)],
        channel=channel,
        by=shop.clerk,
        **kwargs,
    )


def test_a_backordered_order_writes_one_delivery_per_matching_subscription(shop) -> None:
    # given two web subscriptions, one for another channel, one for other events
    product = shop.product(sku="CHAIR-1")
    first = subscribe("https://a.example/hook")
    second = subscribe("https://b.example/hook")
    subscribe("https://c.example/hook", channel=Channel.PHONE)
    subscribe("https://d.example/hook", event_types=[WebhookEventType.SHIPPED])
    # when an order waits for 3 units
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("notifications.services.webhooks._publish", lambda pk, countdown=None: True)
        order = place(shop, product, 3, external_reference="shop-77")
    # then
    deliveries = WebhookDelivery.objects.order_by("subscription_id")
    assert [d.subscription_id for d in deliveries] == [first.pk, second.pk]
    assert {d.event_type for d in deliveries} == {WebhookEventType.BACKORDERED}
    assert len({d.event_id for d in deliveries}) == 1
    payload = deliveries[0].payload
    assert payload["type"] == "order.backordered"
    assert payload["order"] == {
        "number": order.number,
        "external_id": "shop-77",
        "channel": "web",
    }
    line = order.lines.get()
    assert payload["lines"] == [
        {
            "line_id": line.pk,
            "sku": "CHAIR-1",
            "backordered": 3,
            "promised_date": line.promised_date.isoformat(),
            "estimate": line.promise_is_estimate,
        }
    ]


def test_the_event_rows_roll_back_with_the_change(shop) -> None:
    product = shop.product()
    subscribe("https://a.example/hook")
    with pytest.raises(RuntimeError), transaction.atomic():
        place(shop, product, 2)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the caller failed after the change")
    assert WebhookDelivery.objects.count() == 0


def test_an_event_is_written_once_per_subscription(shop) -> None:
    subscription = subscribe("https://a.example/hook")
    order = place(shop, shop.product(), 2)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                subscription=subscription,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                order=order,
                payload={},
            )
        ],
        ignore_conflicts=True,
    )
    assert WebhookDelivery.objects.count() == 1


def test_nothing_is_written_without_a_subscription_or_a_backorder(shop) -> None:
    product = shop.product()
    place(shop, product, 2)
    subscribe("https://a.example/hook", active=False)
    place(shop, product, 2)
    assert WebhookDelivery.objects.count() == 0


def test_nothing_is_sent_inside_the_transaction(
    shop, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        place(shop, shop.product(), 2)
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.PENDING
    for callback in callbacks:
        callback()
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.DELIVERED


def test_a_real_receiver_gets_order_backordered_signed(
    shop, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    # given
    subscribe(receiver.url, secret="shop-secret")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        order = place(shop, shop.product(sku="LAMP-9"), 4)
    # then
    assert len(receiver.requests) == 1
    headers, body = receiver.requests[0]
    delivery = WebhookDelivery.objects.get()
    # Standard Webhooks: v1 = base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>"
    assert headers["webhook-id"] == delivery.delivery_id
    stamp = int(headers["webhook-timestamp"])
    assert abs(stamp - time.time()) < 60
    signed = f"{delivery.delivery_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(b"shop-secret", signed, hashlib.sha256).digest())
    assert headers["webhook-signature"] == "v1," + expected.decode()
    assert headers["Content-Type"] == "application/json"
    event = json.loads(body)
    assert (event["type"], event["order"]["number"]) == ("order.backordered", order.number)
    assert event["lines"][0]["sku"] == "LAMP-9"
    assert event["lines"][0]["backordered"] == 4
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.response_status) == (1, 200)


def test_the_signature_is_verifiable_with_the_secret() -> None:
    body = b'{"id":"x","type":"order.shipped"}'
    signature = webhook_signature(secret="k", message_id="e1.1", timestamp=1700000000, body=body)
    version, encoded = signature.split(",", 1)
    assert version == "v1"
    assert hmac.compare_digest(
        base64.b64decode(encoded),
        hmac.new(b"k", b"e1.1.1700000000." + body, hashlib.sha256).digest(),
    )
    assert (
        webhook_signature(secret="other", message_id="e1.1", timestamp=1700000000, body=body)
        != signature
    )
    # another moment or another message id signs differently (a replay is detectable)
    assert (
        webhook_signature(secret="k", message_id="e1.1", timestamp=1700000001, body=body)
        != signature
    )
    assert (
        webhook_signature(secret="k", message_id="e2.1", timestamp=1700000000, body=body)
        != signature
    )


def test_a_whsec_secret_is_the_base64_of_its_key() -> None:
    key = b"\x00\x01binary-key\xff"
    secret = "whsec_" + base64.b64encode(key).decode()
    body = b"{}"
    expected = base64.b64encode(hmac.new(key, b"m.1.{}", hashlib.sha256).digest()).decode()
    assert (
        webhook_signature(secret=secret, message_id="m", timestamp=1, body=body) == "v1," + expected
    )


def test_a_500_is_retried_with_backoff_then_delivered_once(
    shop, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    # given a receiver that fails the first time
    receiver.answers = [500, 200]
    subscribe(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        place(shop, shop.product(), 2)
    delivery = WebhookDelivery.objects.get()
    # then it waits for its next attempt
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.response_status == 500
    assert "500" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()
    assert len(receiver.requests) == 1
    # a task early, or a duplicate, sends nothing
    assert webhook_delivery_send(delivery_id=delivery.pk) == WebhookDeliveryStatus.PENDING
    assert webhook_deliveries_sweep() == 0
    # when its time has come the sweep sends it again
    later = delivery.next_attempt_at + dt.timedelta(seconds=1)
    assert webhook_deliveries_sweep(now=later) == 1
    delivery.refresh_from_db()
    if delivery.status == WebhookDeliveryStatus.PENDING:  # eager task ran with "now"
        assert webhook_delivery_send(delivery_id=delivery.pk, now=later) == "delivered"
        delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    assert len(receiver.requests) == 2
    assert receiver.requests[0][0]["webhook-id"] == receiver.requests[1][0]["webhook-id"]
    # and never again
    assert webhook_delivery_send(delivery_id=delivery.pk, now=later) == "delivered"
    assert webhook_deliveries_sweep(now=later + dt.timedelta(hours=1)) == 0
    assert len(receiver.requests) == 2


def test_after_the_last_attempt_it_fails_and_can_be_sent_again(
    shop, receiver: Receiver, settings
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [503]
    subscribe(receiver.url)
    place(shop, shop.product(), 2)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_send(delivery_id=delivery.pk) == WebhookDeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("failed", 503)
    assert webhook_delivery_retry(delivery_id=delivery.pk) is True
    assert webhook_delivery_send(delivery_id=delivery.pk) == WebhookDeliveryStatus.DELIVERED
    assert webhook_delivery_retry(delivery_id=delivery.pk) is False


def test_a_receiver_that_is_down_is_retried(shop, settings) -> None:
    subscribe("http://127.0.0.1:9/nobody-listens")
    place(shop, shop.product(), 2)
    delivery = WebhookDelivery.objects.get()
    assert webhook_delivery_send(delivery_id=delivery.pk) == WebhookDeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.last_error
    assert delivery.response_status is None


def test_a_lost_publish_is_sent_by_the_sweep(shop, receiver: Receiver, monkeypatch) -> None:
    subscribe(receiver.url)
    place(shop, shop.product(), 2)  # on_commit never runs: the publish is "lost"
    assert receiver.requests == []
    later = timezone.now() + dt.timedelta(hours=1)
    assert webhook_deliveries_sweep(now=later) == 1
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.DELIVERED


@pytest.mark.usefixtures("run_on_commit_at_once")
def test_ship_cancel_and_slip_events(shop, monkeypatch) -> None:
    monkeypatch.setattr("notifications.services.webhooks._publish", lambda pk, countdown=None: True)
    subscribe("https://a.example/hook")
    product = shop.product(sku="SOFA-2")
    po = shop.purchase(product, 10, days=6)
    order = place(shop, product, 3)
    other = place(shop, product, 2)
    # a slip
    updates.purchase_order_move_expected_date(
        purchase_order=po,
        new_date=timezone.localdate() + dt.timedelta(days=12),
        reason="supplier late",
        by=shop.clerk,
    )
    moved = WebhookDelivery.objects.filter(event_type=WebhookEventType.PROMISE_CHANGED)
    assert moved.count() == 2
    entry = moved.get(order=order).payload["lines"][0]
    assert entry["old_promised_date"] < entry["promised_date"]
    # received: ready
    line = po.lines.get()
    updates.purchase_order_receive(purchase_order=po, quantities={line.pk: 10}, by=shop.clerk)
    assert WebhookDelivery.objects.filter(event_type=WebhookEventType.READY).count() == 2
    # shipped
    updates.shipment_create(order=order, tracking_number="TRK-1", by=shop.clerk)
    shipped = WebhookDelivery.objects.get(event_type=WebhookEventType.SHIPPED).payload
    assert shipped["tracking_number"] == "TRK-1"
    assert shipped["lines"][0]["quantity"] == 3
    # cancelled
    updates.order_cancel(order=other, reason="customer asked", by=shop.clerk)
    cancelled = WebhookDelivery.objects.get(event_type=WebhookEventType.CANCELLED).payload
    assert cancelled["lines"][0]["quantity"] == 2
    assert cancelled["order"]["number"] == other.number


def test_the_command_subscribes_and_prints_the_id() -> None:
    out = StringIO()
    call_command(
        "webhook_subscribe",
        "--url=https://shop.example/bd",
        "--secret=abc",
        "--channel=web",
        "--events=order.backordered,order.shipped",
        stdout=out,
    )
    subscription = WebhookSubscription.objects.get()
    assert out.getvalue().strip().splitlines()[-1] == str(subscription.pk)
    assert subscription.event_types == ["order.backordered", "order.shipped"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url=https://shop.example/bd", "--events=order.lost"], "Unknown event type"),
        (["--url=ftp://shop.example/bd"], "url"),
        (["--url=not a url"], "url"),
    ],
)
def test_the_command_refuses_bad_input_clearly(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("webhook_subscribe", "--secret=abc", "--channel=web", *args)
    assert not WebhookSubscription.objects.exists()


def test_a_broker_that_is_down_loses_nothing(shop, receiver: Receiver, monkeypatch) -> None:
    # given a publish that fails after the commit
    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr("notifications.tasks.send_webhook_delivery.delay", broker_down)
    subscribe(receiver.url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
        order = place(shop, shop.product(), 2)  # the caller does not see the error
    delivery = WebhookDelivery.objects.get()
    assert delivery.order == order
    assert (delivery.status, delivery.dispatched_at) == (WebhookDeliveryStatus.PENDING, None)
    assert receiver.requests == []
    # when the broker is back, the next sweep sends it
    monkeypatch.undo()
    assert webhook_deliveries_sweep() == 1
    assert len(receiver.requests) == 1
