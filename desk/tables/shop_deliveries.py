"""The outbound webhook deliveries table: columns only; rows from notifications.selectors."""

from __future__ import annotations

import datetime as dt

import django_tables2 as tables
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from desk.tables.cells import local
from desk.tables.fast_rows import FastRowsTable
from desk.templatetags.desk_format import datetime_attr
from notifications.models import WebhookDelivery, WebhookDeliveryStatus

DELIVERY_BADGES = {
    WebhookDeliveryStatus.PENDING: "badge-warn",
    WebhookDeliveryStatus.SENDING: "badge-warn",
    WebhookDeliveryStatus.DELIVERED: "badge-ok",
    WebhookDeliveryStatus.FAILED: "badge-bad",
}


class WebhookDeliveryTable(FastRowsTable):
    created_at = tables.Column(
        verbose_name=gettext_lazy("Written"), attrs={"td": {"class": "nowrap"}}
    )
    event_type = tables.Column(
        verbose_name=gettext_lazy("Event"), attrs={"td": {"class": "nowrap"}}
    )
    order = tables.Column(
        verbose_name=gettext_lazy("Order"),
        accessor="order__number",
        default="—",
        attrs={"td": {"class": "nowrap"}},
    )
    subscription = tables.Column(
        verbose_name=gettext_lazy("Sent to"),
        accessor="subscription__url",
        attrs={"td": {"class": "wide"}},
    )
    status = tables.Column(verbose_name=gettext_lazy("Status"))
    attempts = tables.Column(
        verbose_name=gettext_lazy("Attempts"),
        attrs={"th": {"class": "num"}, "td": {"class": "num"}},
    )
    detail = tables.Column(
        verbose_name=gettext_lazy("Last answer"),
        accessor="pk",
        orderable=False,
        attrs={"td": {"class": "wide"}},
    )

    class Meta:
        model = WebhookDelivery
        fields = ()
        sequence = (
            "created_at",
            "event_type",
            "order",
            "subscription",
            "status",
            "attempts",
            "detail",
        )
        template_name = "tables/table.html"
        attrs = {"id": "webhook-deliveries", "class": "table events-table reflow"}
        row_attrs = {
            "id": lambda record: f"delivery-row-{record.pk}",
            "data-status": lambda record: record.status,
        }

    def __init__(
        self, *args: object, request: object = None, can_retry: bool = False, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        self.can_retry = can_retry
        self.csrf_token = get_token(request) if request is not None and can_retry else ""  # type: ignore[arg-type]

    def render_created_at(self, value: dt.datetime) -> SafeString:
        return format_html('<time datetime="{}">{}</time>', datetime_attr(value), local(value))

    def render_order(self, record: WebhookDelivery) -> SafeString | str:
        if record.order is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("order", args=[record.order.number]), record.order.number
        )

    def render_subscription(self, record: WebhookDelivery) -> SafeString:
        return format_html(
            '<span class="cell-main">{}</span><span class="cell-sub">{}</span>',
            record.subscription.url,
            record.subscription.get_channel_display(),
        )

    def render_status(self, record: WebhookDelivery) -> SafeString:
        return format_html(
            '<span class="badge {}" data-status="{}">{}</span>',
            DELIVERY_BADGES.get(WebhookDeliveryStatus(record.status), ""),
            record.status,
            record.get_status_display(),
        )

    def render_detail(self, record: WebhookDelivery) -> SafeString:
        if record.status == WebhookDeliveryStatus.DELIVERED:
            text = _("HTTP %(status)s") % {"status": record.response_status or 200}
        elif record.last_error:
            text = record.last_error
        else:
            text = "—"
        if record.status == WebhookDeliveryStatus.PENDING and record.attempts:
            text = _("%(error)s · next try %(when)s") % {
                "error": text,
                "when": local(record.next_attempt_at),
            }
        if record.status != WebhookDeliveryStatus.FAILED or not self.can_retry:
            return format_html('<span class="event-outcome">{}</span>', text)
        url = reverse("shop-delivery-retry", args=[record.pk])
        return format_html(
            '<span class="event-error">{}</span>'
            '<form class="row-action" method="post" action="{}" hx-post="{}"'
            ' hx-target="#webhook-deliveries-container" hx-swap="outerHTML">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<button type="submit" aria-label="{}">{}</button></form>',
            text,
            url,
            url,
            self.csrf_token,
            _("Retry delivery %(id)s") % {"id": record.pk},
            _("Retry"),
        )
