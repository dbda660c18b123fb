"""Celery tasks of the outbox: thin, ids in, the services do the work.

Retries live here (backoff with full jitter, settings-driven); idempotency lives
in `notification_send` (the claim), so a duplicate or redelivered task is harmless.
"""

from __future__ import annotations

import smtplib

from celery import Task, shared_task
from django.conf import settings

# The services publish these tasks and the tasks call the services: each side
# imports the other as a module and looks names up when a task runs, so either
# may be imported first.
from notifications import updates
from notifications.services import delivery, outbox, webhooks

RETRY_ON = (smtplib.SMTPException, OSError, ConnectionError)


@shared_task(
    bind=True,
    name="notifications.tasks.send_notification",
    acks_late=True,
    ignore_result=True,
    autoretry_for=RETRY_ON,
    retry_backoff=settings.NOTIFICATION_RETRY_BACKOFF,
    retry_backoff_max=settings.NOTIFICATION_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    max_retries=settings.NOTIFICATION_SEND_MAX_RETRIES,
)
def send_notification(self: Task, notification_id: int) -> str:
    """Send one outbox row; on the last retry a delivery error marks it failed."""
    final_attempt = self.max_retries is not None and self.request.retries >= self.max_retries
    return delivery.notification_send(notification_id=notification_id, final_attempt=final_attempt)


@shared_task(name="notifications.tasks.send_pending_notifications", acks_late=True)
def send_pending_notifications() -> int:
    """The beat sweep: publish what is due and nobody works on; return how many."""
    return outbox.notifications_sweep()


@shared_task(name="notifications.tasks.sweep_overdue_purchase_orders", acks_late=True)
def sweep_overdue_purchase_orders() -> int:
    """Daily: late purchase orders get a new date; their customers are told."""
    return updates.purchase_orders_sweep_overdue().lines_moved


@shared_task(name="notifications.tasks.run_bulk_job", acks_late=True, ignore_result=True)
def run_bulk_job(job_id: int) -> str:
    """Run a bulk action on queue lines chunk by chunk; safe to run twice
    (`notifications.updates.bulk.bulk_job_run`). Returns the job's status."""
    return updates.bulk_job_run(job_id=job_id).status


@shared_task(name="notifications.tasks.send_webhook_delivery", acks_late=True, ignore_result=True)
def send_webhook_delivery(delivery_id: int) -> str:
    """POST one outbound webhook; a failure schedules the next try itself
    (`notifications.services.webhooks.webhook_delivery_send`)."""
    return webhooks.webhook_delivery_send(delivery_id=delivery_id)


@shared_task(name="notifications.tasks.send_due_webhook_deliveries", acks_late=True)
def send_due_webhook_deliveries() -> int:
    """The beat sweep of outbound webhooks: publish what is due; return how many."""
    return webhooks.webhook_deliveries_sweep()


@shared_task(name="notifications.tasks.run_import_job", acks_late=True, ignore_result=True)
def run_import_job(job_id: int) -> str:
    """Check or apply an uploaded CSV file; safe to run twice
    (`notifications.updates.imports.import_job_run`). Returns the job's status."""
    return updates.import_job_run(job_id=job_id).status
