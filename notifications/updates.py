"""The use cases customers feel: each wraps an orders use case and, in the same
transaction, writes the messages its changes call for.

    notifications.updates  →  orders.services  →  suppliers / inventory

A view, a task or the storefront API calls these, never the orders use case
directly, when a customer should hear about the change. What each writes:

- order placed with backordered units → "backordered, ships by <date>" with the
  customer's links (keep waiting / cancel);
- any promise that moves later (a purchase order slips, is cancelled, a VIP
  jumps the queue, the overdue sweep) → an apology, past the policy's
  threshold with a discount code (at most one per order); moved earlier →
  good news if the policy says so. Changes to one order within the policy's
  window are combined into one email: a pending message is updated, not
  joined by a second; a date that moves back where it was sends nothing;
- units received or released that complete lines → "ready to ship";
- a shipment → "shipped" with the tracking number;
- a cancellation (agent or customer link) → "cancelled" with the refund due.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.db import retry_on_conflict
from notifications.models import (
    BulkJob,
    BulkJobKind,
    BulkJobStatus,
    CompensationPolicy,
    DiscountCode,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from notifications.services import (
    discount_code_issue,
    discount_context,
    notification_enqueue,
    notification_render,
)
from orders import selectors
from orders.links import CustomerLink, customer_link_token
from orders.models import Cancellation, CustomerChoice, OrderLine, SalesOrder, Shipment
from orders.services import (
    allocation,
    cancelling,
    choices,
    intake,
    notes,
    promises,
    purchasing,
    receiving,
    recording,
    shipping,
    substitutes,
)
from orders.services import priority as queue_priority
from suppliers.models import PurchaseOrder, PurchaseOrderLine

P = ParamSpec("P")
R = TypeVar("R")

PROMISE_KINDS = (
    NotificationKind.PROMISE_LATER,
    NotificationKind.PROMISE_LATER_DISCOUNT,
    NotificationKind.PROMISE_EARLIER,
)


# --- the wrapper every use case goes through ----------------------------------


def _telling_customers(use_case: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run an orders use case and tell every customer it affected."""
    return _telling_customers_with_messages(use_case, *args, **kwargs)[0]


def _telling_customers_with_messages(
    use_case: Callable[P, R], *args: P.args, **kwargs: P.kwargs
) -> tuple[R, list[Notification]]:
    """`_telling_customers`, also returning the messages it wrote or updated."""
    with recording.changes_recorded() as recorded:
        result = use_case(*args, **kwargs)
    messages = promise_changes_notify(changes=recorded.promises)
    messages += lines_ready_notify(allocations=recorded.allocations)
    return result, messages


@retry_on_conflict()
@transaction.atomic
def order_place(**kwargs: Any) -> SalesOrder:
    """`orders.services.order_place`, then the backorder confirmation."""
    order = _telling_customers(intake.order_place, **kwargs)
    waiting = [line for line in order.lines.select_related("product") if line.backordered]
    if waiting:
        notification_enqueue(
            kind=NotificationKind.BACKORDER_CONFIRMED,
            customer=order.customer,
            order=order,
            context={"lines": [_line_context(line) for line in waiting], **customer_links(order)},
            dedup_key=f"backorder-confirmed:{order.pk}",
        )
    return order


@retry_on_conflict()
@transaction.atomic
def purchase_order_receive(**kwargs: Any) -> receiving.ReceiptResult:
    return _telling_customers(receiving.purchase_order_receive, **kwargs)


@retry_on_conflict()
@transaction.atomic
def purchase_order_create(**kwargs: Any) -> tuple[PurchaseOrder, list[recording.PromiseChange]]:
    """`orders.services.purchase_order_create` (a form's `token` included); one
    created confirmed moves promises earlier, and their customers hear of it."""
    return _telling_customers(purchasing.purchase_order_create, **kwargs)


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
    (order, changes), messages = _telling_customers_with_messages(
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
    (order, changes), messages = _telling_customers_with_messages(
        purchasing.purchase_order_cancel, purchase_order=purchase_order, by=by, token=token
    )
    return PurchaseOrderOutcome(purchase_order=order, changes=changes, messages=messages)


@retry_on_conflict()
@transaction.atomic
def purchase_order_move_expected_date(**kwargs: Any) -> tuple[Any, list[recording.PromiseChange]]:
    return _telling_customers(purchasing.purchase_order_move_expected_date, **kwargs)


@retry_on_conflict()
@transaction.atomic
def order_line_set_priority(*, line: OrderLine, priority: int, by: User | None) -> OrderLine:
    return _telling_customers(
        queue_priority.order_line_set_priority, line=line, priority=priority, by=by
    )


@retry_on_conflict()
@transaction.atomic
def stock_adjust(**kwargs: Any) -> list[recording.Allocation]:
    return _telling_customers(allocation.stock_adjust, **kwargs)


@retry_on_conflict()
@transaction.atomic
def shipment_create(**kwargs: Any) -> Shipment:
    """`orders.services.shipment_create`, then the shipped email with tracking."""
    shipment = _telling_customers(shipping.shipment_create, **kwargs)
    lines = [
        {**_line_context(item.order_line), "quantity": item.quantity}
        for item in shipment.lines.select_related("order_line__product")
    ]
    notification_enqueue(
        kind=NotificationKind.SHIPPED,
        customer=shipment.order.customer,
        order=shipment.order,
        context={"lines": lines, "tracking_number": shipment.tracking_number},
        dedup_key=f"shipped:{shipment.pk}",
    )
    return shipment


@retry_on_conflict()
@transaction.atomic
def order_line_cancel(**kwargs: Any) -> Cancellation:
    cancellation = _telling_customers(cancelling.order_line_cancel, **kwargs)
    cancellations_notify(cancellations=[cancellation])
    return cancellation


@retry_on_conflict()
@transaction.atomic
def order_cancel(**kwargs: Any) -> list[Cancellation]:
    cancellations = _telling_customers(cancelling.order_cancel, **kwargs)
    cancellations_notify(cancellations=cancellations)
    return cancellations


def order_customer_choose(*, link: CustomerLink) -> choices.CustomerChoiceResult:
    """A customer's choice through a signed link; a cancellation is confirmed by email."""
    return _order_customer_choose(link=link)


@transaction.atomic
def _order_customer_choose(*, link: CustomerLink) -> choices.CustomerChoiceResult:
    result = _telling_customers(choices.order_customer_choose, link=link)
    if result.choice == CustomerChoice.Choice.CANCEL:
        cancellations_notify(cancellations=result.cancellations)
    return result


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


@retry_on_conflict()
@transaction.atomic
def promises_refresh(**kwargs: Any) -> list[recording.PromiseChange]:
    """`orders.services.promises_refresh` (a recompute nothing else caused, such
    as a promised date that passed), telling each customer whose date moved."""
    return _telling_customers(promises.promises_refresh, **kwargs)


# --- promise changes → apologies, discounts, good news ----------------------


def promise_changes_notify(
    *, changes: Sequence[recording.PromiseChange], now: dt.datetime | None = None
) -> list[Notification]:
    """Write (or update) one message per order whose promises moved.

    First promises are told by the backorder confirmation, not here. Runs in
    the caller's transaction; locks each order row so two changes to one order
    combine instead of racing.
    """
    moved = [change for change in changes if not change.is_first and change.days_moved]
    if not moved:
        return []
    now = now or timezone.now()
    policy = CompensationPolicy.current()
    by_order: dict[int, list[recording.PromiseChange]] = defaultdict(list)
    for change in moved:
        by_order[change.order_id].append(change)
    lines = OrderLine.objects.select_related("product").in_bulk([c.line_id for c in moved])
    written = []
    for order in (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk__in=by_order)
        .order_by("pk")
    ):
        if order.customer.email_opt_out:
            continue
        notification = _promise_message(
            order=order, changes=by_order[order.pk], lines=lines, policy=policy, now=now
        )
        if notification is not None:
            written.append(notification)
    return written


def _promise_message(
    *,
    order: SalesOrder,
    changes: list[recording.PromiseChange],
    lines: Mapping[int, OrderLine],
    policy: CompensationPolicy,
    now: dt.datetime,
) -> Notification | None:
    pending = (
        Notification.objects.select_for_update()
        .filter(
            order=order,
            kind__in=PROMISE_KINDS,
            status=NotificationStatus.PENDING,
            not_before__gt=now,
        )
        .order_by("-pk")
        .first()
    )
    # Per line: the date the customer was last told (kept from a pending
    # message), and the date it is now.
    told: dict[int, dict[str, Any]] = {}
    if pending is not None:
        for entry in pending.context.get("lines", []):
            told[int(entry["line_id"])] = dict(entry)
    for change in changes:
        line = lines[change.line_id]
        entry = told.get(change.line_id)
        old = entry["old_promised_date"] if entry else change.old_date
        told[change.line_id] = {
            **_line_context(line),
            "promised_date": change.new_date,
            "estimate": change.new_is_estimate,
            "old_promised_date": old,
        }
    shift = {
        line_id: (_as_date(entry["promised_date"]) - _as_date(entry["old_promised_date"])).days
        for line_id, entry in told.items()
        if entry.get("old_promised_date") and entry.get("promised_date")
    }
    latest = max(shift.values(), default=0)
    kind: NotificationKind | None
    if latest >= max(policy.apology_after_days, 1):
        kind = NotificationKind.PROMISE_LATER
    elif latest <= 0 and min(shift.values(), default=0) < 0 and policy.send_good_news:
        kind = NotificationKind.PROMISE_EARLIER
    else:
        kind = None  # moved back where it was, or less than the policy tells about
    if kind is None:
        if pending is not None:
            pending.delete()
        return None
    context: dict[str, Any] = {
        "lines": [entry for _line_id, entry in sorted(told.items()) if entry.get("promised_date")],
        **customer_links(order),
    }
    if kind == NotificationKind.PROMISE_LATER:
        discount = (pending.context.get("discount") if pending is not None else None) or (
            _discount_if_due(order=order, lines=[lines[c.line_id] for c in changes], policy=policy)
        )
        if discount:
            kind = NotificationKind.PROMISE_LATER_DISCOUNT
            context["discount"] = discount
    window = dt.timedelta(minutes=policy.combine_window_minutes)
    if pending is None:
        sequence = Notification.objects.filter(order=order, kind__in=PROMISE_KINDS).count() + 1
        return notification_enqueue(
            kind=kind,
            customer=order.customer,
            order=order,
            context=context,
            dedup_key=f"promise:{order.pk}:{sequence}",
            not_before=now + window if window else None,
        )
    subject, text, html = notification_render(
        kind=kind, customer=order.customer, order=order, context=context
    )
    pending.kind = kind
    pending.subject, pending.body_text, pending.body_html = subject, text, html
    pending.context = notification_context_json(context)
    pending.save(update_fields=["kind", "subject", "body_text", "body_html", "context"])
    return pending


def _discount_if_due(
    *, order: SalesOrder, lines: Iterable[OrderLine], policy: CompensationPolicy
) -> dict[str, Any] | None:
    """A discount code when a line slipped past the policy's threshold, at most
    one per order if the policy says so."""
    due = any(
        line.days_slipped >= policy.discount_after_days
        or line.times_slipped >= policy.discount_after_slips
        for line in lines
    )
    if not due:
        return None
    if policy.one_discount_per_order and DiscountCode.objects.filter(order=order).exists():
        return None
    code = discount_code_issue(
        customer=order.customer,
        order=order,
        reason=f"Ship date of {order.number} moved later",
    )
    return discount_context(code)


# --- ready, cancelled ----------------------------------------------------------


def lines_ready_notify(*, allocations: Sequence[recording.Allocation]) -> list[Notification]:
    """One "ready to ship" message per order whose lines the allocations completed."""
    ready = [a.line_id for a in allocations if a.ready_to_ship]
    if not ready:
        return []
    by_order: dict[int, list[OrderLine]] = defaultdict(list)
    for line in OrderLine.objects.filter(pk__in=ready).select_related("product", "order__customer"):
        by_order[line.order_id].append(line)
    written = []
    for order_lines in by_order.values():
        order = order_lines[0].order
        ids = "-".join(str(line.pk) for line in sorted(order_lines, key=lambda line: line.pk))
        notification = notification_enqueue(
            kind=NotificationKind.READY_TO_SHIP,
            customer=order.customer,
            order=order,
            context={
                "lines": [
                    {**_line_context(line), "quantity": line.allocated} for line in order_lines
                ]
            },
            dedup_key=f"ready:{order.pk}:{ids}",
        )
        if notification is not None:
            written.append(notification)
    return written


def cancellations_notify(*, cancellations: Sequence[Cancellation]) -> Notification | None:
    """The "cancelled" confirmation with the refund due, for one order's cancellations."""
    if not cancellations:
        return None
    items = list(
        Cancellation.objects.filter(pk__in=[c.pk for c in cancellations]).select_related(
            "order_line__product", "order_line__order__customer"
        )
    )
    order = items[0].order_line.order
    refund = sum((item.refund_due for item in items), Decimal("0.00"))
    ids = "-".join(str(item.pk) for item in sorted(items, key=lambda item: item.pk))
    return notification_enqueue(
        kind=NotificationKind.CANCELLED,
        customer=order.customer,
        order=order,
        context={
            "lines": [
                {**_line_context(item.order_line), "quantity": item.quantity} for item in items
            ],
            "refund_due": refund,
        },
        dedup_key=f"cancelled:{order.pk}:{ids}",
    )


# --- context helpers ----------------------------------------------------------


def customer_links(order: SalesOrder) -> dict[str, str]:
    """The signed keep-waiting and cancel links, for an order with units waiting."""
    return {
        "keep_waiting_url": _absolute(
            reverse("customer-link", args=[customer_link_token(order=order, action="keep_waiting")])
        ),
        "cancel_url": _absolute(
            reverse("customer-link", args=[customer_link_token(order=order, action="cancel")])
        ),
    }


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _line_context(line: OrderLine) -> dict[str, Any]:
    return {
        "line_id": line.pk,
        "product": line.product.name,
        "sku": line.product.sku,
        "quantity": line.backordered or line.open_quantity or line.ordered,
        "promised_date": line.promised_date,
        "old_promised_date": None,
        "estimate": line.promise_is_estimate,
    }


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def notification_context_json(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as stored on a Notification (dates and money as strings)."""
    from notifications.services import _json_safe

    return _json_safe(context)


# --- receiving from the receive form --------------------------------------------


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
    if selectors.purchase_order_receipt_state(purchase_order_id=purchase_order.pk) != receipt_state:
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


# --- the impact first: moving a purchase order's date, cancelling it -------------


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


# --- bulk actions on the queue: jobs run in chunks, with progress ---------------

BULK_JOB_CHUNK = 25
# A job still pending this long after its task was published lost the publish
# (broker down): the next look at its progress publishes it again.
BULK_JOB_REPUBLISH_AFTER = dt.timedelta(seconds=30)

bulk_logger = logging.getLogger(__name__)


@retry_on_conflict()
@transaction.atomic
def order_lines_set_priority(
    *, line_ids: Sequence[int], priority: int, by: User | None
) -> list[OrderLine]:
    """`orders.services.order_lines_set_priority`; customers whose promise moved are told."""
    return _telling_customers(
        queue_priority.order_lines_set_priority, line_ids=line_ids, priority=priority, by=by
    )


def _bulk_group_keys(*, kind: str, line_ids: Iterable[int]) -> dict[int, tuple[int, ...]]:
    """Line id → what a chunk must never split: the customer (one email per
    customer) or the product's queue (one promise recompute per queue)."""
    fields = (
        ("order__customer_id",) if kind == BulkJobKind.NOTIFY else ("product_id", "warehouse_id")
    )
    return {
        row[0]: tuple(row[1:])
        for row in OrderLine.objects.filter(pk__in=list(line_ids)).values_list("pk", *fields)
    }


def bulk_job_start(
    *, kind: str, line_ids: Iterable[int], parameters: Mapping[str, Any], by: User | None
) -> BulkJob:
    """Create a bulk job on queue lines and run it in the background after commit.

    Lines are stored grouped (by customer to notify, by product queue to
    reprioritise), so the chunks `bulk_job_run` cuts never split a group.
    Raises ValidationError for an unknown kind, no lines or a bad priority.
    """
    if kind not in BulkJobKind.values:
        raise ValidationError({"kind": _("Choose what to do with the selected lines.")})
    params = dict(parameters)
    if kind == BulkJobKind.REPRIORITISE:
        priority = params.get("priority")
        if (
            isinstance(priority, bool)
            or not isinstance(priority, int)
            or not -100 <= priority <= 100
        ):
            raise ValidationError({"priority": _("Enter a whole number from -100 to 100.")})
    keys = _bulk_group_keys(kind=kind, line_ids={int(pk) for pk in line_ids})
    if not keys:
        raise ValidationError({"lines": _("Select at least one waiting line.")})
    ordered = sorted(keys, key=lambda pk: (keys[pk], pk))
    with transaction.atomic():
        job = BulkJob.objects.create(
            kind=kind,
            line_ids=ordered,
            parameters=params,
            total=len(ordered),
            created_by=by if by is not None and by.is_authenticated else None,
            dispatched_at=timezone.now(),
        )
        job_id = job.pk
        transaction.on_commit(lambda: _publish_bulk_job(job_id))
    return job


def _publish_bulk_job(job_id: int) -> bool:
    """Publish the job's task; a broker that is down leaves it pending (see
    BULK_JOB_REPUBLISH_AFTER), it never fails the request that started it."""
    from notifications.tasks import run_bulk_job

    try:
        run_bulk_job.delay(job_id)
    except Exception:
        bulk_logger.warning("Could not publish bulk job %s.", job_id, exc_info=True)
        return False
    return True


def bulk_job_progress(*, job_id: int) -> BulkJob:
    """The job as it stands, for the progress bar; publishes a job again whose
    task was lost before it started (one query in the common case)."""
    job = BulkJob.objects.select_related("created_by").get(pk=job_id)
    stale = timezone.now() - BULK_JOB_REPUBLISH_AFTER
    if job.status == BulkJobStatus.PENDING and (
        job.dispatched_at is None or job.dispatched_at < stale
    ):
        claimed = BulkJob.objects.filter(
            pk=job.pk, status=BulkJobStatus.PENDING, dispatched_at=job.dispatched_at
        ).update(dispatched_at=timezone.now())
        if claimed:
            _publish_bulk_job(job.pk)
            job.refresh_from_db()
    return job


def bulk_job_run(*, job_id: int, chunk_size: int = BULK_JOB_CHUNK) -> BulkJob:
    """Run a bulk job to the end, one transaction per chunk of about
    `chunk_size` lines, moving `done` with each chunk.

    Safe to run again at any point (a redelivered task, a second publish, a
    worker killed mid-chunk): a chunk's changes and its `done` commit together,
    so a re-run starts after the last committed chunk; a message's dedup key
    names the job and the customer, so no customer is emailed twice; a
    priority already set is left alone. An unexpected error marks the job
    failed with the error, and what the committed chunks did stays done.
    """
    BulkJob.objects.filter(pk=job_id, status=BulkJobStatus.PENDING).update(
        status=BulkJobStatus.RUNNING
    )
    try:
        while not _bulk_job_run_chunk(job_id=job_id, chunk_size=chunk_size):
            pass
    except Exception as error:
        bulk_logger.exception("Bulk job %s failed.", job_id)
        BulkJob.objects.filter(pk=job_id).exclude(status=BulkJobStatus.DONE).update(
            status=BulkJobStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
    return BulkJob.objects.get(pk=job_id)


@retry_on_conflict()
@transaction.atomic
def _bulk_job_run_chunk(*, job_id: int, chunk_size: int) -> bool:
    """Process the next chunk of a job under its row lock; True when the job is finished."""
    job = (
        BulkJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job_id)
    )
    if job.is_finished:
        return True
    ids = [int(pk) for pk in job.line_ids]
    start = job.done
    if start < len(ids):
        end = min(start + chunk_size, len(ids))
        keys = _bulk_group_keys(kind=job.kind, line_ids=ids[start : end + chunk_size])
        # Extend to the end of the last group: a customer or a queue is never split.
        while end < len(ids):
            if ids[end] not in keys:
                keys.update(_bulk_group_keys(kind=job.kind, line_ids=ids[end : end + chunk_size]))
            if ids[end] not in keys or keys[ids[end]] != keys.get(ids[end - 1]):
                break
            end += 1
        chunk = ids[start:end]
        if job.kind == BulkJobKind.NOTIFY:
            outcome = _bulk_notify(job=job, line_ids=chunk)
        else:
            outcome = _bulk_reprioritise(job=job, line_ids=chunk)
        for name, count in outcome.items():
            job.outcome[name] = job.outcome.get(name, 0) + count
        job.done = end
    job.status = BulkJobStatus.RUNNING
    finished = job.done >= job.total
    if finished:
        job.status = BulkJobStatus.DONE
        job.finished_at = timezone.now()
    job.save(update_fields=["done", "status", "outcome", "finished_at"])
    return finished


def _bulk_notify(*, job: BulkJob, line_ids: list[int]) -> dict[str, int]:
    """One "where it stands" email per customer, listing their selected lines
    still waiting with today's promised dates."""
    by_customer: dict[int, list[OrderLine]] = defaultdict(list)
    lines = list(
        OrderLine.objects.select_related("order__customer", "product")
        .filter(pk__in=line_ids)
        .order_by("order__number", "pk")
    )
    for line in lines:
        by_customer[line.order.customer_id].append(line)
    outcome = {"messages": 0, "opted_out": 0, "not_waiting": len(line_ids) - len(lines)}
    for customer_id in sorted(by_customer):
        waiting = [line for line in by_customer[customer_id] if line.backordered]
        outcome["not_waiting"] += len(by_customer[customer_id]) - len(waiting)
        if not waiting:
            continue
        customer = waiting[0].order.customer
        orders_told = list({line.order_id: line.order for line in waiting}.values())
        # One order: it is the message's order, with the customer's links.
        # Several: the message is the customer's, and names the orders.
        order = orders_told[0] if len(orders_told) == 1 else None
        context: dict[str, Any] = {
            "lines": [_line_context(line) for line in waiting],
            "order_numbers": [sales_order.number for sales_order in orders_told],
            **(customer_links(order) if order is not None else {}),
        }
        notification = notification_enqueue(
            kind=NotificationKind.PROMISE_UPDATE,
            customer=customer,
            order=order,
            context=context,
            dedup_key=f"bulk:{job.pk}:customer:{customer_id}",
        )
        outcome["messages" if notification is not None else "opted_out"] += 1
    return outcome


def _bulk_reprioritise(*, job: BulkJob, line_ids: list[int]) -> dict[str, int]:
    changed = order_lines_set_priority(
        line_ids=line_ids, priority=int(job.parameters["priority"]), by=job.created_by
    )
    return {"changed": len(changed), "unchanged": len(line_ids) - len(changed)}


# --- the delays page: what customer service does for a delayed customer ----------

PERSONAL_NOTE_MAX_LENGTH = 5000
PERSONAL_NOTE_SUBJECT_MAX_LENGTH = 200


def _agent_name(by: User | None) -> str:
    if by is None or not by.is_authenticated:
        return ""
    return by.get_full_name() or by.get_username()


def _opted_out_message(order: SalesOrder) -> str:
    return str(
        _(
            "%(name)s opted out of update emails, so no email would reach them. "
            "Call or write to them directly."
        )
        % {"name": order.customer.name}
    )


@transaction.atomic
def customer_note_send(
    *, order: SalesOrder, note: str, subject: str = "", token: str, by: User | None
) -> Notification:
    """Email a personal note from customer service about an order.

    `token` is the form's one-time token: the same form submitted twice sends
    one email. Refused (ValidationError by field, nothing written) for an
    empty or too long note, or a customer who opted out of update emails.
    """
    note, subject = (note or "").strip(), (subject or "").strip()
    if not note:
        raise ValidationError({"note": _("Write the message to the customer.")})
    if len(note) > PERSONAL_NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": _("At most %(max)d characters.") % {"max": PERSONAL_NOTE_MAX_LENGTH}}
        )
    if len(subject) > PERSONAL_NOTE_SUBJECT_MAX_LENGTH:
        raise ValidationError(
            {
                "subject": _("At most %(max)d characters.")
                % {"max": PERSONAL_NOTE_SUBJECT_MAX_LENGTH}
            }
        )
    if order.customer.email_opt_out:
        raise ValidationError({"note": _opted_out_message(order)})
    notes.form_submission_record(token=token, action="customer_note_send", by=by)
    notification = notification_enqueue(
        kind=NotificationKind.PERSONAL_NOTE,
        customer=order.customer,
        order=order,
        context={"note": note, "subject": subject, "agent_name": _agent_name(by)},
        dedup_key=f"personal-note:{token}",
    )
    assert notification is not None  # opted-out customers were refused above
    return notification


def discount_percent_bounds(policy: CompensationPolicy) -> tuple[Decimal, Decimal]:
    """What an agent may give: from 1 % (or the policy's percent, if lower) up
    to the policy's percent. More than the policy is purchasing's decision
    (the /policy/ page), not a single agent's."""
    most = policy.discount_percent
    return min(Decimal("1"), most), most


@transaction.atomic
def order_discount_issue(
    *,
    order: SalesOrder,
    token: str,
    by: User | None,
    percent: Decimal | None = None,
    note: str = "",
) -> tuple[DiscountCode, Notification | None]:
    """Issue a discount code for a delayed order and email it to the customer
    (with the agent's optional note).

    The percent defaults to the compensation policy's and must lie within
    `discount_percent_bounds`; with "one discount per order" an order that
    has a code gets no second one. The same form submitted twice issues one
    code (`token`). A customer who opted out of update emails gets the code
    but no email (None): the agent tells them.
    """
    policy = CompensationPolicy.current()
    low, high = discount_percent_bounds(policy)
    percent = policy.discount_percent if percent is None else percent
    if not low <= percent <= high:
        raise ValidationError(
            {
                "percent": _("Enter a percentage from %(low)s to %(high)s (the policy's).")
                % {"low": f"{low.normalize():f}", "high": f"{high.normalize():f}"}
            }
        )
    note = (note or "").strip()
    if len(note) > PERSONAL_NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": _("At most %(max)d characters.") % {"max": PERSONAL_NOTE_MAX_LENGTH}}
        )
    if policy.one_discount_per_order:
        existing = DiscountCode.objects.filter(order=order).order_by("pk").first()
        if existing is not None:
            raise ValidationError(
                {
                    "order": _(
                        "%(number)s already has discount code %(code)s: the policy gives one "
                        "per order."
                    )
                    % {"number": order.number, "code": existing.code}
                }
            )
    notes.form_submission_record(token=token, action="order_discount_issue", by=by)
    code = discount_code_issue(
        customer=order.customer,
        order=order,
        reason=f"Delay on {order.number}, given by customer service",
        percent=percent,
        by=by,
    )
    notification = notification_enqueue(
        kind=NotificationKind.PERSONAL_NOTE,
        customer=order.customer,
        order=order,
        context={
            "purpose": "discount",
            "note": note,
            "discount": discount_context(code),
            "agent_name": _agent_name(by),
        },
        dedup_key=f"discount:{code.pk}",
    )
    return code, notification


@retry_on_conflict()
@transaction.atomic
def order_line_substitute(
    *, line: OrderLine, product: Any, by: User | None
) -> tuple[substitutes.Substitution, Notification | None]:
    """`orders.services.order_line_substitute`, then one email to the customer
    naming what was replaced and when the alternative ships: a change to the
    order, so sent even to a customer who opted out of updates. Other customers
    whose promises the new line moved are told as for any change."""
    substitution = _telling_customers(
        substitutes.order_line_substitute, line=line, product=product, by=by
    )
    new_line = substitution.line
    old_line = substitution.cancellation.order_line
    notification = notification_enqueue(
        kind=NotificationKind.SUBSTITUTED,
        customer=new_line.order.customer,
        order=new_line.order,
        context={
            "purpose": "substitute",
            "substitute_for": old_line.product.name,
            "lines": [{**_line_context(new_line), "quantity": new_line.ordered}],
            "agent_name": _agent_name(by),
        },
        dedup_key=f"substituted:{new_line.pk}",
    )
    return substitution, notification
