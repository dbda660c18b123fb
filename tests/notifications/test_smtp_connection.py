"""A worker holds its SMTP connection between messages (notifications.services._smtp_send).

In-process sends into the aiosmtpd sink: the sink records the client address
of every accepted message, so the number of distinct addresses is the number
of connections that carried them.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from typing import Any

import pytest

from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.services import delivery
from notifications.services.delivery import notification_send
from notifications.services.outbox import notification_enqueue
from orders.models import SalesOrder
from tests.factories import SalesOrderFactory
from tests.notifications.conftest import SmtpSink

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings: Any, smtp_sink: SmtpSink) -> Iterator[SmtpSink]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    delivery._smtp_drop()
    yield smtp_sink
    delivery._smtp_drop()


@pytest.fixture
def order() -> SalesOrder:
    return SalesOrderFactory.create()


def pending(order: SalesOrder, count: int) -> list[Notification]:
    rows = []
    for i in range(count):
        row = notification_enqueue(
            kind=NotificationKind.SHIPPED,
            customer=order.customer,
            order=order,
            context={"tracking_number": f"T{i}", "lines": [{"product": "Kettle", "quantity": 1}]},
            dedup_key=f"smtp-connection:{order.number}:{i}",
        )
        assert row is not None
        rows.append(row)
    return rows


def send_all(rows: list[Notification]) -> list[str]:
    return [notification_send(notification_id=row.pk) for row in rows]


def test_messages_in_a_row_share_one_connection(smtp: SmtpSink, order: SalesOrder) -> None:
    rows = pending(order, 5)
    assert send_all(rows) == ["sent"] * 5
    assert sorted(smtp.message_ids()) == sorted(row.message_id for row in rows)
    assert smtp.connections() == 1


def test_an_idle_connection_is_not_reused(
    smtp: SmtpSink, order: SalesOrder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(delivery, "SMTP_IDLE_SECONDS", -1.0)
    assert send_all(pending(order, 3)) == ["sent"] * 3
    assert smtp.connections() == 3


def test_a_connection_the_server_dropped_is_replaced_and_the_message_sent_once(
    smtp: SmtpSink, order: SalesOrder
) -> None:
    first, second = pending(order, 2)
    assert send_all([first]) == ["sent"]
    smtp.restart()  # the held connection is dead now
    assert send_all([second]) == ["sent"]
    assert sorted(smtp.message_ids()) == sorted([first.message_id, second.message_id])
    assert smtp.connections() == 2
    second.refresh_from_db()
    assert (second.attempts, second.last_error) == (1, "")


def test_after_a_refusal_the_next_message_gets_a_new_connection(
    smtp: SmtpSink, order: SalesOrder
) -> None:
    first, second, third = pending(order, 3)
    assert send_all([first]) == ["sent"]
    smtp.fail_next(1)
    with pytest.raises(smtplib.SMTPDataError):
        notification_send(notification_id=second.pk)
    second.refresh_from_db()
    assert second.status == NotificationStatus.PENDING
    assert send_all([second, third]) == ["sent", "sent"]
    assert smtp.handler.refused == 1
    assert len(smtp.message_ids()) == 3
    assert smtp.connections() == 2


def test_changed_email_settings_open_a_new_connection(
    smtp: SmtpSink, order: SalesOrder, settings: Any
) -> None:
    first, second = pending(order, 2)
    assert send_all([first]) == ["sent"]
    settings.EMAIL_HOST = "localhost"  # the same sink under another name
    assert send_all([second]) == ["sent"]
    assert smtp.connections() == 2
