"""Cells shared by the tables: number columns, status and tier badges, inline field errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification, NotificationStatus
from orders.models import Tier

NUMBER = {"th": {"class": "num"}, "td": {"class": "num"}}


TIER_BADGES = {Tier.VIP: "badge badge-tier-vip", Tier.PREFERRED: "badge badge-tier-preferred"}


def invalid_attributes(field_id: str, errors: list[str] | None) -> SafeString:
    """The attributes of a refused field: marked invalid, pointing at its message."""
    if not errors:
        return SafeString("")
    return format_html(' aria-invalid="true" aria-describedby="{}-error"', field_id)


def error_list(field_id: str, errors: list[str] | None) -> SafeString:
    """A field's messages, beside it."""
    if not errors:
        return SafeString("")
    return format_html(
        '<ul class="errorlist" id="{}-error" role="alert">{}</ul>',
        field_id,
        format_html_join("", "<li>{}</li>", ((error,) for error in errors)),
    )


PO_STATUS_BADGES = {
    "draft": "badge badge-estimate",
    "ordered": "badge",
    "partially_received": "badge badge-warn",
    "received": "badge badge-ok",
    "cancelled": "badge badge-bad",
}


def po_status_badge(purchase_order: Any) -> SafeString:
    """The status as a badge whose text says it (colour is only a hint)."""
    return format_html(
        '<span class="{}">{}</span>',
        PO_STATUS_BADGES.get(purchase_order.status, "badge"),
        purchase_order.get_status_display(),
    )


ORDER_STATUS_BADGES = {
    "open": "badge",
    "backordered": "badge badge-warn",
    "ready_to_ship": "badge badge-ok",
    "partially_shipped": "badge badge-ok",
    "shipped": "badge badge-ok",
    "cancelled": "badge badge-bad",
}


def order_status_badge(status: Any) -> SafeString:
    """An order's or a line's status (orders.models.Status) as a badge that says it."""
    return format_html(
        '<span class="{}" data-status="{}">{}</span>',
        ORDER_STATUS_BADGES.get(str(status), "badge"),
        status,
        status.label,
    )


def tier_badge(tier: int) -> SafeString:
    """A customer's tier as a badge (standard customers get a plain one)."""
    return format_html(
        '<span class="{}">{}</span>', TIER_BADGES.get(Tier(tier), "badge"), Tier(tier).label
    )


STATUS_BADGES = {
    NotificationStatus.PENDING: "badge-warn",
    NotificationStatus.SENDING: "badge-warn",
    NotificationStatus.SENT: "badge-ok",
    NotificationStatus.FAILED: "badge-bad",
}


def status_badge(notification: Notification) -> SafeString:
    """The status as a coloured badge that also says it in words."""
    css = STATUS_BADGES.get(NotificationStatus(notification.status), "")
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        css,
        notification.status,
        notification.get_status_display(),
    )


def local(value: dt.datetime) -> str:
    """Local date and time in the pages' one style, with the year, without
    seconds: '22 Nov 2026, 14:05'."""
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


def held_until(notification: Notification) -> str:
    """'held until 14:30 to combine updates' while the combine window is open."""
    not_before = notification.not_before
    if not_before is None or not_before <= timezone.now():
        return ""
    local_time = timezone.localtime(not_before)
    time_format = "H:i" if local_time.date() == timezone.localdate() else "j M, H:i"
    return str(
        _("held until %(time)s to combine updates") % {"time": date_format(local_time, time_format)}
    )
