"""Bulk actions on the queue: the job service (chunks, progress, idempotency,
one email per customer), a lost publish, and a job run by a real Celery worker
on Redis. The views that start a job and report its progress: tests/desk/test_queue_jobs.py."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from notifications import updates
from notifications.models import (
    BulkJob,
    BulkJobKind,
    BulkJobStatus,
    CompensationPolicy,
    Notification,
    NotificationKind,
)
from notifications.updates import bulk
from orders.models import OrderLine
from orders.services import promises
from tests.conftest import Shop
from tests.conftest import place_lines as place

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
JOBS = "/queue/jobs/"


def all_lines(queue: dict[str, list[OrderLine]]) -> list[OrderLine]:
    return [line for lines in queue.values() for line in lines]


def update_messages() -> list[Notification]:
    return list(Notification.objects.filter(kind=NotificationKind.PROMISE_UPDATE).order_by("pk"))


def start(kind: str, lines: list[OrderLine], by=None, **parameters) -> BulkJob:
    return updates.bulk_job_start(
        kind=kind, line_ids=[line.pk for line in lines], parameters=parameters, by=by
    )


# --- the service ------------------------------------------------------------------


def test_notify_writes_one_email_per_customer_listing_their_lines(
    queue: dict[str, list[OrderLine]], shop: Shop
) -> None:
    # given
    job = start(BulkJobKind.NOTIFY, all_lines(queue), by=shop.clerk)
    assert (job.status, job.done, job.total) == (BulkJobStatus.PENDING, 0, 7)

    # when
    job = updates.bulk_job_run(job_id=job.pk, chunk_size=2)

    # then
    assert (job.status, job.done, job.total) == (BulkJobStatus.DONE, 7, 7)
    assert job.finished_at is not None
    assert job.outcome == {"messages": 3, "opted_out": 1, "not_waiting": 0}
    by_customer = {message.customer.name: message for message in update_messages()}
    assert sorted(by_customer) == ["Ann", "Ben", "Cai"]  # Dee opted out
    ann = by_customer["Ann"]
    assert ann.order is None  # two orders: the message is the customer's
    assert [line["sku"] for line in ann.context["lines"]] == ["LAMP", "CHAIR", "DESK"]
    assert ann.context["order_numbers"] == sorted({line.order.number for line in queue["ann"]})
    assert ann.dedup_key.startswith(f"bulk:{queue['ann'][0].order.customer_id}:")
    assert "Here is where the items you are waiting for stand in your orders" in ann.body_text
    ben = by_customer["Ben"]
    assert ben.order == queue["ben"][0].order  # one order: its links come along
    assert ben.context["keep_waiting_url"] and ben.context["cancel_url"]
    assert ben.subject.startswith(f"Your order {ben.order.number}: an update, ships by ")


def test_chunks_never_split_a_customer_and_progress_moves_per_chunk(
    queue: dict[str, list[OrderLine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job = start(BulkJobKind.NOTIFY, all_lines(queue))
    seen: list[tuple[int, list[int]]] = []
    real = bulk._bulk_notify

    def spy(*, job: BulkJob, line_ids: list[int]) -> dict[str, int]:
        seen.append((BulkJob.objects.get(pk=job.pk).done, line_ids))
        return real(job=job, line_ids=line_ids)

    monkeypatch.setattr(bulk, "_bulk_notify", spy)

    updates.bulk_job_run(job_id=job.pk, chunk_size=2)

    ann = [line.pk for line in queue["ann"]]
    # Ann's three lines go in one chunk, though a chunk is two lines
    assert any(sorted(ids) == sorted(ann) for _done, ids in seen)
    # each chunk starts where the ones before it left `done`
    sizes = [len(ids) for _done, ids in seen]
    assert [done for done, _ids in seen] == [sum(sizes[:n]) for n in range(len(seen))]
    assert len(seen) >= 3


def test_running_a_finished_job_again_sends_nothing_twice(
    queue: dict[str, list[OrderLine]],
) -> None:
    job = start(BulkJobKind.NOTIFY, all_lines(queue))
    updates.bulk_job_run(job_id=job.pk, chunk_size=2)

    # a redelivered task, and a crash that lost the progress after the sends
    updates.bulk_job_run(job_id=job.pk, chunk_size=2)
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJobStatus.RUNNING, done=0)
    again = updates.bulk_job_run(job_id=job.pk, chunk_size=2)

    assert again.status == BulkJobStatus.DONE and again.done == 7
    assert len(update_messages()) == 3


def test_a_failing_chunk_fails_the_job_keeps_what_was_done_and_a_rerun_finishes(
    queue: dict[str, list[OrderLine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the second chunk hits an error
    job = start(BulkJobKind.NOTIFY, all_lines(queue))
    real = bulk._bulk_notify
    calls = {"n": 0}

    def flaky(*, job: BulkJob, line_ids: list[int]) -> dict[str, int]:
        calls["n"] += 1
        if calls["n"] == 2:
            real(job=job, line_ids=line_ids)  # wrote its messages, then …
            raise RuntimeError("SMTP template exploded")
        return real(job=job, line_ids=line_ids)

    monkeypatch.setattr(bulk, "_bulk_notify", flaky)

    # when
    failed = updates.bulk_job_run(job_id=job.pk, chunk_size=2)

    # then: the first chunk stays done, the second rolled back entirely
    assert failed.status == BulkJobStatus.FAILED
    assert "RuntimeError: SMTP template exploded" in failed.error
    assert 0 < failed.done < failed.total
    messages_after_failure = len(update_messages())
    assert messages_after_failure == failed.outcome["messages"]

    # and a re-run (the fix deployed) finishes without emailing anyone twice
    monkeypatch.setattr(bulk, "_bulk_notify", real)
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJobStatus.RUNNING)
    finished = updates.bulk_job_run(job_id=job.pk, chunk_size=2)
    assert finished.status == BulkJobStatus.DONE and finished.done == 7
    assert sorted(m.customer.name for m in update_messages()) == ["Ann", "Ben", "Cai"]


# --- one "where you stand" per customer and state, whatever the number of jobs (#5) ----


def test_the_same_job_twice_emails_each_customer_once(
    queue: dict[str, list[OrderLine]],
) -> None:
    # given: the same bulk "email their customers", started twice
    first = start(BulkJobKind.NOTIFY, all_lines(queue))
    second = start(BulkJobKind.NOTIFY, all_lines(queue))

    # when both run
    first = updates.bulk_job_run(job_id=first.pk, chunk_size=2)
    second = updates.bulk_job_run(job_id=second.pk, chunk_size=2)

    # then each customer got one email, and the second job says why it sent none
    assert sorted(m.customer.name for m in update_messages()) == ["Ann", "Ben", "Cai"]
    assert first.outcome == {"messages": 3, "opted_out": 1, "not_waiting": 0}
    assert second.outcome == {"messages": 0, "opted_out": 1, "not_waiting": 0, "already_told": 3}


def test_a_customer_whose_lines_changed_is_told_again(
    queue: dict[str, list[OrderLine]], shop: Shop
) -> None:
    updates.bulk_job_run(job_id=start(BulkJobKind.NOTIFY, all_lines(queue)).pk)

    # one of Ben's two lines is cancelled: what he would be told is different now
    updates.order_line_cancel(line=queue["ben"][1], reason="phoned", by=shop.clerk)
    again = updates.bulk_job_run(job_id=start(BulkJobKind.NOTIFY, all_lines(queue)).pk)

    assert again.outcome == {"messages": 1, "opted_out": 1, "not_waiting": 1, "already_told": 2}
    bens = [m for m in update_messages() if m.customer.name == "Ben"]
    assert [len(m.context["lines"]) for m in bens] == [2, 1]


def test_a_customer_is_told_again_once_the_policys_window_has_passed(
    queue: dict[str, list[OrderLine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    window = dt.timedelta(minutes=CompensationPolicy.current().combine_window_minutes)
    real_now = timezone.now
    updates.bulk_job_run(job_id=start(BulkJobKind.NOTIFY, queue["cai"]).pk)

    def later(by: dt.timedelta) -> None:
        monkeypatch.setattr(timezone, "now", lambda: real_now() + by)

    later(window - dt.timedelta(seconds=5))
    inside = updates.bulk_job_run(job_id=start(BulkJobKind.NOTIFY, queue["cai"]).pk)
    later(window + dt.timedelta(seconds=1))
    after = updates.bulk_job_run(job_id=start(BulkJobKind.NOTIFY, queue["cai"]).pk)

    assert inside.outcome.get("already_told") == 1 and inside.outcome["messages"] == 0
    assert after.outcome["messages"] == 1 and "already_told" not in after.outcome
    assert len(update_messages()) == 2


def test_with_combining_off_a_double_click_still_sends_one_email(
    queue: dict[str, list[OrderLine]],
) -> None:
    CompensationPolicy.objects.filter(pk=CompensationPolicy.current().pk).update(
        combine_window_minutes=0
    )

    for _ in range(2):
        updates.bulk_job_run(job_id=start(BulkJobKind.NOTIFY, queue["cai"]).pk)

    assert len(update_messages()) == 1
    assert dt.timedelta(0) < bulk.BULK_NOTIFY_MIN_WINDOW


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_jobs_running_at_once_email_each_customer_once(
    queue: dict[str, list[OrderLine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given four identical jobs, not yet run (their publish is held back)
    monkeypatch.setattr(bulk, "_publish_bulk_job", lambda job_id: True)
    jobs = [start(BulkJobKind.NOTIFY, all_lines(queue)).pk for _ in range(4)]
    gate = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job_id: int) -> None:
        try:
            gate.wait(timeout=10)
            updates.bulk_job_run(job_id=job_id, chunk_size=2)
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
        finally:
            connection.close()

    # when four workers run them at the same moment, each on its own connection
    threads = [threading.Thread(target=run, args=(job_id,)) for job_id in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then every job finished, and each customer got one email
    assert errors == []
    finished = BulkJob.objects.filter(pk__in=jobs)
    assert {(job.status, job.done) for job in finished} == {(BulkJobStatus.DONE, 7)}, [
        job.error for job in finished
    ]
    assert sorted(m.customer.name for m in update_messages()) == ["Ann", "Ben", "Cai"]
    assert sum(job.outcome["messages"] for job in finished) == 3
    assert sum(job.outcome.get("already_told", 0) for job in finished) == 9


def test_lines_no_longer_waiting_are_skipped(queue: dict[str, list[OrderLine]], shop) -> None:
    cai = queue["cai"][0]
    updates.order_line_cancel(line=cai, reason="phoned", by=shop.clerk)

    job = updates.bulk_job_run(job_id=start(BulkJobKind.NOTIFY, [cai, *queue["ben"]]).pk)

    assert job.outcome == {"messages": 1, "opted_out": 0, "not_waiting": 1}
    assert [m.customer.name for m in update_messages()] == ["Ben"]


def test_one_email_per_customer_reaches_the_outbox(
    queue: dict[str, list[OrderLine]], django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        job = start(BulkJobKind.NOTIFY, all_lines(queue))

    job.refresh_from_db()
    assert job.status == BulkJobStatus.DONE  # the task ran at commit (embedded mode)
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        line.order.customer.email for line in (queue["ann"][0], queue["ben"][0], queue["cai"][0])
    )


def test_reprioritise_sets_every_line_and_recomputes_each_queue_once(
    queue: dict[str, list[OrderLine]], shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    recomputed: list[tuple[int, int]] = []
    real = promises._promises_recompute_one

    def spy(**kwargs):
        recomputed.append((kwargs["product_id"], kwargs["warehouse_id"]))
        return real(**kwargs)

    monkeypatch.setattr(promises, "_promises_recompute_one", spy)
    lines = all_lines(queue)

    job = updates.bulk_job_run(
        job_id=start(BulkJobKind.REPRIORITISE, lines, by=shop.clerk, priority=20).pk,
        chunk_size=2,
    )

    assert job.status == BulkJobStatus.DONE and job.done == 7
    assert job.outcome == {"changed": 7, "unchanged": 0}
    assert set(
        OrderLine.objects.filter(pk__in=[line.pk for line in lines]).values_list(
            "priority", flat=True
        )
    ) == {20}
    assert sorted(recomputed) == sorted(set(recomputed))  # once per product queue
    assert len(recomputed) == 3
    assert OrderLine.history.filter(priority=20, history_user=shop.clerk).count() == 7


def test_reprioritise_twice_changes_nothing_the_second_time(
    queue: dict[str, list[OrderLine]],
) -> None:
    lines = all_lines(queue)
    updates.bulk_job_run(job_id=start(BulkJobKind.REPRIORITISE, lines, priority=5).pk)

    second = updates.bulk_job_run(job_id=start(BulkJobKind.REPRIORITISE, lines, priority=5).pk)

    assert second.outcome == {"changed": 0, "unchanged": 7}


def test_reprioritising_a_queue_tells_customers_whose_date_moved(shop: Shop) -> None:
    # given: two units arrive in 6 days, two more in 30; Ann waits behind Ben
    lamp = shop.product(sku="LAMP")
    shop.purchase(lamp, 2, days=6)
    shop.purchase(lamp, 2, days=30)
    ben = place(shop, shop.customer(name="Ben"), lamp)[0]
    ann = place(shop, shop.customer(name="Ann"), lamp)[0]
    assert ann.promised_date and ben.promised_date
    assert ann.promised_date > ben.promised_date

    # when Ann jumps the queue
    updates.bulk_job_run(job_id=start(BulkJobKind.REPRIORITISE, [ann], priority=50).pk)

    # then Ben, whose date slipped, gets an apology
    ben.refresh_from_db()
    assert Notification.objects.filter(
        customer=ben.order.customer, kind__startswith="promise_later"
    ).exists()


@pytest.mark.parametrize(
    ("kind", "parameters", "field"),
    [
        ("nonsense", {}, "kind"),
        (BulkJobKind.REPRIORITISE, {}, "priority"),
        (BulkJobKind.REPRIORITISE, {"priority": 500}, "priority"),
    ],
)
def test_start_refuses_bad_input(
    queue: dict[str, list[OrderLine]], kind: str, parameters: dict, field: str
) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        start(kind, all_lines(queue), **parameters)

    assert field in error.value.message_dict
    assert not BulkJob.objects.exists()


def test_start_refuses_no_lines() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        updates.bulk_job_start(kind=BulkJobKind.NOTIFY, line_ids=[424242], parameters={}, by=None)

    assert "lines" in error.value.message_dict


# --- a lost publish -----------------------------------------------------------------


def test_a_job_whose_publish_was_lost_is_published_again(
    queue: dict[str, list[OrderLine]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from django.utils import timezone

    published: list[int] = []
    monkeypatch.setattr(bulk, "_publish_bulk_job", published.append)
    job = start(BulkJobKind.NOTIFY, queue["cai"])

    updates.bulk_job_progress(job_id=job.pk)  # just published: left alone
    BulkJob.objects.filter(pk=job.pk).update(dispatched_at=timezone.now() - dt.timedelta(minutes=5))
    updates.bulk_job_progress(job_id=job.pk)
    updates.bulk_job_progress(job_id=job.pk)

    assert published == [job.pk]


# --- a real worker --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_job_and_progress_reaches_the_total(
    celery_worker_process, shop: Shop
) -> None:
    # given 60 waiting lines of 60 customers over two products
    lamp, chair = shop.product(sku="LAMP"), shop.product(sku="CHAIR")
    lines = [
        place(shop, shop.customer(), lamp if n % 2 else chair, quantity=1)[0] for n in range(60)
    ]

    # when the job is started (published to Redis after commit)
    job = start(BulkJobKind.NOTIFY, lines)

    # then the worker moves it to the end, chunk by chunk
    seen = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.add(job.done)
        if job.is_finished:
            break
        time.sleep(0.05)
    assert job.status == BulkJobStatus.DONE, job.error
    assert job.done == job.total == 60
    assert seen <= {0, 25, 50, 60}
    assert Notification.objects.filter(kind=NotificationKind.PROMISE_UPDATE).count() == 60
