"""The list pages' tables (products, orders, customers): columns only; the
rows come from orders.selectors.lists."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from desk.pagination import PAGE_SIZE
from desk.tables.cells import NUMBER, order_status_badge, tier_badge
from desk.tables.fast_rows import FastRowsTable


def _two_lines(main: Any, sub: Any) -> SafeString:
    return format_html(
        '<span class="cell-main">{}</span><span class="cell-sub">{}</span>', main, sub
    )


class ProductListTable(FastRowsTable):
    sku = tables.Column(verbose_name=_("Product"))
    policy = tables.Column(accessor="backorder_policy", verbose_name=_("Backorders"))
    on_hand = tables.Column(verbose_name=_("On hand"), attrs=NUMBER)
    available = tables.Column(
        verbose_name=_("Available"), orderable=False, attrs=NUMBER, empty_values=()
    )
    waiting = tables.Column(verbose_name=_("Waiting"), attrs=NUMBER)
    inbound = tables.Column(verbose_name=_("Inbound"), attrs=NUMBER)
    shortfall = tables.Column(
        verbose_name=_("Short"), orderable=False, attrs=NUMBER, empty_values=()
    )

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "product-table", "class": "list-table reflow"}
        row_attrs = {"id": lambda record: f"product-row-{record.pk}"}
        per_page = PAGE_SIZE

    def render_sku(self, record: Any) -> SafeString:
        link = format_html('<a href="{}">{}</a>', reverse("product", args=[record.sku]), record.sku)
        return _two_lines(link, record.name)

    def render_policy(self, record: Any) -> SafeString:
        if record.backorder_policy == "cap":
            return format_html("{}", gettext("up to %(cap)d") % {"cap": record.backorder_cap or 0})
        if record.backorder_policy == "deny":
            return format_html('<span class="badge">{}</span>', gettext("denied"))
        return format_html("{}", gettext("allowed"))

    def render_available(self, record: Any) -> Any:
        return getattr(record, "available", "")

    def render_shortfall(self, record: Any) -> SafeString:
        short = getattr(record, "shortfall", 0)
        if not short:
            return format_html('<span class="muted">{}</span>', 0)
        return format_html('<span class="badge badge-bad">{}</span>', short)


class OrderListTable(FastRowsTable):
    number = tables.Column(verbose_name=_("Order"), attrs={"td": {"class": "nowrap"}})
    placed_at = tables.Column(verbose_name=_("Placed"), attrs={"td": {"class": "nowrap"}})
    customer = tables.Column(accessor="customer__name", verbose_name=_("Customer"))
    channel = tables.Column(verbose_name=_("Channel"))
    warehouse = tables.Column(accessor="warehouse__name", verbose_name=_("Warehouse"))
    lines = tables.Column(accessor="pk", verbose_name=_("Lines"), orderable=False, attrs=NUMBER)
    units_waiting = tables.Column(verbose_name=_("Units waiting"), attrs=NUMBER)
    status = tables.Column(accessor="pk", verbose_name=_("Status"), orderable=False)

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "order-table", "class": "list-table reflow"}
        row_attrs = {"id": lambda record: f"order-row-{record.pk}"}
        per_page = PAGE_SIZE

    def render_number(self, value: str) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("order", args=[value]), value)

    def render_placed_at(self, value: Any) -> SafeString:
        local = timezone.localtime(value)
        return format_html(
            '<time datetime="{}">{}</time>',
            local.isoformat(),
            date_format(local, "SHORT_DATE_FORMAT"),
        )

    def render_customer(self, record: Any) -> SafeString:
        customer = record.customer
        link = format_html(
            '<a href="{}">{}</a>', reverse("customer", args=[customer.pk]), customer.name
        )
        return _two_lines(link, customer.email)

    def render_channel(self, record: Any) -> str:
        return str(record.get_channel_display())

    def render_lines(self, record: Any) -> int:
        return len(getattr(record, "page_lines", []))

    def render_status(self, record: Any) -> SafeString:
        status = getattr(record, "page_status", None)
        return order_status_badge(status) if status is not None else SafeString("")


class CustomerListTable(FastRowsTable):
    name = tables.Column(verbose_name=_("Customer"))
    tier = tables.Column(verbose_name=_("Tier"))
    language = tables.Column(verbose_name=_("Language"))
    orders_count = tables.Column(verbose_name=_("Orders"), attrs=NUMBER)
    units_waiting = tables.Column(verbose_name=_("Units waiting"), attrs=NUMBER)

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "customer-table", "class": "list-table reflow"}
        row_attrs = {"id": lambda record: f"customer-row-{record.pk}"}
        per_page = PAGE_SIZE

    def render_name(self, record: Any) -> SafeString:
        link = format_html(
            '<a href="{}">{}</a>', reverse("customer", args=[record.pk]), record.name
        )
        email = record.email
        if record.email_opt_out:
            email = format_html("{} · {}", email, gettext("no update emails"))
        return _two_lines(link, email)

    def render_tier(self, record: Any) -> SafeString:
        return tier_badge(record.tier)

    def render_language(self, record: Any) -> str:
        return str(record.get_language_display())
