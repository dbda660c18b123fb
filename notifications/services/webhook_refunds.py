"""The refund events of the outbound webhooks (see webhooks.py): `refund.due`
when a cancellation leaves money owed to the customer, `refund.recorded` when
customer service marks it paid back. One event id per refund and kind, so a
refund is announced once whatever retries the use case."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from notifications.models import WebhookEventType
from orders.models import RefundDue, SalesOrder


def refund_data(refund: RefundDue) -> dict[str, Any]:
    data: dict[str, Any] = {
        "refund": {
            "id": refund.pk,
            "amount": refund.amount,
            "currency": refund.currency,
            "reason": refund.reason,
            "lines": refund.units,
            "due_since": refund.created_at,
        }
    }
    if refund.refunded_at is not None:
        data["refund"]["refunded_at"] = refund.refunded_at
        data["refund"]["reference"] = refund.reference
    return data


def refund_events(
    *, due: Iterable[int], recorded: Iterable[int]
) -> list[tuple[str, str, SalesOrder, dict[str, Any]]]:
    due, recorded = list(due), list(recorded)
    if not due and not recorded:
        return []
    refunds = RefundDue.objects.select_related("order").in_bulk([*due, *recorded])
    return [
        *(
            (
                f"refund-due-{pk}",
                WebhookEventType.REFUND_DUE,
                refunds[pk].order,
                refund_data(refunds[pk]),
            )
            for pk in sorted(set(due))
        ),
        *(
            (
                f"refund-recorded-{pk}",
                WebhookEventType.REFUND_RECORDED,
                refunds[pk].order,
                refund_data(refunds[pk]),
            )
            for pk in sorted(set(recorded))
        ),
    ]
