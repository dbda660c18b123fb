"""Tables for the order pages (django-tables2): columns only; the rows come from selectors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import django_tables2 as tables
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import QUEUE_ORDER, OrderLine, Tier

NUMBER = {"th": {"class": "num"}, "td": {"class": "num"}}
TIER_BADGES = {Tier.VIP: "badge badge-tier-vip", Tier.PREFERRED: "badge badge-tier-preferred"}


def _sorted(lines: QuerySet[OrderLine], field: str, descending: bool) -> QuerySet[OrderLine]:
    """Sort by one field, empty values last either way, then in queue order."""
    key = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return lines.order_by(key, *QUEUE_ORDER)


class QueueTable(tables.Table):
    """The backorder queue: one row per waiting line.

    Columns with `visible=False` are for the CSV export only.
    """

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

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "queue-table", "class": "queue-table"}
        row_attrs = {"id": lambda record: f"line-row-{record.pk}"}
        per_page = 50

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()

    # Rendering (HTML)

    def render_customer(self, value: str, record: OrderLine) -> SafeString:
        badge = TIER_BADGES.get(Tier(record.customer_tier))
        if badge is None:
            return format_html("{}", value)
        return format_html(
            '{} <span class="{}">{}</span>', value, badge, record.get_customer_tier_display()
        )

    def render_product(self, value: str, record: OrderLine) -> SafeString:
        return format_html(
            '<span class="sku">{}</span> <span class="product-name">{}</span>',
            value,
            record.product.name,
        )

    def render_age(self, value: Any) -> int:
        return (self.today - timezone.localtime(value).date()).days

    def render_promised_date(self, value: Any, record: OrderLine) -> SafeString:
        date = format_html('<time datetime="{}">{}</time>', value.isoformat(), value)
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
        return _sorted(lines, "queue_position", is_descending), True

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


class ReceivingTable(tables.Table):
    """Open purchase orders on the receiving page, soonest expected first.

    The order is fixed (what arrives next is on top), so no column sorts.
    """

    number = tables.Column(
        verbose_name=_("Purchase order"), orderable=False, attrs={"td": {"class": "po-number"}}
    )
    supplier = tables.Column(accessor="supplier__name", verbose_name=_("Supplier"), orderable=False)
    warehouse = tables.Column(
        accessor="warehouse__code", verbose_name=_("Warehouse"), orderable=False
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
        verbose_name="",
        orderable=False,
        attrs={"td": {"class": "actions"}, "th": {"class": "actions"}},
    )

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "receiving-table", "class": "receiving-table"}
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
        date = format_html('<time datetime="{}">{}</time>', value.isoformat(), value)
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


PO_STATUS_BADGES = {
    "draft": "badge badge-estimate",
    "ordered": "badge",
    "partially_received": "badge badge-warn",
    "received": "badge badge-ok",
    "cancelled": "badge badge-bad",
}


def po_status_badge(purchase_order: Any) -> SafeString:
    """The status as a badge whose text says it (colour is only a hint)."""
    return format_html(
        '<span class="{}">{}</span>',
        PO_STATUS_BADGES.get(purchase_order.status, "badge"),
        purchase_order.get_status_display(),
    )


class PurchaseOrderTable(tables.Table):
    """Purchase orders on /purchase-orders/: soonest expected first unless sorted."""

    number = tables.Column(verbose_name=_("Purchase order"), attrs={"td": {"class": "po-number"}})
    supplier = tables.Column(accessor="supplier__name", verbose_name=_("Supplier"))
    warehouse = tables.Column(
        accessor="warehouse__code", verbose_name=_("Warehouse"), orderable=False
    )
    status = tables.Column(verbose_name=_("Status"))
    expected_date = tables.Column(
        verbose_name=_("Expected"), attrs={"td": {"class": "date nowrap"}, "th": {"class": "date"}}
    )
    line_count = tables.Column(verbose_name=_("Lines"), attrs=NUMBER)
    units_outstanding = tables.Column(verbose_name=_("Units outstanding"), attrs=NUMBER)

    class Meta:
        template_name = "tables/table.html"
        attrs = {"id": "po-table", "class": "po-table"}
        row_attrs = {"id": lambda record: f"po-list-row-{record.pk}"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = timezone.localdate()

    def render_number(self, value: str) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("purchase-order", args=[value]), value)

    def render_status(self, record: Any) -> SafeString:
        return po_status_badge(record)

    def render_expected_date(self, value: Any, record: Any) -> SafeString:
        date = format_html('<time datetime="{}">{}</time>', value.isoformat(), value)
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


ORDER_STATUS_BADGES = {
    "open": "badge",
    "backordered": "badge badge-warn",
    "ready_to_ship": "badge badge-ok",
    "partially_shipped": "badge badge-ok",
    "shipped": "badge badge-ok",
    "cancelled": "badge badge-bad",
}


def order_status_badge(status: Any) -> SafeString:
    """An order's or a line's status (orders.models.Status) as a badge that says it."""
    return format_html(
        '<span class="{}" data-status="{}">{}</span>',
        ORDER_STATUS_BADGES.get(str(status), "badge"),
        status,
        status.label,
    )


def tier_badge(tier: int) -> SafeString:
    """A customer's tier as a badge (standard customers get a plain one)."""
    return format_html(
        '<span class="{}">{}</span>', TIER_BADGES.get(Tier(tier), "badge"), Tier(tier).label
    )
