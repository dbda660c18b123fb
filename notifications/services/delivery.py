"""Delivery: the claim on an outbox row, the SMTP exchange on a connection each
worker keeps open, and what an error means (retry later, or failed)."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpEmailBackend
from django.db.models import F, Q
from django.utils import timezone

from notifications.models import (
    Notification,
    NotificationStatus,
)

# Errors worth another try: the SMTP server said "later" or the network failed.
# smtplib.SMTPException and ConnectionError are both OSErrors.
logger = logging.getLogger(__name__)

DELIVERY_ERRORS: tuple[type[BaseException], ...] = (smtplib.SMTPException, OSError)


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
