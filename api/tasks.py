"""The API's tasks: shop webhooks processed after they were stored, the sweep
of those a lost publish left behind, and the purge of Idempotency-Key answers."""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.db import OperationalError

# The hooks' services publish these tasks and the tasks call the services: each
# side imports the other as a module and looks names up when a task runs.
from api.hooks import services as hooks
from api.idempotency import idempotency_records_purge

logger = logging.getLogger(__name__)


@shared_task
def purge_idempotency_records() -> int:
    return idempotency_records_purge()


@shared_task(
    bind=True,
    name="api.tasks.process_inbound_event",
    acks_late=True,
    ignore_result=True,
    # A deadlock or a lost connection: again, later (processing is idempotent).
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def process_inbound_event(self: Task, event_id: int) -> str:
    """Process one stored delivery; an unexpected error fails it, to be seen and retried."""
    try:
        return hooks.inbound_event_process(event_id=event_id).status
    except OperationalError:
        raise
    except Exception as error:
        logger.exception("Inbound event %s could not be processed", event_id)
        hooks.inbound_event_fail(
            event_id=event_id, error=f"Unexpected error: {type(error).__name__}: {error}"
        )
        return "failed"


@shared_task(name="api.tasks.process_received_inbound_events", acks_late=True)
def process_received_inbound_events() -> int:
    """The beat sweep: publish processing for events a lost publish left behind."""
    return hooks.inbound_events_sweep()
