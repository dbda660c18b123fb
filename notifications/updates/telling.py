"""How an orders use case's changes become messages: every use case here runs
inside `telling_customers`, which records the promise changes and allocations it
makes and writes the apologies, discounts, good news and "ready" emails they call for."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from notifications.models import (
    CompensationPolicy,
    DiscountCode,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from notifications.services.discounts import discount_code_issue, discount_context
from notifications.services.outbox import notification_enqueue
from notifications.services.rendering import json_safe, notification_render
from notifications.services.webhooks import webhook_events_write
from orders.links import customer_link_token
from orders.models import Cancellation, OrderLine, PaymentStatus, SalesOrder
from orders.services import (
    recording,
)

P = ParamSpec("P")

# Set while a `telling_customers` block runs: the outermost one writes the webhook events.
_telling: ContextVar[bool] = ContextVar("telling_customers", default=False)


R = TypeVar("R")


PROMISE_KINDS = (
    NotificationKind.PROMISE_LATER,
    NotificationKind.PROMISE_LATER_DISCOUNT,
    NotificationKind.PROMISE_EARLIER,
)


def telling_customers(use_case: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run an orders use case and tell every customer it affected."""
    return telling_customers_with_messages(use_case, *args, **kwargs)[0]


def telling_customers_with_messages(
    use_case: Callable[P, R], *args: P.args, **kwargs: P.kwargs
) -> tuple[R, list[Notification]]:
    """`telling_customers`, also returning the messages it wrote or updated."""
    outermost = not _telling.get()
    token = _telling.set(True)
    try:
        with recording.changes_recorded() as recorded:
            result = use_case(*args, **kwargs)
    finally:
        _telling.reset(token)
    messages = promise_changes_notify(changes=recorded.promises)
    messages += lines_ready_notify(allocations=recorded.allocations)
    if outermost:
        # The shops' storefronts hear of the same changes (outbound webhooks);
        # a block inside another writes nothing, the outer one has it all.
        webhook_events_write(recorded=recorded)
    return result, messages


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
            **line_context(line),
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
                    {**line_context(line), "quantity": line.allocated} for line in order_lines
                ]
            },
            dedup_key=f"ready:{order.pk}:{ids}",
        )
        if notification is not None:
            written.append(notification)
    return written


def cancellations_notify(*, cancellations: Sequence[Cancellation]) -> Notification | None:
    """The "cancelled" confirmation for one order's cancellations. What it says
    about money is what the shop really took (orders.services.refunds): a
    refund of what is due to the original payment method when money was taken
    for these units; otherwise (authorized, unpaid, or paid only for what stays
    on the order) not charged for them."""
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
                {**line_context(item.order_line), "quantity": item.quantity} for item in items
            ],
            "refund_due": refund,
            "charged": refund > 0,
            # Refunded in full by the shop already: nothing more comes back,
            # and "not charged" would not be true either.
            "already_refunded": refund == 0 and order.payment_status == PaymentStatus.REFUNDED,
            "currency": order.currency,
        },
        dedup_key=f"cancelled:{order.pk}:{ids}",
    )


def ship_choice_links(order: SalesOrder) -> dict[str, str]:
    """The signed ship-what-is-ready and wait-for-everything links of the
    backorder confirmation: the customer's answer is the order's ship preference."""
    return {
        "ship_ready_url": _absolute(
            reverse("customer-link", args=[customer_link_token(order=order, action="ship_ready")])
        ),
        "wait_all_url": _absolute(
            reverse("customer-link", args=[customer_link_token(order=order, action="wait_all")])
        ),
    }


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


def line_context(line: OrderLine) -> dict[str, Any]:
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
    return json_safe(context)
