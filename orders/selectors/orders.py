"""Reads of an order and a customer: lines, promise history, the audit trail, notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext

from inventory.models import StockMove
from orders.models import (
    Cancellation,
    Customer,
    CustomerChoice,
    OrderLine,
    OrderNote,
    PromiseRevision,
    SalesOrder,
    Shipment,
)
from orders.promising import STOCK_REFERENCE
from orders.services.calibration import promise_calibrations
from suppliers.models import ExpectedDateRevision, PurchaseOrderLine


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
class PromiseBasis:
    """What a waiting line's promise rests on: the purchase order that
    completes it, its due date, how late its supplier usually is (the
    calibrated engine's margin; None with the naive engine)."""

    purchase_order: str
    due: dt.date
    supplier: str
    days_late: int | None
    promised: dt.date


def order_promise_basis(
    *, lines: Iterable[OrderLine], revisions: dict[int, list[PromiseRevision]]
) -> dict[int, PromiseBasis]:
    """For each waiting line promised from a purchase order: what the promise
    rests on (one query, and the supplier records when the engine is calibrated)."""
    return _promise_basis(
        lines=lines,
        covered_by={pk: found[0].covered_by for pk, found in revisions.items() if found},
    )


def lines_promise_basis(*, lines: Sequence[OrderLine]) -> dict[int, PromiseBasis]:
    """`order_promise_basis` for lines of any orders (a product's queue): their
    latest promise revisions in one query, the purchase order lines in another."""
    covered_by: dict[int, str] = {}
    for line_id, covered in (
        PromiseRevision.objects.filter(line_id__in=[line.pk for line in lines])
        .order_by("line_id", "-created_at", "-pk")
        .values_list("line_id", "covered_by")
    ):
        covered_by.setdefault(line_id, covered)
    return _promise_basis(lines=lines, covered_by=covered_by)


def _promise_basis(
    *, lines: Iterable[OrderLine], covered_by: Mapping[int, str]
) -> dict[int, PromiseBasis]:
    waiting = {
        line.pk: (line, covered_by[line.pk])
        for line in lines
        if line.backordered
        and line.promised_date
        and covered_by.get(line.pk) not in (None, "", STOCK_REFERENCE)
    }
    if not waiting:
        return {}
    found = {
        (number, product_id): (expected, supplier_id, supplier, revised)
        for number, product_id, expected, supplier_id, supplier, revised in (
            PurchaseOrderLine.objects.filter(
                purchase_order__number__in={number for _line, number in waiting.values()},
                product_id__in={line.product_id for line, _number in waiting.values()},
            ).values_list(
                "purchase_order__number",
                "product_id",
                "expected_date",
                "purchase_order__supplier_id",
                "purchase_order__supplier__name",
                Exists(ExpectedDateRevision.objects.filter(line_id=OuterRef("pk"))),
            )
        )
    }
    warehouse_ids = {line.warehouse_id for line, _number in waiting.values()}
    calibrations = promise_calibrations(warehouse_ids=warehouse_ids, today=timezone.localdate())
    basis = {}
    for pk, (line, number) in waiting.items():
        if (number, line.product_id) not in found or line.promised_date is None:
            continue
        expected, supplier_id, supplier, revised = found[(number, line.product_id)]
        calibration = calibrations.get(line.warehouse_id)
        basis[pk] = PromiseBasis(
            purchase_order=number,
            due=expected,
            supplier=supplier,
            days_late=calibration.lateness_of(supplier_id, revised=revised)
            if calibration
            else None,
            promised=line.promised_date,
        )
    return basis


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
