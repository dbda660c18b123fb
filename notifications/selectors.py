"""The querysets the outbox and policy pages render.

Each selects what its page shows in a fixed number of queries, whatever the
number of messages: customer and order come along in the same query, and the
bodies (large) stay in the database until one message is opened.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, DateTimeField, F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404

from notifications.models import (
    CompensationPolicy,
    DiscountCode,
    Notification,
    NotificationStatus,
    WebhookDelivery,
)


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


# --- the delays page (/delays/): what each customer has been told ----------------

# The newest few on each card ("All n messages →" opens the customer): 15
# customers' cards stay under 1,500 elements.
DELAY_MESSAGES_PER_CUSTOMER = 4


def notifications_for_customers(
    *, customer_ids: list[int], per_customer: int = DELAY_MESSAGES_PER_CUSTOMER
) -> dict[int, list[Notification]]:
    """The newest `per_customer` messages of each customer, newest first, by
    customer id, in one query whatever the number of customers and messages
    (a window function numbers each customer's messages). Each message carries
    `customer_total`, how many that customer was sent in all."""
    newest_first = [F("created_at").desc(), F("pk").desc()]
    rows = (
        Notification.objects.filter(customer_id__in=customer_ids)
        .select_related("order")
        .defer("body_text", "body_html", "context")
        .annotate(
            position=Window(RowNumber(), partition_by=[F("customer_id")], order_by=newest_first),
            customer_total=Window(Count("pk"), partition_by=[F("customer_id")]),
        )
        .filter(position__lte=per_customer)
        .order_by("customer_id", "-created_at", "-pk")
    )
    by_customer: dict[int, list[Notification]] = {pk: [] for pk in customer_ids}
    for notification in rows:
        by_customer[notification.customer_id].append(notification)
    return by_customer


def discount_codes_for_customers(*, customer_ids: list[int]) -> dict[int, list[DiscountCode]]:
    """Every discount code issued to the customers, newest first, by customer id."""
    by_customer: dict[int, list[DiscountCode]] = {pk: [] for pk in customer_ids}
    codes = (
        DiscountCode.objects.filter(customer_id__in=customer_ids)
        .select_related("order", "issued_by")
        .order_by("-created_at", "-pk")
    )
    for code in codes:
        by_customer[code.customer_id].append(code)
    return by_customer


def customers_with_discount_codes() -> QuerySet[DiscountCode, Any]:
    """The ids of customers who were issued a discount code, as a subquery
    (the delays page's "discount" filter)."""
    return DiscountCode.objects.values("customer_id")


def last_told_at(customer_ref: str = "order__customer_id") -> Subquery:
    """When the customer at `customer_ref` (an outer query's field) was last
    sent a message that did not fail: for sorting whom nobody told first."""
    return Subquery(
        Notification.objects.filter(customer_id=OuterRef(customer_ref))
        .exclude(status=NotificationStatus.FAILED)
        .order_by("-created_at")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )


def told_since(*, messages: list[Notification], since: dt.datetime | None) -> bool:
    """Whether one of a customer's messages (newest first, as
    `notifications_for_customers` gives them) went out, or is about to, after
    `since`: a failed message told nobody."""
    if since is None:
        return True
    return any(
        message.created_at >= since
        for message in messages
        if message.status != NotificationStatus.FAILED
    )


def webhook_deliveries_list() -> QuerySet[WebhookDelivery]:
    """Every outbound webhook delivery, newest first, with subscription and order."""
    return (
        WebhookDelivery.objects.select_related("subscription", "order")
        .defer("payload")
        .order_by("-created_at", "-pk")
    )


def webhook_delivery_get(*, delivery_id: int) -> WebhookDelivery:
    """One delivery; 404 if unknown."""
    return get_object_or_404(
        WebhookDelivery.objects.select_related("subscription", "order"), pk=delivery_id
    )
