"""Bulk actions on the queue: jobs run in chunks by a worker, with progress;
safe to run twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.db import retry_on_conflict
from notifications import tasks
from notifications.models import (
    BulkJob,
    BulkJobKind,
    BulkJobStatus,
    CompensationPolicy,
    Notification,
    NotificationKind,
)
from notifications.services.outbox import notification_enqueue
from notifications.updates.telling import customer_links, line_context, telling_customers
from orders.limits import PRIORITY_MESSAGE, is_priority
from orders.models import Customer, OrderLine
from orders.services import priority as queue_priority

BULK_JOB_CHUNK = 25


# A job still pending this long after its task was published lost the publish
# (broker down): the next look at its progress publishes it again.
BULK_JOB_REPUBLISH_AFTER = dt.timedelta(seconds=30)


bulk_logger = logging.getLogger(__name__)


# "Where you stand" is worth one email per customer per state of their lines
# within the policy's combine window, however many jobs ask for it. With the
# window at 0 (combining off) a double-click still is not a second email.
BULK_NOTIFY_MIN_WINDOW = dt.timedelta(minutes=1)


@retry_on_conflict()
@transaction.atomic
def order_lines_set_priority(
    *, line_ids: Sequence[int], priority: int, by: User | None
) -> list[OrderLine]:
    """`orders.services.order_lines_set_priority`; customers whose promise moved are told."""
    return telling_customers(
        queue_priority.order_lines_set_priority, line_ids=line_ids, priority=priority, by=by
    )


def _bulk_group_keys(*, kind: str, line_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """Line id → what a chunk must never split: the customer (one email per
    customer) or the product's queue (one promise recompute per queue)."""
    fields = (
        ("order__customer_id",) if kind == BulkJobKind.NOTIFY else ("product_id", "warehouse_id")
    )
    return {
        row[0]: tuple(row[1:])
        for row in OrderLine.objects.filter(pk__in=list(line_ids)).values_list("pk", *fields)
    }


def bulk_job_start(
    *, kind: str, line_ids: Iterable[int], parameters: Mapping[str, Any], by: User | None
) -> BulkJob:
    """Create a bulk job on queue lines and run it in the background after commit.

    Lines are stored grouped (by customer to notify, by product queue to
    reprioritise), so the chunks `bulk_job_run` cuts never split a group.
    Raises ValidationError for an unknown kind, no lines or a bad priority.
    """
    if kind not in BulkJobKind.values:
        raise ValidationError({"kind": _("Choose what to do with the selected lines.")})
    params = dict(parameters)
    if kind == BulkJobKind.REPRIORITISE:
        priority = params.get("priority")
        if not is_priority(priority):
            raise ValidationError({"priority": PRIORITY_MESSAGE})
    keys = _bulk_group_keys(kind=kind, line_ids={int(pk) for pk in line_ids})
    if not keys:
        raise ValidationError({"lines": _("Select at least one waiting line.")})
    ordered = sorted(keys, key=lambda pk: (keys[pk], pk))
    with transaction.atomic():
        job = BulkJob.objects.create(
            kind=kind,
            line_ids=ordered,
            parameters=params,
            total=len(ordered),
            created_by=by if by is not None and by.is_authenticated else None,
            dispatched_at=timezone.now(),
        )
        job_id = job.pk
        transaction.on_commit(lambda: _publish_bulk_job(job_id))
    return job


def _publish_bulk_job(job_id: int) -> bool:
    """Publish the job's task; a broker that is down leaves it pending (see
    BULK_JOB_REPUBLISH_AFTER), it never fails the request that started it."""
    try:
        tasks.run_bulk_job.delay(job_id)
    except Exception:
        bulk_logger.warning("Could not publish bulk job %s.", job_id, exc_info=True)
        return False
    return True


def bulk_job_progress(*, job_id: int) -> BulkJob:
    """The job as it stands, for the progress bar; publishes a job again whose
    task was lost before it started (one query in the common case)."""
    job = BulkJob.objects.select_related("created_by").get(pk=job_id)
    stale = timezone.now() - BULK_JOB_REPUBLISH_AFTER
    if job.status == BulkJobStatus.PENDING and (
        job.dispatched_at is None or job.dispatched_at < stale
    ):
        claimed = BulkJob.objects.filter(
            pk=job.pk, status=BulkJobStatus.PENDING, dispatched_at=job.dispatched_at
        ).update(dispatched_at=timezone.now())
        if claimed:
            _publish_bulk_job(job.pk)
            job.refresh_from_db()
    return job


def bulk_job_run(*, job_id: int, chunk_size: int = BULK_JOB_CHUNK) -> BulkJob:
    """Run a bulk job to the end, one transaction per chunk of about
    `chunk_size` lines, moving `done` with each chunk.

    Safe to run again at any point (a redelivered task, a second publish, a
    worker killed mid-chunk): a chunk's changes and its `done` commit together,
    so a re-run starts after the last committed chunk; a customer already told
    the same about the same lines within the policy's window is not emailed
    again, by this job or another (`_bulk_notify`); a priority already set is
    left alone. An unexpected error marks the job failed with the error, and
    what the committed chunks did stays done.
    """
    BulkJob.objects.filter(pk=job_id, status=BulkJobStatus.PENDING).update(
        status=BulkJobStatus.RUNNING
    )
    try:
        while not _bulk_job_run_chunk(job_id=job_id, chunk_size=chunk_size):
            pass
    except Exception as error:
        bulk_logger.exception("Bulk job %s failed.", job_id)
        BulkJob.objects.filter(pk=job_id).exclude(status=BulkJobStatus.DONE).update(
            status=BulkJobStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
    return BulkJob.objects.get(pk=job_id)


@retry_on_conflict()
@transaction.atomic
def _bulk_job_run_chunk(*, job_id: int, chunk_size: int) -> bool:
    """Process the next chunk of a job under its row lock; True when the job is finished."""
    job = (
        BulkJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job_id)
    )
    if job.is_finished:
        return True
    ids = [int(pk) for pk in job.line_ids]
    start = job.done
    if start < len(ids):
        end = min(start + chunk_size, len(ids))
        keys = _bulk_group_keys(kind=job.kind, line_ids=ids[start : end + chunk_size])
        # Extend to the end of the last group: a customer or a queue is never split.
        while end < len(ids):
            if ids[end] not in keys:
                keys.update(_bulk_group_keys(kind=job.kind, line_ids=ids[end : end + chunk_size]))
            if ids[end] not in keys or keys[ids[end]] != keys.get(ids[end - 1]):
                break
            end += 1
        chunk = ids[start:end]
        if job.kind == BulkJobKind.NOTIFY:
            outcome = _bulk_notify(job=job, line_ids=chunk)
        else:
            outcome = _bulk_reprioritise(job=job, line_ids=chunk)
        for name, count in outcome.items():
            job.outcome[name] = job.outcome.get(name, 0) + count
        job.done = end
    job.status = BulkJobStatus.RUNNING
    finished = job.done >= job.total
    if finished:
        job.status = BulkJobStatus.DONE
        job.finished_at = timezone.now()
    job.save(update_fields=["done", "status", "outcome", "finished_at"])
    return finished


def _bulk_notify(*, job: BulkJob, line_ids: list[int]) -> dict[str, int]:
    """One "where it stands" email per customer, listing their selected lines
    still waiting with today's promised dates.

    Not twice for the same news: a customer already sent this email about the
    same lines in the same state (quantities, promised dates) within the
    policy's combine window is skipped ("already_told"), whichever job sent it.
    Each customer's row is locked first (in primary-key order), so jobs running
    at once take turns per customer and the second sees the first's message;
    the dedup key (customer, lines and state, window bucket) is the backstop.
    """
    by_customer: dict[int, list[OrderLine]] = defaultdict(list)
    lines = list(
        OrderLine.objects.select_related("order__customer", "product")
        .filter(pk__in=line_ids)
        .order_by("order__number", "pk")
    )
    for line in lines:
        by_customer[line.order.customer_id].append(line)
    outcome = {"messages": 0, "opted_out": 0, "not_waiting": len(line_ids) - len(lines)}
    waiting_by_customer = {
        customer_id: [line for line in customer_lines if line.backordered]
        for customer_id, customer_lines in by_customer.items()
    }
    to_tell = sorted(pk for pk, waiting in waiting_by_customer.items() if waiting)
    # The lock, then the lines read again under it: what a job waited for may
    # have changed them (a cancellation, a receipt).
    list(Customer.objects.select_for_update().filter(pk__in=to_tell).order_by("pk"))
    current = OrderLine.objects.select_related("order__customer", "product").in_bulk(
        [line.pk for pk in to_tell for line in waiting_by_customer[pk]]
    )
    window = max(
        dt.timedelta(minutes=CompensationPolicy.current().combine_window_minutes),
        BULK_NOTIFY_MIN_WINDOW,
    )
    now = timezone.now()
    for customer_id in sorted(by_customer):
        waiting = [
            current[line.pk]
            for line in waiting_by_customer[customer_id]
            if line.pk in current and current[line.pk].backordered
        ]
        outcome["not_waiting"] += len(by_customer[customer_id]) - len(waiting)
        if not waiting:
            continue
        customer = waiting[0].order.customer
        if customer.email_opt_out:
            outcome["opted_out"] += 1
            continue
        state = _where_you_stand_state(waiting)
        if Notification.objects.filter(
            customer_id=customer_id,
            kind=NotificationKind.PROMISE_UPDATE,
            dedup_key__startswith=f"{state}:",
            created_at__gte=now - window,
        ).exists():
            outcome["already_told"] = outcome.get("already_told", 0) + 1
            continue
        orders_told = list({line.order_id: line.order for line in waiting}.values())
        # One order: it is the message's order, with the customer's links.
        # Several: the message is the customer's, and names the orders.
        order = orders_told[0] if len(orders_told) == 1 else None
        context: dict[str, Any] = {
            "lines": [line_context(line) for line in waiting],
            "order_numbers": [sales_order.number for sales_order in orders_told],
            # What the email says about money: every order paid, some, or none.
            "charged": all(o.amount_held > 0 for o in orders_told),
            "partly_charged": any(o.amount_held > 0 for o in orders_told),
            **(customer_links(order) if order is not None else {}),
        }
        minutes = int(window.total_seconds() // 60)
        bucket = int(now.timestamp() // window.total_seconds())
        notification = notification_enqueue(
            kind=NotificationKind.PROMISE_UPDATE,
            customer=customer,
            order=order,
            context=context,
            dedup_key=f"{state}:{minutes}m{bucket}",
        )
        outcome["messages" if notification is not None else "opted_out"] += 1
    return outcome


def _where_you_stand_state(lines: Sequence[OrderLine]) -> str:
    """The customer and what the email would tell them about each line: two
    jobs that find the same state write the same key (`bulk:<customer>:<digest>`)."""
    told = sorted(
        (line.pk, line.backordered, str(line.promised_date or ""), line.promise_is_estimate)
        for line in lines
    )
    digest = hashlib.sha256(json.dumps(told).encode()).hexdigest()[:32]
    return f"bulk:{lines[0].order.customer_id}:{digest}"


def _bulk_reprioritise(*, job: BulkJob, line_ids: list[int]) -> dict[str, int]:
    changed = order_lines_set_priority(
        line_ids=line_ids, priority=int(job.parameters["priority"]), by=job.created_by
    )
    return {"changed": len(changed), "unchanged": len(line_ids) - len(changed)}
