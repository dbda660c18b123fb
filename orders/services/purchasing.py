"""Purchase orders as they change supply: create, confirm, cancel, move a date,
and the overdue sweep; each recomputes the promises of the queues it feeds."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from inventory.services import (
    stock_levels_lock,
)
from orders.models import (
    OrderLine,
)
from orders.services.notes import form_submission_record
from orders.services.promises import promises_recompute, promises_refresh
from orders.services.recording import PromiseChange
from suppliers import services as supplier_services
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)


def _po_keys(purchase_order: PurchaseOrder) -> list[tuple[int, int]]:
    return [
        (product_id, purchase_order.warehouse_id)
        for product_id in purchase_order.lines.values_list("product_id", flat=True).distinct()
    ]


@retry_on_conflict()
@transaction.atomic
def purchase_order_create(
    *, token: str = "", **kwargs: Any
) -> tuple[PurchaseOrder, list[PromiseChange]]:
    """`suppliers.services.purchase_order_create`; one created already confirmed
    is inbound supply at once, so the promises it covers are recomputed.

    With `token` (the form's one-time token) the same form submitted twice
    creates one purchase order: the second raises ValidationError with the
    code "already_submitted" and writes nothing.
    """
    if token:
        form_submission_record(token=token, action="purchase_order_create", by=kwargs.get("by"))
    order = supplier_services.purchase_order_create(**kwargs)
    if order.status == PurchaseOrderStatus.DRAFT:
        return order, []
    keys = _po_keys(order)
    stock_levels_lock(keys=keys)
    return order, promises_recompute(keys=keys, cause=f"{order.number} ordered")


@retry_on_conflict()
@transaction.atomic
def purchase_order_confirm(
    *, purchase_order: PurchaseOrder, by: User | None, token: str = ""
) -> tuple[PurchaseOrder, list[PromiseChange]]:
    """Confirm a draft; its lines become inbound supply, so promises move earlier.

    With `token` (the form's one-time token) the same form submitted twice
    confirms once: the second raises ValidationError with the code
    "already_submitted" and writes nothing.
    """
    if token:
        form_submission_record(token=token, action="purchase_order_confirm", by=by)
    keys = _po_keys(purchase_order)
    stock_levels_lock(keys=keys)
    order = supplier_services.purchase_order_confirm(purchase_order=purchase_order, by=by)
    return order, promises_recompute(keys=keys, cause=f"{order.number} confirmed")


@retry_on_conflict()
@transaction.atomic
def purchase_order_cancel(
    *, purchase_order: PurchaseOrder, by: User | None, token: str = ""
) -> tuple[PurchaseOrder, list[PromiseChange]]:
    """Cancel a purchase order; the lines it covered fall back to other supply or estimates.

    With `token` (the form's one-time token) the same form submitted twice
    cancels once: the second raises ValidationError with the code
    "already_submitted" and writes nothing.
    """
    if token:
        form_submission_record(token=token, action="purchase_order_cancel", by=by)
    keys = _po_keys(purchase_order)
    stock_levels_lock(keys=keys)
    order = supplier_services.purchase_order_cancel(purchase_order=purchase_order, by=by)
    return order, promises_recompute(keys=keys, cause=f"{order.number} cancelled")


@retry_on_conflict()
@transaction.atomic
def purchase_order_move_expected_date(
    *,
    purchase_order: PurchaseOrder,
    new_date: dt.date,
    reason: str,
    by: User | None,
    line_ids: Sequence[int] | None = None,
    cause: str = ExpectedDateRevision.Cause.MANUAL,
) -> tuple[list[ExpectedDateRevision], list[PromiseChange]]:
    """Move a purchase order's expected date and recompute the promises it feeds."""
    keys = _po_keys(purchase_order)
    stock_levels_lock(keys=keys)
    revisions = supplier_services.purchase_order_move_expected_date(
        purchase_order=purchase_order,
        new_date=new_date,
        reason=reason,
        by=by,
        line_ids=line_ids,
        cause=cause,
    )
    if not revisions:
        return revisions, []
    return revisions, promises_recompute(
        keys=keys, cause=f"{purchase_order.number} expected date moved"
    )


@dataclass(frozen=True)
class OverdueSweepResult:
    purchase_orders_moved: list[str]
    lines_moved: int
    promise_changes: list[PromiseChange]


def purchase_orders_sweep_overdue(
    *, today: dt.date | None = None, extra_days: int | None = None, by: User | None = None
) -> OverdueSweepResult:
    """Daily: what should have arrived and did not gets a new, honest date.

    Open purchase order lines whose expected date has passed move to today +
    the supplier's lead time (or `extra_days`), as an overdue revision; the
    promises they feed move with them and count as slips. Backordered lines
    whose promised date has passed for any other reason are recomputed too.
    Each purchase order moves in its own transaction, so one conflict does not
    undo the others.
    """
    today = today or timezone.localdate()
    overdue = (
        PurchaseOrderLine.objects.filter(
            purchase_order__status__in=OPEN_PO_STATUSES,
            received__lt=F("ordered"),
            expected_date__lt=today,
        )
        .values_list("purchase_order_id", "pk")
        .order_by("purchase_order_id", "pk")
    )
    by_po: dict[int, list[int]] = defaultdict(list)
    for po_id, line_id in overdue:
        by_po[po_id].append(line_id)
    moved: list[str] = []
    lines_moved = 0
    changes: list[PromiseChange] = []
    for po in PurchaseOrder.objects.filter(pk__in=by_po).select_related("supplier").order_by("pk"):
        days = extra_days if extra_days is not None else po.supplier.lead_time_days
        revisions, po_changes = purchase_order_move_expected_date(
            purchase_order=po,
            new_date=today + dt.timedelta(days=max(days, 1)),
            reason=_(
                "Not received by the expected date; new estimate from the supplier's lead time."
            ),
            by=by,
            line_ids=by_po[po.pk],
            cause=ExpectedDateRevision.Cause.OVERDUE,
        )
        if revisions:
            moved.append(po.number)
            lines_moved += len(revisions)
            changes += po_changes
    stale = set(
        OrderLine.objects.backordered()
        .filter(promised_date__lt=today)
        .values_list("product_id", "warehouse_id")
        .distinct()
    )
    if stale:
        changes += promises_refresh(keys=stale, cause="promised date passed", today=today)
    return OverdueSweepResult(
        purchase_orders_moved=moved, lines_moved=lines_moved, promise_changes=changes
    )
