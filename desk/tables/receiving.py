"""The receiving table: open purchase orders with a receive link."""

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

from desk.tables.cells import NUMBER
from desk.tables.fast_rows import FastRowsTable


class ReceivingTable(FastRowsTable):
    """Open purchase orders on the receiving page, soonest expected first.

    The order is fixed (what arrives next is on top), so no column sorts.
    """

    number = tables.Column(
        verbose_name=_("Purchase order"), orderable=False, attrs={"td": {"class": "po-number"}}
    )
    supplier = tables.Column(accessor="supplier__name", verbose_name=_("Supplier"), orderable=False)
    warehouse = tables.Column(
        accessor="warehouse__name", verbose_name=_("Warehouse"), orderable=False
    )
    next_expected = tables.Column(
        verbose_name=_("Expected"),
        orderable=False,
        attrs={"td": {"class": "date nowrap"}, "th": {"class": "date"}},
    )
    open_lines = tables.Column(verbose_name=_("Lines"), orderable=False, attrs=NUMBER)
    units_outstanding = tables.Column(verbose_name=_("Units"), orderable=False, attrs=NUMBER)
    receive = tables.Column(
        accessor="number",
        verbose_name=_("Action"),
        orderable=False,
        attrs={"td": {"class": "actions"}, "th": {"class": "actions"}},
    )

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "receiving-table", "class": "receiving-table reflow"}
        row_attrs = {"id": lambda record: f"po-row-{record.pk}"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()

    def render_number(self, value: str, record: Any) -> SafeString:
        badge = (
            format_html(' <span class="badge">{}</span>', gettext("partly received"))
            if record.status == "partially_received"
            else ""
        )
        return format_html(
            '<a href="{}">{}</a>{}',
            reverse("purchase-order-receive", args=[value]),
            value,
            badge,
        )

    def render_next_expected(self, value: Any) -> SafeString:
        date = format_html(
            '<time datetime="{}">{}</time>',
            value.isoformat(),
            date_format(value, "SHORT_DATE_FORMAT"),
        )
        if value < self.today:
            days = (self.today - value).days
            return format_html(
                '{} <span class="badge badge-bad" title="{}">{}</span>',
                date,
                gettext("%(days)s days past the expected date") % {"days": days},
                gettext("overdue"),
            )
        return date

    def render_receive(self, value: str) -> SafeString:
        return format_html(
            '<a class="button button-secondary" href="{}">{}</a>',
            reverse("purchase-order-receive", args=[value]),
            gettext("Receive"),
        )
