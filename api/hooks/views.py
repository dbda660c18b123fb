"""POST /hooks/shopify/<key>/ and /hooks/woocommerce/<key>/: the platforms'
order webhooks. The signature is checked on the raw body before anything is
parsed; a verified delivery is stored and answered 200 at once, and a task
processes it (api.hooks.services). Forged or unsigned → 401, only counted."""

from __future__ import annotations

import hashlib
import re

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from api.hooks.mapping import SHOPIFY_ORDER_TOPICS, WOOCOMMERCE_ORDER_TOPICS
from api.hooks.services import inbound_event_receive, shop_connection_reject
from api.hooks.signing import signature_valid
from api.models import Platform, ShopConnection

WOOCOMMERCE_PING = re.compile(rb"\Awebhook_id=\d+\Z")


def _answer(status: int, body: dict[str, object]) -> JsonResponse:
    response = JsonResponse(body, status=status)
    patch_cache_control(response, private=True, no_store=True)
    return response


def _connection(platform: str, key: str) -> ShopConnection | None:
    return ShopConnection.objects.filter(platform=platform, key=key).first()


def _raw_body(request: HttpRequest) -> bytes | None:
    try:
        return request.body
    except RequestDataTooBig:
        return None


def _rejected(connection: ShopConnection) -> JsonResponse:
    shop_connection_reject(connection=connection)
    return _answer(401, {"error": "The signature does not match this connection's secret."})


@csrf_exempt
@require_POST
def shopify_hook(request: HttpRequest, key: str) -> JsonResponse:
    """A Shopify order webhook (orders/create, orders/updated, orders/cancelled)."""
    connection = _connection(Platform.SHOPIFY, key)
    if connection is None:
        return _answer(404, {"error": "No Shopify connection has this URL."})
    body = _raw_body(request)
    if body is None:
        return _answer(413, {"error": "The body is too large."})
    signature = request.headers.get("X-Shopify-Hmac-Sha256")
    if not connection.active or not signature_valid(
        secret=connection.secret, body=body, signature=signature
    ):
        return _rejected(connection)
    topic = request.headers.get("X-Shopify-Topic", "")
    if topic not in SHOPIFY_ORDER_TOPICS:
        # Signed, but not an order topic this app takes: no retry is wanted either.
        return _answer(200, {"status": "ignored", "detail": f"Topic {topic!r} is not taken."})
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "").strip()
    if not webhook_id:
        return _answer(400, {"error": "X-Shopify-Webhook-Id is missing."})
    event, created = inbound_event_receive(
        connection=connection,
        topic=topic,
        delivery_id=webhook_id,
        event_id=request.headers.get("X-Shopify-Event-Id", "").strip(),
        dedup_key=webhook_id,
        body=body,
    )
    return _answer(200, {"status": "received" if created else "duplicate", "event": event.pk})


@csrf_exempt
@require_POST
def woocommerce_hook(request: HttpRequest, key: str) -> JsonResponse:
    """A WooCommerce order webhook (order.created, order.updated), or its ping."""
    connection = _connection(Platform.WOOCOMMERCE, key)
    if connection is None:
        return _answer(404, {"error": "No WooCommerce connection has this URL."})
    body = _raw_body(request)
    if body is None:
        return _answer(413, {"error": "The body is too large."})
    topic = request.headers.get("X-WC-Webhook-Topic", "")
    if not topic and WOOCOMMERCE_PING.match(body.strip()):
        # WooCommerce's test ping when a webhook is saved: unsigned, no topic,
        # body "webhook_id=N". It must get a 200 or the webhook is not saved.
        return _answer(200, {"status": "pong"})
    signature = request.headers.get("X-WC-Webhook-Signature")
    if not connection.active or not signature_valid(
        secret=connection.secret, body=body, signature=signature
    ):
        return _rejected(connection)
    if topic not in WOOCOMMERCE_ORDER_TOPICS:
        return _answer(200, {"status": "ignored", "detail": f"Topic {topic!r} is not taken."})
    delivery_id = request.headers.get("X-WC-Webhook-Delivery-ID", "").strip()
    if not delivery_id:
        return _answer(400, {"error": "X-WC-Webhook-Delivery-ID is missing."})
    # WooCommerce's delivery id is a hash of the webhook's id and the current
    # second: two orders changed in one second share it. With the body's hash
    # a redelivery is still one event, and they are two.
    dedup_key = f"{delivery_id}:{hashlib.sha256(body).hexdigest()}"
    event, created = inbound_event_receive(
        connection=connection,
        topic=topic,
        delivery_id=delivery_id,
        event_id="",
        dedup_key=dedup_key,
        body=body,
    )
    return _answer(200, {"status": "received" if created else "duplicate", "event": event.pk})
