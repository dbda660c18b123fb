"""The order's payment as the shop reports it: what a cancellation means for
the customer's money (a refund, or nothing charged)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from config.roles import acting_user
from orders.models import PaymentStatus, SalesOrder


@transaction.atomic
def order_payment_status_set(*, order: SalesOrder, payment_status: str, by: User | None) -> bool:
    """Record the shop's payment status on the order; True if it changed.

    Saved through the model (a history row with its author, and the order's
    `updated_at` for the storefront's poll)."""
    if payment_status not in PaymentStatus.values:
        raise ValueError(f"Unknown payment status {payment_status!r}")
    locked = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if locked.payment_status == payment_status:
        return False
    locked.payment_status = payment_status
    locked._history_user = acting_user(by)  # type: ignore[attr-defined]
    locked.save(update_fields=["payment_status", "updated_at"])
    order.payment_status = payment_status
    return True
