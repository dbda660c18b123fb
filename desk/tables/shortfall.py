"""The shortfall worklist table: columns only; the rows come from orders.selectors.shortfall."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import django_tables2 as tables
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from desk.pagination import PAGE_SIZE
from desk.tables.cells import NUMBER
from desk.tables.fast_rows import FastRowsTable
from orders.selectors.shortfall import ShortfallRow, SupplierSource


def supplier_url(supplier_id: int) -> str:
    """The supplier's page, once it exists (it is added after this table)."""
    try:
        return reverse("supplier", args=[supplier_id])
    except NoReverseMatch:
        return ""


class ShortfallTable(FastRowsTable):
    """One row per product and warehouse with units nothing covers."""

    select = tables.Column(
        accessor="key",
        verbose_name=_("Select"),
        orderable=False,
        visible=False,
        attrs={"th": {"class": "select"}, "td": {"class": "select"}},
    )
    product = tables.Column(
        accessor="sku", verbose_name=_("Product"), attrs={"td": {"class": "product"}}
    )
    warehouse = tables.Column(accessor="warehouse_code", verbose_name=_("Warehouse"))
    # Figures sort biggest first on the first click: the worst is what to act on.
    shortfall = tables.Column(
        verbose_name=_("Units short"), attrs=NUMBER, initial_sort_descending=True
    )
    waiting = tables.Column(verbose_name=_("Waiting"), attrs=NUMBER, initial_sort_descending=True)
    lines = tables.Column(verbose_name=_("Lines"), attrs=NUMBER, initial_sort_descending=True)
    customers = tables.Column(
        verbose_name=_("Customers"), attrs=NUMBER, initial_sort_descending=True
    )
    oldest = tables.Column(
        accessor="oldest_wait_days",
        verbose_name=_("Oldest wait (days)"),
        attrs=NUMBER,
        initial_sort_descending=True,
    )
    free_elsewhere = tables.Column(
        verbose_name=_("Free elsewhere"), attrs=NUMBER, initial_sort_descending=True
    )
    supplier = tables.Column(
        accessor="supplier_name", verbose_name=_("Suggested supplier"), empty_values=()
    )
    suggested = tables.Column(
        accessor="suggested_quantity",
        verbose_name=_("Suggested units"),
        attrs=NUMBER,
        initial_sort_descending=True,
    )

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "shortfall-table", "class": "shortfall-table reflow"}
        row_attrs = {"id": lambda record: f"shortfall-row-{record.key}"}
        per_page = PAGE_SIZE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.selected: set[str] = set()
        self.select_all = False

    def _has_choices(self, accessor: Any) -> bool:
        # Rows are ShortfallRow values, not models: no field has choices.
        return False

    def enable_select(self, *, selected: set[str], select_all: bool = False) -> None:
        """Show the checkboxes (purchasing drafts purchase orders from them),
        ticked for `selected` rows, or every row with `select_all`."""
        self.columns.show("select")
        self.selected = selected
        self.select_all = select_all

    def render_select(self, record: ShortfallRow) -> SafeString:
        label = gettext("Select %(sku)s at %(warehouse)s") % {
            "sku": record.sku,
            "warehouse": record.warehouse_code,
        }
        return format_html(
            '<input type="checkbox" name="row" value="{}" form="shortfall-draft" '
            'aria-label="{}"{}>',
            record.key,
            label,
            " checked" if self.select_all or record.key in self.selected else "",
        )

    def render_warehouse(self, value: str, record: ShortfallRow) -> SafeString:
        """The code, short in a wide table, with the warehouse's name on it."""
        return format_html('<abbr title="{}">{}</abbr>', record.warehouse.name, value)

    def render_product(self, record: ShortfallRow) -> SafeString:
        return format_html(
            '<a href="{}">{}</a><span class="cell-sub">{}</span>',
            reverse("product", args=[record.sku]),
            record.sku,
            record.product.name,
        )

    def render_waiting(self, record: ShortfallRow) -> SafeString:
        parts = []
        if record.available:
            parts.append(gettext("%(units)d in stock") % {"units": record.available})
        if record.inbound:
            parts.append(gettext("%(units)d inbound") % {"units": record.inbound})
        if not parts:
            return format_html("{}", record.waiting)
        return format_html('{}<span class="cell-sub">{}</span>', record.waiting, " · ".join(parts))

    def render_free_elsewhere(self, record: ShortfallRow) -> SafeString:
        if not record.free_elsewhere:
            return format_html('<span class="muted">{}</span>', "0")
        where = format_html_join(", ", "{} {}", sorted(record.free_by_warehouse.items()))
        title = gettext("Could be moved instead of bought: open the transfer form, prefilled")
        # The warehouse with the most free units sends; as many as are short, or it has.
        source, free = max(record.free_by_warehouse.items(), key=lambda item: (item[1], item[0]))
        link = "{}?{}".format(
            reverse("transfers"),
            urlencode(
                {
                    "sku": record.product.sku,
                    "from": source,
                    "to": record.warehouse.code,
                    "quantity": min(record.shortfall, free),
                }
            ),
        )
        return format_html(
            '{}<span class="cell-sub"><a class="badge badge-warn transfer-suggestion" href="{}" '
            'title="{}">{}</a> {}</span>',
            record.free_elsewhere,
            link,
            title,
            gettext("transfer instead"),
            where,
        )

    def render_supplier(self, record: ShortfallRow) -> SafeString:
        if record.supplier is None:
            return format_html(
                '<span class="muted">{}</span>', gettext("none yet — choose on a new PO")
            )
        source = (
            gettext("preferred")
            if record.supplier_source == SupplierSource.PREFERRED
            else gettext("last used")
        )
        name = record.supplier.name
        url = supplier_url(record.supplier.pk)
        link = format_html('<a href="{}">{}</a>', url, name) if url else name
        record_text = gettext("no deliveries yet")
        delivery = record.record
        if delivery is not None and delivery.lines:
            record_text = ngettext(
                "%(percent)d%% on time (%(lines)d line)",
                "%(percent)d%% on time (%(lines)d lines)",
                delivery.lines,
            ) % {"percent": delivery.on_time_percent, "lines": delivery.lines}
        return format_html(
            '<span class="cell-main">{}</span><span class="cell-sub">{} · {}</span>',
            link,
            source,
            record_text,
        )

    def render_suggested(self, record: ShortfallRow) -> SafeString:
        terms = []
        if record.pack_size > 1:
            terms.append(gettext("packs of %(units)d") % {"units": record.pack_size})
        if record.minimum_order > 1:
            terms.append(gettext("min. %(units)d") % {"units": record.minimum_order})
        if not terms:
            return format_html("<strong>{}</strong>", record.suggested_quantity)
        return format_html(
            '<strong>{}</strong><span class="cell-sub">{}</span>',
            record.suggested_quantity,
            " · ".join(terms),
        )
