"""Opaque cursors of the storefront's poll for changed orders: a position
(updated_at, id) in base64url JSON. Opaque to clients; nothing in them is secret
(the key's channel still limits what a page shows)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json


class BadCursor(ValueError):
    pass


def cursor_encode(updated_at: dt.datetime, pk: int) -> str:
    raw = json.dumps([updated_at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[dt.datetime, int]:
    """The position in a cursor this API gave; BadCursor for anything else."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, pk = json.loads(raw)
        updated_at = dt.datetime.fromisoformat(stamp)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise BadCursor(cursor) from error
    if (
        updated_at.tzinfo is None
        or isinstance(pk, bool)
        or not isinstance(pk, int)
        or not 0 <= pk < 2**63
    ):
        raise BadCursor(cursor)
    return updated_at, pk
