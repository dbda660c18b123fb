"""The API's periodic work: answers to Idempotency-Keys are kept 24 hours."""

from __future__ import annotations

from celery import shared_task

from api.idempotency import idempotency_records_purge


@shared_task
def purge_idempotency_records() -> int:
    return idempotency_records_purge()
