"""Rendering a customer message: subject, text and HTML in the customer's language,
from the email templates and the message's plain-JSON context (see `outbox`)."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, cast

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.template import Context, Engine
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from notifications.models import (
    NotificationKind,
)
from orders.links import customer_link_action
from orders.models import Customer, Language, SalesOrder

TEMPLATE_DIR = "notifications/email"


FALLBACK_LANGUAGE = Language.ENGLISH


@cache
def _text_engine() -> Engine:
    """The project's template folders without HTML autoescaping, for subjects
    and plain-text bodies (an apostrophe in a product name stays one)."""
    templates = cast(list[dict[str, Any]], settings.TEMPLATES)
    dirs = [str(d) for template in templates for d in template.get("DIRS", [])]
    return Engine(dirs=dirs, app_dirs=True, autoescape=False)


def json_safe(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as it is stored: dates as ISO strings, Decimals as strings."""
    return json.loads(json.dumps(dict(context), cls=DjangoJSONEncoder))


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _percent(value: Any) -> Decimal | None:
    """10.00 → 10, 12.50 → 12.5: how a person writes a percentage (the template
    localizes the decimal mark)."""
    amount = _as_decimal(value)
    if amount is None:
        return None
    integral = amount.to_integral_value()
    return integral if amount == integral else amount.normalize()


def _template_context(
    *, customer: Customer, order: SalesOrder | None, context: Mapping[str, Any]
) -> dict[str, Any]:
    """What the templates see: the stored context with dates and money typed,
    so `|date` and number formatting follow the customer's language."""
    lines = []
    for line in context.get("lines") or []:
        lines.append(
            {
                **line,
                "promised_date": _as_date(line.get("promised_date")),
                "old_promised_date": _as_date(line.get("old_promised_date")),
                "estimate": bool(line.get("estimate")),
            }
        )
    promised = [line["promised_date"] for line in lines if line["promised_date"]]
    discount = context.get("discount") or None
    if discount:
        discount = {
            **discount,
            "percent": _percent(discount.get("percent")),
            "expires_on": _as_date(discount.get("expires_on")),
        }
    return {
        **context,
        "shop_name": settings.SHOP_NAME,
        # The order's currency where the message names one (a refund), else the shop's.
        "currency": context.get("currency") or settings.SHOP_CURRENCY,
        "customer_name": customer.name,
        "order_number": order.number if order else context.get("order_number", ""),
        "lines": lines,
        "promised_date": _as_date(context.get("promised_date"))
        or (max(promised) if promised else None),
        "has_estimate": any(line["estimate"] for line in lines),
        "discount": discount,
        "refund_due": _as_decimal(context.get("refund_due")),
    }


def notification_render(
    *,
    kind: str,
    customer: Customer,
    order: SalesOrder | None,
    context: Mapping[str, Any],
) -> tuple[str, str, str]:
    """Render (subject, text body, HTML body) of `kind` in the customer's language.

    Templates: `templates/notifications/email/<language>/<kind>.subject.txt`,
    `.txt` and `.html`; English when the language has none. The context is
    what `notification_enqueue` stores (JSON); the keys are listed in the
    module's docs under "The context of a message".
    """
    kind = NotificationKind(kind)
    language = customer.language or FALLBACK_LANGUAGE
    names = [f"{TEMPLATE_DIR}/{lang}/{kind}" for lang in dict.fromkeys([language, "en"])]
    data = _template_context(customer=customer, order=order, context=json_safe(context))
    with translation.override(language):
        text_engine = _text_engine()
        subject: str = text_engine.select_template([f"{n}.subject.txt" for n in names]).render(
            _engine_context(data)
        )
        text: str = text_engine.select_template([f"{n}.txt" for n in names]).render(
            _engine_context(data)
        )
        html = select_template([f"{n}.html" for n in names]).render(data)
    # One line, whatever the template's whitespace: a header cannot break.
    one_line = " ".join(subject.split())[:255]
    return one_line, _tidy_text(text), str(html).strip() + "\n"


def _engine_context(data: dict[str, Any]) -> Context:
    return Context(data, autoescape=False)


def _tidy_text(text: str) -> str:
    """Template tags leave blank runs; a plain-text email keeps at most one."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if not line and tidy and not tidy[-1]:
            continue
        tidy.append(line)
    return "\n".join(tidy) + "\n"


# --- what staff see of a message ---------------------------------------------------

# signing.dumps: payload (a leading "." when compressed), timestamp, signature.
_SIGNED_VALUE = r"\.?[A-Za-z0-9_-]+:[A-Za-z0-9]+:[A-Za-z0-9_-]+"
_ANCHOR = re.compile(
    r"<a\b(?P<before>[^>]*?)\s+href\s*=\s*(?P<quote>[\"'])(?P<url>.*?)(?P=quote)"
    r"(?P<after>[^>]*)>(?P<text>.*?)</a\s*>",
    re.IGNORECASE | re.DOTALL,
)


@cache
def _customer_link() -> re.Pattern[str]:
    """A customer link wherever it appears, whatever SITE_URL was when it was sent."""
    before, after = reverse("customer-link", args=["TOKEN"]).split("TOKEN")
    return re.compile(
        rf"(?:https?://[^\s\"'<>]*?)?{re.escape(before)}(?P<token>{_SIGNED_VALUE}){re.escape(after)}"
    )


def _link_marker(token: str) -> str:
    action = customer_link_action(token)
    if action == "cancel":
        return gettext("[customer's cancel link]")
    if action == "keep_waiting":
        return gettext("[customer's keep-waiting link]")
    if action == "ship_ready":
        return gettext("[customer's ship-what-is-ready link]")
    if action == "wait_all":
        return gettext("[customer's wait-for-everything link]")
    return gettext("[customer's link]")


def customer_links_inert(body: str, *, html: bool = False) -> str:
    """A message body as staff may see it: every customer link replaced by a
    marker naming it, so nobody but the customer can act on it (a staff member
    who clicked one would act as the customer). In HTML a link's anchor keeps
    its text and looks but loses its href. The stored message is unchanged."""
    pattern = _customer_link()
    if not html:
        return pattern.sub(lambda found: _link_marker(found["token"]), body)

    def anchor(found: re.Match[str]) -> str:
        link = pattern.fullmatch(html_lib.unescape(found["url"]).strip())
        if link is None:
            return found[0]
        marker = escape(_link_marker(link["token"]))
        return (
            f'<a{found["before"]}{found["after"]} title="{marker}">'
            f"{found['text']} <span>{marker}</span></a>"
        )

    body = _ANCHOR.sub(anchor, body)
    return pattern.sub(lambda found: escape(_link_marker(found["token"])), body)
