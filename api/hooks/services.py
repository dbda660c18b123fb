"""Shop connections and their inbound events: made, received (stored before
anything is parsed), processed through the storefront's intake, retried.

Processing is idempotent: one order per (connection, shop order id), kept in
ShopOrder with the shop's `updated_at` of the last state applied; an older one
is ignored (an equal one is applied again: it changes nothing). A body that
cannot be applied fails the event with the reason and changes nothing."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from api import tasks
from api.hooks.mapping import MappingError, ShopOrderDocument, order_document
from api.models import (
    InboundEvent,
    InboundStatus,
    ShopConnection,
    ShopOrder,
    SkuMapping,
)
from api.services import (
    LinesRefused,
    StorefrontLine,
    UnknownWarehouse,
    storefront_order_cancel,
    storefront_order_place,
)
from inventory.models import Warehouse
from notifications import updates
from orders.models import Channel, SalesOrder
from orders.services.cancelling import NothingToCancel
from orders.services.payments import order_payment_set

logger = logging.getLogger(__name__)

# A received event no task has finished this long after it came in is published
# again by the sweep (a publish lost with the broker, a worker that died).
SWEEP_AFTER = dt.timedelta(minutes=2)


@transaction.atomic
def shop_connection_create(
    *,
    platform: str,
    domain: str,
    secret: str,
    channel: str,
    warehouse_code: str | None = None,
    sku_mapping: str = SkuMapping.EXACT,
) -> ShopConnection:
    """A shop's connection; its webhook URL path is `connection.webhook_path`.

    Raises ValidationError naming the field (unknown platform, channel or
    warehouse, an empty secret, a shop already connected)."""
    warehouse = None
    if warehouse_code:
        warehouse = Warehouse.objects.filter(code=warehouse_code).first()
        if warehouse is None:
            raise ValidationError({"warehouse": f"No warehouse has the code {warehouse_code!r}."})
    if channel not in Channel.values:
        raise ValidationError(
            {"channel": f"Unknown channel {channel!r}: one of {', '.join(Channel.values)}."}
        )
    connection = ShopConnection(
        platform=platform,
        domain=domain.strip().lower(),
        secret=secret.strip(),
        channel=channel,
        warehouse=warehouse,
        sku_mapping=sku_mapping,
    )
    connection.full_clean()
    connection.save()
    return connection


def shop_connection_reject(*, connection: ShopConnection) -> None:
    """Count a forged, unsigned or refused delivery; nothing else is kept."""
    ShopConnection.objects.filter(pk=connection.pk).update(
        rejected_deliveries=F("rejected_deliveries") + 1, last_rejected_at=timezone.now()
    )


def inbound_event_receive(
    *,
    connection: ShopConnection,
    topic: str,
    delivery_id: str,
    event_id: str,
    dedup_key: str,
    body: bytes,
) -> tuple[InboundEvent, bool]:
    """Store a verified delivery as it came and publish its processing after
    commit; (event, True). A delivery already stored: (that event, False)."""
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                connection=connection,
                topic=topic[:64],
                delivery_id=delivery_id[:128],
                event_id=event_id[:128],
                dedup_key=dedup_key[:200],
                raw_body=body.decode("utf-8", errors="replace").replace("\x00", "\ufffd"),
                received_at=timezone.now(),
            )
            event_pk = event.pk
            transaction.on_commit(lambda: _publish(event_pk))
    except IntegrityError:
        same = Q(dedup_key=dedup_key[:200])
        if event_id:
            same |= Q(topic=topic[:64], event_id=event_id[:128])
        existing = InboundEvent.objects.filter(same, connection=connection).first()
        if existing is None:
            raise
        return existing, False
    return event, True


def _publish(event_id: int) -> None:
    """Publish the processing task; a broker that is down leaves it to the sweep."""
    try:
        tasks.process_inbound_event.delay(event_id)
    except Exception:
        logger.warning(
            "Could not publish inbound event %s; the sweep will process it.",
            event_id,
            exc_info=True,
        )


def inbound_event_process(*, event_id: int) -> InboundEvent:
    """Apply a received (or retried) event: place the shop's order, or bring the
    order placed from it up to date (payment status, a cancellation).

    Processed and ignored events are left as they are. Two events of one new
    shop order processed at once: the second finds the first's order and is an update.
    """
    for attempt in range(2):
        try:
            return _process(event_id)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def _process(event_id: int) -> InboundEvent:
    event = (
        InboundEvent.objects.select_for_update(of=("self",))
        .select_related("connection__warehouse")
        .get(pk=event_id)
    )
    if event.status in (InboundStatus.PROCESSED, InboundStatus.IGNORED):
        return event
    event.attempts += 1
    event.processed_at = timezone.now()
    connection = event.connection
    try:
        document = order_document(
            platform=connection.platform,
            topic=event.topic,
            raw_body=event.raw_body,
            sku_mapping=connection.sku_mapping,
        )
        event.shop_order_id = document.shop_order_id
        with transaction.atomic():
            status, outcome, order = _apply(connection=connection, document=document)
    except (MappingError, LinesRefused, UnknownWarehouse) as error:
        event.status = InboundStatus.FAILED
        event.error = _reason(error)[:2000]
        event.outcome = ""
    else:
        event.status, event.outcome, event.order, event.error = status, outcome[:255], order, ""
    event.save()
    return event


def _reason(error: Exception) -> str:
    if isinstance(error, UnknownWarehouse):
        return "The connection's warehouse does not exist; choose another in the admin."
    return str(error)


def _external_reference(connection: ShopConnection, document: ShopOrderDocument) -> str:
    # Unique on the channel even when two shops of one platform share it.
    return f"{connection.platform}:{connection.pk}:{document.shop_order_id}"


def _apply(
    *, connection: ShopConnection, document: ShopOrderDocument
) -> tuple[str, str, SalesOrder | None]:
    shop_order = (
        ShopOrder.objects.select_for_update(of=("self",))
        .select_related("order")
        .filter(connection=connection, shop_order_id=document.shop_order_id)
        .first()
    )
    if shop_order is None:
        if document.cancelled:
            return InboundStatus.IGNORED, "Cancelled in the shop before it was placed here.", None
        try:
            order = storefront_order_place(
                channel=connection.channel,
                external_id=_external_reference(connection, document),
                placed_at=document.placed_at,
                customer_email=document.email,
                customer_name=document.customer_name,
                customer_language=document.language,
                customer_tier=None,
                lines=[
                    StorefrontLine(line.sku, line.quantity, line.unit_price)
                    for line in document.lines
                ],
                warehouse_code=connection.warehouse.code if connection.warehouse else None,
                payment_status=document.payment.status,
                amount_paid=document.payment.amount_paid,
                amount_refunded=document.payment.amount_refunded,
                currency=document.payment.currency,
            )
        except ValidationError as error:
            if "external_reference" in getattr(error, "message_dict", {}):
                # Another event of this shop order placed it first: run again as an update.
                raise IntegrityError(str(error)) from error
            raise MappingError("; ".join(error.messages)) from error
        ShopOrder.objects.create(
            connection=connection,
            shop_order_id=document.shop_order_id,
            shop_order_name=document.shop_order_name,
            order=order,
            shop_updated_at=document.updated_at,
        )
        return InboundStatus.PROCESSED, f"Placed as {order.number}.", order
    order = shop_order.order
    # Strictly older only: the shops stamp to the second, and two changes in one
    # second must not lose the second one. Applying a state again changes nothing.
    if document.updated_at < shop_order.shop_updated_at:
        return (
            InboundStatus.IGNORED,
            f"Stale: the shop's update of {document.updated_at.isoformat()} is older than "
            f"the one applied ({shop_order.shop_updated_at.isoformat()}).",
            order,
        )
    done = []
    # Payment first: a cancellation's email speaks of the money as it is now.
    payment = document.payment
    refunded_before = order.amount_refunded
    if order_payment_set(
        order=order,
        payment_status=payment.status,
        amount_paid=payment.amount_paid,
        amount_refunded=payment.amount_refunded,
        currency=payment.currency,
        by=None,
    ):
        done.append(
            f"payment now {payment.status} (paid {payment.amount_paid}, "
            f"refunded {payment.amount_refunded})"
        )
    if payment.amount_refunded > refunded_before:
        # Refunded in the shop's admin: the refunds owed here that it covers are settled.
        settled = updates.refunds_settle_from_shop(
            order=order,
            refunded=payment.amount_refunded - refunded_before,
            reference=f"{connection.get_platform_display()} refund",
        )
        if settled:
            done.append(f"{len(settled)} refund(s) owed marked refunded by the shop")
    if document.cancelled:
        reason = "Cancelled in the shop" + (
            f" ({document.cancel_reason})" if document.cancel_reason else ""
        )
        try:
            storefront_order_cancel(
                channel=connection.channel, number=order.number, reason=reason, skus=None
            )
            done.append("backordered remainder cancelled")
        except NothingToCancel:
            done.append("nothing was waiting to cancel")
    if not document.cancelled and _lines_changed(order, document):
        # An order edit in the shop: lines placed here are not rewritten by a webhook.
        done.append("the shop's lines differ from the order's (not applied: edit it here)")
    if document.updated_at > shop_order.shop_updated_at:
        shop_order.shop_updated_at = document.updated_at
        shop_order.save(update_fields=["shop_updated_at"])
    summary = "; ".join(done) if done else "nothing to change"
    return InboundStatus.PROCESSED, f"Updated {order.number}: {summary}.", order


def _lines_changed(order: SalesOrder, document: ShopOrderDocument) -> bool:
    placed = dict(order.lines.values_list("product__sku", "ordered"))
    return placed != {line.sku: line.quantity for line in document.lines}


def inbound_event_fail(*, event_id: int, error: str) -> None:
    """Mark an event failed by an unexpected error, to be seen and retried."""
    InboundEvent.objects.filter(pk=event_id, status=InboundStatus.RECEIVED).update(
        status=InboundStatus.FAILED, error=error[:2000], processed_at=timezone.now()
    )


@transaction.atomic
def inbound_event_retry(*, event_id: int, by: User | None) -> bool:
    """Process a failed event again (after its mapping was fixed); False if it
    had not failed. The task is published after commit."""
    updated = InboundEvent.objects.filter(pk=event_id, status=InboundStatus.FAILED).update(
        status=InboundStatus.RECEIVED, error=""
    )
    if updated:
        logger.info("Inbound event %s retried by %s", event_id, by)
        transaction.on_commit(lambda: _publish(event_id))
    return bool(updated)


def inbound_events_sweep(*, now: dt.datetime | None = None) -> int:
    """Publish processing for events still received after SWEEP_AFTER; the count."""
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    ids = list(
        InboundEvent.objects.filter(status=InboundStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:1000]
    )
    for event_id in ids:
        _publish(event_id)
    return len(ids)
