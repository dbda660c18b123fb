"""Reads for the order pages: each queryset a page renders, fully joined and annotated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext

from inventory.models import Product, StockLevel, StockMove, Warehouse
from orders.models import (
    QUEUE_ORDER,
    Cancellation,
    Customer,
    CustomerChoice,
    OrderLine,
    OrderNote,
    PromiseRevision,
    SalesOrder,
    Shipment,
)
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
)

if TYPE_CHECKING:
    from orders.filters import DelaysFilter, QueueFilter


class _RowBefore(Func):
    """`(a, b, c) < (x, y, z)`: a row comparison, which PostgreSQL answers
    with one range of an index on those columns in that order."""

    output_field = BooleanField()
    conditional = True

    def as_sql(
        self,
        compiler: Any,
        connection: Any,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        half = len(compiled) // 2
        lhs = ", ".join(sql for sql, _params in compiled[:half])
        rhs = ", ".join(sql for sql, _params in compiled[half:])
        params = tuple(param for _sql, row_params in compiled for param in row_params)
        return f"({lhs}) < ({rhs})", params


def _count(lines: QuerySet[OrderLine]) -> Subquery:
    # COUNT without GROUP BY: always one row, 0 when nothing matches.
    return Subquery(
        lines.order_by()
        .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("n"),
        output_field=IntegerField(),
    )


def _lines_ahead_in_queue() -> CombinedExpression:
    """How many waiting lines of the same product and warehouse are served first.

    The same order as QUEUE_ORDER: higher manual priority, then lower tier, then
    earlier placed, then lower id. Correlated to the outer row, so it is computed
    only for the rows a page fetches and ignores whatever filters the outer query
    has: a line's position is in its product's whole queue.

    Two counts, each one range of the order_line_queue index (product,
    warehouse, priority desc, tier, placed_at, id): the lines of a higher
    priority, and those of the same priority before it by (tier, placed_at,
    id). One count with the OR of the two read the product's whole queue for
    every row shown.
    """
    queue = OrderLine.objects.backordered().filter(
        product=OuterRef("product"), warehouse=OuterRef("warehouse")
    )
    higher = queue.filter(priority__gt=OuterRef("priority"))
    before = queue.filter(priority=OuterRef("priority")).filter(
        _RowBefore(
            F("customer_tier"),
            F("placed_at"),
            F("pk"),
            OuterRef("customer_tier"),
            OuterRef("placed_at"),
            OuterRef("pk"),
        )
    )
    return _count(higher) + _count(before)


def queue_lines(
    *, filters: QueueFilter | None = None, positions: bool = False, related: bool = True
) -> QuerySet[OrderLine]:
    """Every open backordered line, in queue order, ready for the queue page.

    Each line carries `units_waiting`; with `related` (the default) the order,
    customer, product and warehouse come in the same query. `filters` narrows
    the lines (a bound QueueFilter; values that did not validate are left out).

    With `positions`, each line also carries `queue_position` (1 = next to get
    stock for its product in its warehouse), computed in SQL: needed to sort by
    it or to export.

    A page asks for neither (`related=False`) and completes its own rows with
    `queue_page_complete`, one query: PostgreSQL joins the order, customer and
    product, and evaluates a select-list subquery, for every row it sorts or an
    OFFSET skips (page 200 joined 10,001 rows; a product search joined 6,400
    to show 50).
    """
    lines: QuerySet[OrderLine] = (
        OrderLine.objects.backordered()
        .annotate(
            units_waiting=ExpressionWrapper(
                F("ordered") - F("allocated") - F("shipped") - F("cancelled"),
                output_field=IntegerField(),
            ),
        )
        .order_by(*QUEUE_ORDER)
    )
    if related:
        lines = lines.select_related(*QUEUE_RELATED)
    if positions:
        lines = queue_lines_with_positions(lines)
    if filters is not None:
        filters.is_valid()  # fills cleaned_data; invalid fields are skipped, not raised
        lines = filters.filter_queryset(lines)
    return lines


QUEUE_RELATED = ("order__customer", "product", "warehouse")


def queue_lines_with_positions(lines: QuerySet[OrderLine]) -> QuerySet[OrderLine]:
    """`lines` annotated with `queue_position`, their place in their whole queue."""
    return lines.annotate(queue_position=_lines_ahead_in_queue() + 1)


def queue_page_complete(lines: Sequence[OrderLine]) -> None:
    """Give a page of queue lines (from `queue_lines(related=False)`) their
    order, customer, product and warehouse and their `queue_position`, in one
    query for the page. Lines that already have them are left as they are."""
    missing = [
        line
        for line in lines
        if not hasattr(line, "queue_position") or not OrderLine.order.is_cached(line)
    ]
    if not missing:
        return
    complete = queue_lines_with_positions(
        OrderLine.objects.filter(pk__in=[line.pk for line in missing])
        .select_related(*QUEUE_RELATED)
        .order_by()
    )
    found = {line.pk: line for line in complete}
    for line in missing:
        full = found.get(line.pk)
        if full is None:  # gone since the page was read
            line.queue_position = None  # type: ignore[attr-defined]
            continue
        line.order, line.product, line.warehouse = full.order, full.product, full.warehouse
        line.queue_position = full.queue_position  # type: ignore[attr-defined]


# --- receiving ---------------------------------------------------------------


def receiving_purchase_orders() -> QuerySet[PurchaseOrder]:
    """The open purchase orders the warehouse can receive, soonest expected first.

    Each carries `next_expected` (the earliest expected date of a line still
    outstanding, else the order's own date), `open_lines` and
    `units_outstanding`; supplier and warehouse come in the same query.
    """
    from django.db.models import Count, Min, Sum
    from django.db.models.functions import Coalesce

    from suppliers.models import OPEN_PO_STATUSES

    still_expected = Q(lines__received__lt=F("lines__ordered"))
    return (
        PurchaseOrder.objects.filter(status__in=OPEN_PO_STATUSES)
        .select_related("supplier", "warehouse")
        .annotate(
            next_expected=Coalesce(
                Min("lines__expected_date", filter=still_expected), F("expected_date")
            ),
            open_lines=Count("lines", filter=still_expected),
            units_outstanding=Coalesce(
                Sum(F("lines__ordered") - F("lines__received"), filter=still_expected), 0
            ),
        )
        .order_by("next_expected", "number")
    )


def purchase_order_for_receiving(*, number: str) -> PurchaseOrder:
    """One purchase order by number, with supplier and warehouse (404 if unknown)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        PurchaseOrder.objects.select_related("supplier", "warehouse"), number=number
    )


def purchase_order_open_lines(*, purchase_order: PurchaseOrder) -> list[PurchaseOrderLine]:
    """The lines still expecting units, with their products, in line order."""
    return list(
        PurchaseOrderLine.objects.filter(purchase_order=purchase_order, received__lt=F("ordered"))
        .select_related("product")
        .order_by("pk")
    )


def purchase_order_receipt_state(*, purchase_order_id: int) -> str:
    """What has been received on each line, as one string (`id:received,…`).

    The receive form carries the state it was rendered from; a submit whose
    state no longer matches was made against numbers that have changed since
    (a double click, a resend, a colleague's receipt) and is refused.
    """
    rows = (
        PurchaseOrderLine.objects.filter(purchase_order_id=purchase_order_id)
        .order_by("pk")
        .values_list("pk", "received")
    )
    return ",".join(f"{pk}:{received}" for pk, received in rows)


def order_lines_by_id(*, line_ids: list[int]) -> dict[int, OrderLine]:
    """Order lines with their order, customer and product, for a receipt's result."""
    return OrderLine.objects.select_related("order__customer", "product").in_bulk(line_ids)


# --- purchase orders (/purchase-orders/) ----------------------------------------

PO_STATUS_OPEN = "open"
PO_STATUS_ALL = "all"


def purchase_order_list(
    *, status: str = PO_STATUS_OPEN, supplier_id: int | None = None
) -> QuerySet[PurchaseOrder]:
    """Purchase orders for the list page, soonest expected first, in one query.

    `status` is "open" (ordered or partially received), "all", or one status.
    Each row carries `line_count` and `units_outstanding` (ordered − received
    over its lines); supplier and warehouse come in the same query.
    """
    orders = PurchaseOrder.objects.select_related("supplier", "warehouse").annotate(
        line_count=Count("lines"),
        units_outstanding=Coalesce(
            Sum(F("lines__ordered") - F("lines__received")), 0, output_field=IntegerField()
        ),
    )
    if status == PO_STATUS_OPEN:
        orders = orders.filter(status__in=OPEN_PO_STATUSES)
    elif status != PO_STATUS_ALL:
        orders = orders.filter(status=status)
    if supplier_id is not None:
        orders = orders.filter(supplier_id=supplier_id)
    return orders.order_by("expected_date", "number")


def purchase_order_get(*, number: str) -> PurchaseOrder:
    """One purchase order with its supplier, warehouse and author (raises DoesNotExist)."""
    return PurchaseOrder.objects.select_related("supplier", "warehouse", "created_by").get(
        number=number
    )


def purchase_order_lines(*, purchase_order: PurchaseOrder) -> list[PurchaseOrderLine]:
    """The purchase order's lines with their products, in entry order."""
    return list(purchase_order.lines.select_related("product").order_by("pk"))


def purchase_order_waiting_lines(*, purchase_order: PurchaseOrder) -> list[OrderLine]:
    """Backordered lines whose current promise rests on this purchase order.

    A line is waiting on it when its latest promise revision names the order
    in `covered_by`. One query: the latest revision is a correlated subquery,
    narrowed to the order's products at its warehouse first.
    """
    latest_cover = (
        PromiseRevision.objects.filter(line=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("covered_by")[:1]
    )
    return list(
        OrderLine.objects.backordered()
        .filter(
            warehouse_id=purchase_order.warehouse_id,
            product_id__in=PurchaseOrderLine.objects.filter(purchase_order=purchase_order).values(
                "product_id"
            ),
        )
        .annotate(
            current_cover=Subquery(latest_cover),
            units_waiting=ExpressionWrapper(
                F("ordered") - F("allocated") - F("shipped") - F("cancelled"),
                output_field=IntegerField(),
            ),
        )
        .filter(current_cover=purchase_order.number)
        .select_related("order__customer", "product")
        .order_by("promised_date", *QUEUE_ORDER)
    )


@dataclass(frozen=True)
class DateMove:
    """One move of a purchase order's expected date, over however many lines it moved."""

    old_date: dt.date
    new_date: dt.date
    reason: str
    cause: str
    cause_label: str
    changed_by: str
    changed_at: dt.datetime
    skus: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.new_date - self.old_date).days


def purchase_order_date_moves(*, purchase_order: PurchaseOrder) -> list[DateMove]:
    """The expected-date history, newest first, in one query.

    A move writes one revision per line; revisions with the same dates, reason,
    cause and author written within a few seconds are shown as one move.
    """
    revisions = (
        ExpectedDateRevision.objects.filter(line__purchase_order=purchase_order)
        .select_related("line__product", "changed_by")
        .order_by("-changed_at", "-pk")
    )
    moves: list[DateMove] = []
    for revision in revisions:
        author = revision.changed_by.get_username() if revision.changed_by else ""
        key = (revision.old_date, revision.new_date, revision.reason, revision.cause, author)
        last = moves[-1] if moves else None
        if (
            last is not None
            and (last.old_date, last.new_date, last.reason, last.cause, last.changed_by) == key
            and abs((last.changed_at - revision.changed_at).total_seconds()) < 5
        ):
            moves[-1] = replace(last, skus=(*last.skus, revision.line.product.sku))
            continue
        moves.append(
            DateMove(
                old_date=revision.old_date,
                new_date=revision.new_date,
                reason=revision.reason,
                cause=revision.cause,
                cause_label=revision.get_cause_display(),
                changed_by=author,
                changed_at=revision.changed_at,
                skus=(revision.line.product.sku,),
            )
        )
    return moves


# --- shipping (/shipping/) ----------------------------------------------------


def shipping_orders() -> QuerySet[SalesOrder]:
    """Orders with allocated units, oldest placed first, ready for the shipping page.

    Each order carries `ready_lines`: its lines with allocated units, with their
    products, in line order (one prefetch query for the whole page). The
    customer and warehouse come in the same query as the orders. Slice it:
    the page never counts.
    """
    return (
        SalesOrder.objects.filter(
            Exists(OrderLine.objects.ready_to_ship().filter(order=OuterRef("pk")))
        )
        .select_related("customer", "warehouse")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.ready_to_ship().select_related("product").order_by("pk"),
                to_attr="ready_lines",
            )
        )
        .order_by("placed_at", "pk")
    )


def shipping_order(*, number: str) -> SalesOrder:
    """One order with its `ready_lines` (possibly none left), 404 if unknown."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        SalesOrder.objects.select_related("customer", "warehouse").prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.ready_to_ship().select_related("product").order_by("pk"),
                to_attr="ready_lines",
            )
        ),
        number=number,
    )


# --- product (/products/<sku>/) -------------------------------------------------

PRODUCT_QUEUE_LIMIT = 200


@dataclass
class ProductQueueSummary:
    """The waiting lines and units of one product in one warehouse."""

    warehouse_id: int
    lines: int
    units: int


def product_get(*, sku: str) -> Product:
    """One product by SKU (404 if unknown)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Product, sku=sku)


def product_warehouses() -> list[Warehouse]:
    """Every warehouse, by code (a handful: the stock table has a row for each)."""
    return list(Warehouse.objects.order_by("code"))


def product_stock_levels(*, product: Product) -> dict[int, StockLevel]:
    """The product's stock level in each warehouse that has one, by warehouse id."""
    return {level.warehouse_id: level for level in StockLevel.objects.filter(product=product)}


def product_inbound_lines(*, product: Product) -> list[PurchaseOrderLine]:
    """Open purchase order lines still expecting the product, soonest expected first."""
    return list(
        PurchaseOrderLine.objects.filter(
            product=product,
            purchase_order__status__in=OPEN_PO_STATUSES,
            received__lt=F("ordered"),
        )
        .select_related("purchase_order__supplier", "purchase_order__warehouse")
        .order_by("expected_date", "purchase_order__number", "pk")
    )


def product_queue_summary(*, product: Product) -> dict[int, ProductQueueSummary]:
    """Waiting lines and backordered units of the product per warehouse (one query)."""
    rows = (
        OrderLine.objects.backordered()
        .filter(product=product)
        .order_by()
        .values("warehouse_id")
        .annotate(
            line_count=Count("pk"),
            units=Sum(F("ordered") - F("allocated") - F("shipped") - F("cancelled")),
        )
    )
    return {
        row["warehouse_id"]: ProductQueueSummary(
            warehouse_id=row["warehouse_id"], lines=row["line_count"], units=row["units"] or 0
        )
        for row in rows
    }


def product_queue(*, product: Product, limit: int = PRODUCT_QUEUE_LIMIT) -> list[OrderLine]:
    """The product's waiting lines per warehouse (by code), each in queue order.

    Each line carries `queue_position` (1 = next to get stock in its warehouse)
    and `units_waiting`; order, customer and warehouse come in the same query.
    At most `limit` lines: the positions stay right because each warehouse's
    queue is read from its start.
    """
    lines: list[OrderLine] = list(
        OrderLine.objects.backordered()
        .filter(product=product)
        .select_related("order__customer", "warehouse")
        .annotate(
            units_waiting=ExpressionWrapper(
                F("ordered") - F("allocated") - F("shipped") - F("cancelled"),
                output_field=IntegerField(),
            )
        )
        .order_by("warehouse__code", *QUEUE_ORDER)[:limit]
    )
    position: dict[int, int] = {}
    for line in lines:
        position[line.warehouse_id] = position.get(line.warehouse_id, 0) + 1
        line.queue_position = position[line.warehouse_id]  # type: ignore[attr-defined]
    return lines


# --- the order page (/orders/<number>/) and the customer page (/customers/<id>/) ---


def order_get(*, number: str) -> SalesOrder:
    """One sales order with its customer and warehouse (raises DoesNotExist)."""
    return SalesOrder.objects.select_related("customer", "warehouse", "created_by").get(
        number=number
    )


def order_lines(*, order: SalesOrder) -> list[OrderLine]:
    """The order's lines with their products, in entry order."""
    return list(order.lines.select_related("product").order_by("pk"))


def order_promise_revisions(*, order: SalesOrder) -> dict[int, list[PromiseRevision]]:
    """Every promise revision of the order's lines, newest first, by line id (one query)."""
    by_line: dict[int, list[PromiseRevision]] = {}
    revisions = PromiseRevision.objects.filter(line__order=order).order_by("-created_at", "-pk")
    for revision in revisions:
        by_line.setdefault(revision.line_id, []).append(revision)
    return by_line


@dataclass(frozen=True)
class AuditEntry:
    """One thing that happened to an order, for its audit trail."""

    when: dt.datetime
    kind: str  # history, shipment, cancellation, choice, stock
    what: str
    detail: str
    who: str


LINE_AUDIT_FIELDS = ("ordered", "allocated", "shipped", "cancelled", "priority")
ORDER_AUDIT_FIELDS = ("channel", "customer_id", "warehouse_id", "external_reference")


def _username(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _changes(record: Any, previous: Any, fields: tuple[str, ...]) -> str:
    parts = []
    for field in fields:
        old, new = getattr(previous, field), getattr(record, field)
        if old != new:
            parts.append(f"{field.removesuffix('_id')} {old} → {new}")
    return ", ".join(parts)


def _history_entries(
    records: Iterable[Any],
    fields: tuple[str, ...],
    label: Callable[[Any], str],
    baseline: Callable[[Any], Any] | None = None,
    creator: str = "",
) -> list[AuditEntry]:
    """Audit entries of simple_history records (oldest first per object):
    created, the fields each change touched, deleted. `baseline(record)` stands
    in for a missing first record (rows bulk-created without history)."""
    entries: list[AuditEntry] = []
    previous: dict[int, Any] = {}
    for record in records:
        before = previous.get(record.id)
        if before is None and baseline is not None:
            before = baseline(record)
        previous[record.id] = record
        if record.history_type == "+":
            what, detail = gettext("created"), ""
        elif record.history_type == "-":
            what, detail = gettext("deleted"), ""
        else:
            detail = _changes(record, before, fields) if before is not None else ""
            if before is not None and not detail:
                continue  # only fields the trail does not show changed
            what = gettext("changed")
        entries.append(
            AuditEntry(
                when=record.history_date,
                kind="history",
                what=f"{label(record)} {what}",
                detail=detail,
                who=_username(record.history_user)
                or (creator if record.history_type == "+" else ""),
            )
        )
    return entries


def _line_as_placed(record: Any) -> Any:
    """A line as order_place bulk-creates it (no history record): nothing
    shipped, cancelled or prioritised; what it allocated is in the stock moves."""
    return SimpleNamespace(
        ordered=record.ordered, allocated=record.allocated, shipped=0, cancelled=0, priority=0
    )


def order_audit_trail(*, order: SalesOrder, lines: list[OrderLine]) -> list[AuditEntry]:
    """Everything that happened to the order, newest first, in six queries:
    the order's and its lines' history records, shipments, cancellations,
    customer choices through links, and stock moves of the order's lines."""
    skus = {line.pk: line.product.sku for line in lines}
    order_records = (
        SalesOrder.history.filter(id=order.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    line_records = (
        OrderLine.history.filter(order_id=order.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    entries = _history_entries(
        order_records,
        ORDER_AUDIT_FIELDS,
        lambda r: gettext("Order"),
        creator=_username(order.created_by),
    )
    entries += _history_entries(
        line_records,
        LINE_AUDIT_FIELDS,
        lambda r: gettext("Line %(sku)s") % {"sku": skus.get(r.id, f"#{r.id}")},
        baseline=_line_as_placed,
    )
    entries += [
        AuditEntry(
            when=order.placed_at,
            kind="history",
            what=gettext("Line %(sku)s placed") % {"sku": line.product.sku},
            detail=gettext("%(units)d ordered") % {"units": line.ordered},
            who=_username(order.created_by),
        )
        for line in lines
    ]
    shipments = (
        Shipment.objects.filter(order=order)
        .select_related("shipped_by")
        .annotate(units=Sum("lines__quantity"))
    )
    for shipment in shipments:
        entries.append(
            AuditEntry(
                when=shipment.shipped_at,
                kind="shipment",
                what=gettext("Shipped %(units)s units") % {"units": vars(shipment)["units"] or 0},
                detail=gettext("tracking %(number)s") % {"number": shipment.tracking_number},
                who=_username(shipment.shipped_by),
            )
        )
    cancellations = Cancellation.objects.filter(order_line__order=order).select_related(
        "cancelled_by"
    )
    for cancellation in cancellations:
        entries.append(
            AuditEntry(
                when=cancellation.cancelled_at,
                kind="cancellation",
                what=gettext("Cancelled %(units)d × %(sku)s")
                % {"units": cancellation.quantity, "sku": skus.get(cancellation.order_line_id, "")},
                detail=gettext("%(reason)s; refund due %(refund)s")
                % {"reason": cancellation.reason, "refund": cancellation.refund_due},
                who=_username(cancellation.cancelled_by),
            )
        )
    for choice in CustomerChoice.objects.filter(order=order):
        entries.append(
            AuditEntry(
                when=choice.chosen_at,
                kind="choice",
                what=gettext("Customer chose: %(choice)s")
                % {"choice": choice.get_choice_display()},
                detail=gettext("through the link in an email"),
                who=gettext("customer"),
            )
        )
    moves = (
        StockMove.objects.filter(
            Q(reference=order.number) | Q(reference__startswith=f"{order.number}/")
        )
        .select_related("product", "created_by")
        .order_by("created_at", "pk")
    )
    for move in moves:
        entries.append(
            AuditEntry(
                when=move.created_at,
                kind="stock",
                what=f"{move.get_kind_display()} {move.quantity} × {move.product.sku}",
                detail=" · ".join(part for part in (move.reference, move.note) if part),
                who=_username(move.created_by),
            )
        )
    return sorted(entries, key=lambda entry: entry.when, reverse=True)


CUSTOMER_ORDERS_LIMIT = 100


def customer_get(*, customer_id: int) -> Customer:
    """One customer (raises DoesNotExist)."""
    return Customer.objects.get(pk=customer_id)


def customer_orders(*, customer: Customer, limit: int = CUSTOMER_ORDERS_LIMIT) -> list[SalesOrder]:
    """The customer's newest orders, each with its lines' quantities (two queries)."""
    lines = OrderLine.objects.only(
        "order_id", "ordered", "allocated", "shipped", "cancelled"
    ).order_by("pk")
    return list(
        SalesOrder.objects.filter(customer=customer)
        .order_by("-placed_at", "-pk")
        .prefetch_related(Prefetch("lines", queryset=lines))[:limit]
    )


# --- delays (/delays/): customers whose promise slipped or passed ----------------

DELAYS_PAGE_SIZE = 15


def _delay_days(today: dt.date) -> ExpressionWrapper:
    """How late a line is against its first promise, as a duration:
    max(promised date, today) − first promised date. A promise that passed
    keeps getting later every day the units do not come."""
    return ExpressionWrapper(
        Greatest(F("promised_date"), Value(today, output_field=DateField()))
        - F("first_promised_date"),
        output_field=DurationField(),
    )


def delay_lines(
    *, filters: DelaysFilter | None = None, today: dt.date | None = None
) -> QuerySet[OrderLine]:
    """Open backordered lines whose promise slipped (moved later at least once,
    or is later than the first promise) or whose promised date has passed.

    Each carries `late_by` (a timedelta, see `_delay_days`). `filters` narrows
    the lines (a bound DelaysFilter; values that did not validate are left out).
    """
    today = today or timezone.localdate()
    lines = (
        OrderLine.objects.backordered()
        .filter(
            Q(times_slipped__gt=0)
            | Q(promised_date__gt=F("first_promised_date"))
            | Q(promised_date__lt=today)
        )
        .annotate(late_by=_delay_days(today))
    )
    if filters is not None:
        filters.is_valid()  # fills cleaned_data; invalid fields are skipped, not raised
        lines = filters.filter_queryset(lines)
    return lines


@dataclass
class DelayedCustomer:
    """One customer on the delays page: their delayed lines, worst first."""

    customer: Customer
    lines: list[OrderLine]
    days_late: int
    times_slipped: int

    @property
    def passed(self) -> int:
        """How many of the lines have a promised date in the past."""
        return sum(1 for line in self.lines if vars(line).get("promise_passed"))

    @property
    def units_waiting(self) -> int:
        return sum(line.backordered for line in self.lines)

    @property
    def order_ids(self) -> list[int]:
        return list(dict.fromkeys(line.order_id for line in self.lines))


def _days(value: dt.timedelta | None) -> int:
    return max(value.days, 0) if value is not None else 0


def delayed_customers(
    *,
    filters: DelaysFilter | None = None,
    customer_ids: Iterable[int] | None = None,
    page: int = 1,
    per_page: int = DELAYS_PAGE_SIZE,
    with_alternatives: bool = False,
    today: dt.date | None = None,
) -> tuple[list[DelayedCustomer], bool]:
    """A page of delayed customers, worst first, and whether another page follows.

    Worst first: the most days late of any of their lines (against the first
    promise), then the most times a promise of theirs slipped, then VIPs. Three
    queries whatever the page size (four `with_alternatives`, the active
    alternatives of each line's product for the substitute form): the page of
    customer ids with their figures, grouped in the database and fetched one
    past the page instead of counted; the customers; their lines with order and
    product. `customer_ids` narrows it to those customers (one card again after
    an action).
    """
    today = today or timezone.localdate()
    lines = delay_lines(filters=filters, today=today)
    if customer_ids is not None:
        lines = lines.filter(order__customer_id__in=list(customer_ids))
    start = (max(page, 1) - 1) * per_page
    groups = list(
        lines.order_by()
        .values("order__customer_id")
        .annotate(
            worst=Max("late_by"),
            slips=Max("times_slipped"),
            tier=Min("customer_tier"),
        )
        .order_by("-worst", "-slips", "tier", "order__customer_id")[start : start + per_page + 1]
    )
    has_next = len(groups) > per_page
    groups = groups[:per_page]
    ids = [group["order__customer_id"] for group in groups]
    if not ids:
        return [], False
    customers = Customer.objects.in_bulk(ids)
    page_lines = (
        lines.filter(order__customer_id__in=ids)
        .select_related("order", "product")
        .order_by(F("late_by").desc(), "-times_slipped", "promised_date", "order__number", "pk")
    )
    if with_alternatives:
        page_lines = page_lines.prefetch_related(
            Prefetch(
                "product__alternatives",
                queryset=Product.objects.filter(active=True).order_by("sku"),
                to_attr="active_alternatives",
            )
        )
    by_customer: dict[int, list[OrderLine]] = {pk: [] for pk in ids}
    for line in page_lines:
        line.days_late = _days(vars(line)["late_by"])  # type: ignore[attr-defined]
        line.promise_passed = (  # type: ignore[attr-defined]
            line.promised_date is not None and line.promised_date < today
        )
        by_customer[line.order.customer_id].append(line)
    return [
        DelayedCustomer(
            customer=customers[group["order__customer_id"]],
            lines=by_customer[group["order__customer_id"]],
            days_late=_days(group["worst"]),
            times_slipped=group["slips"] or 0,
        )
        for group in groups
    ], has_next


def order_notes_for_orders(*, order_ids: Iterable[int]) -> dict[int, list[OrderNote]]:
    """The internal notes of the orders, newest first, by order id (one query)."""
    by_order: dict[int, list[OrderNote]] = {}
    notes = (
        OrderNote.objects.filter(order_id__in=list(order_ids))
        .select_related("order", "author")
        .order_by("-created_at", "-pk")
    )
    for note in notes:
        by_order.setdefault(note.order_id, []).append(note)
    return by_order


def order_notes(*, order: SalesOrder) -> list[OrderNote]:
    """The order's internal notes, newest first, with their authors."""
    return list(order.notes.select_related("author").order_by("-created_at", "-pk"))


def delay_customer_orders(*, customer: Customer) -> list[SalesOrder]:
    """The customer's orders that still have units waiting, newest first (for
    the order choice of the delays page's forms)."""
    return list(
        SalesOrder.objects.filter(
            customer=customer,
            pk__in=OrderLine.objects.backordered().values("order_id"),
        ).order_by("-placed_at", "-pk")
    )


def delay_line_get(*, customer_id: int, line_id: int) -> OrderLine:
    """One of the customer's order lines with its order and product, and the
    product's active alternatives as `active_alternatives` (raises DoesNotExist)."""
    return (
        OrderLine.objects.select_related("order__customer", "product")
        .prefetch_related(
            Prefetch(
                "product__alternatives",
                queryset=Product.objects.filter(active=True).order_by("sku"),
                to_attr="active_alternatives",
            )
        )
        .get(pk=line_id, order__customer_id=customer_id)
    )
