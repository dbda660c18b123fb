"""Signed, expiring links for customers: keep waiting, or cancel what is backordered.

No login: the link itself is the credential. It names the order and the
action, is signed with the SECRET_KEY (salted per purpose), expires, and is
single-use (its id is stored with the choice it made).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

from orders.models import CustomerChoice, SalesOrder

SALT = "backorder-desk.customer-link"
DEFAULT_MAX_AGE_DAYS = 30


class LinkError(Exception):
    """A link that cannot be used; the message is shown to the customer."""


@dataclass(frozen=True)
class CustomerLink:
    order_id: int
    action: str
    link_id: str


def customer_link_token(*, order: SalesOrder, action: str) -> str:
    if action not in CustomerChoice.Choice.values:
        raise ValueError(f"unknown customer link action {action!r}")
    payload = {"o": order.pk, "a": action, "i": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt=SALT, compress=True)


def customer_link_read(token: str) -> CustomerLink:
    """Check a token's signature and age; raise LinkError with a clear reason."""
    max_age = getattr(settings, "CUSTOMER_LINK_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS) * 86400
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise LinkError(
            "This link has expired. Reply to our last email or contact us and we will help."
        ) from error
    except signing.BadSignature as error:
        raise LinkError(
            "This link is not valid. Please use the link exactly as it is in our email."
        ) from error
    try:
        return CustomerLink(
            order_id=int(payload["o"]), action=str(payload["a"]), link_id=str(payload["i"])
        )
    except (KeyError, TypeError, ValueError) as error:
        raise LinkError(
            "This link is not valid. Please use the link exactly as it is in our email."
        ) from error
