"""Money owed back for units cancelled: worked out from what the shop really
took (never from what the units cost alone), written as a `RefundDue` in the
transaction of the cancellation, and marked refunded by customer service.

What is due for a cancellation: the money the shop holds for the order (paid
less refunded, only when the payment state says money was taken) less the
refunds already owed and not yet paid, less what the units still on the order
(shipped, allocated, waiting, or an alternative sent instead) come to; never
more than the cancelled units come to, never below zero. An unpaid or merely
authorized order owes nothing: its customer was never charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from config.roles import acting_user
from orders.models import Cancellation, OrderLine, PaymentStatus, RefundDue, SalesOrder
from orders.services import recording

ZERO = Decimal("0.00")
MAX_REFERENCE_LENGTH = 100


class AlreadyRefunded(ValidationError):
    """The refund was marked refunded before (by someone else, or a second submit)."""


def order_amount_kept(*, order_id: int) -> Decimal:
    """What the units still on the order come to (every unit not cancelled)."""
    total = OrderLine.objects.filter(order_id=order_id).aggregate(
        total=Sum(
            ExpressionWrapper(
                F("unit_price") * (F("ordered") - F("cancelled")),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
    )["total"]
    return Decimal(total or ZERO).quantize(Decimal("0.01"))


def refund_due_record(
    *, cancellations: Sequence[Cancellation], reason: str, by: User | None = None
) -> RefundDue | None:
    """Work out the money due for one order's `cancellations` (just made, in
    the caller's transaction), set each cancellation's share, and write the
    RefundDue; None when nothing was taken for them."""
    if not cancellations:
        return None
    order_id = cancellations[0].order_line.order_id
    # One cancellation at a time per order works out what is still held.
    order = SalesOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
    owed = RefundDue.objects.open().filter(order_id=order_id).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal(ZERO)
    room = order.amount_held - owed - order_amount_kept(order_id=order_id)
    left = max(room, ZERO)
    units = []
    total = ZERO
    for cancellation in sorted(cancellations, key=lambda item: item.pk):
        line = cancellation.order_line
        value = (line.unit_price * cancellation.quantity).quantize(Decimal("0.01"))
        share = min(value, left)
        left -= share
        total += share
        if cancellation.refund_due != share:
            cancellation.refund_due = share
            Cancellation.objects.filter(pk=cancellation.pk).update(refund_due=share)
        if share:
            units.append(
                {"line_id": line.pk, "sku": line.product.sku, "quantity": cancellation.quantity}
            )
    if total <= 0:
        return None
    refund = RefundDue.objects.create(
        order=order,
        units=units,
        amount=total,
        currency=order.currency,
        reason=reason[:255],
        # Looked up at call time (the demo's simulated clock replaces it).
        created_at=timezone.now(),
    )
    recording.refund_due_record(refund.pk)
    return refund


@transaction.atomic
def refund_due_mark_refunded(*, refund_id: int, reference: str, by: User | None) -> RefundDue:
    """Record that the money was paid back (the provider's `reference`), and
    count it on the order as refunded. Raises ValidationError for a missing
    reference and AlreadyRefunded, changing nothing, when it was marked before."""
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": _("Enter the refund's reference.")})
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise ValidationError(
            {
                "reference": _("Keep the reference to %(max)d characters.")
                % {"max": MAX_REFERENCE_LENGTH}
            }
        )
    refund = (
        RefundDue.objects.select_for_update(of=("self",))
        .select_related("order", "refunded_by")
        .get(pk=refund_id)
    )
    if refund.is_refunded:
        raise AlreadyRefunded(
            _("The refund for %(number)s was already marked refunded (reference %(reference)s).")
            % {"number": refund.order.number, "reference": refund.reference}
        )
    refund.refunded_at = timezone.now()
    refund.refunded_by = acting_user(by)
    refund.reference = reference
    refund.save(update_fields=["refunded_at", "refunded_by", "reference"])
    order = SalesOrder.objects.select_for_update(of=("self",)).get(pk=refund.order_id)
    order.amount_refunded = min(order.amount_refunded + refund.amount, order.amount_paid)
    if order.amount_paid and order.amount_refunded >= order.amount_paid:
        order.payment_status = PaymentStatus.REFUNDED
    elif order.amount_refunded:
        order.payment_status = PaymentStatus.PARTIALLY_REFUNDED
    order._history_user = acting_user(by)  # type: ignore[attr-defined]
    order.save(update_fields=["amount_refunded", "payment_status", "updated_at"])
    refund.order = order
    recording.refund_recorded_record(refund.pk)
    return refund


def refunds_due_settle_from_shop(
    *, order: SalesOrder, refunded: Decimal, reference: str
) -> list[RefundDue]:
    """The shop reports `refunded` more given back than before (its own refund,
    made in the shop's admin): mark the open refunds it covers refunded, oldest
    first, without counting the money again on the order (the shop's figure is
    already there). Runs in the caller's transaction; the marked refunds."""
    left = refunded
    settled = []
    rows = RefundDue.objects.select_for_update(of=("self",)).open().filter(order=order)
    for refund in rows.order_by("created_at", "pk"):
        if refund.amount > left:
            continue
        left -= refund.amount
        refund.refunded_at = timezone.now()
        refund.refunded_by = None
        refund.reference = reference[:MAX_REFERENCE_LENGTH]
        refund.save(update_fields=["refunded_at", "refunded_by", "reference"])
        recording.refund_recorded_record(refund.pk)
        settled.append(refund)
    return settled
