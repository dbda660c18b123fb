"""Reads for the order pages: each queryset a page renders, fully joined and annotated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import (
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from orders.models import QUEUE_ORDER, OrderLine

if TYPE_CHECKING:
    from orders.filters import QueueFilter


def _lines_ahead_in_queue() -> Subquery:
    """How many waiting lines of the same product and warehouse are served first.

    The same order as QUEUE_ORDER: higher manual priority, then lower tier, then
    earlier placed, then lower id. Correlated to the outer row, so it is computed
    only for the rows a page fetches and ignores whatever filters the outer query
    has: a line's position is in its product's whole queue.
    """
    same_priority = Q(priority=OuterRef("priority"))
    same_tier = same_priority & Q(customer_tier=OuterRef("customer_tier"))
    same_time = same_tier & Q(placed_at=OuterRef("placed_at"))
    ahead = (
        OrderLine.objects.backordered()
        .filter(product=OuterRef("product"), warehouse=OuterRef("warehouse"))
        .filter(
            Q(priority__gt=OuterRef("priority"))
            | (same_priority & Q(customer_tier__lt=OuterRef("customer_tier")))
            | (same_tier & Q(placed_at__lt=OuterRef("placed_at")))
            | (same_time & Q(pk__lt=OuterRef("pk")))
        )
        # COUNT without GROUP BY: always one row, 0 when nobody is ahead.
        .order_by()
        .annotate(ahead=Func(F("pk"), function="COUNT", output_field=IntegerField()))
        .values("ahead")
    )
    return Subquery(ahead, output_field=IntegerField())


def queue_lines(*, filters: QueueFilter | None = None) -> QuerySet[OrderLine]:
    """Every open backordered line, in queue order, ready for the queue page.

    Each line carries `queue_position` (1 = next to get stock for its product in
    its warehouse) and `units_waiting`; the order, customer, product and
    warehouse come in the same query. `filters` narrows the lines (a bound
    QueueFilter; values that did not validate are left out).
    """
    lines = (
        OrderLine.objects.backordered()
        .select_related("order__customer", "product", "warehouse")
        .annotate(
            queue_position=_lines_ahead_in_queue() + 1,
            units_waiting=ExpressionWrapper(
                F("ordered") - F("allocated") - F("shipped") - F("cancelled"),
                output_field=IntegerField(),
            ),
        )
        .order_by(*QUEUE_ORDER)
    )
    if filters is not None:
        filters.is_valid()  # fills cleaned_data; invalid fields are skipped, not raised
        lines = filters.filter_queryset(lines)
    return lines
