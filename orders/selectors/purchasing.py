"""Reads of purchase orders: receiving, the list, one order with its lines and date moves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from orders.models import (
    QUEUE_ORDER,
    OrderLine,
    PromiseRevision,
)
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
)


def receiving_purchase_orders(*, warehouse_id: int | None = None) -> QuerySet[PurchaseOrder]:
    """The open purchase orders the warehouse can receive (into one warehouse
    if given), soonest expected first.

    Each carries `next_expected` (the earliest expected date of a line still
    outstanding, else the order's own date), `open_lines` and
    `units_outstanding`; supplier and warehouse come in the same query.
    """

    still_expected = Q(lines__received__lt=F("lines__ordered"))
    orders = PurchaseOrder.objects.filter(status__in=OPEN_PO_STATUSES)
    if warehouse_id is not None:
        orders = orders.filter(warehouse_id=warehouse_id)
    return (
        orders.select_related("supplier", "warehouse")
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


PO_STATUS_OPEN = "open"


PO_STATUS_ALL = "all"


def purchase_order_list(
    *, status: str = PO_STATUS_OPEN, supplier_id: int | None = None
) -> QuerySet[PurchaseOrder]:
    """Purchase orders for the list page, soonest expected first, in one query.

    `status` is "open" (ordered or partially received), "all", or one status.
    Each row carries `line_count`, `units_outstanding` (ordered − received
    over its lines), `cost_total` (ordered × unit cost over the lines with a
    cost) and `costs_missing` (lines without one); supplier and warehouse come
    in the same query.
    """
    orders = PurchaseOrder.objects.select_related("supplier", "warehouse").annotate(
        line_count=Count("lines"),
        units_outstanding=Coalesce(
            Sum(F("lines__ordered") - F("lines__received")), 0, output_field=IntegerField()
        ),
        cost_total=Sum(
            F("lines__ordered") * F("lines__unit_cost"),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        ),
        costs_missing=Count("lines", filter=Q(lines__unit_cost__isnull=True)),
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
