"""Ready to ship (`/shipping/`): orders with allocated units and every open line;
ship what is ready (chosen lines and quantities) with a tracking number, or hold
until complete; the pick list and packing slips to print."""

from __future__ import annotations

from typing import Any

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
from desk.warehouse_filter import warehouse_filter
from notifications import updates
from orders.carriers import tracking_example
from orders.models import SalesOrder, ShipPreference
from orders.selectors.shipping import bin_locations, shipping_order, shipping_orders
from orders.services.shipping import order_ship_preference_set

SHIPPING_TEMPLATE = "desk/shipping.html"


def _with_ship_values(order: SalesOrder, form: ShipOrderForm | None = None) -> SalesOrder:
    """Each open line's `ship_value` (what its field shows: the posted value,
    else None for "all allocated") and `ship_errors`."""
    for line in order.open_lines:  # type: ignore[attr-defined]
        name = f"line_{line.pk}"
        line.ship_value = form.data.get(name) if form is not None else None
        line.ship_errors = form.errors.get(name, []) if form is not None else []
    order.tracking_example = tracking_example(order.carrier)  # type: ignore[attr-defined]
    return order


def _page(request: HttpRequest) -> dict[str, Any]:
    """The orders of the page asked for, in the remembered warehouse."""
    where = warehouse_filter(request)
    orders, page, has_next = rows_page(
        shipping_orders(warehouse_id=where.warehouse_id), request.GET.get("page")
    )
    for order in orders:
        _with_ship_values(order)
    return {
        "orders": orders,
        "page": page,
        "next_page": page + 1 if has_next else None,
        "previous_page": page - 1 if page > 1 else None,
        "where": where,
        "query_warehouse": where.chosen.code if where.chosen else "",
    }


@role_required_for("shipping")
@require_GET
def shipping(request: HttpRequest) -> HttpResponse:
    """Orders with allocated units, oldest first, each with all its open lines
    and its ship form; filtered by the warehouse the page remembers.

    One row past the page is fetched to know whether there is a next page:
    no COUNT(*).
    """
    context = _page(request)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = f"{SHIPPING_TEMPLATE}#shipping-list" if fragment else SHIPPING_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _ship_form_context(order: SalesOrder, form: ShipOrderForm) -> dict[str, Any]:
    return {"order": _with_ship_values(order, form), "form": form, "values": form.data}


@role_required_for("order-ship")
@require_POST
def order_ship(request: HttpRequest, number: str) -> HttpResponse:
    """Ship the chosen units of an order (everything allocated when the post
    names no line) with a tracking number; the customer gets the shipped email.
    "Hold until complete" ships nothing and says so.

    htmx gets the order's card replaced by a confirmation and `orderShipped`,
    or the card again with the messages beside the fields (200, nothing
    changed); without htmx it redirects to the page with a message.
    """
    order = shipping_order(number=number)
    form = ShipOrderForm(request.POST, lines=order.open_lines)  # type: ignore[attr-defined]
    shipment = None
    if form.is_valid() and form.holds:
        order_ship_preference_set(order=order, preference=ShipPreference.HOLD, by=request.user)  # type: ignore[arg-type]
        notice = _("%(number)s is held until complete: nothing shipped.") % {"number": order.number}
        if not is_fragment_request(request):
            messages.info(request, notice)
            return redirect("shipping")
        context = {**_ship_form_context(order, form), "notice": notice}
        return render(request, f"{SHIPPING_TEMPLATE}#ship-order", context)
    if form.is_valid():
        quantities = form.quantities()
        if quantities == {}:
            form.add_error(None, _("Choose at least one unit to ship."))
        else:
            try:
                shipment = updates.shipment_create(
                    order=order,
                    tracking_number=form.cleaned_data["tracking_number"],
                    quantities=quantities,
                    by=request.user,
                )
            except ValidationError as error:
                form_errors_from(form, error)
            except ConcurrencyConflict as error:
                form.add_error(None, str(error))
    if shipment is None:
        if not is_fragment_request(request):
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, f"{order.number}: {message}")
            return redirect("shipping")
        # Show the order as it is now: a second submit finds nothing allocated.
        order = shipping_order(number=number)
        return render(request, f"{SHIPPING_TEMPLATE}#ship-order", _ship_form_context(order, form))
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


@role_required_for("shipping-pick-list")
@require_GET
def pick_list(request: HttpRequest) -> HttpResponse:
    """The ready units of the orders on the shipping page (same page, same
    warehouse), by warehouse, then product, then order: one walk of the
    shelves. An order held until complete is not picked while lines wait."""
    context = _page(request)
    picks: list[dict[str, Any]] = [
        {
            "warehouse": order.warehouse,
            "product": line.product,
            "units": line.allocated,
            "order": order,
        }
        for order in context["orders"]
        if not (order.has_waiting and order.ship_preference == ShipPreference.HOLD)
        for line in order.open_lines
        if line.allocated
    ]
    bins = bin_locations(keys={(pick["product"].pk, pick["warehouse"].pk) for pick in picks})
    for pick in picks:
        pick["bin"] = bins.get((pick["product"].pk, pick["warehouse"].pk), "")
    # By warehouse, then bin (those without one last), product and order.
    picks.sort(
        key=lambda pick: (
            pick["warehouse"].code,
            pick["bin"] == "",
            pick["bin"],
            pick["product"].sku,
            pick["order"].number,
        )
    )
    groups: dict[str, dict[str, Any]] = {}
    for pick in picks:
        group = groups.setdefault(
            pick["warehouse"].code, {"warehouse": pick["warehouse"], "picks": [], "units": 0}
        )
        group["picks"].append(pick)
        group["units"] += pick["units"]
    return render(
        request, "desk/shipping_pick_list.html", {**context, "groups": list(groups.values())}
    )


@role_required_for("shipping-packing-slip")
@require_GET
def packing_slip(request: HttpRequest, number: str) -> HttpResponse:
    """One order's packing slip: what goes in the box now, and what follows."""
    order = shipping_order(number=number)
    return render(request, "desk/shipping_packing_slip.html", {"order": order})
