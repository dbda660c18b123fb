"""Reads of the backorder queue: waiting lines in allocation order, with their positions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import CombinedExpression

from orders.models import (
    QUEUE_ORDER,
    OrderLine,
)

Lines = TypeVar("Lines", bound=QuerySet[Any])


class LineFilter(Protocol):
    """What a selector needs of the page's filters (a django-filter FilterSet,
    bound in the interface layer): validate, then narrow a queryset."""

    def is_valid(self) -> bool: ...

    def filter_queryset(self, queryset: Lines) -> Lines: ...


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
    *, filters: LineFilter | None = None, positions: bool = False, related: bool = True
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


def order_lines_by_id(*, line_ids: list[int]) -> dict[int, OrderLine]:
    """Order lines with their order, customer and product, for a receipt's result."""
    return OrderLine.objects.select_related("order__customer", "product").in_bulk(line_ids)
