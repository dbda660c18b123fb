"""Orders as customers feel them: placed (the backorder confirmation), reprioritised,
shipped, cancelled (by an agent or the customer's link), stock adjusted, promises refreshed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from config.db import retry_on_conflict
from notifications.models import (
    NotificationKind,
)
from notifications.services.outbox import notification_enqueue
from notifications.updates.telling import (
    cancellations_notify,
    customer_links,
    line_context,
    ship_choice_links,
    telling_customers,
)
from orders.links import CustomerLink
from orders.models import (
    Cancellation,
    CustomerChoice,
    OrderLine,
    SalesOrder,
    Shipment,
)
from orders.services import (
    allocation,
    cancelling,
    choices,
    intake,
    promises,
    recording,
    shipping,
)
from orders.services import priority as queue_priority
from orders.services.customers import customer_find_or_create
from orders.services.notes import form_submission_record


@retry_on_conflict()
@transaction.atomic
def order_place(**kwargs: Any) -> SalesOrder:
    """`orders.services.order_place`, then the backorder confirmation."""
    order = telling_customers(intake.order_place, **kwargs)
    waiting = [line for line in order.lines.select_related("product") if line.backordered]
    if waiting:
        notification_enqueue(
            kind=NotificationKind.BACKORDER_CONFIRMED,
            customer=order.customer,
            order=order,
            context={
                "lines": [line_context(line) for line in waiting],
                "charged": order.amount_held > 0,
                **customer_links(order),
                **ship_choice_links(order),
            },
            dedup_key=f"backorder-confirmed:{order.pk}",
        )
    return order


@retry_on_conflict()
@transaction.atomic
def order_place_for_customer(
    *,
    email: str,
    name: str,
    language: str,
    tier: int | None,
    token: str = "",
    **kwargs: Any,
) -> SalesOrder:
    """An order taken by customer service (phone or email): the customer with
    this email address, or a new one made with the name, language and tier
    given, then `order_place` with its confirmation email, in one transaction.

    With `token` (the form's one-time token) the same form submitted twice
    places one order: the second raises ValidationError with the code
    "already_submitted" and writes nothing. A refused line rolls back the
    customer made for it too.
    """
    if token:
        form_submission_record(token=token, action="order_place", by=kwargs.get("by"))
    customer = customer_find_or_create(email=email, name=name, language=language, tier=tier)
    return order_place(customer=customer, **kwargs)


@retry_on_conflict()
@transaction.atomic
def order_line_set_priority(*, line: OrderLine, priority: int, by: User | None) -> OrderLine:
    return telling_customers(
        queue_priority.order_line_set_priority, line=line, priority=priority, by=by
    )


@retry_on_conflict()
@transaction.atomic
def stock_adjust(**kwargs: Any) -> list[recording.Allocation]:
    return telling_customers(allocation.stock_adjust, **kwargs)


@retry_on_conflict()
@transaction.atomic
def shipment_create(**kwargs: Any) -> Shipment:
    """`orders.services.shipment_create`, then the shipped email with tracking."""
    shipment = telling_customers(shipping.shipment_create, **kwargs)
    lines = [
        {**line_context(item.order_line), "quantity": item.quantity}
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
    cancellation = telling_customers(cancelling.order_line_cancel, **kwargs)
    cancellations_notify(cancellations=[cancellation])
    return cancellation


@retry_on_conflict()
@transaction.atomic
def order_cancel(**kwargs: Any) -> list[Cancellation]:
    cancellations = telling_customers(cancelling.order_cancel, **kwargs)
    cancellations_notify(cancellations=cancellations)
    return cancellations


@retry_on_conflict()
@transaction.atomic
def order_backorders_cancel(**kwargs: Any) -> list[Cancellation]:
    """`orders.services.order_backorders_cancel` (the customer cancelled what
    waits, e.g. in the shop), then one "cancelled" email for all its lines."""
    cancellations = telling_customers(cancelling.order_backorders_cancel, **kwargs)
    cancellations_notify(cancellations=cancellations)
    return cancellations


def order_customer_choose(*, link: CustomerLink) -> choices.CustomerChoiceResult:
    """A customer's choice through a signed link; a cancellation is confirmed by email."""
    return _order_customer_choose(link=link)


@transaction.atomic
def _order_customer_choose(*, link: CustomerLink) -> choices.CustomerChoiceResult:
    result = telling_customers(choices.order_customer_choose, link=link)
    if result.choice == CustomerChoice.Choice.CANCEL:
        cancellations_notify(cancellations=result.cancellations)
    return result


@retry_on_conflict()
@transaction.atomic
def promises_refresh(**kwargs: Any) -> list[recording.PromiseChange]:
    """`orders.services.promises_refresh` (a recompute nothing else caused, such
    as a promised date that passed), telling each customer whose date moved."""
    return telling_customers(promises.promises_refresh, **kwargs)
