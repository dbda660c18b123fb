"""The querysets the outbox and policy pages render.

Each selects what its page shows in a fixed number of queries, whatever the
number of messages: customer and order come along in the same query, and the
bodies (large) stay in the database until one message is opened.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from notifications.models import CompensationPolicy, DiscountCode, Notification


def notification_list_outbox() -> QuerySet[Notification]:
    """Every customer message, newest first, with customer and order."""
    return (
        Notification.objects.select_related("customer", "order")
        .defer("body_text", "body_html", "context")
        .order_by("-created_at", "-pk")
    )


def notification_get_message(*, notification_id: int) -> Notification:
    """One message with everything the message page shows; 404 if unknown."""
    return get_object_or_404(
        Notification.objects.select_related("customer", "order").defer("context"),
        pk=notification_id,
    )


def compensation_policy_get() -> CompensationPolicy:
    """The one policy row (created with the defaults the first time)."""
    return CompensationPolicy.current()


MESSAGES_LIMIT = 100


def notification_list_for_order(*, order_id: int) -> list[Notification]:
    """The messages about one order, newest first (bodies left in the database)."""
    return list(
        Notification.objects.filter(order_id=order_id)
        .defer("body_text", "body_html", "context")
        .order_by("-created_at", "-pk")[:MESSAGES_LIMIT]
    )


def notification_list_for_customer(*, customer_id: int) -> list[Notification]:
    """The newest messages to one customer, with their orders."""
    return list(
        Notification.objects.filter(customer_id=customer_id)
        .select_related("order")
        .defer("body_text", "body_html", "context")
        .order_by("-created_at", "-pk")[:MESSAGES_LIMIT]
    )


def discount_codes_for_customer(*, customer_id: int) -> list[DiscountCode]:
    """The discount codes issued to one customer, newest first."""
    return list(
        DiscountCode.objects.filter(customer_id=customer_id)
        .select_related("order", "issued_by")
        .order_by("-created_at", "-pk")[:MESSAGES_LIMIT]
    )
