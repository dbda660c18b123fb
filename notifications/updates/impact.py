"""The impact first: who a purchase order's date move or cancellation hits and
which emails it will write, computed inside a transaction that is rolled back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone

from config.db import retry_on_conflict
from notifications.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
)
from notifications.updates.purchasing import (
    PurchaseOrderOutcome,
    purchase_order_cancel,
    purchase_order_move_expected_date,
)
from notifications.updates.telling import PROMISE_KINDS
from orders.models import OrderLine
from orders.services import (
    recording,
)
from suppliers.models import PurchaseOrder, PurchaseOrderLine

R = TypeVar("R")


@dataclass(frozen=True)
class PreviewPromiseChange:
    """A customer's promise the change would move."""

    line_id: int
    order_number: str
    customer_name: str
    sku: str
    old_date: dt.date | None
    new_date: dt.date
    email: str  # the kind of message the customer gets, "" for none
    new_is_estimate: bool = False

    @property
    def days(self) -> int:
        return 0 if self.old_date is None else (self.new_date - self.old_date).days


@dataclass(frozen=True)
class PreviewMessage:
    """A message the change would write (or a pending one it would rewrite)."""

    kind: str
    kind_label: str
    customer_name: str
    order_number: str
    with_discount: bool
    updates_pending: bool


@dataclass(frozen=True)
class ImpactPreview:
    """What a change to inbound supply would do to the waiting customers,
    computed by doing it and rolling it back. Plain values only: nothing here
    was saved."""

    changes: list[PreviewPromiseChange]
    messages: list[PreviewMessage]
    withdrawn: int  # pending updates the change deletes (a date moved back)
    opted_out: list[str]

    @property
    def later(self) -> list[PreviewPromiseChange]:
        return [change for change in self.changes if change.days > 0]

    @property
    def earlier(self) -> list[PreviewPromiseChange]:
        return [change for change in self.changes if change.days < 0]

    @property
    def estimated(self) -> list[PreviewPromiseChange]:
        """Lines no purchase order would cover any more: an estimate instead."""
        return [change for change in self.changes if change.new_is_estimate]

    @property
    def later_customers(self) -> int:
        return len({change.customer_name for change in self.later})

    @property
    def earlier_customers(self) -> int:
        return len({change.customer_name for change in self.earlier})

    @property
    def later_span(self) -> str:
        days = sorted({change.days for change in self.later})
        if not days:
            return ""
        return str(days[0]) if len(days) == 1 else f"{days[0]}–{days[-1]}"

    @property
    def apologies(self) -> int:
        return sum(1 for m in self.messages if m.kind == NotificationKind.PROMISE_LATER)

    @property
    def discounts(self) -> int:
        return sum(1 for m in self.messages if m.kind == NotificationKind.PROMISE_LATER_DISCOUNT)

    @property
    def good_news(self) -> int:
        return sum(1 for m in self.messages if m.kind == NotificationKind.PROMISE_EARLIER)


@dataclass(frozen=True)
class MovePreview(ImpactPreview):
    """What moving a purchase order's date would do (see ImpactPreview)."""

    purchase_order: str
    old_date: dt.date
    new_date: dt.date
    reason: str
    unchanged: bool

    @property
    def days(self) -> int:
        return (self.new_date - self.old_date).days


@dataclass(frozen=True)
class CancelPreview(ImpactPreview):
    """What cancelling a purchase order would do (see ImpactPreview)."""

    purchase_order: str
    units_outstanding: int  # no longer expected from the supplier
    units_received: int  # already in stock; they stay there


def _impact_of(
    use_case: Callable[[], tuple[R, Sequence[recording.PromiseChange]]],
) -> tuple[R, dict[str, Any]]:
    """Run `use_case` inside the caller's transaction, which the caller rolls
    back, and read what it wrote before the rollback: the promise changes and
    the messages (new rows past the highest id before, and pending rows of the
    changed orders it rewrote), as plain values (ImpactPreview's fields).
    Messages are not sent: their send is queued on commit, and the rollback
    drops it."""
    last_pk = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pending_before = set(
        Notification.objects.filter(
            kind__in=PROMISE_KINDS,
            status=NotificationStatus.PENDING,
            not_before__gt=timezone.now(),
        ).values_list("pk", flat=True)
    )
    result, changes = use_case()
    order_ids = {change.order_id for change in changes}
    written = list(
        Notification.objects.filter(
            Q(pk__gt=last_pk) | Q(pk__in=pending_before, order_id__in=order_ids)
        )
        .select_related("customer", "order")
        .order_by("pk")
    )
    withdrawn = len(
        pending_before
        - set(Notification.objects.filter(pk__in=pending_before).values_list("pk", flat=True))
    )
    lines = (
        OrderLine.objects.select_related("order__customer", "product").in_bulk(
            [change.line_id for change in changes]
        )
        if changes
        else {}
    )
    email_by_order = {
        message.order_id: message.get_kind_display()
        for message in written
        if message.kind in PROMISE_KINDS
    }
    preview_changes = []
    opted_out = set()
    for change in sorted(changes, key=lambda c: (lines[c.line_id].order.number, c.line_id)):
        line = lines[change.line_id]
        if line.order.customer.email_opt_out and not change.is_first and change.days_moved:
            opted_out.add(line.order.customer.name)
        preview_changes.append(
            PreviewPromiseChange(
                line_id=line.pk,
                order_number=line.order.number,
                customer_name=line.order.customer.name,
                sku=line.product.sku,
                old_date=change.old_date,
                new_date=change.new_date,
                email=email_by_order.get(line.order_id, ""),
                new_is_estimate=change.new_is_estimate,
            )
        )
    return result, {
        "changes": preview_changes,
        "messages": [
            PreviewMessage(
                kind=message.kind,
                kind_label=message.get_kind_display(),
                customer_name=message.customer.name,
                order_number=message.order.number if message.order else "",
                with_discount=bool(message.context.get("discount")),
                updates_pending=message.pk <= last_pk,
            )
            for message in written
        ],
        "withdrawn": withdrawn,
        "opted_out": sorted(opted_out),
    }


@retry_on_conflict()
def purchase_order_move_preview(
    *, purchase_order: PurchaseOrder, new_date: dt.date, reason: str, by: User | None
) -> MovePreview:
    """The exact impact of `purchase_order_move_expected_date`, changing nothing.

    Runs the real use case in a transaction that is always rolled back, and
    reads what it wrote before the rollback (`_impact_of`). Raises
    ValidationError like the move.
    """
    with transaction.atomic():
        old_date = PurchaseOrder.objects.values_list("expected_date", flat=True).get(
            pk=purchase_order.pk
        )
        revisions, impact = _impact_of(
            lambda: purchase_order_move_expected_date(
                purchase_order=purchase_order, new_date=new_date, reason=reason, by=by
            )
        )
        preview = MovePreview(
            purchase_order=purchase_order.number,
            old_date=old_date,
            new_date=new_date,
            reason=reason.strip(),
            unchanged=not revisions,
            **impact,
        )
        transaction.set_rollback(True)
    return preview


@retry_on_conflict()
def purchase_order_cancel_preview(
    *, purchase_order: PurchaseOrder, by: User | None
) -> CancelPreview:
    """The exact impact of `purchase_order_cancel`, changing nothing: whose
    promise falls back to other supply or an estimate, and which messages that
    writes. Runs the real use case in a transaction that is always rolled
    back. Raises ValidationError like the cancel (a received or cancelled
    purchase order)."""
    with transaction.atomic():
        units = PurchaseOrderLine.objects.filter(purchase_order=purchase_order).aggregate(
            ordered=Sum("ordered", default=0), received=Sum("received", default=0)
        )

        def cancel() -> tuple[PurchaseOrderOutcome, list[recording.PromiseChange]]:
            outcome = purchase_order_cancel(purchase_order=purchase_order, by=by)
            return outcome, outcome.changes

        _outcome, impact = _impact_of(cancel)
        preview = CancelPreview(
            purchase_order=purchase_order.number,
            units_outstanding=units["ordered"] - units["received"],
            units_received=units["received"],
            **impact,
        )
        transaction.set_rollback(True)
    return preview
