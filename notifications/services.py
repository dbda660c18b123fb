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
  product replaced) and the alternative in `lines` (the delays page).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import secrets
import smtplib
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template import Context, Engine
from django.template.loader import select_template
from django.utils import timezone, translation

from notifications.models import (
    TRANSACTIONAL_KINDS,
    CompensationPolicy,
    DiscountCode,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from orders.models import Customer, Language, SalesOrder

logger = logging.getLogger(__name__)

TEMPLATE_DIR = "notifications/email"
FALLBACK_LANGUAGE = Language.ENGLISH
# Errors worth another try: the SMTP server said "later" or the network failed.
# smtplib.SMTPException and ConnectionError are both OSErrors.
DELIVERY_ERRORS: tuple[type[BaseException], ...] = (smtplib.SMTPException, OSError)


# --- rendering -------------------------------------------------------------


@cache
def _text_engine() -> Engine:
    """The project's template folders without HTML autoescaping, for subjects
    and plain-text bodies (an apostrophe in a product name stays one)."""
    templates = cast(list[dict[str, Any]], settings.TEMPLATES)
    dirs = [str(d) for template in templates for d in template.get("DIRS", [])]
    return Engine(dirs=dirs, app_dirs=True, autoescape=False)


def _json_safe(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as it is stored: dates as ISO strings, Decimals as strings."""
    return json.loads(json.dumps(dict(context), cls=DjangoJSONEncoder))


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _percent(value: Any) -> Decimal | None:
    """10.00 → 10, 12.50 → 12.5: how a person writes a percentage (the template
    localizes the decimal mark)."""
    amount = _as_decimal(value)
    if amount is None:
        return None
    integral = amount.to_integral_value()
    return integral if amount == integral else amount.normalize()


def _template_context(
    *, customer: Customer, order: SalesOrder | None, context: Mapping[str, Any]
) -> dict[str, Any]:
    """What the templates see: the stored context with dates and money typed,
    so `|date` and number formatting follow the customer's language."""
    lines = []
    for line in context.get("lines") or []:
        lines.append(
            {
                **line,
                "promised_date": _as_date(line.get("promised_date")),
                "old_promised_date": _as_date(line.get("old_promised_date")),
                "estimate": bool(line.get("estimate")),
            }
        )
    promised = [line["promised_date"] for line in lines if line["promised_date"]]
    discount = context.get("discount") or None
    if discount:
        discount = {
            **discount,
            "percent": _percent(discount.get("percent")),
            "expires_on": _as_date(discount.get("expires_on")),
        }
    return {
        **context,
        "shop_name": settings.SHOP_NAME,
        "currency": settings.NOTIFICATION_CURRENCY,
        "customer_name": customer.name,
        "order_number": order.number if order else context.get("order_number", ""),
        "lines": lines,
        "promised_date": _as_date(context.get("promised_date"))
        or (max(promised) if promised else None),
        "has_estimate": any(line["estimate"] for line in lines),
        "discount": discount,
        "refund_due": _as_decimal(context.get("refund_due")),
    }


def notification_render(
    *,
    kind: str,
    customer: Customer,
    order: SalesOrder | None,
    context: Mapping[str, Any],
) -> tuple[str, str, str]:
    """Render (subject, text body, HTML body) of `kind` in the customer's language.

    Templates: `templates/notifications/email/<language>/<kind>.subject.txt`,
    `.txt` and `.html`; English when the language has none. The context is
    what `notification_enqueue` stores (JSON); the keys are listed in the
    module's docs under "The context of a message".
    """
    kind = NotificationKind(kind)
    language = customer.language or FALLBACK_LANGUAGE
    names = [f"{TEMPLATE_DIR}/{lang}/{kind}" for lang in dict.fromkeys([language, "en"])]
    data = _template_context(customer=customer, order=order, context=_json_safe(context))
    with translation.override(language):
        text_engine = _text_engine()
        subject: str = text_engine.select_template([f"{n}.subject.txt" for n in names]).render(
            _engine_context(data)
        )
        text: str = text_engine.select_template([f"{n}.txt" for n in names]).render(
            _engine_context(data)
        )
        html = select_template([f"{n}.html" for n in names]).render(data)
    # One line, whatever the template's whitespace: a header cannot break.
    one_line = " ".join(subject.split())[:255]
    return one_line, _tidy_text(text), str(html).strip() + "\n"


def _engine_context(data: dict[str, Any]) -> Context:
    return Context(data, autoescape=False)


def _tidy_text(text: str) -> str:
    """Template tags leave blank runs; a plain-text email keeps at most one."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if not line and tidy and not tidy[-1]:
            continue
        tidy.append(line)
    return "\n".join(tidy) + "\n"


# --- writing ---------------------------------------------------------------


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
    stored_context = _json_safe(context)
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
    from notifications.tasks import send_notification

    try:
        send_notification.delay(notification_id)
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


# --- sending ---------------------------------------------------------------


def notification_send(*, notification_id: int, final_attempt: bool = False) -> str:
    """Send one outbox row if it is due and nobody else is sending it; return its status.

    Idempotent: a row that is sent, failed, being sent by another worker, or not
    due yet is left alone and its status returned. A temporary SMTP or socket
    error puts the row back to pending with the error and is re-raised for the
    task to retry; with `final_attempt` (the task's last retry) or a permanent
    SMTP error (5xx) the row is marked failed instead.
    """
    now = timezone.now()
    # The claim: one UPDATE, so of two workers holding the same id only one
    # gets a row back. Runs in autocommit, so the "sending" mark is visible
    # to every other worker before the first byte goes to SMTP.
    claimed = (
        Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .update(status=NotificationStatus.SENDING, attempts=F("attempts") + 1, dispatched_at=now)
    )
    if not claimed:
        status = (
            Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first()
        )
        return status or "missing"
    notification = Notification.objects.get(pk=notification_id)
    mine = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.SENDING, attempts=notification.attempts
    )
    try:
        _deliver(notification)
    except DELIVERY_ERRORS as error:
        permanent = _is_permanent(error)
        mine.update(
            status=NotificationStatus.FAILED
            if permanent or final_attempt
            else NotificationStatus.PENDING,
            last_error=_describe(error),
        )
        if permanent:
            logger.warning("Notification %s refused for good: %s", notification_id, error)
            return NotificationStatus.FAILED
        raise
    except Exception as error:
        # Not a delivery problem (a bad header, a bug): retrying will not help.
        mine.update(status=NotificationStatus.FAILED, last_error=_describe(error))
        raise
    # Sent is sent: also when the sweep meanwhile put a slow send back to pending.
    Notification.objects.filter(
        pk=notification_id,
        status__in=[NotificationStatus.SENDING, NotificationStatus.PENDING],
    ).update(status=NotificationStatus.SENT, sent_at=timezone.now(), last_error="")
    return NotificationStatus.SENT


def _deliver(notification: Notification) -> None:
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.to_email],
        headers={"Message-ID": notification.message_id},
    )
    message.attach_alternative(notification.body_html, "text/html")
    _smtp_send(message)


SMTP_IDLE_SECONDS = 20.0
"""A held SMTP connection idle longer than this is closed and opened anew
rather than reused (servers drop idle clients after a minute or more)."""


def _is_stale_connection(error: BaseException) -> bool:
    """What using a connection the server has closed raises: a disconnect, a
    reset, or 421 (the server closing the channel, as on an idle timeout).
    Not a refusal or a timeout: those go to the task's retries."""
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code == 421
    return isinstance(
        error, (smtplib.SMTPServerDisconnected, ConnectionResetError, BrokenPipeError)
    )


_held = threading.local()


@dataclass
class _HeldConnection:
    key: tuple[object, ...]
    backend: BaseEmailBackend
    last_used: float


def _email_settings_key() -> tuple[object, ...]:
    return (
        settings.EMAIL_BACKEND,
        getattr(settings, "EMAIL_HOST", None),
        getattr(settings, "EMAIL_PORT", None),
        getattr(settings, "EMAIL_HOST_USER", None),
        getattr(settings, "EMAIL_USE_TLS", None),
        getattr(settings, "EMAIL_USE_SSL", None),
        getattr(settings, "EMAIL_TIMEOUT", None),
    )


def _smtp_send(message: EmailMultiAlternatives) -> None:
    """Send one message, over an SMTP connection this thread keeps open.

    Opening a connection (TCP, the greeting, EHLO, maybe STARTTLS and AUTH)
    costs more than sending a message over it, so a worker holds its
    connection between messages: the first send opens it, later ones reuse
    it while it has been idle less than SMTP_IDLE_SECONDS and the email
    settings are unchanged. After any error the connection is closed, so a
    session in an unknown state is never reused; a held connection that the
    server closed meanwhile (`_is_stale_connection`) is replaced by a new one
    at once, one time. Other backends (console, locmem, tests' doubles) get a new backend
    per message, as Django's `send()` does.
    """
    key = _email_settings_key()
    held: _HeldConnection | None = getattr(_held, "connection", None)
    if held is not None and (
        held.key != key or time.monotonic() - held.last_used > SMTP_IDLE_SECONDS
    ):
        _smtp_drop()
        held = None
    reused = held is not None
    if held is None:
        backend = get_connection(fail_silently=False)
        if not isinstance(backend, SmtpEmailBackend):
            message.connection = backend
            message.send(fail_silently=False)
            return
        backend.open()
        held = _HeldConnection(key=key, backend=backend, last_used=time.monotonic())
        _held.connection = held
    message.connection = held.backend
    try:
        held.backend.send_messages([message])
    except DELIVERY_ERRORS as error:
        _smtp_drop()
        if not (reused and _is_stale_connection(error)):
            raise
        _smtp_send(message)  # the server closed the held connection: once more, fresh
        return
    except BaseException:
        _smtp_drop()
        raise
    held.last_used = time.monotonic()


def _smtp_drop() -> None:
    """Close and forget this thread's held SMTP connection, if any."""
    held: _HeldConnection | None = getattr(_held, "connection", None)
    _held.connection = None
    if held is not None:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            held.backend.close()


def _is_permanent(error: BaseException) -> bool:
    """A 5xx answer: the server will refuse the same message again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def notification_mark_failed(*, notification_id: int, error: BaseException | str) -> bool:
    """Give up on a pending row (the task ran out of retries); False if it is not pending."""
    message = error if isinstance(error, str) else _describe(error)
    return bool(
        Notification.objects.filter(
            pk=notification_id,
            status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING],
        ).update(status=NotificationStatus.FAILED, last_error=message)
    )


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


# --- discount codes --------------------------------------------------------

# No 0/O, 1/I/L: a code read out on the phone is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def discount_code_generate(prefix: str = "SORRY") -> str:
    """A random, readable code like SORRY-7KQ2-M9XD (31⁸ ≈ 8.5·10¹¹ codes)."""
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(2))
    return "-".join([prefix, *groups])


@transaction.atomic
def discount_code_issue(
    *,
    customer: Customer,
    order: SalesOrder | None,
    reason: str,
    percent: Decimal | None = None,
    valid_days: int | None = None,
    by: User | None = None,
) -> DiscountCode:
    """Issue a discount code to a customer; policy defaults for percent and validity.

    Whether a discount is due (thresholds, one per order) is the caller's
    decision under `CompensationPolicy`; this only writes the code. `by` is
    None when the system issues it under the policy.
    """
    policy = CompensationPolicy.current()
    percent = policy.discount_percent if percent is None else percent
    days = policy.discount_valid_days if valid_days is None else valid_days
    author = by if by is not None and by.is_authenticated else None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return DiscountCode.objects.create(
                    code=discount_code_generate(),
                    customer=customer,
                    order=order,
                    percent=percent,
                    reason=reason[:255],
                    expires_on=timezone.localdate() + dt.timedelta(days=days),
                    issued_by=author,
                )
        except IntegrityError:
            continue  # a code collision: draw again
    raise RuntimeError("Could not draw an unused discount code.")


def discount_context(code: DiscountCode) -> dict[str, Any]:
    """The `discount` entry of a notification context for `code`."""
    return {"code": code.code, "percent": code.percent, "expires_on": code.expires_on}
