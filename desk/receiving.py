"""Receiving (`/receiving/`, `/purchase-orders/<number>/receive/`): open purchase
orders, the receive form per line, and the answer naming the orders the units went to."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from desk.forms.receiving import PurchaseOrderReceiveForm
from desk.pagination import table_paginate
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.tables.receiving import ReceivingTable
from desk.warehouse_filter import warehouse_filter
from notifications import updates
from orders.selectors.purchasing import (
    purchase_order_for_receiving,
    purchase_order_open_lines,
    purchase_order_receipt_state,
    receiving_purchase_orders,
)
from orders.selectors.queue import order_lines_by_id
from orders.services.receiving import ReceiptResult
from suppliers.models import (
    PurchaseOrder,
    PurchaseOrderLine,
)


@role_required_for("receiving")
@require_GET
def receiving(request: HttpRequest) -> HttpResponse:
    """The open purchase orders, soonest expected first, each linking to its
    receive form; in the warehouse the page remembers (shared with shipping)."""
    where = warehouse_filter(request)
    table = ReceivingTable(
        receiving_purchase_orders(warehouse_id=where.warehouse_id),
        empty_text=_("No purchase order is waiting to be received."),
    )
    table_paginate(table, request.GET.get("page"))
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "desk/receiving.html#receiving-table" if fragment else "desk/receiving.html"
    response = render(request, template, {"table": table, "where": where})
    patch_vary_headers(response, ["HX-Request"])
    return response


def receive_form_context(
    *,
    purchase_order: PurchaseOrder,
    lines: list[PurchaseOrderLine],
    values: dict[int, Any] | None = None,
    errors: dict[int, list[str]] | None = None,
    form_errors: list[str] | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    """The context of the receive form: one row per open line with the value
    typed in and the message beside it. Also used by the submit view
    (in desk) to show the form again with its errors."""
    values = values or {}
    errors = errors or {}
    rows = [
        {
            "line": line,
            "name": f"line_{line.pk}",
            "value": "" if values.get(line.pk) in (None, "") else values[line.pk],
            "errors": errors.get(line.pk, []),
        }
        for line in lines
    ]
    return {
        "purchase_order": purchase_order,
        "rows": rows,
        "form_errors": form_errors or [],
        "receipt_state": state
        if state is not None
        else purchase_order_receipt_state(purchase_order_id=purchase_order.pk),
        "units_outstanding": sum(line.outstanding for line in lines),
        "overdue": purchase_order.expected_date < timezone.localdate(),
    }


@role_required_for("purchase-order-receive")
@require_GET
def purchase_order_receive(request: HttpRequest, number: str) -> HttpResponse:
    """The receive form of one purchase order; `?fill=all` fills in every
    outstanding quantity (the "Receive all outstanding" button, no script)."""
    purchase_order = purchase_order_for_receiving(number=number)
    lines = purchase_order_open_lines(purchase_order=purchase_order)
    values: dict[int, Any] = (
        {line.pk: line.outstanding for line in lines} if request.GET.get("fill") == "all" else {}
    )
    context = receive_form_context(purchase_order=purchase_order, lines=lines, values=values)
    request.nav_path = reverse("receiving")  # type: ignore[attr-defined]
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = (
        "desk/purchase_order_receive.html#receive-form"
        if fragment
        else "desk/purchase_order_receive.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _receipt_summary(result: ReceiptResult, products: dict[int, Any]) -> dict[str, Any]:
    """What the result fragment shows: units per product, where they went, what is left."""
    received: dict[int, dict[str, Any]] = {}
    for line_id, units in result.received.items():
        product = products[line_id]
        entry = received.setdefault(product.pk, {"product": product, "units": 0})
        entry["units"] += units
    order_lines = order_lines_by_id(line_ids=[a.line_id for a in result.allocations])
    allocations = [
        {
            "order_number": allocation.order_number,
            "customer": order_lines[allocation.line_id].order.customer,
            "product": order_lines[allocation.line_id].product,
            "units": allocation.quantity,
            "ready_to_ship": allocation.ready_to_ship,
        }
        for allocation in result.allocations
    ]
    return {
        "received": list(received.values()),
        "units_received": sum(result.received.values()),
        "allocations": allocations,
        "units_allocated": sum(a.quantity for a in result.allocations),
        "ready_orders": result.ready_orders,
        "left_in_stock": sorted(result.left_in_stock.items()),
    }


@role_required_for("purchase-order-receive-submit")
@require_POST
def purchase_order_receive_submit(request: HttpRequest, number: str) -> HttpResponse:
    """Receive the units typed into the receive form and allocate them to the queue.

    htmx gets the result fragment and `unitsReceived`, or the form again with
    each message beside its line (200, nothing changed); without htmx a
    success redirects to the receive page with a summary.
    """
    purchase_order = purchase_order_for_receiving(number=number)
    lines = purchase_order_open_lines(purchase_order=purchase_order)
    form = PurchaseOrderReceiveForm(request.POST, line_ids=[line.pk for line in lines])
    result: ReceiptResult | None = None
    if form.is_valid():
        try:
            result = updates.purchase_order_receive_from_form(
                purchase_order=purchase_order,
                quantities=form.quantities(),
                receipt_state=form.cleaned_data["receipt_state"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages_ in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages_)
            else:
                form.add_error(None, error.messages)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
    if result is None:
        posted = {line.pk: request.POST.get(f"line_{line.pk}", "") for line in lines}
        context = receive_form_context(
            purchase_order=purchase_order,
            lines=lines,
            values=posted,
            errors=form.line_errors(),
            form_errors=[str(message) for message in form.non_field_errors()],
            # A form that was refused as out of date shows the numbers as they
            # are now, so submitting it again is a deliberate second receipt.
            state=None,
        )
        template = "desk/purchase_order_receive.html"
        if is_fragment_request(request):
            template += "#receive-form"
        request.nav_path = reverse("receiving")  # type: ignore[attr-defined]
        return render(request, template, context)
    summary = _receipt_summary(result, {line.pk: line.product for line in lines})
    if not is_fragment_request(request):
        messages.success(
            request,
            _(
                "Received %(units)d units on %(number)s: %(allocated)d allocated to the "
                "backorder queue, %(ready)d orders now ready to ship."
            )
            % {
                "units": summary["units_received"],
                "number": purchase_order.number,
                "allocated": summary["units_allocated"],
                "ready": len(summary["ready_orders"]),
            },
        )
        return redirect("purchase-order-receive", number=purchase_order.number)
    purchase_order.refresh_from_db(fields=["status"])
    response = render(
        request,
        "desk/purchase_order_receive.html#receive-result",
        {"purchase_order": purchase_order, **summary},
    )
    trigger_client_event(
        response,
        "unitsReceived",
        {"purchase_order": purchase_order.number, "units": summary["units_received"]},
    )
    return response
