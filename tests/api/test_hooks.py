"""Shop webhooks in: Shopify and WooCommerce order deliveries replayed as the
platforms send them (tests/fixtures/), signed, stored, then processed."""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone

from api import tasks
from api.hooks import services as hooks_services
from api.hooks.services import (
    inbound_event_receive,
    inbound_event_retry,
    inbound_events_sweep,
    shop_connection_create,
)
from api.hooks.sign import main as sign_main
from api.hooks.signing import body_signature, signature_valid
from api.models import InboundEvent, InboundStatus, ShopConnection, ShopOrder, SkuMapping
from notifications.models import Notification, NotificationKind
from orders.models import Customer, PaymentStatus, SalesOrder
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SECRET = "shpss_test_secret"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def shopify(stocked: Shop) -> ShopConnection:
    return shop_connection_create(
        platform="shopify",
        domain="jsmith.myshopify.com",
        secret=SECRET,
        channel="web",
        warehouse_code="MAIN",
    )


@pytest.fixture
def woocommerce(stocked: Shop) -> ShopConnection:
    return shop_connection_create(
        platform="woocommerce",
        domain="shop.example.com",
        secret=SECRET,
        channel="marketplace",
        sku_mapping=SkuMapping.UPPERCASE,
    )


@pytest.fixture
def deliver(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[..., Any]:
    """POST a body as the platform would (signed unless told), then run what
    the request published after commit (the eager task processes the event)."""

    def post(
        connection: ShopConnection,
        body: dict[str, Any] | bytes,
        *,
        topic: str | None = None,
        delivery_id: str | None = None,
        event_id: str | None = None,
        signature: str | None = "sign",
    ) -> Any:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers: dict[str, str] = {}
        if connection.platform == "shopify":
            headers = {
                "X-Shopify-Topic": topic or "orders/create",
                "X-Shopify-Shop-Domain": connection.domain,
                "X-Shopify-Webhook-Id": delivery_id or str(uuid.uuid4()),
                "X-Shopify-Event-Id": event_id or str(uuid.uuid4()),
                "X-Shopify-Triggered-At": "2026-11-30T21:46:26.000Z",
                "X-Shopify-API-Version": "2025-10",
            }
            if signature is not None:
                headers["X-Shopify-Hmac-Sha256"] = (
                    body_signature(secret=SECRET, body=raw) if signature == "sign" else signature
                )
        else:
            resource, _dot, event = (topic or "order.created").partition(".")
            headers = {
                "X-WC-Webhook-Source": f"https://{connection.domain}/",
                "X-WC-Webhook-Topic": topic or "order.created",
                "X-WC-Webhook-Resource": resource,
                "X-WC-Webhook-Event": event,
                "X-WC-Webhook-ID": "31",
                "X-WC-Webhook-Delivery-ID": delivery_id or uuid.uuid4().hex,
            }
            if signature is not None:
                headers["X-WC-Webhook-Signature"] = (
                    body_signature(secret=SECRET, body=raw) if signature == "sign" else signature
                )
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post(
                connection.webhook_path, raw, content_type="application/json", headers=headers
            )

    return post


def shopify_order(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(fixture("shopify/orders_create.json"))
    body.update(changes)
    return body


def test_shop_connect_prints_the_webhook_path_last(stocked: Shop, capsys: Any) -> None:
    call_command(
        "shop_connect",
        "--platform=shopify",
        "--domain=Jsmith.myshopify.com",
        "--secret=s3cret",
        "--channel=web",
        "--warehouse=MAIN",
    )
    last = capsys.readouterr().out.strip().splitlines()[-1]
    connection = ShopConnection.objects.get()
    assert last == f"/hooks/shopify/{connection.key}/"
    assert connection.warehouse is not None
    assert (connection.domain, connection.warehouse.code) == ("jsmith.myshopify.com", "MAIN")


def test_shop_connect_refuses_an_unknown_warehouse_clearly(stocked: Shop) -> None:
    with pytest.raises(Exception, match="No warehouse has the code 'NOPE'"):
        call_command(
            "shop_connect",
            "--platform=shopify",
            "--domain=a.myshopify.com",
            "--secret=s",
            "--channel=web",
            "--warehouse=NOPE",
        )
    assert not ShopConnection.objects.exists()


def test_a_shopify_order_is_placed_through_intake(shopify: ShopConnection, deliver: Any) -> None:
    # when
    response = deliver(shopify, shopify_order())
    # then: 200 at once, the event stored and processed into one order
    assert response.status_code == 200
    assert response.json()["status"] == "received"
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.PROCESSED, event.error
    order = event.order
    assert order is not None
    assert order.channel == "web"
    assert order.payment_status == PaymentStatus.PAID
    assert order.external_reference == f"shopify:{shopify.pk}:820982911946154508"
    assert order.customer.email == "jon@example.com"
    assert order.customer.language == "nl"  # customer_locale "nl-NL"
    lines = {line.product.sku: line for line in order.lines.all()}
    assert (lines["LAMP"].allocated, lines["LAMP"].unit_price) == (1, 199)
    assert lines["CHAIR"].backordered == 2
    assert lines["CHAIR"].promised_date is not None
    assert Notification.objects.filter(order=order, kind=NotificationKind.BACKORDER_CONFIRMED)
    assert ShopOrder.objects.get().shop_order_name == "#9999"


def test_a_duplicate_delivery_is_stored_once(shopify: ShopConnection, deliver: Any) -> None:
    body = shopify_order()
    first = deliver(shopify, body, delivery_id="wh-1", event_id="ev-1")
    again = deliver(shopify, body, delivery_id="wh-1", event_id="ev-1")
    # The same event to a second subscription of the topic: another webhook id, one event id.
    other = deliver(shopify, body, delivery_id="wh-2", event_id="ev-1")
    assert [r.status_code for r in (first, again, other)] == [200, 200, 200]
    assert [r.json()["status"] for r in (again, other)] == ["duplicate", "duplicate"]
    assert InboundEvent.objects.count() == 1
    assert SalesOrder.objects.count() == 1


def test_a_redelivered_create_under_a_new_id_places_no_second_order(
    shopify: ShopConnection, deliver: Any
) -> None:
    deliver(shopify, shopify_order())
    deliver(shopify, shopify_order())
    assert SalesOrder.objects.count() == 1
    again = InboundEvent.objects.order_by("-pk").first()
    assert again is not None and again.status == InboundStatus.PROCESSED
    assert again.outcome.endswith("nothing to change.")
    assert Notification.objects.count() == 1  # one confirmation


def test_a_stale_update_is_ignored_and_a_fresh_one_applied(
    shopify: ShopConnection, deliver: Any
) -> None:
    deliver(shopify, shopify_order(financial_status="pending"))
    order = SalesOrder.objects.get()
    assert order.payment_status == PaymentStatus.UNPAID
    # an update older than the order as applied
    stale = deliver(
        shopify,
        shopify_order(financial_status="paid", updated_at="2026-11-30T16:40:00-05:00"),
        topic="orders/updated",
    )
    assert stale.status_code == 200
    event = InboundEvent.objects.order_by("-pk").first()
    assert event is not None and event.status == InboundStatus.IGNORED
    assert "Stale" in event.outcome
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.UNPAID
    # a newer one: the payment is captured
    deliver(
        shopify,
        shopify_order(financial_status="paid", updated_at="2026-11-30T17:00:00-05:00"),
        topic="orders/updated",
    )
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert ShopOrder.objects.get().shop_updated_at.isoformat() == "2026-11-30T22:00:00+00:00"


def test_cancelled_in_shopify_cancels_the_backordered_remainder(
    shopify: ShopConnection, deliver: Any
) -> None:
    deliver(shopify, shopify_order(financial_status="authorized"))
    deliver(
        shopify,
        shopify_order(
            financial_status="voided",
            cancelled_at="2026-12-01T09:00:00-05:00",
            cancel_reason="customer",
            updated_at="2026-12-01T09:00:00-05:00",
        ),
        topic="orders/cancelled",
    )
    order = SalesOrder.objects.get()
    lines = {line.product.sku: line for line in order.lines.all()}
    assert (lines["CHAIR"].cancelled, lines["CHAIR"].backordered) == (2, 0)
    assert lines["LAMP"].allocated == 1  # allocated units stay (the warehouse's to cancel)
    cancelled = Notification.objects.get(order=order, kind=NotificationKind.CANCELLED)
    assert "niet in rekening gebracht" in cancelled.body_text  # Dutch: not charged
    assert "terug" not in cancelled.body_text


def test_a_forged_or_unsigned_delivery_is_refused_and_only_counted(
    shopify: ShopConnection, deliver: Any
) -> None:
    forged = deliver(shopify, shopify_order(), signature=body_signature(secret="x", body=b"{}"))
    unsigned = deliver(shopify, shopify_order(), signature=None)
    assert [forged.status_code, unsigned.status_code] == [401, 401]
    assert not InboundEvent.objects.exists()
    assert not SalesOrder.objects.exists()
    shopify.refresh_from_db()
    assert shopify.rejected_deliveries == 2


def test_an_inactive_connection_refuses_deliveries(shopify: ShopConnection, deliver: Any) -> None:
    ShopConnection.objects.filter(pk=shopify.pk).update(active=False)
    shopify.refresh_from_db()
    assert deliver(shopify, shopify_order()).status_code == 401
    assert not InboundEvent.objects.exists()


def test_an_unknown_connection_is_404(stocked: Shop) -> None:
    response = Client().post("/hooks/shopify/nope/", b"{}", content_type="application/json")
    assert response.status_code == 404


def test_an_unknown_sku_fails_the_event_then_a_retry_places_it(
    shopify: ShopConnection, stocked: Shop, deliver: Any, django_capture_on_commit_callbacks: Any
) -> None:
    body = shopify_order()
    body["line_items"][1]["sku"] = "STOOL"
    customers = Customer.objects.count()
    # when
    response = deliver(shopify, body)
    # then: 200 (a retry by the shop would not change the body), failed, nothing applied
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.FAILED
    assert "STOOL" in event.error and "no product" in event.error
    assert not SalesOrder.objects.exists()
    assert Customer.objects.count() == customers
    # when the product exists and the event is retried
    stocked.product(sku="STOOL", name="Stool")
    with django_capture_on_commit_callbacks(execute=True):
        assert inbound_event_retry(event_id=event.pk, by=None)
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED, event.error
    assert event.attempts == 2
    order = SalesOrder.objects.get()
    assert event.order == order
    assert {line.product.sku for line in order.lines.all()} == {"LAMP", "STOOL"}


def test_a_body_without_email_fails_with_the_reason(shopify: ShopConnection, deliver: Any) -> None:
    body = shopify_order(email=None, contact_email=None)
    body["customer"]["email"] = None
    deliver(shopify, body)
    event = InboundEvent.objects.get()
    assert (event.status, event.error) == (InboundStatus.FAILED, "The order has no customer email.")
    assert not SalesOrder.objects.exists()


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", json.dumps({"id": 1}).encode()],
    ids=["not-json", "not-an-object", "no-lines"],
)
def test_an_unreadable_body_fails_the_event_without_a_500(
    shopify: ShopConnection, deliver: Any, body: bytes
) -> None:
    assert deliver(shopify, body).status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.FAILED
    assert event.error


def test_other_topics_are_answered_and_not_stored(shopify: ShopConnection, deliver: Any) -> None:
    response = deliver(shopify, {"id": 1}, topic="products/update")
    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    assert not InboundEvent.objects.exists()


def test_woocommerce_ping_is_answered_200_and_nothing_stored(woocommerce: ShopConnection) -> None:
    response = Client().post(
        woocommerce.webhook_path,
        b"webhook_id=31",
        content_type="application/x-www-form-urlencoded",
        headers={"User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7)"},
    )
    assert response.status_code == 200
    assert not InboundEvent.objects.exists()


def test_a_woocommerce_order_is_placed_with_skus_mapped(
    woocommerce: ShopConnection, deliver: Any
) -> None:
    response = deliver(woocommerce, fixture("woocommerce/order_created.json"))
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.PROCESSED, event.error
    order = event.order
    assert order is not None
    assert (order.channel, order.payment_status) == ("marketplace", PaymentStatus.PAID)
    assert order.customer.name == "John Doe"
    assert {line.product.sku: line.ordered for line in order.lines.all()} == {
        "LAMP": 2,
        "CHAIR": 1,
    }


def test_woocommerce_deliveries_in_one_second_are_two_events(
    woocommerce: ShopConnection, deliver: Any
) -> None:
    # WooCommerce's delivery id is the webhook's id hashed with the second.
    first = fixture("woocommerce/order_created.json")
    second = {**first, "id": 728, "number": "728"}
    deliver(woocommerce, first, delivery_id="d41d8cd9")
    deliver(woocommerce, second, delivery_id="d41d8cd9")
    again = deliver(woocommerce, second, delivery_id="d41d8cd9")
    assert again.json()["status"] == "duplicate"
    assert InboundEvent.objects.count() == 2
    assert SalesOrder.objects.count() == 2


def test_a_woocommerce_forgery_is_refused(woocommerce: ShopConnection, deliver: Any) -> None:
    response = deliver(woocommerce, fixture("woocommerce/order_created.json"), signature="AAAA")
    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_store_one_event_and_place_one_order(
    shopify: ShopConnection,
) -> None:
    """Ten copies of one delivery at once, and a create and an update of one new
    shop order under other ids at once: one event per delivery, one order."""
    raw = json.dumps(shopify_order()).encode()
    signature = body_signature(secret=SECRET, body=raw)
    start = threading.Barrier(12)

    def post(index: int) -> int:
        headers = {
            "X-Shopify-Topic": "orders/create" if index < 11 else "orders/updated",
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Webhook-Id": "wh-same" if index < 10 else f"wh-{index}",
            "X-Shopify-Event-Id": "ev-same" if index < 10 else f"ev-{index}",
        }
        try:
            start.wait()
            response = Client().post(
                shopify.webhook_path, raw, content_type="application/json", headers=headers
            )
            return response.status_code
        finally:
            db_connection.close()

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(post, range(12)))
    assert statuses == [200] * 12
    assert InboundEvent.objects.count() == 3
    assert SalesOrder.objects.count() == 1
    assert ShopOrder.objects.count() == 1
    assert InboundEvent.objects.filter(status=InboundStatus.FAILED).count() == 0


def test_the_readme_sample_is_signed_by_the_script(
    capsys: Any,
) -> None:
    sample = (
        Path(__file__).resolve().parents[2] / "api" / "hooks" / "samples" / "shopify_order.json"
    )
    assert sign_main(["demo-shopify-secret", str(sample)]) == 0
    printed = capsys.readouterr().out.strip()
    assert signature_valid(
        secret="demo-shopify-secret", body=sample.read_bytes(), signature=printed
    )


def test_a_woocommerce_order_cancelled_in_the_shop_cancels_what_waits(
    woocommerce: ShopConnection, deliver: Any
) -> None:
    created = fixture("woocommerce/order_created.json")
    deliver(woocommerce, created)
    cancelled = {
        **created,
        "status": "cancelled",
        "date_modified_gmt": "2026-12-01T08:00:00",
    }
    deliver(woocommerce, cancelled, topic="order.updated")
    order = SalesOrder.objects.get()
    chair = order.lines.get(product__sku="CHAIR")
    assert (chair.cancelled, chair.backordered) == (1, 0)
    # paid (processing, date_paid_gmt): the cancellation email promises the refund
    email = Notification.objects.get(order=order, kind=NotificationKind.CANCELLED)
    assert "We will refund" in email.body_text
    event = InboundEvent.objects.order_by("-pk").first()
    assert event is not None and "backordered remainder cancelled" in event.outcome


def test_an_oversized_body_is_refused_before_anything_is_read(
    shopify: ShopConnection, deliver: Any, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = shopify_order(note="x" * 4096)
    assert deliver(shopify, body).status_code == 413
    assert not InboundEvent.objects.exists()


def test_an_update_before_the_create_places_the_order_once(
    shopify: ShopConnection, deliver: Any
) -> None:
    deliver(shopify, shopify_order(), topic="orders/updated")
    deliver(shopify, shopify_order(), topic="orders/create")
    assert SalesOrder.objects.count() == 1
    # the create, stamped as the update, applies the same state again: nothing changes
    second = InboundEvent.objects.order_by("-pk").first()
    assert second is not None and second.status == InboundStatus.PROCESSED
    assert second.outcome.endswith("nothing to change.")


def test_changed_lines_in_an_update_are_named_not_applied(
    shopify: ShopConnection, deliver: Any
) -> None:
    deliver(shopify, shopify_order())
    edited = shopify_order(updated_at="2026-12-01T10:00:00-05:00")
    edited["line_items"][1]["quantity"] = 5
    deliver(shopify, edited, topic="orders/updated")
    event = InboundEvent.objects.order_by("-pk").first()
    assert event is not None and event.status == InboundStatus.PROCESSED
    assert "lines differ" in event.outcome
    assert SalesOrder.objects.get().lines.get(product__sku="CHAIR").ordered == 2


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email": "a" * 250 + "@example.com"}, "longer than 254"),
        ({"financial_status": "bartered"}, "Unknown financial_status"),
        ({"updated_at": "yesterday"}, "not an ISO 8601"),
        ({"id": None}, "no id"),
    ],
    ids=["long-email", "financial-status", "updated-at", "no-id"],
)
def test_a_body_off_the_documented_shape_fails_with_its_reason(
    shopify: ShopConnection, deliver: Any, change: dict[str, Any], reason: str
) -> None:
    assert deliver(shopify, shopify_order(**change)).status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.FAILED
    assert reason in event.error
    assert not SalesOrder.objects.exists()


def test_the_sweep_processes_what_a_lost_publish_left_behind(
    shopify: ShopConnection,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given a delivery stored while the broker was down (its publish failed)
    def broker_down(event_id: int) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.process_inbound_event, "delay", broker_down)
    raw = json.dumps(shopify_order()).encode()
    with django_capture_on_commit_callbacks(execute=True) as published:
        event, created = inbound_event_receive(
            connection=shopify,
            topic="orders/create",
            delivery_id="wh-lost",
            event_id="",
            dedup_key="wh-lost",
            body=raw,
        )
    assert len(published) == 1  # it was tried, and the error did not escape
    event.refresh_from_db()
    assert created and event.status == InboundStatus.RECEIVED
    monkeypatch.undo()
    # when the beat's sweep runs, later
    assert inbound_events_sweep(now=timezone.now()) == 0  # too fresh: a task may be on it
    assert inbound_events_sweep(now=timezone.now() + dt.timedelta(minutes=3)) == 1
    # then it was processed
    event.refresh_from_db()
    assert event.status == InboundStatus.PROCESSED, event.error
    assert SalesOrder.objects.count() == 1


def test_an_unexpected_error_fails_the_event_to_be_seen(
    shopify: ShopConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = json.dumps(shopify_order()).encode()
    event, _created = inbound_event_receive(
        connection=shopify,
        topic="orders/create",
        delivery_id="wh-boom",
        event_id="",
        dedup_key="wh-boom",
        body=raw,
    )

    def boom(**kwargs: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(hooks_services, "storefront_order_place", boom)
    assert tasks.process_inbound_event.delay(event.pk).get() == "failed"
    event.refresh_from_db()
    assert event.status == InboundStatus.FAILED
    assert event.error == "Unexpected error: RuntimeError: disk on fire"
    assert not SalesOrder.objects.exists()
