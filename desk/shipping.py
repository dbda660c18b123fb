"""Ready to ship (`/shipping/`): orders whose lines are allocated; ship with a tracking number."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from desk.forms.shipping import ShipOrderForm
from desk.pagination import rows_page
from desk.roles import role_required_for
from desk.shared import form_errors_from, is_fragment_request
from notifications import updates
from orders.selectors.shipping import shipping_order, shipping_orders


@role_required_for("shipping")
@require_GET
def shipping(request: HttpRequest) -> HttpResponse:
    """Orders with allocated units, oldest first, each with its ship form.

    One row past the page is fetched to know whether there is a next page:
    no COUNT(*).
    """
    orders, page, has_next = rows_page(shipping_orders(), request.GET.get("page"))
    context = {
        "orders": orders,
        "page": page,
        "next_page": page + 1 if has_next else None,
        "previous_page": page - 1 if page > 1 else None,
    }
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "desk/shipping.html#shipping-list" if fragment else "desk/shipping.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


SHIPPING_TEMPLATE = "desk/shipping.html"


@role_required_for("order-ship")
@require_POST
def order_ship(request: HttpRequest, number: str) -> HttpResponse:
    """Ship everything allocated on an order with a tracking number; the
    customer gets the shipped email.

    htmx gets the order's row replaced by a confirmation and `orderShipped`,
    or the row again with the message beside the field (200, nothing
    changed); without htmx it redirects to the page with a message.
    """
    order = shipping_order(number=number)
    form = ShipOrderForm(request.POST)
    shipment = None
    if form.is_valid():
        try:
            shipment = updates.shipment_create(
                order=order,
                tracking_number=form.cleaned_data["tracking_number"],
                by=request.user,
            )
        except ValidationError as error:
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
    if shipment is None:
        if not is_fragment_request(request):
            for message in [*form.non_field_errors(), *form.errors.get("tracking_number", [])]:
                messages.error(request, f"{order.number}: {message}")
            return redirect("shipping")
        # Show the order as it is now: a second submit finds nothing allocated.
        order = shipping_order(number=number)
        return render(
            request,
            f"{SHIPPING_TEMPLATE}#ship-order",
            {"order": order, "form": form, "values": request.POST},
        )
    units = sum(line.quantity for line in shipment.lines.all())
    notice = _("Shipped %(number)s with tracking %(tracking)s (%(units)d units).") % {
        "number": order.number,
        "tracking": shipment.tracking_number,
        "units": units,
    }
    if not is_fragment_request(request):
        messages.success(request, notice)
        return redirect("shipping")
    response = render(
        request,
        f"{SHIPPING_TEMPLATE}#ship-done",
        {"order": order, "shipment": shipment, "units": units, "notice": notice},
    )
    trigger_client_event(
        response,
        "orderShipped",
        {"order": order.number, "tracking_number": shipment.tracking_number, "units": units},
    )
    return response
