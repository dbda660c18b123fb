"""The inbound events table: columns only; the rows come from api.selectors."""

from __future__ import annotations

import datetime as dt

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from api.models import InboundEvent, InboundStatus
from desk.tables.cells import local
from desk.tables.fast_rows import FastRowsTable
from desk.templatetags.desk_format import datetime_attr

EVENT_BADGES = {
    InboundStatus.RECEIVED: "badge-warn",
    InboundStatus.PROCESSED: "badge-ok",
    InboundStatus.IGNORED: "",
    InboundStatus.FAILED: "badge-bad",
}


def event_status_badge(event: InboundEvent) -> SafeString:
    return format_html(
        '<span class="badge {}" data-status="{}">{}</span>',
        EVENT_BADGES.get(InboundStatus(event.status), ""),
        event.status,
        event.get_status_display(),
    )


class InboundEventTable(FastRowsTable):
    received_at = tables.Column(verbose_name=_("Received"), attrs={"td": {"class": "nowrap"}})
    connection = tables.Column(
        verbose_name=_("Shop"),
        accessor="connection__domain",
        order_by=("connection__domain",),
        attrs={"td": {"class": "wide"}},
    )
    topic = tables.Column(verbose_name=_("Topic"), attrs={"td": {"class": "nowrap"}})
    shop_order_id = tables.Column(
        verbose_name=_("Shop order"), default="—", attrs={"td": {"class": "wide"}}
    )
    order = tables.Column(
        verbose_name=_("Order"),
        accessor="order__number",
        default="—",
        orderable=False,
        attrs={"td": {"class": "nowrap"}},
    )
    status = tables.Column(verbose_name=_("Status"))
    detail = tables.Column(
        verbose_name=_("What happened"),
        accessor="pk",
        orderable=False,
        attrs={"td": {"class": "wide"}},
    )
    attempts = tables.Column(
        verbose_name=_("Attempts"), attrs={"th": {"class": "num"}, "td": {"class": "num"}}
    )

    class Meta:
        model = InboundEvent
        fields = ()
        sequence = (
            "received_at",
            "connection",
            "topic",
            "shop_order_id",
            "order",
            "status",
            "detail",
            "attempts",
        )
        template_name = "tables/table.html"
        attrs = {"id": "inbound-events", "class": "table events-table reflow"}
        row_attrs = {
            "id": lambda record: f"event-row-{record.pk}",
            "data-status": lambda record: record.status,
        }

    def render_received_at(self, value: dt.datetime) -> SafeString:
        return format_html('<time datetime="{}">{}</time>', datetime_attr(value), local(value))

    def render_connection(self, record: InboundEvent) -> SafeString:
        return format_html(
            '<span class="cell-main">{}</span><span class="cell-sub">{}</span>',
            record.connection.domain,
            record.connection.get_platform_display(),
        )

    def render_order(self, record: InboundEvent) -> SafeString | str:
        if record.order is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("order", args=[record.order.number]), record.order.number
        )

    def render_status(self, record: InboundEvent) -> SafeString:
        return event_status_badge(record)

    def render_detail(self, record: InboundEvent) -> SafeString:
        url = reverse("shop-event", args=[record.pk])
        text = record.error or record.outcome or "—"
        css = "event-error" if record.status == InboundStatus.FAILED else "event-outcome"
        return format_html('<a class="{}" href="{}">{}</a>', css, url, text)
