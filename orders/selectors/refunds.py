"""The refunds worklist: money owed back for cancellations, oldest first."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Sum

from orders.models import RefundDue

REFUND_STATES = ("open", "refunded", "all")


def refunds_due_list(*, state: str = "open", order_id: int | None = None) -> QuerySet[RefundDue]:
    """Refunds in `state` (open, refunded or all), oldest first, with what a row shows."""
    rows = RefundDue.objects.select_related("order__customer", "refunded_by")
    if state == "open":
        rows = rows.open()
    elif state == "refunded":
        rows = rows.refunded()
    if order_id is not None:
        rows = rows.filter(order_id=order_id)
    return rows.order_by("created_at", "pk")


def refunds_open_totals() -> list[dict[str, Any]]:
    """What is still owed, per currency: [{"currency", "amount", "count"}]."""
    rows = (
        RefundDue.objects.open()
        .values("currency")
        .annotate(amount=Sum("amount"), count=Count("pk"))
        .order_by("currency")
    )
    return [dict(row) for row in rows]


def refund_get(*, refund_id: int) -> RefundDue:
    return RefundDue.objects.select_related("order__customer", "refunded_by").get(pk=refund_id)
