"""Reads of the delays page: customers whose promise slipped or passed, worst first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Greatest, TruncDate
from django.utils import timezone

from inventory.models import Product, StockLevel
from orders.models import (
    Customer,
    OrderLine,
    PromiseRevision,
    SalesOrder,
)
from orders.selectors.queue import LineFilter

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
    *, filters: LineFilter | None = None, today: dt.date | None = None
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
    # Opted out of update emails, or no email (not failed) has gone out since
    # their date last moved later or passed: customer service calls or writes.
    not_told: bool = False

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
    filters: LineFilter | None = None,
    customer_ids: Iterable[int] | None = None,
    page: int = 1,
    per_page: int = DELAYS_PAGE_SIZE,
    with_alternatives: bool = False,
    today: dt.date | None = None,
    last_told: BaseExpression | None = None,
) -> tuple[list[DelayedCustomer], bool]:
    """A page of delayed customers, worst first, and whether another page follows.

    Those not told come first (`_with_not_told`; `last_told` from
    `notifications.selectors.last_told_at`), then the worst: the most days
    late of any of their lines (against the first promise), then the most
    times a promise of theirs slipped, then VIPs. Three queries whatever the
    page size (four `with_alternatives`, the active alternatives of each
    line's product for the substitute form): the page of customer ids with
    their figures, grouped in the database and fetched one past the page
    instead of counted; the customers; their lines with order and product.
    `customer_ids` narrows it to those customers (one card again after an
    action).
    """
    today = today or timezone.localdate()
    lines = delay_lines(filters=filters, today=today)
    if customer_ids is not None:
        lines = lines.filter(order__customer_id__in=list(customer_ids))
    start = (max(page, 1) - 1) * per_page
    groups = list(
        _with_not_told(
            lines.order_by()
            .values("order__customer_id", "order__customer__email_opt_out")
            .annotate(
                worst=Max("late_by"),
                slips=Max("times_slipped"),
                tier=Min("customer_tier"),
            ),
            today=today,
            last_told=last_told,
        ).order_by("-not_told", "-worst", "-slips", "tier", "order__customer_id")[
            start : start + per_page + 1
        ]
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
            not_told=group["not_told"],
        )
        for group in groups
    ], has_next


def _with_not_told(
    groups: QuerySet[Any], *, today: dt.date, last_told: BaseExpression | None
) -> QuerySet[Any]:
    """Each customer's group of delayed lines with `not_told`: opted out of
    update emails, or their latest message that did not fail (`last_told`, an
    expression on `order__customer_id` from the notifications layer) is older
    than the last time one of these lines moved later, or not later than the
    latest promised date that passed (in the shop's time zone). Without
    `last_told`, only those who opted out."""
    last_slip = Max(
        "promise_revisions__created_at",
        filter=Q(
            promise_revisions__old_date__isnull=False,
            promise_revisions__new_date__gt=F("promise_revisions__old_date"),
        ),
    )
    last_passed = Max("promised_date", filter=Q(promised_date__lt=today))
    if last_told is None:
        return groups.annotate(
            not_told=Case(
                When(order__customer__email_opt_out=True, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    return groups.annotate(
        last_slip=last_slip,
        last_passed=last_passed,
        last_told=last_told,
        not_told=Case(
            When(order__customer__email_opt_out=True, then=Value(True)),
            When(Q(last_slip__isnull=True, last_passed__isnull=True), then=Value(False)),
            When(last_told__isnull=True, then=Value(True)),
            When(last_slip__gt=F("last_told"), then=Value(True)),
            When(
                last_passed__gte=TruncDate("last_told", tzinfo=timezone.get_current_timezone()),
                then=Value(True),
            ),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


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


def last_slips(*, line_ids: Iterable[int]) -> dict[int, dt.datetime]:
    """When each customer's delayed lines last moved later, by customer id
    (one query): what an update email must be newer than to have told them."""
    rows = (
        PromiseRevision.objects.filter(
            line_id__in=list(line_ids), old_date__isnull=False, new_date__gt=F("old_date")
        )
        .values("line__order__customer_id")
        .annotate(last=Max("created_at"))
        .order_by()
    )
    return {row["line__order__customer_id"]: row["last"] for row in rows}


def alternatives_free_stock(*, lines: Iterable[OrderLine]) -> dict[tuple[int, int], int]:
    """Units on hand and not allocated of each line's active alternatives in
    the line's warehouse, by (product id, warehouse id) (one query; the lines
    carry `product.active_alternatives`)."""
    keys = {
        (alternative.pk, line.warehouse_id)
        for line in lines
        for alternative in vars(line.product).get("active_alternatives", [])
    }
    if not keys:
        return {}
    rows = StockLevel.objects.filter(
        product_id__in={p for p, _w in keys}, warehouse_id__in={w for _p, w in keys}
    ).values_list("product_id", "warehouse_id", "on_hand", "allocated")
    return {(p, w): max(on_hand - allocated, 0) for p, w, on_hand, allocated in rows}
