"""The supplier scorecards table: columns only; the rows come from orders.selectors.suppliers."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from desk.pagination import PAGE_SIZE
from desk.tables.cells import NUMBER
from desk.tables.fast_rows import FastRowsTable
from orders.selectors.suppliers import BROKEN_PROMISE_DAYS, Scorecard


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


class ScorecardTable(FastRowsTable):
    """One row per supplier: how it delivers, and what depends on it now."""

    name = tables.Column(verbose_name=_("Supplier"))
    on_time = tables.Column(
        accessor="on_time_percent", verbose_name=_("On time"), attrs=NUMBER, empty_values=()
    )
    late = tables.Column(
        accessor="record__average_days_late",
        verbose_name=_("Days late avg / p90"),
        orderable=False,
        attrs=NUMBER,
        empty_values=(),
    )
    lead = tables.Column(
        accessor="supplier__lead_time_days",
        verbose_name=_("Lead time quoted / delivered"),
        attrs=NUMBER,
        empty_values=(),
    )
    open_orders = tables.Column(verbose_name=_("Open POs"), attrs=NUMBER)
    units_inbound = tables.Column(verbose_name=_("Units inbound"), attrs=NUMBER)
    lines_waiting = tables.Column(
        verbose_name=_("Lines waiting on it"), orderable=False, attrs=NUMBER
    )
    promises_broken = tables.Column(
        verbose_name=_("Promises broken (%(days)d d)") % {"days": BROKEN_PROMISE_DAYS},
        attrs=NUMBER,
    )

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "supplier-table", "class": "supplier-table reflow"}
        row_attrs = {"id": lambda record: f"supplier-row-{record.supplier.pk}"}
        per_page = PAGE_SIZE

    def _has_choices(self, accessor: Any) -> bool:
        # Rows are Scorecard values, not models: no field has choices.
        return False

    def render_name(self, record: Scorecard) -> SafeString:
        inactive = (
            format_html(' <span class="badge">{}</span>', gettext("inactive"))
            if not record.supplier.active
            else ""
        )
        return format_html(
            '<a href="{}">{}</a>{}',
            reverse("supplier", args=[record.supplier.pk]),
            record.name,
            inactive,
        )

    def render_on_time(self, record: Scorecard) -> SafeString:
        delivery = record.record
        if not delivery.lines:
            return format_html('<span class="muted">{}</span>', gettext("no deliveries"))
        percent = record.on_time_percent
        css = "badge-ok" if percent >= 90 else "badge-warn" if percent >= 70 else "badge-bad"
        return format_html(
            '<span class="badge {}">{}%</span><span class="cell-sub">{}</span>',
            css,
            percent,
            ngettext("of %(lines)d line", "of %(lines)d lines", delivery.lines)
            % {"lines": delivery.lines},
        )

    def render_late(self, record: Scorecard) -> str:
        delivery = record.record
        if not delivery.lines:
            return "—"
        return f"{_days(delivery.average_days_late)} / {_days(delivery.p90_days_late)}"

    def render_lead(self, record: Scorecard) -> SafeString:
        delivered = record.record.delivered_lead_days
        gap = record.lead_gap
        note = ""
        if gap is not None and gap > 0:
            note = format_html(
                '<span class="cell-sub">{}</span>',
                gettext("%(days)s d slower than quoted") % {"days": _days(gap)},
            )
        return format_html("{} / {}{}", record.supplier.lead_time_days, _days(delivered), note)
