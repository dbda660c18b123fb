"""Purchase orders as customers feel them: received (from the receive form),
created, confirmed, cancelled, a date moved, the overdue sweep."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from config.db import retry_on_conflict
from inventory.models import Warehouse
from notifications.models import (
    Notification,
)
from notifications.updates.telling import (
    promise_changes_notify,
    telling_customers,
    telling_customers_with_messages,
)
from orders.selectors.purchasing import purchase_order_receipt_state
from orders.services import (
    purchasing,
    receiving,
    recording,
)
from orders.services.notes import form_submission_record
from suppliers.models import PurchaseOrder, PurchaseOrderLine, Supplier
from suppliers.services import PurchaseLineRequest


@retry_on_conflict()
@transaction.atomic
def purchase_order_receive(**kwargs: Any) -> receiving.ReceiptResult:
    return telling_customers(receiving.purchase_order_receive, **kwargs)


@retry_on_conflict()
@transaction.atomic
def purchase_order_create(**kwargs: Any) -> tuple[PurchaseOrder, list[recording.PromiseChange]]:
    """`orders.services.purchase_order_create` (a form's `token` included); one
    created confirmed moves promises earlier, and their customers hear of it."""
    return telling_customers(purchasing.purchase_order_create, **kwargs)


@dataclass(frozen=True)
class DraftRequest:
    """One draft purchase order to create: a supplier, a warehouse, its lines."""

    supplier: Supplier
    warehouse: Warehouse
    lines: Sequence[PurchaseLineRequest]
    expected_date: dt.date


@retry_on_conflict()
@transaction.atomic
def purchase_order_drafts_create(
    *, drafts: Sequence[DraftRequest], by: User | None, token: str = "", notes: str = ""
) -> list[PurchaseOrder]:
    """Several draft purchase orders at once (the shortfall worklist's), each
    through `purchase_order_create`: all are created or none (one refused
    rolls the others back). A draft changes no promise and tells no customer
    until it is confirmed. With `token` the same form submitted twice creates
    nothing the second time (ValidationError, code "already_submitted")."""
    if not drafts:
        raise ValidationError(_("Choose at least one row with a supplier to draft from."))
    if token:
        form_submission_record(token=token, action="purchase_order_drafts_create", by=by)
    created = []
    for draft in drafts:
        order, _changes = purchase_order_create(
            supplier=draft.supplier,
            warehouse=draft.warehouse,
            lines=draft.lines,
            expected_date=draft.expected_date,
            notes=notes,
            by=by,
            confirm=False,
        )
        created.append(order)
    return created


@dataclass(frozen=True)
class PurchaseOrderOutcome:
    """What confirming or cancelling a purchase order did to the customers
    waiting for its products: the promises it moved, the messages it wrote."""

    purchase_order: PurchaseOrder
    changes: list[recording.PromiseChange]
    messages: list[Notification]

    @property
    def lines_changed(self) -> int:
        """Waiting lines whose promised date changed."""
        return len({change.line_id for change in self.changes})

    @property
    def lines_from_it(self) -> int:
        """Waiting lines whose new promise rests on this purchase order."""
        number = self.purchase_order.number
        return len({change.line_id for change in self.changes if change.covered_by == number})

    @property
    def lines_estimated(self) -> int:
        """Waiting lines that no purchase order covers any more: an estimate now."""
        return len({change.line_id for change in self.changes if change.new_is_estimate})

    @property
    def customers_told(self) -> int:
        """Customers with a message about it (written now, or a pending one updated)."""
        return len({message.customer_id for message in self.messages})


@retry_on_conflict()
@transaction.atomic
def purchase_order_confirm(
    *, purchase_order: PurchaseOrder, by: User | None, token: str = ""
) -> PurchaseOrderOutcome:
    """`orders.services.purchase_order_confirm` (a form's `token` included): the
    draft is sent to the supplier and becomes inbound supply; the customers
    whose promised date it moves are told as the policy says."""
    (order, changes), messages = telling_customers_with_messages(
        purchasing.purchase_order_confirm, purchase_order=purchase_order, by=by, token=token
    )
    return PurchaseOrderOutcome(purchase_order=order, changes=changes, messages=messages)


@retry_on_conflict()
@transaction.atomic
def purchase_order_cancel(
    *, purchase_order: PurchaseOrder, by: User | None, token: str = ""
) -> PurchaseOrderOutcome:
    """`orders.services.purchase_order_cancel` (a form's `token` included): what
    is outstanding is no longer expected; the lines it covered fall back to
    other supply or an estimate, and their customers are told as the policy says."""
    (order, changes), messages = telling_customers_with_messages(
        purchasing.purchase_order_cancel, purchase_order=purchase_order, by=by, token=token
    )
    return PurchaseOrderOutcome(purchase_order=order, changes=changes, messages=messages)


@retry_on_conflict()
@transaction.atomic
def purchase_order_move_expected_date(**kwargs: Any) -> tuple[Any, list[recording.PromiseChange]]:
    return telling_customers(purchasing.purchase_order_move_expected_date, **kwargs)


def purchase_orders_sweep_overdue(**kwargs: Any) -> purchasing.OverdueSweepResult:
    """The daily sweep; each purchase order it moves tells its customers in the
    same transaction as the move."""
    with recording.changes_recorded() as recorded:
        result = purchasing.purchase_orders_sweep_overdue(**kwargs)
    # The orders sweep commits per purchase order; the messages follow in one
    # transaction of their own (a crash between loses only these updates'
    # emails, and the next change to those orders re-tells the customers).
    with transaction.atomic():
        promise_changes_notify(changes=recorded.promises)
    return result


RECEIPT_CHANGED_MESSAGE = _(
    "This purchase order changed since you opened it — check the numbers and submit again."
)


@retry_on_conflict()
@transaction.atomic
def purchase_order_receive_from_form(
    *,
    purchase_order: PurchaseOrder,
    quantities: Mapping[int, int],
    receipt_state: str,
    by: User | None,
) -> receiving.ReceiptResult:
    """`purchase_order_receive` for a form rendered from `receipt_state` (what
    had been received on each line then); refused when the lines changed since,
    so a double click or a resent form cannot receive the same units twice.

    The state is compared inside the use case's transaction, not only in the
    view: a check before it would let two submits that arrive together both
    pass. The receipt locks the purchase order and its lines (after the stock
    levels: the global lock order), so the comparison is made once the rows are
    locked — the units each line had before this receipt are what it has now
    minus what this receipt added — and a mismatch rolls the whole receipt back,
    messages included. The cheap unlocked check first spares the common replay
    the locks and gives the same answer.
    """
    if purchase_order_receipt_state(purchase_order_id=purchase_order.pk) != receipt_state:
        raise ValidationError(RECEIPT_CHANGED_MESSAGE)
    result = purchase_order_receive(purchase_order=purchase_order, quantities=quantities, by=by)
    before = ",".join(
        f"{pk}:{received - result.received.get(pk, 0)}"
        for pk, received in PurchaseOrderLine.objects.filter(purchase_order=purchase_order)
        .order_by("pk")
        .values_list("pk", "received")
    )
    if before != receipt_state:
        raise ValidationError(RECEIPT_CHANGED_MESSAGE)
    return result
