"""The platforms' signature: base64 of HMAC-SHA256 over the raw body, keyed
with the connection's secret (Shopify's X-Shopify-Hmac-Sha256 and
WooCommerce's X-WC-Webhook-Signature are the same construction)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def body_signature(*, secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_valid(*, secret: str, body: bytes, signature: str | None) -> bool:
    """True if `signature` signs `body` with `secret` (compared in constant time)."""
    if not secret or not signature:
        return False
    expected = body_signature(secret=secret, body=body)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
