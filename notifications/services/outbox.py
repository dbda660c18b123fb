"""The outbox: write a customer message with the change that caused it, send it
after commit, exactly once in every case but one.

How a message travels
---------------------
1. `notification_enqueue` renders the message and writes the row inside the
   caller's transaction (one row per `dedup_key`, ever). After commit it
   publishes `send_notification(id)`; a publish that fails (broker down) is
   logged and left to the sweep, it never fails the caller's request.
2. `notification_send` is the status machine: pending → sending → sent/failed.
   It *claims* the row with one conditional UPDATE (status pending, not_before
   passed); a second task for the same row, a duplicate publish or a redelivered
   message claims nothing and returns the current status. Only the claimant
   talks to SMTP; success marks it sent, a temporary SMTP or socket error puts
   it back to pending (the task retries with backoff), a permanent one (5xx) or
   the last retry marks it failed.
3. `notifications_sweep` (the beat task, every minute) publishes pending rows
   nobody is working on — a combine window that has passed, a publish lost
   while the broker was down, a retry lost with a killed worker — and re-claims
   rows left in "sending" by a worker that died mid-send.

Exactly once, and the one exception
-----------------------------------
The claim makes everything before the SMTP exchange exactly-once: duplicate
tasks, redeliveries, retries and sweeps never send a row twice. The exception
is the gap between the SMTP server answering 250 (accepted) and our UPDATE to
"sent": a worker killed (or a database lost) right there leaves a delivered
message in "sending", and after NOTIFICATION_SENDING_STALE_SECONDS the sweep
sends it again. No protocol closes that gap — SMTP has no "did you already
take message X?" question, and the mark cannot happen before the send without
losing messages instead — so delivery is at-least-once at the SMTP boundary.
We narrow it: the window is a few milliseconds per message; the Message-ID is
derived from the dedup key, so a resend carries the same Message-ID and
receivers that dedupe on it (most large mailbox providers, many MTAs) drop it;
and a message the server never acknowledged (killed before 250) is not a
duplicate at all.

The context of a message
------------------------
Plain JSON values (dates and Decimals are stored as strings); every key optional:
- `lines`: [{"product": name, "sku": …, "quantity": int, "promised_date": date,
  "old_promised_date": date or None, "estimate": bool}] — what the message is about
  (backordered, moved, ready, shipped or cancelled units);
- `promised_date`: the order's ship-by date; defaults to the latest line's;
- `discount`: {"code", "percent", "expires_on"} (`discount_context(code)`);
- `tracking_number` (shipped), `refund_due` (cancelled);
- `keep_waiting_url`, `cancel_url`: the customer's signed links;
- `note`, `agent_name`, `subject` (personal_note); with `purpose` "discount"
  the note carries `discount`, with "substitute" it names `substitute_for` (the
  product replaced) and the alternative in `lines` (the delays page)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications import tasks
from notifications.models import (
    TRANSACTIONAL_KINDS,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from notifications.services.rendering import json_safe, notification_render
from orders.models import Customer, SalesOrder

logger = logging.getLogger(__name__)


def notification_enqueue(
    *,
    kind: str,
    customer: Customer,
    order: SalesOrder | None,
    context: Mapping[str, Any],
    dedup_key: str,
    not_before: dt.datetime | None = None,
) -> Notification | None:
    """Write a message to the customer in the caller's transaction; send it after commit.

    Returns None, writing nothing, when the customer opted out of update emails
    and `kind` is not transactional (TRANSACTIONAL_KINDS). Returns the existing
    row when `dedup_key` was used before — never a second row, even when two
    transactions race for the same key. With `not_before` in the future nothing
    is published: the sweep sends it once the time has passed.
    """
    kind = NotificationKind(kind)
    if customer.email_opt_out and kind not in TRANSACTIONAL_KINDS:
        return None
    existing = Notification.objects.filter(dedup_key=dedup_key).first()
    if existing is not None:
        return existing
    stored_context = json_safe(context)
    subject, text, html = notification_render(
        kind=kind, customer=customer, order=order, context=stored_context
    )
    now = timezone.now()
    publish_now = not_before is None or not_before <= now
    # get_or_create retries the read inside a savepoint when a concurrent
    # transaction committed the same key first: the caller's transaction lives on.
    notification, created = Notification.objects.get_or_create(
        dedup_key=dedup_key,
        defaults={
            "kind": kind,
            "customer": customer,
            "order": order,
            "language": customer.language,
            "to_email": customer.email,
            "subject": subject,
            "body_text": text,
            "body_html": html,
            "context": stored_context,
            "not_before": not_before,
            "dispatched_at": now if publish_now else None,
            "created_at": now,
        },
    )
    if created and publish_now:
        notification_id = notification.pk
        transaction.on_commit(lambda: _publish(notification_id))
    return notification


def _publish(notification_id: int) -> bool:
    """Publish the send task; on failure leave the row to the sweep.

    Not `send_notification.delay_on_commit`: that raises a broker error into
    the caller *after* its transaction committed, turning a saved change into
    an error page. The row is safe in the database; the sweep sends it.
    """
    try:
        tasks.send_notification.delay(notification_id)
    except Exception:
        logger.warning(
            "Could not publish notification %s; the sweep will send it.",
            notification_id,
            exc_info=True,
        )
        # The sweep picks it up on its next run instead of after the grace.
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
            dispatched_at=None
        )
        return False
    return True


SWEEP_BATCH = 2000


def notifications_sweep(*, now: dt.datetime | None = None) -> int:
    """Publish a send task for every due pending row nobody is working on; return the count.

    Due: not_before passed (or none). Nobody working on it: no task published
    and no claim for NOTIFICATION_REPUBLISH_AFTER_SECONDS (longer than the
    retry backoff, so a scheduled retry is never raced), or never published
    (a combine window, a failed publish). Rows in "sending" for longer than
    NOTIFICATION_SENDING_STALE_SECONDS were left by a worker that died mid-send:
    they go back to pending and are published too — the one place a message
    can go out twice (see the module's docs).
    """
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.NOTIFICATION_SENDING_STALE_SECONDS)
    republish = now - dt.timedelta(seconds=settings.NOTIFICATION_REPUBLISH_AFTER_SECONDS)
    with transaction.atomic():
        reclaimed = Notification.objects.filter(
            Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stale),
            status=NotificationStatus.SENDING,
        ).update(
            status=NotificationStatus.PENDING,
            dispatched_at=None,
            last_error="The worker sending it stopped; sent again by the sweep.",
        )
        if reclaimed:
            logger.warning("Re-claimed %s notifications stuck in sending.", reclaimed)
        ids = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(status=NotificationStatus.PENDING)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=republish))
            .order_by("pk")
            .values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        Notification.objects.filter(pk__in=ids).update(dispatched_at=now)
    published = 0
    for notification_id in ids:
        if not _publish(notification_id):
            # The broker is down: the rest stay undispatched for the next run.
            Notification.objects.filter(
                pk__in=ids, status=NotificationStatus.PENDING, dispatched_at=now
            ).update(dispatched_at=None)
            break
        published += 1
    return published


def notification_resend(*, notification_ids: Iterable[int], by: User | None = None) -> int:
    """Put failed messages back in the outbox and send them again (admin action)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update()
            .filter(pk__in=list(notification_ids), status=NotificationStatus.FAILED)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.PENDING, dispatched_at=now, not_before=None
        )
        for notification_id in ids:
            transaction.on_commit(lambda pk=notification_id: _publish(pk))  # type: ignore[misc]
    if ids:
        logger.info("%s put %s failed notifications back to send.", by or "system", len(ids))
    return len(ids)
