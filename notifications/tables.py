"""The outbox table: columns only; the rows come from notifications.selectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from config.tables import FastRowsTable
from notifications.models import Notification, NotificationStatus

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
    """Local time, the year only when it is not this year: '22 Nov, 14:05'."""
    when = timezone.localtime(value)
    same_year = when.year == timezone.localdate().year
    return date_format(when, "j M, H:i" if same_year else "j M Y, H:i")


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


class OutboxTable(FastRowsTable):
    created_at = tables.Column(verbose_name=_("Created"), attrs={"td": {"class": "nowrap"}})
    kind = tables.Column(
        verbose_name=_("Kind"), attrs={"th": {"class": "col-kind"}, "td": {"class": "col-kind"}}
    )
    customer = tables.Column(
        verbose_name=_("Customer"), accessor="customer__name", order_by=("customer__name",)
    )
    order = tables.Column(
        verbose_name=_("Order"),
        accessor="order__number",
        default="—",
        attrs={"td": {"class": "nowrap"}},
    )
    subject = tables.Column(verbose_name=_("Subject"))
    status = tables.Column(verbose_name=_("Status"))
    attempts = tables.Column(
        verbose_name=_("Attempts"), attrs={"th": {"class": "num"}, "td": {"class": "num"}}
    )
    not_before = tables.Column(
        verbose_name=_("Send after"),
        default="—",
        attrs={"th": {"class": "col-send-after"}, "td": {"class": "col-send-after"}},
    )

    class Meta:
        model = Notification
        fields = ()
        sequence = (
            "created_at",
            "kind",
            "customer",
            "order",
            "subject",
            "status",
            "attempts",
            "not_before",
        )
        template_name = "tables/table.html"
        attrs = {"id": "outbox", "class": "table outbox-table"}
        row_attrs = {
            "id": lambda record: f"message-row-{record.pk}",
            "data-status": lambda record: record.status,
        }

    def render_created_at(self, value: dt.datetime) -> SafeString:
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), local(value))

    def render_customer(self, record: Notification) -> SafeString:
        return format_html(
            '<span class="cell-main">{}</span><span class="cell-sub">{}</span>',
            record.customer.name,
            record.to_email,
        )

    def render_subject(self, record: Notification) -> SafeString:
        url = reverse("outbox-message", args=[record.pk])
        return format_html(
            '<a href="{}" hx-get="{}" hx-target="#message-panel" hx-swap="innerHTML" '
            'hx-push-url="false">{}</a>',
            url,
            url,
            record.subject,
        )

    def render_status(self, record: Notification) -> SafeString:
        return status_badge(record)

    def render_not_before(self, record: Notification) -> Any:
        return held_until(record) or "—"
