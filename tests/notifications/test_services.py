"""The outbox services: rendering, enqueueing, the send status machine, the sweep.

In-process (eager Celery, locmem email); delivery through a real worker and a
real SMTP server is in test_delivery.py.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Iterator
from decimal import Decimal
from email import message_from_bytes
from typing import Any, ClassVar

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from notifications.models import (
    TRANSACTIONAL_KINDS,
    CompensationPolicy,
    DiscountCode,
    Notification,
    NotificationKind,
    NotificationStatus,
    message_id_for,
)
from notifications.services.delivery import notification_send
from notifications.services.discounts import (
    CODE_ALPHABET,
    discount_code_generate,
    discount_code_issue,
    discount_context,
)
from notifications.services.outbox import (
    notification_enqueue,
    notification_resend,
    notifications_sweep,
)
from notifications.services.rendering import notification_render
from notifications.tasks import send_notification, send_pending_notifications
from orders.models import Customer, SalesOrder
from tests.factories import CustomerFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

CONTEXT: dict[str, Any] = {
    "lines": [
        {
            "product": "Kettle <Blue> & Co",
            "sku": "KET-1",
            "quantity": 2,
            "promised_date": dt.date(2031, 3, 14),
            "old_promised_date": dt.date(2031, 3, 1),
            "estimate": False,
        }
    ],
    "discount": {
        "code": "SORRY-7KQ2-M9XD",
        "percent": Decimal("12.50"),
        "expires_on": dt.date(2031, 5, 1),
    },
    "tracking_number": "TRACK-42",
    "refund_due": Decimal("39.80"),
    "charged": True,  # a paid order: the cancellation is a refund (test_payment_truth.py)
    "keep_waiting_url": "https://shop.test/keep/abc?x=1&y=2",
    "cancel_url": "https://shop.test/cancel/abc",
    "note": "Your kettle is on the next truck.",
    "agent_name": "Sari",
    "substitute_for": "Enamel Kettle",
}

# What each kind must say, per language: (subject fragment, body fragments).
EXPECTED: dict[str, dict[str, tuple[str, list[str]]]] = {
    "en": {
        "backorder_confirmed": ("ships by 14 March 2031", ["reserved your place", "Keep waiting"]),
        "promise_later": ("delayed", ["sorry", "1 March 2031", "14 March 2031"]),
        "promise_later_discount": ("12.5% off", ["SORRY-7KQ2-M9XD", "12.5%", "1 May 2031"]),
        "promise_earlier": ("Good news", ["sooner than expected", "14 March 2031"]),
        "ready_to_ship": ("ready to ship", ["reserved for you"]),
        "shipped": ("has shipped", ["TRACK-42"]),
        "cancelled": ("cancelled", ["EUR 39.80"]),
        "personal_note": ("A message about your order", ["next truck", "Sari"]),
        "promise_update": ("an update, ships by 14 March 2031", ["stand", "Keep waiting"]),
        "substituted": ("we replaced Enamel Kettle", ["Instead of Enamel Kettle", "14 March 2031"]),
    },
    "id": {
        "backorder_confirmed": (
            "dikirim paling lambat 14 Maret 2031",
            ["antrean", "Tetap menunggu"],
        ),
        "promise_later": ("terlambat", ["Mohon maaf", "1 Maret 2031", "14 Maret 2031"]),
        "promise_later_discount": ("potongan 12,5%", ["SORRY-7KQ2-M9XD", "1 Mei 2031"]),
        "promise_earlier": ("Kabar baik", ["lebih cepat", "14 Maret 2031"]),
        "ready_to_ship": ("siap dikirim", ["disiapkan khusus untuk Anda"]),
        "shipped": ("telah dikirim", ["Nomor resi", "TRACK-42"]),
        "cancelled": ("dibatalkan", ["EUR 39,80"]),
        "personal_note": ("Pesan tentang pesanan Anda", ["next truck", "Sari"]),
        "promise_update": ("paling lambat 14 Maret 2031", ["kabar terbaru", "Tetap menunggu"]),
        "substituted": ("mengganti Enamel Kettle", ["Sebagai ganti Enamel", "14 Maret 2031"]),
    },
    "nl": {
        "backorder_confirmed": ("uiterlijk 14 maart 2031", ["wachtrij", "Blijven wachten"]),
        "promise_later": ("vertraagd", ["excuses", "1 maart 2031", "14 maart 2031"]),
        "promise_later_discount": ("12,5% korting", ["SORRY-7KQ2-M9XD", "1 mei 2031"]),
        "promise_earlier": ("Goed nieuws", ["eerder", "14 maart 2031"]),
        "ready_to_ship": ("klaar voor verzending", ["voor u gereserveerd"]),
        "shipped": ("is verzonden", ["Trackingcode", "TRACK-42"]),
        "cancelled": ("geannuleerd", ["EUR 39,80"]),
        "personal_note": ("Een bericht over uw bestelling", ["next truck", "Sari"]),
        "promise_update": ("uiterlijk 14 maart 2031", ["Zo staat het", "Blijven wachten"]),
        "substituted": ("Enamel Kettle vervangen", ["In plaats van Enamel", "14 maart 2031"]),
    },
}


@pytest.fixture
def order() -> SalesOrder:
    return SalesOrderFactory.create(
        number="SO-000777", customer=CustomerFactory.create(name="Ann O'Neil")
    )


def enqueue(order: SalesOrder, key: str = "k1", **overrides: Any) -> Notification | None:
    arguments: dict[str, Any] = {
        "kind": NotificationKind.PROMISE_LATER,
        "customer": order.customer,
        "order": order,
        "context": CONTEXT,
        "dedup_key": key,
        **overrides,
    }
    return notification_enqueue(**arguments)


# --- rendering -------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "id", "nl"])
@pytest.mark.parametrize("kind", NotificationKind.values)
def test_every_kind_renders_in_every_language(order: SalesOrder, language: str, kind: str) -> None:
    # given a customer writing in `language`
    order.customer.language = language
    subject_fragment, body_fragments = EXPECTED[language][kind]
    # when
    subject, text, html = notification_render(
        kind=kind, customer=order.customer, order=order, context=CONTEXT
    )
    # then the subject is one line with the order number, the bodies say it all
    assert "\n" not in subject
    assert subject_fragment in subject
    if kind != "personal_note" or "order" in subject_fragment.lower() or language != "en":
        assert "SO-000777" in subject
    for fragment in body_fragments:
        assert fragment in text
    assert "Backorder Desk Demo Shop" in text
    assert "Ann O'Neil" in text  # plain text is not HTML-escaped
    assert html.startswith("<!DOCTYPE html>")
    assert f'lang="{language}"' in html
    assert "Ann O&#x27;Neil" in html  # … and HTML is
    if kind in {"promise_later", "promise_later_discount", "promise_earlier", "cancelled"}:
        assert "Kettle &lt;Blue&gt; &amp; Co" in html
        assert "Kettle <Blue> & Co" in text
    if kind in {"backorder_confirmed", "promise_later", "promise_earlier"}:
        assert 'href="https://shop.test/keep/abc?x=1&amp;y=2"' in html
        assert "https://shop.test/cancel/abc" in text


def test_links_and_discount_are_left_out_when_absent(order: SalesOrder) -> None:
    context = {"lines": CONTEXT["lines"]}
    _subject, text, html = notification_render(
        kind="promise_later", customer=order.customer, order=order, context=context
    )
    assert "Keep waiting" not in text
    assert "href=" not in html


def test_a_personal_note_without_an_order_names_the_shop(order: SalesOrder) -> None:
    subject, text, _html = notification_render(
        kind="personal_note", customer=order.customer, order=None, context={"note": "Hello!"}
    )
    assert subject == "A message from Backorder Desk Demo Shop"
    assert "Hello!" in text


# --- enqueue ---------------------------------------------------------------


def test_enqueue_writes_the_rendered_row_and_sends_after_commit(
    order: SalesOrder, django_capture_on_commit_callbacks: Any
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = enqueue(order)
        assert mail.outbox == []  # nothing is sent inside the transaction
    # then
    assert notification is not None
    assert len(callbacks) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 1
    assert notification.to_email == order.customer.email
    assert notification.language == "en"
    assert notification.context["lines"][0]["promised_date"] == "2031-03-14"
    assert notification.context["refund_due"] == "39.80"
    [sent] = mail.outbox
    assert sent.subject == notification.subject
    assert sent.body == notification.body_text
    assert isinstance(sent, EmailMultiAlternatives)
    assert sent.alternatives[0][0] == notification.body_html
    assert sent.extra_headers["Message-ID"] == message_id_for("k1")


def test_the_same_dedup_key_never_writes_a_second_row(
    order: SalesOrder, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = enqueue(order, key="slip:SO-000777:1")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = enqueue(order, key="slip:SO-000777:1", kind=NotificationKind.PROMISE_EARLIER)
    assert again == first
    assert callbacks == []
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("kind", NotificationKind.values)
def test_opt_out_suppresses_updates_but_not_transactional_mail(
    order: SalesOrder, kind: str, django_capture_on_commit_callbacks: Any
) -> None:
    Customer.objects.filter(pk=order.customer.pk).update(email_opt_out=True)
    order.customer.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        notification = enqueue(order, kind=kind)
    if kind in TRANSACTIONAL_KINDS:
        assert notification is not None
        assert len(mail.outbox) == 1
    else:
        assert notification is None
        assert Notification.objects.count() == 0
        assert mail.outbox == []


def test_a_combined_message_waits_for_its_window(
    order: SalesOrder, django_capture_on_commit_callbacks: Any
) -> None:
    # given a message combined over a window that ends in 30 minutes
    not_before = timezone.now() + dt.timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = enqueue(order, not_before=not_before)
    assert notification is not None
    assert callbacks == []  # nothing published
    # a stray task does not send it early either
    assert notification_send(notification_id=notification.pk) == NotificationStatus.PENDING
    assert notifications_sweep() == 0
    # when the window has passed, the sweep sends it
    Notification.objects.filter(pk=notification.pk).update(
        not_before=timezone.now() - dt.timedelta(seconds=1)
    )
    assert notifications_sweep() == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert len(mail.outbox) == 1


def test_a_failed_publish_leaves_the_row_to_the_sweep(
    order: SalesOrder, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a broker that refuses the publish
    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(send_notification, "delay", broker_down)
    # when the caller's transaction commits, nothing is raised into it
    with django_capture_on_commit_callbacks(execute=True):
        notification = enqueue(order)
    # then the row waits, marked as not dispatched, for the sweep
    assert notification is not None
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert notification.dispatched_at is None
    monkeypatch.undo()
    assert notifications_sweep() == 1
    assert len(mail.outbox) == 1


# --- the status machine ----------------------------------------------------


class FlakyBackend(LocmemBackend):
    """Refuses the first `failures` sends with a temporary (or permanent) error."""

    failures: ClassVar[int] = 0
    code: ClassVar[int] = 451
    calls: ClassVar[int] = 0

    def send_messages(self, messages: Any) -> int:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            raise smtplib.SMTPDataError(type(self).code, b"try again later")
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings: Any) -> Iterator[type[FlakyBackend]]:
    from config.celery import app as celery_app

    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.code, FlakyBackend.calls = 0, 451, 0
    # Eager mode that propagates errors raises a task's Retry instead of
    # running the retry: let the eager retries run, as a worker would.
    previous = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield FlakyBackend
    celery_app.conf.task_eager_propagates = previous


def pending(order: SalesOrder, key: str = "k1") -> Notification:
    """A pending row whose task was not run (no on-commit callbacks here)."""
    notification = enqueue(order, key=key)
    assert notification is not None
    return notification


def test_a_second_send_is_a_no_op(order: SalesOrder) -> None:
    notification = pending(order)
    assert notification_send(notification_id=notification.pk) == "sent"
    assert notification_send(notification_id=notification.pk) == "sent"
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert notification.sent_at is not None
    assert len(mail.outbox) == 1


def test_a_row_being_sent_elsewhere_is_left_alone(order: SalesOrder) -> None:
    notification = pending(order)
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.SENDING)
    assert notification_send(notification_id=notification.pk) == "sending"
    assert mail.outbox == []
    assert notification_send(notification_id=10**9) == "missing"


def test_a_temporary_failure_goes_back_to_pending_and_raises(
    order: SalesOrder, flaky: type[FlakyBackend]
) -> None:
    flaky.failures = 1
    notification = pending(order)
    with pytest.raises(smtplib.SMTPDataError):
        notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert "451" in notification.last_error
    # the retry sends it
    assert notification_send(notification_id=notification.pk) == "sent"
    notification.refresh_from_db()
    assert (notification.attempts, notification.last_error) == (2, "")


def test_the_task_retries_after_failures_then_sends_once(
    order: SalesOrder, flaky: type[FlakyBackend]
) -> None:
    flaky.failures = 3
    notification = pending(order)
    assert send_notification.delay(notification.pk).get() == "sent"
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.attempts == 4
    assert len(mail.outbox) == 1


def test_the_last_retry_marks_the_row_failed(order: SalesOrder, flaky: type[FlakyBackend]) -> None:
    flaky.failures = 100
    notification = pending(order)
    result = send_notification.delay(notification.pk)
    assert result.failed()
    assert isinstance(result.result, smtplib.SMTPDataError)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
    assert notification.attempts == 1 + send_notification.max_retries  # type: ignore[operator]
    assert "451" in notification.last_error
    assert mail.outbox == []
    # and nothing sends a failed row by accident
    assert notification_send(notification_id=notification.pk) == "failed"


def test_a_permanent_refusal_fails_at_once(order: SalesOrder, flaky: type[FlakyBackend]) -> None:
    flaky.failures, flaky.code = 100, 550
    notification = pending(order)
    assert send_notification.delay(notification.pk).get() == "failed"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.FAILED, 1)


def test_resend_puts_failed_rows_back(
    order: SalesOrder, flaky: type[FlakyBackend], django_capture_on_commit_callbacks: Any
) -> None:
    notification = pending(order)
    Notification.objects.filter(pk=notification.pk).update(status=NotificationStatus.FAILED)
    sent = pending(order, key="k2")
    with django_capture_on_commit_callbacks(execute=True):
        count = notification_resend(notification_ids=[notification.pk, sent.pk])
    assert count == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT


def test_the_message_id_quotes_the_dedup_key_one_to_one() -> None:
    assert message_id_for("slip:SO-1/3") == "<slip=3ASO-1=2F3@backorder-desk.test>"
    assert message_id_for("a=3A") != message_id_for("a:")


# --- the sweep -------------------------------------------------------------


def test_the_sweep_sends_what_nobody_works_on(order: SalesOrder, settings: Any) -> None:
    settings.NOTIFICATION_REPUBLISH_AFTER_SECONDS = 60
    settings.NOTIFICATION_SENDING_STALE_SECONDS = 600
    now = timezone.now()
    rows = {key: pending(order, key=key) for key in ["lost", "fresh", "retrying", "window"]}
    rows |= {key: pending(order, key=key) for key in ["stale", "busy", "sent", "failed"]}

    def set_row(key: str, **fields: Any) -> None:
        Notification.objects.filter(pk=rows[key].pk).update(**fields)

    set_row("lost", dispatched_at=None)  # its publish failed
    set_row("fresh", dispatched_at=now)  # its task is on the way
    set_row("retrying", dispatched_at=now - dt.timedelta(seconds=30), attempts=2)
    set_row("window", not_before=now + dt.timedelta(minutes=5), dispatched_at=None)
    set_row("stale", status="sending", dispatched_at=now - dt.timedelta(minutes=11))
    set_row("busy", status="sending", dispatched_at=now - dt.timedelta(minutes=1))
    set_row("sent", status="sent")
    set_row("failed", status="failed")
    # when
    published = send_pending_notifications.delay().get()
    # then the lost publish and the dead worker's row are sent, nothing else
    assert published == 2
    statuses = dict(Notification.objects.values_list("dedup_key", "status"))
    assert statuses == {
        "lost": "sent",
        "fresh": "pending",
        "retrying": "pending",
        "window": "pending",
        "stale": "sent",
        "busy": "sending",
        "sent": "sent",
        "failed": "failed",
    }
    assert len(mail.outbox) == 2
    # a second sweep finds nothing new
    assert notifications_sweep() == 0


def test_the_sweep_is_in_the_beat_schedule() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["send-pending-notifications"]
    assert entry["task"] == send_pending_notifications.name
    assert entry["schedule"] == dt.timedelta(minutes=1)


# --- policy and discount codes ---------------------------------------------


def test_the_policy_is_one_row_with_defaults() -> None:
    policy = CompensationPolicy.current()
    assert CompensationPolicy.current().pk == policy.pk == 1
    assert (policy.apology_after_days, policy.discount_after_days) == (1, 7)
    assert (policy.discount_after_slips, policy.discount_percent) == (3, Decimal("10"))
    assert policy.one_discount_per_order and policy.send_good_news
    assert (policy.combine_window_minutes, policy.discount_valid_days) == (30, 60)
    policy.discount_percent = Decimal("15")
    policy.save()
    assert policy.history.count() == 2


def test_discount_codes_are_readable_and_unique(order: SalesOrder) -> None:
    code = discount_code_generate()
    prefix, first, second = code.split("-")
    assert prefix == "SORRY" and len(first) == len(second) == 4
    assert set(first + second) <= set(CODE_ALPHABET)
    issued = discount_code_issue(customer=order.customer, order=order, reason="slipped 8 days")
    assert issued.percent == Decimal("10")
    assert issued.expires_on == timezone.localdate() + dt.timedelta(days=60)
    assert issued.issued_by is None
    context = discount_context(issued)
    assert context["code"] == issued.code
    assert DiscountCode.objects.count() == 1


def test_raw_email_carries_text_html_and_the_message_id(order: SalesOrder) -> None:
    notification = pending(order, key="shipped:SO-000777:1")
    notification_send(notification_id=notification.pk)
    [sent] = mail.outbox
    raw = message_from_bytes(sent.message().as_bytes())
    assert raw["Message-ID"] == "<shipped=3ASO-000777=3A1@backorder-desk.test>"
    assert raw.get_content_type() == "multipart/alternative"


# --- the substitute and discount emails, in every language ---------------------------


EMAILS = {
    "en": ("we replaced Chair", "Instead of Chair", "off your next order with the code"),
    "nl": ("we hebben Chair vervangen", "In plaats van Chair", "korting op uw volgende bestelling"),
    "id": ("kami mengganti Chair", "Sebagai ganti Chair", "potongan 10% untuk pesanan Anda"),
}


@pytest.mark.parametrize("language", ["en", "nl", "id"])
def test_the_substitute_and_discount_emails_render_in_every_language(language: str) -> None:
    from notifications.services.rendering import notification_render

    customer = CustomerFactory.create(language=language)
    order = SalesOrderFactory.create(customer=customer)
    subject_words, body_words, discount_words = EMAILS[language]
    line = {"product": "Black chair", "sku": "B", "quantity": 2, "promised_date": "2031-03-14"}
    subject, text, html = notification_render(
        kind="personal_note",
        customer=customer,
        order=order,
        context={"purpose": "substitute", "substitute_for": "Chair", "lines": [line]},
    )
    assert subject_words in subject and order.number in subject
    assert body_words in text and "Black chair" in text and "2031" in text
    assert "Black chair" in html
    discount = {"code": "SORRY-AAAA-BBBB", "percent": "10.00", "expires_on": "2031-05-01"}
    subject, text, html = notification_render(
        kind="personal_note",
        customer=customer,
        order=order,
        context={"purpose": "discount", "discount": discount, "note": "Sorry!"},
    )
    assert "10%" in subject and order.number in subject
    assert discount_words in text and "SORRY-AAAA-BBBB" in text and "Sorry!" in text
    assert "<strong" in html and "SORRY-AAAA-BBBB" in html
