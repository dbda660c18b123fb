"""The outbox table: columns only; the rows come from notifications.selectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from desk.tables.cells import held_until, local, status_badge
from desk.tables.fast_rows import FastRowsTable
from desk.templatetags.desk_format import datetime_attr
from notifications.models import Notification


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
        attrs = {"id": "outbox", "class": "table outbox-table reflow"}
        row_attrs = {
            "id": lambda record: f"message-row-{record.pk}",
            "data-status": lambda record: record.status,
        }

    def render_created_at(self, value: dt.datetime) -> SafeString:
        return format_html('<time datetime="{}">{}</time>', datetime_attr(value), local(value))

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
