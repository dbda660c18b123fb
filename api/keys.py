"""API keys: made (the key is shown once), checked on every request, revoked.

A key reads `bd_<prefix>_<secret>`: the prefix finds the row, a SHA-256 of the
whole key is compared in constant time. A 32-byte random secret needs no slow
hash: nobody guesses 256 bits, and a leaked table gives no key back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.models import ApiKey, Scope, scopes_validator
from orders.models import Channel

KEY_START = "bd_"
# last_used_at is written at most this often per key: not one UPDATE per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class NewApiKey:
    api_key: ApiKey
    key: str
    """The whole key: shown once, never stored."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_key_create(
    *, name: str, channel: str, scopes: Iterable[str] | None = None, by: User | None
) -> NewApiKey:
    """Make a key for a storefront; all scopes unless some are named."""
    chosen = " ".join(dict.fromkeys(scopes if scopes is not None else Scope.values))
    scopes_validator(chosen)
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}: one of {', '.join(Channel.values)}")
    prefix = secrets.token_hex(4)
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        name=name, channel=channel, scopes=chosen, prefix=prefix, secret_hash=_hash(key)
    )
    api_key.created_by = by
    api_key.full_clean()
    api_key.save()
    return NewApiKey(api_key=api_key, key=key)


def api_key_authenticate(*, key: str) -> ApiKey | None:
    """The active key `key` is, or None (unknown, malformed, revoked)."""
    body = key.strip()
    prefix = body[len(KEY_START) :].partition("_")[0] if body.startswith(KEY_START) else ""
    api_key = ApiKey.objects.filter(prefix=prefix).first() if prefix else None
    # Hash and compare even when no row matched, so both take the same time.
    expected = api_key.secret_hash if api_key is not None else _hash(secrets.token_hex(16))
    if not hmac.compare_digest(_hash(body), expected) or api_key is None:
        return None
    if api_key.revoked_at is not None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_keys_revoke(*, api_keys: Iterable[ApiKey]) -> int:
    """Revoke keys (those already revoked keep their date); how many were revoked."""
    ids = [api_key.pk for api_key in api_keys]
    return ApiKey.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


DEMO_KEY_NAME = "Demo storefront"


@transaction.atomic
def demo_api_key_make() -> NewApiKey:
    """A fresh demo key with every scope, on the web channel; earlier demo keys
    are revoked (their secrets were printed once and cannot be shown again)."""
    api_keys_revoke(api_keys=ApiKey.objects.filter(name=DEMO_KEY_NAME))
    return api_key_create(name=DEMO_KEY_NAME, channel=Channel.WEB, by=None)
