"""Idempotency-Key (IETF httpapi draft): a retried POST gets the first answer.

The key is claimed first, with an INSERT committed in its own transaction, so a
duplicate arriving at the same moment finds the claim (409: still in flight)
instead of running the request twice. The request then runs in one transaction
with the write of its answer: an order is never placed without the answer that
reports it being kept. A request that failed unexpectedly releases its claim,
so the client may try again; one whose process died is re-claimable after
IDEMPOTENCY_IN_FLIGHT_TIMEOUT. Answers are kept for IDEMPOTENCY_KEY_TTL (24 h).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import ApiKey, IdempotencyRecord, IdempotencyState
from config.db import retry_on_conflict

IDEMPOTENCY_KEY_TTL = dt.timedelta(hours=24)
IDEMPOTENCY_IN_FLIGHT_TIMEOUT = dt.timedelta(minutes=5)
IDEMPOTENCY_KEY_MAX_LENGTH = 255


class IdempotencyKeyReused(Exception):
    """The key was used before with a different request body."""


class IdempotencyInFlight(Exception):
    """The first request with this key is still running."""


@dataclass(frozen=True)
class Answer:
    status: int
    content: str
    """The JSON body, as sent."""
    replayed: bool = False


def request_fingerprint(payload: Any) -> str:
    """SHA-256 of the request body in canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_answer(
    *, api_key: ApiKey, key: str, fingerprint: str, run: Callable[[], Answer]
) -> Answer:
    """The answer to a request under an Idempotency-Key: the stored one for a
    replay, else `run()`'s, stored with it in one transaction.

    Raises IdempotencyKeyReused (another body) or IdempotencyInFlight.
    """
    claimed = _claim(api_key=api_key, key=key, fingerprint=fingerprint)
    if isinstance(claimed, Answer):
        return claimed
    try:
        return _run_and_keep(record_id=claimed.pk, run=run)
    except BaseException:
        IdempotencyRecord.objects.filter(pk=claimed.pk, state=IdempotencyState.IN_FLIGHT).delete()
        raise


def _claim(*, api_key: ApiKey, key: str, fingerprint: str) -> IdempotencyRecord | Answer:
    now = timezone.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    api_key=api_key, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
        if existing is None:
            continue  # released or purged in between: claim again
        stale = existing.created_at < now - (
            IDEMPOTENCY_KEY_TTL
            if existing.state == IdempotencyState.COMPLETED
            else IDEMPOTENCY_IN_FLIGHT_TIMEOUT
        )
        if stale:
            IdempotencyRecord.objects.filter(
                pk=existing.pk, created_at=existing.created_at
            ).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused
        if existing.state == IdempotencyState.IN_FLIGHT:
            raise IdempotencyInFlight
        assert existing.response_status is not None
        return Answer(
            status=existing.response_status, content=existing.response_body, replayed=True
        )
    raise IdempotencyInFlight


@retry_on_conflict()
@transaction.atomic
def _run_and_keep(*, record_id: int, run: Callable[[], Answer]) -> Answer:
    answer = run()
    IdempotencyRecord.objects.filter(pk=record_id).update(
        state=IdempotencyState.COMPLETED,
        response_status=answer.status,
        response_body=answer.content,
        completed_at=timezone.now(),
    )
    return answer


def idempotency_records_purge(*, now: dt.datetime | None = None) -> int:
    """Delete the answers older than IDEMPOTENCY_KEY_TTL (the beat runs it hourly)."""
    cutoff = (now or timezone.now()) - IDEMPOTENCY_KEY_TTL
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
