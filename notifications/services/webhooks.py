"""Outbound webhooks: the events a shop's storefront can show, delivered like emails.

How an event travels
--------------------
1. `webhook_events_write` (called by `telling_customers`, the one place where
   an orders use case's changes become messages) turns what the use case
   recorded — an order placed with backordered lines, promises moved, lines
   made ready, a shipment, cancellations — into events, and writes one
   `WebhookDelivery` row per active subscription of the order's channel that
   asked for the event's type. Inside the caller's transaction: the rows
   commit or roll back with the change. A row is unique per (subscription,
   event id), so an event is never delivered twice to one subscription.
2. After commit `send_webhook_delivery(id)` is published; a publish that fails
   (broker down) leaves the row to the sweep and never fails the caller.
3. `webhook_delivery_send` claims the row (pending and due → sending, one
   conditional UPDATE), POSTs the JSON body signed with the subscription's
   secret, and marks it delivered on a 2xx answer. Anything else (an error
   status, a timeout, a refused connection) puts it back to pending with the
   next attempt after an exponential backoff with jitter, and publishes the
   retry; after WEBHOOK_MAX_ATTEMPTS tries it is failed (the deliveries page
   can send it again).
4. `webhook_deliveries_sweep` (beat, every minute) publishes pending rows that
   are due and that nobody works on, and re-claims rows a dead worker left in
   "sending".

The request: `POST <url>` with `Content-Type: application/json`, signed per
Standard Webhooks (standardwebhooks.com): `webhook-id: <event id>.<subscription
id>` (the same on every retry), `webhook-timestamp: <unix seconds>` and
`webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`,
keyed with the subscription's secret (a `whsec_…` secret is the base64 of the
key, as the standard writes it; any other secret is used as UTF-8 bytes).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from notifications import tasks
from notifications.models import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
    WebhookSubscription,
)
from notifications.services.rendering import json_safe
from notifications.services.webhook_refunds import refund_events
from orders.models import Cancellation, OrderLine, SalesOrder, Shipment
from orders.services import recording

logger = logging.getLogger(__name__)


# --- writing events ---------------------------------------------------------


def webhook_events_write(
    *, recorded: recording.RecordedChanges, now: dt.datetime | None = None
) -> list[WebhookDelivery]:
    """Write the deliveries for everything a use case recorded (caller's transaction)."""
    if not (
        recorded.orders_placed
        or recorded.shipments
        or recorded.cancellations
        or recorded.allocations
        or recorded.refunds_due
        or recorded.refunds_recorded
        or any(not change.is_first and change.days_moved for change in recorded.promises)
    ):
        return []
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    if not subscriptions:
        return []
    now = now or timezone.now()
    events = [
        *_backordered_events(recorded.orders_placed),
        *_promise_changed_events(recorded.promises),
        *_ready_events(recorded.allocations),
        *_shipped_events(recorded.shipments),
        *_cancelled_events(recorded.cancellations),
        *refund_events(due=recorded.refunds_due, recorded=recorded.refunds_recorded),
    ]
    written: list[WebhookDelivery] = []
    for event_id, event_type, order, data in events:
        written += _event_write(
            subscriptions=subscriptions,
            event_id=event_id,
            event_type=event_type,
            order=order,
            data=data,
            now=now,
        )
    return written


def _event_write(
    *,
    subscriptions: Sequence[WebhookSubscription],
    event_id: str,
    event_type: str,
    order: SalesOrder,
    data: Mapping[str, Any],
    now: dt.datetime,
) -> list[WebhookDelivery]:
    matching = [
        subscription
        for subscription in subscriptions
        if subscription.channel == order.channel and event_type in (subscription.event_types or [])
    ]
    if not matching:
        return []
    payload = json_safe(
        {
            "id": event_id,
            "type": event_type,
            "created_at": now.isoformat(),
            "order": {
                "number": order.number,
                "external_id": order.external_reference or None,
                "channel": order.channel,
            },
            **data,
        }
    )
    rows = [
        WebhookDelivery(
            subscription=subscription,
            event_id=event_id,
            event_type=event_type,
            order=order,
            payload=payload,
            next_attempt_at=now,
            dispatched_at=now,
            created_at=now,
        )
        for subscription in matching
    ]
    # One row per (subscription, event id), ever: an event written twice is
    # written once.
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    written = list(
        WebhookDelivery.objects.filter(
            event_id=event_id, subscription__in=matching, created_at=now
        ).order_by("pk")
    )
    for delivery in written:
        delivery_id = delivery.pk
        transaction.on_commit(lambda pk=delivery_id: _publish(pk))  # type: ignore[misc]
    return written


Event = tuple[str, str, SalesOrder, dict[str, Any]]


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _backordered_events(order_ids: Iterable[int]) -> list[Event]:
    events: list[Event] = []
    for order in SalesOrder.objects.filter(pk__in=list(order_ids)).order_by("pk"):
        lines = [
            {
                "line_id": line.pk,
                "sku": line.product.sku,
                "backordered": line.backordered,
                "promised_date": line.promised_date,
                "estimate": line.promise_is_estimate,
            }
            for line in order.lines.select_related("product").order_by("pk")
            if line.backordered
        ]
        if lines:
            events.append(
                (f"backordered-{order.pk}", WebhookEventType.BACKORDERED, order, {"lines": lines})
            )
    return events


def _promise_changed_events(changes: Sequence[recording.PromiseChange]) -> list[Event]:
    moved = [change for change in changes if not change.is_first and change.days_moved]
    if not moved:
        return []
    # Several recomputes in one use case: per line, the first old date and the last new one.
    first: dict[int, recording.PromiseChange] = {}
    last: dict[int, recording.PromiseChange] = {}
    for change in moved:
        first.setdefault(change.line_id, change)
        last[change.line_id] = change
    lines = OrderLine.objects.select_related("product", "order").in_bulk(list(last))
    by_order: dict[int, list[dict[str, Any]]] = defaultdict(list)
    orders: dict[int, SalesOrder] = {}
    for line_id, change in sorted(last.items()):
        if first[line_id].old_date == change.new_date:
            continue  # moved back where it was
        line = lines[line_id]
        orders[line.order_id] = line.order
        by_order[line.order_id].append(
            {
                "line_id": line_id,
                "sku": line.product.sku,
                "backordered": line.backordered,
                "old_promised_date": first[line_id].old_date,
                "promised_date": change.new_date,
                "estimate": change.new_is_estimate,
            }
        )
    return [
        (_new_id("promise"), WebhookEventType.PROMISE_CHANGED, orders[order_id], {"lines": items})
        for order_id, items in sorted(by_order.items())
    ]


def _ready_events(allocations: Sequence[recording.Allocation]) -> list[Event]:
    ready = sorted({a.line_id for a in allocations if a.ready_to_ship})
    if not ready:
        return []
    by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(pk__in=ready).select_related("product", "order"):
        by_order[line.order_id].append(line)
    return [
        (
            _new_id("ready"),
            WebhookEventType.READY,
            lines[0].order,
            {
                "lines": [
                    {"line_id": line.pk, "sku": line.product.sku, "quantity": line.allocated}
                    for line in sorted(lines, key=lambda line: line.pk)
                ]
            },
        )
        for _order_id, lines in sorted(by_order.items())
    ]


def _shipped_events(shipment_ids: Iterable[int]) -> list[Event]:
    events: list[Event] = []
    shipments = Shipment.objects.filter(pk__in=list(shipment_ids)).select_related("order")
    for shipment in shipments.order_by("pk"):
        lines = [
            {
                "line_id": item.order_line_id,
                "sku": item.order_line.product.sku,
                "quantity": item.quantity,
            }
            for item in shipment.lines.select_related("order_line__product").order_by("pk")
        ]
        events.append(
            (
                f"shipped-{shipment.pk}",
                WebhookEventType.SHIPPED,
                shipment.order,
                {"tracking_number": shipment.tracking_number, "lines": lines},
            )
        )
    return events


def _cancelled_events(cancellation_ids: Iterable[int]) -> list[Event]:
    by_order: dict[int, list[Cancellation]] = defaultdict(list)
    items = Cancellation.objects.filter(pk__in=list(cancellation_ids)).select_related(
        "order_line__product", "order_line__order"
    )
    for item in items.order_by("pk"):
        by_order[item.order_line.order_id].append(item)
    return [
        (
            _new_id("cancelled"),
            WebhookEventType.CANCELLED,
            cancellations[0].order_line.order,
            {
                "lines": [
                    {
                        "line_id": item.order_line_id,
                        "sku": item.order_line.product.sku,
                        "quantity": item.quantity,
                        "refund_due": item.refund_due,
                    }
                    for item in cancellations
                ],
                "currency": cancellations[0].order_line.order.currency,
            },
        )
        for _order_id, cancellations in sorted(by_order.items())
    ]


def _publish(delivery_id: int, *, countdown: float | None = None) -> bool:
    """Publish the send task; on failure leave the row to the sweep."""
    try:
        if countdown:
            tasks.send_webhook_delivery.apply_async((delivery_id,), countdown=countdown)
        else:
            tasks.send_webhook_delivery.delay(delivery_id)
    except Exception:
        logger.warning(
            "Could not publish webhook delivery %s; the sweep will send it.",
            delivery_id,
            exc_info=True,
        )
        WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDeliveryStatus.PENDING).update(
            dispatched_at=None
        )
        return False
    return True


# --- sending ----------------------------------------------------------------


def webhook_signing_key(secret: str) -> bytes:
    """The HMAC key of a subscription's secret: Standard Webhooks' `whsec_<base64>`
    decoded, else the secret's UTF-8 bytes."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            pass
    return secret.encode()


def webhook_signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: `v1,` and the base64 HMAC-SHA256 of
    `<id>.<timestamp>.<body>` (Standard Webhooks)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(webhook_signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer that is not 2xx: the body is not posted anywhere else."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


class DeliveryRefused(Exception):
    """The receiver answered, but not with a 2xx status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _post(delivery: WebhookDelivery) -> int:
    body = webhook_body(delivery)
    timestamp = int(time.time())
    url = delivery.subscription.url
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"Not an http(s) URL: {url}")
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "BackorderDesk-Webhooks/1",
            "webhook-id": delivery.delivery_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": webhook_signature(
                secret=delivery.subscription.secret,
                message_id=delivery.delivery_id,
                timestamp=timestamp,
                body=body,
            ),
        },
    )
    try:
        with _opener.open(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        raise DeliveryRefused(error.code, f"HTTP {error.code} {error.reason}") from error
    if not 200 <= status < 300:
        raise DeliveryRefused(status, f"HTTP {status}")
    return status


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` tries: exponential, capped,
    with jitter (half fixed, half random) so failed deliveries do not come back together."""
    ceiling = min(
        settings.WEBHOOK_RETRY_BACKOFF_MAX,
        settings.WEBHOOK_RETRY_BACKOFF * 2 ** max(attempts - 1, 0),
    )
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def webhook_delivery_send(*, delivery_id: int, now: dt.datetime | None = None) -> str:
    """POST one delivery if it is due and nobody else is sending it; return its status."""
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(status=WebhookDeliveryStatus.SENDING, attempts=F("attempts") + 1, dispatched_at=now)
    if not claimed:
        current = (
            WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first()
        )
        return current or "missing"
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    mine = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDeliveryStatus.SENDING, attempts=delivery.attempts
    )
    try:
        answered = _post(delivery)
    except Exception as error:
        code = error.status if isinstance(error, DeliveryRefused) else None
        message = f"{type(error).__name__}: {error}"[:2000]
        if delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
            mine.update(
                status=WebhookDeliveryStatus.FAILED, last_error=message, response_status=code
            )
            logger.warning("Webhook delivery %s failed for good: %s", delivery_id, message)
            return WebhookDeliveryStatus.FAILED
        delay = retry_delay(delivery.attempts)
        updated = mine.update(
            status=WebhookDeliveryStatus.PENDING,
            last_error=message,
            response_status=code,
            next_attempt_at=now + dt.timedelta(seconds=delay),
            dispatched_at=timezone.now(),
        )
        if updated:
            _publish(delivery_id, countdown=delay)
        return WebhookDeliveryStatus.PENDING
    WebhookDelivery.objects.filter(
        pk=delivery_id,
        status__in=[WebhookDeliveryStatus.SENDING, WebhookDeliveryStatus.PENDING],
    ).update(
        status=WebhookDeliveryStatus.DELIVERED,
        delivered_at=timezone.now(),
        last_error="",
        response_status=answered,
    )
    return WebhookDeliveryStatus.DELIVERED


SWEEP_BATCH = 1000


def webhook_deliveries_sweep(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Publish every due pending delivery nobody works on (at most `limit`); return how many.

    Re-claims rows left in "sending" for WEBHOOK_SENDING_STALE_SECONDS (a worker
    that died mid-POST: the receiver may get that one twice and can dedupe on
    webhook-id)."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.WEBHOOK_SENDING_STALE_SECONDS)
    republish = now - dt.timedelta(seconds=settings.WEBHOOK_REPUBLISH_AFTER_SECONDS)
    with transaction.atomic():
        WebhookDelivery.objects.filter(
            Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stale),
            status=WebhookDeliveryStatus.SENDING,
        ).update(
            status=WebhookDeliveryStatus.PENDING,
            dispatched_at=None,
            last_error="The worker sending it stopped; sent again by the sweep.",
        )
        ids = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(
                Q(dispatched_at__isnull=True)
                | Q(dispatched_at__lte=republish)
                | Q(dispatched_at__lt=F("next_attempt_at"))
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=ids).update(dispatched_at=now)
    published = 0
    for delivery_id in ids:
        if not _publish(delivery_id):
            WebhookDelivery.objects.filter(
                pk__in=ids, status=WebhookDeliveryStatus.PENDING, dispatched_at=now
            ).update(dispatched_at=None)
            break
        published += 1
    return published


def webhook_delivery_retry(*, delivery_id: int, by: User | None = None) -> bool:
    """Send a failed delivery again (the deliveries page); False if it is not failed."""
    now = timezone.now()
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(
            pk=delivery_id, status=WebhookDeliveryStatus.FAILED
        ).update(
            status=WebhookDeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            dispatched_at=now,
        )
        if updated:
            transaction.on_commit(lambda: _publish(delivery_id))
    if updated:
        logger.info("%s sent webhook delivery %s again.", by or "system", delivery_id)
    return bool(updated)


def webhook_subscription_create(
    *, url: str, secret: str, channel: str, event_types: Sequence[str] | None = None
) -> WebhookSubscription:
    """A subscription, validated as the admin validates it (ValidationError on bad input)."""
    subscription = WebhookSubscription(
        url=url,
        secret=secret,
        channel=channel,
        event_types=list(event_types) if event_types else list(WebhookEventType.values),
    )
    subscription.full_clean()
    subscription.save()
    return subscription
