"""Signed, expiring links for customers: keep waiting, or cancel what is backordered.

No login: the link itself is the credential. It names the order and the
action, is signed with the SECRET_KEY (salted per purpose), expires, and is
single-use (its id is stored with the choice it made). A signature proves who
made a token, not that its contents are sane: what it carries is checked on
read as strictly as a form's input.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext_lazy as _

from orders.models import CustomerChoice, SalesOrder

SALT = "backorder-desk.customer-link"
DEFAULT_MAX_AGE_DAYS = 30
# A token dated later than now by more than this was not made by this app's clock.
CLOCK_SKEW_SECONDS = 5 * 60
# Order ids are BigAutoField: a signed 64-bit integer, positive.
MAX_ORDER_ID = 2**63 - 1
LINK_ID_BYTES = 12
# secrets.token_urlsafe(12): 16 characters of the URL-safe base64 alphabet.
LINK_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16}")

NOT_VALID = _("This link is not valid. Please use the link exactly as it is in our email.")
EXPIRED = _("This link has expired. Reply to our last email or contact us and we will help.")


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
    payload = {"o": order.pk, "a": action, "i": secrets.token_urlsafe(LINK_ID_BYTES)}
    return signing.dumps(payload, salt=SALT, compress=True)


def customer_link_read(token: str) -> CustomerLink:
    """Check a token's signature, age and contents; raise LinkError with a clear reason."""
    max_age = getattr(settings, "CUSTOMER_LINK_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS) * 86400
    try:
        payload = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as error:
        raise LinkError(EXPIRED) from error
    except signing.BadSignature as error:
        raise LinkError(NOT_VALID) from error
    # The signature held, so the timestamp is the one the signer wrote; max_age
    # only bounds it from below.
    signed_at = signing.b62_decode(token.rsplit(":", 2)[1])
    if signed_at > time.time() + CLOCK_SKEW_SECONDS:
        raise LinkError(NOT_VALID)
    link = _link_from_payload(payload)
    if link is None:
        raise LinkError(NOT_VALID)
    return link


def _link_from_payload(payload: Any) -> CustomerLink | None:
    """The link a payload names, or None when it is not one this module makes."""
    if not isinstance(payload, dict) or set(payload) != {"o", "a", "i"}:
        return None
    order_id, action, link_id = payload["o"], payload["a"], payload["i"]
    if type(order_id) is not int or not 1 <= order_id <= MAX_ORDER_ID:
        return None
    if not isinstance(action, str) or action not in CustomerChoice.Choice.values:
        return None
    if not isinstance(link_id, str) or not LINK_ID_PATTERN.fullmatch(link_id):
        return None
    return CustomerLink(order_id=order_id, action=action, link_id=link_id)


def customer_link_action(token: str) -> str | None:
    """The action a token this app signed names, whatever its age or use; None
    for anything else. For labelling a link shown to staff, never for acting on it."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    link = _link_from_payload(payload)
    return link.action if link is not None else None
