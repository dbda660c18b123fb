"""The purchase order list table."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from desk.tables.cells import NUMBER, po_status_badge
from desk.tables.fast_rows import FastRowsTable
from desk.templatetags.desk_format import money_text


class PurchaseOrderTable(FastRowsTable):
    """Purchase orders on /purchase-orders/: soonest expected first unless sorted."""

    number = tables.Column(verbose_name=_("Purchase order"), attrs={"td": {"class": "po-number"}})
    supplier = tables.Column(accessor="supplier__name", verbose_name=_("Supplier"))
    warehouse = tables.Column(
        accessor="warehouse__name", verbose_name=_("Warehouse"), orderable=False
    )
    status = tables.Column(verbose_name=_("Status"))
    expected_date = tables.Column(
        verbose_name=_("Expected"), attrs={"td": {"class": "date nowrap"}, "th": {"class": "date"}}
    )
    line_count = tables.Column(verbose_name=_("Lines"), attrs=NUMBER)
    units_outstanding = tables.Column(verbose_name=_("Units outstanding"), attrs=NUMBER)
    cost_total = tables.Column(
        verbose_name=_("Total cost"),
        attrs={"td": {"class": "num nowrap"}, "th": {"class": "num"}},
        empty_values=(),
    )

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "po-table", "class": "po-table reflow"}
        row_attrs = {"id": lambda record: f"po-list-row-{record.pk}"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()

    def render_number(self, value: str) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("purchase-order", args=[value]), value)

    def render_cost_total(self, value: Any, record: Any) -> SafeString:
        """The order's cost in the shop's currency; "not known" when no line
        has a cost, and a mark when some lines are left out."""
        if value is None:
            return format_html('<span class="muted">{}</span>', gettext("not known"))
        if record.costs_missing:
            return format_html(
                '{} <span class="muted">({})</span>',
                money_text(value),
                ngettext(
                    "%(lines)d line without a cost",
                    "%(lines)d lines without a cost",
                    record.costs_missing,
                )
                % {"lines": record.costs_missing},
            )
        return format_html("{}", money_text(value))

    def render_status(self, record: Any) -> SafeString:
        return po_status_badge(record)

    def render_expected_date(self, value: Any, record: Any) -> SafeString:
        date = format_html(
            '<time datetime="{}">{}</time>',
            value.isoformat(),
            date_format(value, "SHORT_DATE_FORMAT"),
        )
        if record.is_open and value < self.today:
            return format_html(
                '{} <span class="badge badge-bad" title="{}">{}</span>',
                date,
                gettext("%(days)s days past the expected date")
                % {"days": (self.today - value).days},
                gettext("overdue"),
            )
        return date

    def order_expected_date(self, orders: QuerySet, is_descending: bool) -> tuple[QuerySet, bool]:
        key = F("expected_date").desc() if is_descending else F("expected_date").asc()
        return orders.order_by(key, "number"), True
