"""Refunds as the shop's storefront hears of them: marking one paid back
announces `refund.recorded` (the `refund.due` went out with the cancellation)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from notifications.updates.telling import telling_customers
from orders.models import RefundDue, SalesOrder
from orders.services import refunds


@transaction.atomic
def refund_mark_refunded(*, refund_id: int, reference: str, by: User | None) -> RefundDue:
    """`orders.services.refunds.refund_due_mark_refunded`, announced to the
    order's webhook subscriptions in the same transaction."""
    return telling_customers(
        refunds.refund_due_mark_refunded, refund_id=refund_id, reference=reference, by=by
    )


@transaction.atomic
def refunds_settle_from_shop(
    *, order: SalesOrder, refunded: Decimal, reference: str
) -> list[RefundDue]:
    """`orders.services.refunds.refunds_due_settle_from_shop`, each refund it
    marks announced as `refund.recorded`."""
    return telling_customers(
        refunds.refunds_due_settle_from_shop, order=order, refunded=refunded, reference=reference
    )
