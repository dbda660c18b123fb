"""The order's payment as the shop reports it: what a cancellation means for
the customer's money (a refund, or nothing charged)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.roles import acting_user
from orders.limits import MAX_AMOUNT, is_currency
from orders.models import MONEY_TAKEN, PaymentStatus, SalesOrder
from orders.services.refunds import order_amount_kept


def payment_amounts_check(
    *,
    payment_status: str,
    amount_paid: Decimal | None,
    amount_refunded: Decimal | None,
    currency: str | None,
) -> None:
    """Refuse a payment the order cannot carry (ValidationError naming the field)."""
    if payment_status not in PaymentStatus.values:
        raise ValidationError({"payment_status": _("Unknown payment status.")})
    for field, amount in (("amount_paid", amount_paid), ("amount_refunded", amount_refunded)):
        if amount is not None and not (amount.is_finite() and Decimal(0) <= amount <= MAX_AMOUNT):
            raise ValidationError(
                {field: _("Enter an amount from 0 to %(max)s.") % {"max": MAX_AMOUNT}}
            )
    if (amount_refunded or 0) > (amount_paid or 0) and amount_refunded:
        raise ValidationError({"amount_refunded": _("More refunded than was paid.")})
    if currency is not None and not is_currency(currency):
        raise ValidationError(
            {"currency": _("Enter a currency code of three capital letters, such as EUR.")}
        )


@transaction.atomic
def order_payment_set(
    *,
    order: SalesOrder,
    payment_status: str,
    by: User | None,
    amount_paid: Decimal | None = None,
    amount_refunded: Decimal | None = None,
    currency: str | None = None,
) -> bool:
    """Record the shop's payment on the order (amounts and currency where it
    reports them); True if anything changed.

    Saved through the model (a history row with its author, and the order's
    `updated_at` for the storefront's poll)."""
    payment_amounts_check(
        payment_status=payment_status,
        amount_paid=amount_paid,
        amount_refunded=amount_refunded,
        currency=currency,
    )
    locked = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if amount_paid is None and payment_status in MONEY_TAKEN and not locked.amount_paid:
        # Paid, and the shop did not say how much: the order as it stands.
        amount_paid = order_amount_kept(order_id=order.pk)
    paid = locked.amount_paid if amount_paid is None else amount_paid
    refunded = locked.amount_refunded if amount_refunded is None else amount_refunded
    if refunded > paid:
        raise ValidationError({"amount_refunded": _("More refunded than was paid.")})
    wanted: dict[str, object] = {
        "payment_status": payment_status,
        "amount_paid": paid,
        "amount_refunded": refunded,
        "currency": currency or locked.currency,
    }
    changed = [field for field, value in wanted.items() if getattr(locked, field) != value]
    if not changed:
        return False
    for field in changed:
        setattr(locked, field, wanted[field])
        setattr(order, field, wanted[field])
    locked._history_user = acting_user(by)  # type: ignore[attr-defined]
    locked.save(update_fields=[*changed, "updated_at"])
    return True


def order_payment_status_set(*, order: SalesOrder, payment_status: str, by: User | None) -> bool:
    """Record the shop's payment status alone; True if it changed."""
    if payment_status not in PaymentStatus.values:
        raise ValueError(f"Unknown payment status {payment_status!r}")
    return order_payment_set(order=order, payment_status=payment_status, by=by)
