"""Delivery for real: a Celery worker on Redis sending into an aiosmtpd SMTP sink.

Each test counts what the sink accepted by Message-ID (derived from the dedup
key) and asserts every message arrived exactly once. Runs on PostgreSQL: the
worker process must see the rows the test commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from notifications.models import Notification, NotificationKind, NotificationStatus
from notifications.services.outbox import notification_enqueue, notifications_sweep
from tests.factories import CustomerFactory, SalesOrderFactory
from tests.notifications.conftest import SmtpSink, Workers, point_publisher_at, wait_for

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


def enqueue_many(count: int, *, prefix: str) -> list[Notification]:
    """`count` messages to a few customers, written in one transaction."""
    orders = [
        SalesOrderFactory.create(customer=CustomerFactory.create(language=language))
        for language in ["en", "id", "nl"]
    ]
    notifications = []
    with transaction.atomic():
        for i in range(count):
            order = orders[i % len(orders)]
            notification = notification_enqueue(
                kind=NotificationKind.SHIPPED,
                customer=order.customer,
                order=order,
                context={
                    "tracking_number": f"TRK{i:05d}",
                    "lines": [{"product": "Kettle", "quantity": 1}],
                },
                dedup_key=f"{prefix}:{order.number}:{i}",
            )
            assert notification is not None
            notifications.append(notification)
    return notifications


def all_sent(count: int) -> Callable[[], bool]:
    return lambda: Notification.objects.filter(status=NotificationStatus.SENT).count() == count


def assert_each_arrived_once(sink: SmtpSink, notifications: list[Notification]) -> None:
    received = sink.message_ids()
    assert sink.duplicates() == {}
    assert sorted(received) == sorted(n.message_id for n in notifications)


def test_200_messages_arrive_exactly_once(
    smtp_sink: SmtpSink, notification_workers: Workers
) -> None:
    # given one worker
    notification_workers.start()
    # when 200 messages are committed (their tasks are published on commit)
    notifications = enqueue_many(200, prefix="bulk")
    # then all arrive
    wait_for(all_sent(200), timeout=60, message="200 messages sent")
    assert_each_arrived_once(smtp_sink, notifications)
    assert not Notification.objects.exclude(attempts=1).exists()
    # a figure, not an assertion: one solo worker, one SMTP connection per message
    print(f"\none worker delivered {smtp_sink.rate():.0f} messages/s into the SMTP sink")


def test_temporary_smtp_failures_are_retried_and_arrive_once(
    smtp_sink: SmtpSink, notification_workers: Workers
) -> None:
    # given an SMTP server answering the next 45 messages with 451
    smtp_sink.fail_next(45)
    notification_workers.start()
    # when 30 messages are sent
    notifications = enqueue_many(30, prefix="greylisted")
    # then every one arrives, after retries with backoff, once
    wait_for(all_sent(30), timeout=60, message="30 messages sent after retries")
    assert smtp_sink.handler.refused == 45
    assert_each_arrived_once(smtp_sink, notifications)
    retried = Notification.objects.filter(attempts__gt=1).count()
    assert retried == 30  # the first 30 tries all failed
    assert Notification.objects.filter(attempts__gt=1).exclude(last_error="").count() == 0


def test_a_worker_killed_mid_send_loses_nothing_and_sends_nothing_twice(
    smtp_sink: SmtpSink, notification_workers: Workers, settings: Any
) -> None:
    # The beat sweep, run here in the test process, with short thresholds.
    settings.NOTIFICATION_SENDING_STALE_SECONDS = 3
    settings.NOTIFICATION_REPUBLISH_AFTER_SECONDS = 3
    # given a worker that will be inside an SMTP exchange at message 41: the
    # sink has its DATA but holds back the "250 accepted"
    smtp_sink.hold_when_received(40)
    worker = notification_workers.start()
    notifications = enqueue_many(100, prefix="killed")
    wait_for(smtp_sink.handler.holding.is_set, timeout=30, message="the sink holding message 41")
    [in_flight] = Notification.objects.filter(status=NotificationStatus.SENDING)
    # when the worker is SIGKILLed there, and a new one starts
    notification_workers.kill(worker)
    smtp_sink.release()  # answers a dead connection: the message was never accepted
    notification_workers.start()

    # then the queue drains, and the sweep re-claims the row the dead worker
    # left in "sending" (its task message stays unacknowledged in Redis until
    # the visibility timeout, an hour away)
    def drained() -> bool:
        notifications_sweep()
        return all_sent(100)()

    wait_for(drained, timeout=60, message="all 100 sent after the kill")
    assert_each_arrived_once(smtp_sink, notifications)
    in_flight.refresh_from_db()
    assert in_flight.attempts == 2
    # Honest limit: the worker was killed before the sink said "250", so the
    # message had not been accepted and sending it again is no duplicate. A
    # kill in the millisecond between "250" and the UPDATE to "sent" would
    # resend it (at-least-once at the SMTP boundary, services.py), with the
    # same Message-ID for receivers to drop; this test does not aim there.


def test_a_broker_outage_loses_nothing(
    smtp_sink: SmtpSink, notification_workers: Workers, private_redis: Any
) -> None:
    # given a worker and this process on a Redis of the test's own
    point_publisher_at(private_redis.url)
    notification_workers.broker_url = private_redis.url
    notification_workers.start()
    # when the broker goes down and messages are written meanwhile
    private_redis.stop()
    notifications = enqueue_many(10, prefix="outage")
    # then the rows are there, waiting, publishing failed quietly
    assert (
        Notification.objects.filter(
            status=NotificationStatus.PENDING, dispatched_at__isnull=True
        ).count()
        == 10
    )
    assert smtp_sink.message_ids() == []
    # when the broker is back and the sweep runs
    private_redis.start()
    from config.celery import app as celery_app

    wait_for(
        lambda: celery_app.control.ping(timeout=0.5),
        timeout=30,
        message="the worker reconnecting to the restarted broker",
    )
    assert notifications_sweep() == 10
    # then every message arrives, once
    wait_for(all_sent(10), timeout=30, message="10 messages sent after the outage")
    assert_each_arrived_once(smtp_sink, notifications)
