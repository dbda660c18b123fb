"""The backorder queue table: columns only; the rows come from orders.selectors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from desk.pagination import PAGE_SIZE
from desk.tables.cells import NUMBER, TIER_BADGES, error_list, invalid_attributes
from desk.tables.fast_rows import FastRowsTable
from orders.limits import MAX_PRIORITY, MIN_PRIORITY
from orders.models import QUEUE_ORDER, OrderLine, Tier
from orders.selectors.queue import queue_lines_with_positions


def _sorted(lines: QuerySet[OrderLine], field: str, descending: bool) -> QuerySet[OrderLine]:
    """Sort by one field, empty values last either way, then in queue order."""
    key = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return lines.order_by(key, *QUEUE_ORDER)


class QueueTable(FastRowsTable):
    """The backorder queue: one row per waiting line.

    Columns with `visible=False` are for the CSV export only.
    """

    # Shown only to roles with actions (`enable_actions`); never exported.
    select = tables.Column(
        accessor="pk",
        verbose_name=_("Select"),
        orderable=False,
        visible=False,
        attrs={"th": {"class": "select"}, "td": {"class": "select"}},
    )
    queue_position = tables.Column(
        verbose_name=_("Pos."),
        attrs={**NUMBER, "th": {"class": "num", "title": _("Place in the product's queue")}},
    )
    order = tables.Column(
        accessor="order__number",
        verbose_name=_("Order"),
        orderable=False,
        attrs={"td": {"class": "order-number"}},
    )
    customer = tables.Column(
        accessor="order__customer__name",
        verbose_name=_("Customer"),
        orderable=False,
        attrs={"td": {"class": "customer"}},
    )
    tier = tables.Column(accessor="customer_tier", verbose_name=_("Tier"), visible=False)
    product = tables.Column(
        accessor="product__sku",
        verbose_name=_("Product"),
        orderable=False,
        attrs={"td": {"class": "product"}},
    )
    product_name = tables.Column(
        accessor="product__name", verbose_name=_("Product name"), visible=False
    )
    warehouse = tables.Column(
        accessor="warehouse__code", verbose_name=_("Warehouse"), orderable=False
    )
    units_waiting = tables.Column(verbose_name=_("Units"), attrs=NUMBER)
    age = tables.Column(accessor="placed_at", verbose_name=_("Age (days)"), attrs=NUMBER)
    promised_date = tables.Column(
        verbose_name=_("Promised"), attrs={"td": {"class": "date"}, "th": {"class": "date"}}
    )
    estimate = tables.Column(
        accessor="promise_is_estimate", verbose_name=_("Estimate"), visible=False
    )
    times_slipped = tables.Column(verbose_name=_("Slipped"), attrs=NUMBER)
    actions = tables.Column(
        accessor="pk",
        verbose_name=_("Actions"),
        orderable=False,
        visible=False,
        attrs={"th": {"class": "line-actions"}, "td": {"class": "line-actions"}},
    )

    ACTION_COLUMNS = ("select", "actions")

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "queue-table", "class": "queue-table reflow"}
        row_attrs = {"id": lambda record: f"line-row-{record.pk}"}
        per_page = PAGE_SIZE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()
        self.can_cancel = self.can_prioritise = self.select_all = False
        self.query = self.csrf_token = ""
        self.action_errors: dict[int, dict[str, list[str]]] = {}
        self.action_values: dict[int, dict[str, Any]] = {}

    def enable_actions(
        self,
        *,
        can_cancel: bool,
        can_prioritise: bool,
        select_all: bool,
        query: str,
        csrf_token: str,
        errors: dict[int, dict[str, list[str]]],
        values: dict[int, dict[str, Any]],
    ) -> None:
        """Show the checkbox and row action columns to a role that may use them.

        `query` is the page's query string (filters, sort, page): the action
        forms carry it, so the answer shows the same slice of the queue.
        `errors` and `values` are what a refused action shows beside its field.
        """
        self.can_cancel, self.can_prioritise = can_cancel, can_prioritise
        if not (can_cancel or can_prioritise):
            return
        self.select_all, self.query, self.csrf_token = select_all, query, csrf_token
        self.action_errors, self.action_values = errors, values
        for name in self.ACTION_COLUMNS:
            self.columns.show(name)
        url = reverse("queue") + "?" + query + ("&" if query else "") + "select=page"
        unselect_url = (reverse("queue") + "?" + query).rstrip("?")
        # The header box selects every row of this page (the server renders
        # them ticked), so it needs no script of its own.
        self.columns["select"].column.verbose_name = format_html(
            '<input type="checkbox" id="queue-select-page" aria-label="{}" hx-get="{}" '
            'hx-target="#queue-table-container" hx-swap="outerHTML"{}>',
            gettext("Select every line on this page"),
            unselect_url if select_all else url,
            " checked" if select_all else "",
        )

    # Rendering (HTML)

    def render_select(self, value: int, record: OrderLine) -> SafeString:
        return format_html(
            '<input type="checkbox" name="lines" value="{}" form="queue-bulk" '
            'class="queue-select" aria-label="{}"{}>',
            value,
            gettext("Select %(order)s %(sku)s")
            % {"order": record.order.number, "sku": record.product.sku},
            " checked" if self.select_all else "",
        )

    def render_actions(self, value: int, record: OrderLine) -> SafeString:
        """Change priority and cancel the remainder, each a small form that
        opens in place. Each form carries the page's query, so the answer is
        the same slice of the queue, refreshed. Opening the cancel form, giving
        a reason and pressing the button that names the units is the confirm
        step. Built with format_html: a template per row costs ten times more."""
        errors = self.action_errors.get(value, {})
        values = self.action_values.get(value, {})
        hidden = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="query" value="{}">',
            self.csrf_token,
            self.query,
        )
        parts = []
        if self.can_prioritise:
            url = reverse("queue-line-priority", args=[value])
            field = f"queue-priority-{value}"
            parts.append(
                format_html(
                    '<details class="line-action"{}><summary>{}</summary>'
                    '<form class="inline-form priority-form" method="post" action="{}" '
                    'hx-post="{}" hx-target="#queue-table-container" hx-swap="outerHTML">{}'
                    '<label for="{}">{}</label><span class="inline-fields">'
                    '<input type="number" name="priority" id="{}" min="{}" max="{}" '
                    'step="1" required value="{}"{}>'
                    '<button type="submit">{}</button></span>{}</form></details>',
                    " open" if errors.get("priority") else "",
                    gettext("Priority %(priority)d") % {"priority": record.priority},
                    url,
                    url,
                    hidden,
                    field,
                    gettext("−100 to 100, higher is served first"),
                    field,
                    MIN_PRIORITY,
                    MAX_PRIORITY,
                    values.get("priority", record.priority),
                    invalid_attributes(field, errors.get("priority")),
                    gettext("Save"),
                    error_list(field, errors.get("priority")),
                )
            )
        if self.can_cancel:
            url = reverse("queue-line-cancel", args=[value])
            field = f"queue-cancel-reason-{value}"
            units = vars(record).get("units_waiting", record.backordered)
            parts.append(
                format_html(
                    '<details class="line-action line-action-cancel"{}><summary>{}</summary>'
                    '<form class="inline-form cancel-form" method="post" action="{}" '
                    'hx-post="{}" hx-target="#queue-table-container" hx-swap="outerHTML">{}'
                    '<label for="{}">{}</label>'
                    '<input type="text" name="reason" id="{}" maxlength="255" required '
                    'placeholder="{}" value="{}"{}>'
                    '<button type="submit" class="button-danger">{}</button>{}</form></details>',
                    " open" if errors.get("reason") else "",
                    gettext("Cancel remainder…"),
                    url,
                    url,
                    hidden,
                    field,
                    ngettext(
                        "Why cancel %(units)d waiting unit?",
                        "Why cancel %(units)d waiting units?",
                        units,
                    )
                    % {"units": units},
                    field,
                    gettext("e.g. the customer asked by phone"),
                    values.get("reason", ""),
                    invalid_attributes(field, errors.get("reason")),
                    ngettext(
                        "Cancel %(units)d unit, tell the customer",
                        "Cancel %(units)d units, tell the customer",
                        units,
                    )
                    % {"units": units},
                    error_list(field, errors.get("reason")),
                )
            )
        return format_html(
            '<div class="row-actions">{}</div>', format_html_join("", "{}", ((p,) for p in parts))
        )

    def render_order(self, value: str) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("order", args=[value]), value)

    def render_customer(self, value: str, record: OrderLine) -> SafeString:
        badge = TIER_BADGES.get(Tier(record.customer_tier))
        if badge is None:
            return format_html("{}", value)
        return format_html(
            '{} <span class="{}">{}</span>', value, badge, record.get_customer_tier_display()
        )

    def render_warehouse(self, value: str, record: OrderLine) -> SafeString:
        """The code, short in a wide table, with the warehouse's name on it."""
        return format_html('<abbr title="{}">{}</abbr>', record.warehouse.name, value)

    def render_product(self, value: str, record: OrderLine) -> SafeString:
        return format_html(
            '<a class="sku" href="{}">{}</a> <span class="product-name">{}</span>',
            reverse("product", args=[value]),
            value,
            record.product.name,
        )

    def render_age(self, value: Any) -> int:
        return (self.today - timezone.localtime(value).date()).days

    def render_promised_date(self, value: Any, record: OrderLine) -> SafeString:
        date = format_html(
            '<time datetime="{}">{}</time>',
            value.isoformat(),
            date_format(value, "SHORT_DATE_FORMAT"),
        )
        if record.promise_is_estimate:
            return format_html(
                '{} <span class="badge badge-estimate" title="{}">{}</span>',
                date,
                _("No open purchase order covers this line yet"),
                _("estimate"),
            )
        return date

    def render_times_slipped(self, value: int, record: OrderLine) -> SafeString | int:
        if not value:
            return format_html('<span class="muted">{}</span>', 0)
        return format_html(
            '<span class="badge badge-warn" title="{}">{}×</span>',
            gettext("%(days)s days later than first promised") % {"days": record.days_slipped},
            value,
        )

    # Sorting: one column first, then the queue order, so ties keep their place.

    def order_queue_position(
        self, lines: QuerySet[OrderLine], is_descending: bool
    ) -> tuple[QuerySet, bool]:
        # Sorting by place needs every line's place: computed in SQL for all of them.
        return _sorted(queue_lines_with_positions(lines), "queue_position", is_descending), True

    def order_units_waiting(
        self, lines: QuerySet[OrderLine], is_descending: bool
    ) -> tuple[QuerySet, bool]:
        return _sorted(lines, "units_waiting", is_descending), True

    def order_age(self, lines: QuerySet[OrderLine], is_descending: bool) -> tuple[QuerySet, bool]:
        # Older is a bigger age: sort by placed_at the other way round.
        return _sorted(lines, "placed_at", not is_descending), True

    def order_promised_date(
        self, lines: QuerySet[OrderLine], is_descending: bool
    ) -> tuple[QuerySet, bool]:
        return _sorted(lines, "promised_date", is_descending), True

    def order_times_slipped(
        self, lines: QuerySet[OrderLine], is_descending: bool
    ) -> tuple[QuerySet, bool]:
        return _sorted(lines, "times_slipped", is_descending), True

    # Export (CSV): plain values, every column including the export-only ones.
    # Values are read straight off the line: django-tables2's per-cell
    # value() machinery costs about a millisecond a row, too slow for a long queue.

    def export_row(self, line: OrderLine) -> list[Any]:
        """One line's values, in the order of `export_columns`."""
        annotated = vars(line)  # queue_position, units_waiting: from the selector
        promised = line.promised_date
        return [
            annotated["queue_position"],
            line.order.number,
            line.order.customer.name,
            line.get_customer_tier_display(),
            line.product.sku,
            line.product.name,
            line.warehouse.code,
            annotated["units_waiting"],
            self.render_age(line.placed_at),
            promised.isoformat() if promised else "",
            "yes" if line.promise_is_estimate else "no",
            line.times_slipped,
        ]

    export_columns = (
        "queue_position",
        "order",
        "customer",
        "tier",
        "product",
        "product_name",
        "warehouse",
        "units_waiting",
        "age",
        "promised_date",
        "estimate",
        "times_slipped",
    )

    def export_rows(self, *, chunk_size: int = 2000) -> Iterator[list[Any]]:
        """The header, then one row per line in the table's current order.

        Rows are read from the database in chunks, so a long queue streams
        without being held in memory.
        """
        yield [str(self.columns[name].header) for name in self.export_columns]
        lines: QuerySet[OrderLine] = self.data.data  # the queryset, sorted by the table
        for line in lines.iterator(chunk_size=chunk_size):
            yield self.export_row(line)
