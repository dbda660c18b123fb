"""An order (`/orders/<number>/`) and a customer (`/customers/<id>/`): lines with
promise history, messages sent, the audit trail; the line actions of customer service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from desk.access import may
from desk.forms.orders import OrderLineCancelForm, OrderLinePriorityForm
from desk.roles import role_required_for
from desk.shared import is_fragment_request, validation_messages
from desk.tables.cells import order_status_badge, status_badge, tier_badge
from notifications import updates
from notifications.selectors import (
    MESSAGES_LIMIT,
    discount_codes_for_customer,
    notification_list_for_customer,
    notification_list_for_order,
)
from orders.models import Customer, OrderLine, SalesOrder
from orders.selectors.orders import (
    CUSTOMER_ORDERS_LIMIT,
    customer_get,
    customer_orders,
    order_audit_trail,
    order_get,
    order_lines,
    order_notes,
    order_promise_basis,
    order_promise_revisions,
)


def order_can_cancel(user: Any) -> bool:
    """Customer service (or a superuser) may cancel a line's backordered remainder."""
    return may(user, "order-line-cancel")


def order_can_prioritise(user: Any) -> bool:
    """Customer service (or a superuser) may move a waiting line in the queue from
    the order page; purchasing does it from /queue/ (DESIGN.md's role table)."""
    return may(user, "order-line-priority")


def order_lines_context(
    request: HttpRequest,
    order: SalesOrder,
    *,
    errors: dict[tuple[int, str], list[str]] | None = None,
    values: dict[tuple[int, str], Any] | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """The lines fragment of the order page: one row per line with its promise
    history, and the forms' values and messages by (line id, "cancel" or
    "priority"). Also used by the action views (in desk)."""
    errors = errors or {}
    values = values or {}
    lines = order_lines(order=order)
    revisions = order_promise_revisions(order=order)
    basis = order_promise_basis(lines=lines, revisions=revisions)
    rows = [
        {
            "line": line,
            "basis": basis.get(line.pk),
            "status_badge": order_status_badge(line.status),
            "revisions": revisions.get(line.pk, []),
            "cancel_errors": errors.get((line.pk, "cancel"), []),
            "cancel_reason": values.get((line.pk, "cancel"), ""),
            "priority_errors": errors.get((line.pk, "priority"), []),
            "priority_value": values.get((line.pk, "priority"), line.priority),
        }
        for line in lines
    ]
    status = order.status_from(lines)
    return {
        "order": order,
        "lines": lines,
        "rows": rows,
        "order_status": status,
        "status_badge": order_status_badge(status),
        "units_waiting": sum(line.backordered for line in lines),
        "order_total": sum((line.amount for line in lines), Decimal(0)),
        "has_revisions": bool(revisions),
        "can_cancel": order_can_cancel(request.user),
        "can_prioritise": order_can_prioritise(request.user),
        "lines_notice": notice,
    }


def order_page_context(request: HttpRequest, order: SalesOrder, **kwargs: Any) -> dict[str, Any]:
    """Everything the order page shows (a fixed number of queries)."""
    context = order_lines_context(request, order, **kwargs)
    context["audit"] = order_audit_trail(order=order, lines=context["lines"])
    context["notes"] = order_notes(order=order)
    # The messages are in the page as it loads (a card filled in afterwards
    # moved everything below it); htmx reloads them when a line is cancelled.
    context.update(_order_messages_context(request, order))
    context["can_edit_delivery"] = may(request.user, "order-delivery")
    return context


def _order_messages_context(request: HttpRequest, order: SalesOrder) -> dict[str, Any]:
    return {
        "notifications": [
            (notification, status_badge(notification))
            for notification in notification_list_for_order(order_id=order.pk)
        ],
        "can_open_outbox": can_open_outbox(request.user),
    }


def order_or_404(number: str) -> SalesOrder:
    try:
        return order_get(number=number)
    except SalesOrder.DoesNotExist as missing:
        raise Http404(_("No order %(number)s.") % {"number": number}) from missing


@role_required_for("order")
@require_GET
def order(request: HttpRequest, number: str) -> HttpResponse:
    """One sales order: lines, promise history, messages and audit trail."""
    sales_order = order_or_404(number)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    if fragment and request.GET.get("part") == "audit":
        lines = order_lines(order=sales_order)
        audit = order_audit_trail(order=sales_order, lines=lines)
        context = {"order": sales_order, "audit": audit}
        response = render(request, "desk/order.html#order-audit", context)
    elif fragment:
        context = order_lines_context(request, sales_order)
        response = render(request, "desk/order.html#order-lines", context)
    else:
        response = render(request, "desk/order.html", order_page_context(request, sales_order))
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required_for("customer")
@require_GET
def customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One customer: facts, their newest orders, messages (loaded) and discount codes."""
    try:
        person = customer_get(customer_id=customer_id)
    except Customer.DoesNotExist as missing:
        raise Http404(_("No customer %(id)s.") % {"id": customer_id}) from missing
    rows = []
    for sales_order in customer_orders(customer=person):
        lines = list(sales_order.lines.all())
        rows.append(
            {
                "order": sales_order,
                "status_badge": order_status_badge(sales_order.status_from(lines)),
                "lines": len(lines),
                "units_waiting": sum(line.backordered for line in lines),
            }
        )
    context = {
        "customer": person,
        "tier_badge": tier_badge(person.tier),
        "orders": rows,
        "orders_limit": CUSTOMER_ORDERS_LIMIT,
    }
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "desk/customer.html#customer-orders" if fragment else "desk/customer.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


ORDER_TEMPLATE = "desk/order.html"


def can_open_outbox(user: Any) -> bool:
    """The outbox is for customer service and purchasing: others see subjects only."""
    return may(user, "outbox-message", "GET")


@role_required_for("order-messages")
@require_GET
def order_messages(request: HttpRequest, number: str) -> HttpResponse:
    """The messages sent about one order: the order page loads them (htmx) and
    reloads them when a line is cancelled; without htmx, a page of its own."""
    sales_order = order_or_404(number)
    fragment_template = f"{ORDER_TEMPLATE}#order-messages"
    context = {
        "order": sales_order,
        **_order_messages_context(request, sales_order),
        "fragment_template": fragment_template,
        "back_url": reverse("order", args=[sales_order.number]),
        "back_label": sales_order.number,
    }
    template = fragment_template if is_fragment_request(request) else "desk/messages.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required_for("customer-messages")
@require_GET
def customer_messages(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The messages and discount codes a customer was sent, for the customer page."""
    try:
        person = customer_get(customer_id=customer_id)
    except Customer.DoesNotExist as missing:
        raise Http404(_("No customer %(id)s.") % {"id": customer_id}) from missing
    fragment_template = "desk/customer.html#customer-messages"
    context = {
        "customer": person,
        "notifications": [
            (notification, status_badge(notification))
            for notification in notification_list_for_customer(customer_id=person.pk)
        ],
        "discount_codes": discount_codes_for_customer(customer_id=person.pk),
        "can_open_outbox": can_open_outbox(request.user),
        "messages_limit": MESSAGES_LIMIT,
        "fragment_template": fragment_template,
        "back_url": reverse("customer", args=[person.pk]),
        "back_label": person.name,
    }
    template = fragment_template if is_fragment_request(request) else "desk/messages.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _order_line_or_404(number: str, line_id: int) -> tuple[SalesOrder, OrderLine]:
    sales_order = order_or_404(number)
    line = next(
        (line for line in order_lines(order=sales_order) if line.pk == line_id),
        None,
    )
    if line is None:
        raise Http404(
            _("Order %(number)s has no line %(line)s.") % {"number": number, "line": line_id}
        )
    return sales_order, line


def _order_lines_again(
    request: HttpRequest,
    sales_order: SalesOrder,
    *,
    key: tuple[int, str],
    errors: list[str],
    value: Any,
) -> HttpResponse:
    """The lines again with the message beside the field; nothing was changed."""
    shown: dict[str, Any] = {"errors": {key: errors}, "values": {key: value}}
    if is_fragment_request(request):
        context = order_lines_context(request, sales_order, **shown)
        return render(request, f"{ORDER_TEMPLATE}#order-lines", context)
    return render(request, ORDER_TEMPLATE, order_page_context(request, sales_order, **shown))


def _order_lines_done(
    request: HttpRequest, sales_order: SalesOrder, notice: str, event: str, detail: dict[str, Any]
) -> HttpResponse:
    if not is_fragment_request(request):
        messages.success(request, notice)
        return redirect("order", number=sales_order.number)
    sales_order = order_or_404(sales_order.number)
    context = order_lines_context(request, sales_order, notice=notice)
    response = render(request, f"{ORDER_TEMPLATE}#order-lines", context)
    trigger_client_event(response, event, detail)
    return response


@role_required_for("order-line-cancel")
@require_POST
def order_line_cancel(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """Cancel a line's backordered remainder; the customer is told (outbox)."""
    sales_order, line = _order_line_or_404(number, line_id)
    form = OrderLineCancelForm(request.POST)
    key = (line.pk, "cancel")
    reason = request.POST.get("reason", "")
    if not form.is_valid():
        return _order_lines_again(
            request,
            sales_order,
            key=key,
            errors=[str(error) for error in form.errors["reason"]],
            value=reason,
        )
    try:
        cancellation = updates.order_line_cancel(
            line=line,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as error:
        return _order_lines_again(
            request, sales_order, key=key, errors=validation_messages(error), value=reason
        )
    except ConcurrencyConflict as error:
        return _order_lines_again(request, sales_order, key=key, errors=[str(error)], value=reason)
    notice = _(
        "Cancelled %(units)d backordered × %(sku)s; refund due %(refund)s. "
        "The customer is told through the outbox."
    ) % {"units": cancellation.quantity, "sku": line.product.sku, "refund": cancellation.refund_due}
    return _order_lines_done(
        request,
        sales_order,
        notice,
        "orderLineCancelled",
        {"order": sales_order.number, "line": line.pk, "units": cancellation.quantity},
    )


@role_required_for("order-line-priority")
@require_POST
def order_line_priority(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """Move a waiting line up or down its product's queue."""
    sales_order, line = _order_line_or_404(number, line_id)
    form = OrderLinePriorityForm(request.POST)
    key = (line.pk, "priority")
    value = request.POST.get("priority", "")
    if not form.is_valid():
        return _order_lines_again(
            request,
            sales_order,
            key=key,
            errors=[str(error) for error in form.errors["priority"]],
            value=value,
        )
    try:
        changed = updates.order_line_set_priority(
            line=line,
            priority=form.cleaned_data["priority"],
            by=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        return _order_lines_again(
            request, sales_order, key=key, errors=validation_messages(error), value=value
        )
    except ConcurrencyConflict as error:
        return _order_lines_again(request, sales_order, key=key, errors=[str(error)], value=value)
    notice = _("%(sku)s now has priority %(priority)d in the queue.") % {
        "sku": line.product.sku,
        "priority": changed.priority,
    }
    return _order_lines_done(
        request,
        sales_order,
        notice,
        "priorityChanged",
        {"order": sales_order.number, "line": line.pk, "priority": changed.priority},
    )
