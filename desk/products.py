"""A product (`/products/<sku>/`): stock per warehouse, inbound supply, its queue; adjust stock."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from config.roles import Role, has_role
from desk.forms.products import StockAdjustForm
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.shipping import form_errors_from
from notifications import updates
from orders.selectors.orders import lines_promise_basis
from orders.selectors.products import (
    PRODUCT_QUEUE_LIMIT,
    product_get,
    product_inbound_lines,
    product_queue,
    product_queue_summary,
    product_stock_levels,
    product_warehouses,
)
from orders.selectors.transfers import in_transit_units


def product_stock_context(
    request: HttpRequest,
    product: Any,
    *,
    adjust_warehouse_id: int | None = None,
    adjust_values: dict[str, Any] | None = None,
    adjust_errors: dict[str, list[str]] | None = None,
    notice: str = "",
    bin_posted: tuple[int, str, list[str]] | None = None,
) -> dict[str, Any]:
    """The stock table of a product: one row per warehouse with on hand,
    allocated, available, inbound, waiting and the shortfall, and the adjust
    form's values and messages for the warehouse just posted. Also used by the
    adjust view (in desk) to answer with the stock fragment."""
    warehouses = product_warehouses()
    levels = product_stock_levels(product=product)
    inbound = product_inbound_lines(product=product)
    waiting = product_queue_summary(product=product)
    inbound_units: dict[int, int] = {}
    for line in inbound:
        warehouse_id = line.purchase_order.warehouse_id
        inbound_units[warehouse_id] = inbound_units.get(warehouse_id, 0) + line.outstanding
    # Units in transit from another warehouse are inbound too: not to be bought again.
    for (_product_id, warehouse_id), units in in_transit_units(product_ids=[product.pk]).items():
        inbound_units[warehouse_id] = inbound_units.get(warehouse_id, 0) + units
    rows = []
    for warehouse in warehouses:
        level = levels.get(warehouse.pk)
        on_hand = level.on_hand if level else 0
        allocated = level.allocated if level else 0
        summary = waiting.get(warehouse.pk)
        backordered = summary.units if summary else 0
        available = on_hand - allocated
        coming = inbound_units.get(warehouse.pk, 0)
        posted = warehouse.pk == adjust_warehouse_id
        bin_mine = bin_posted is not None and bin_posted[0] == warehouse.pk
        rows.append(
            {
                "warehouse": warehouse,
                "on_hand": on_hand,
                "allocated": allocated,
                "available": available,
                "inbound": coming,
                "backordered": backordered,
                "waiting_lines": summary.lines if summary else 0,
                # Backordered units no free stock, open purchase order or transfer covers.
                "shortfall": max(backordered - max(available, 0) - coming, 0),
                "values": (adjust_values or {}) if posted else {},
                "errors": (adjust_errors or {}) if posted else {},
                "bin": level.bin_location if level else "",
                "bin_value": bin_posted[1] if bin_posted and bin_mine else None,
                "bin_errors": bin_posted[2] if bin_posted and bin_mine else [],
            }
        )
    return {
        "product": product,
        "stock_rows": rows,
        "inbound": inbound,
        "waiting": waiting,
        "can_adjust": has_role(request.user, Role.WAREHOUSE),
        "adjust_notice": notice,
    }


@role_required_for("product")
@require_GET
def product(request: HttpRequest, sku: str) -> HttpResponse:
    """One product: its facts, stock per warehouse, inbound supply and its queue."""
    item = product_get(sku=sku)
    queue = product_queue(product=item)
    basis = lines_promise_basis(lines=queue)
    for line in queue:
        # What its promise rests on: "PO-…, due …, supplier usually n days late → ships by …".
        line.promise_basis = basis.get(line.pk)  # type: ignore[attr-defined]
    context = {
        **product_stock_context(request, item),
        "queue": queue,
        "queue_limit": PRODUCT_QUEUE_LIMIT,
        "today": timezone.localdate(),
    }
    context["queue_total"] = sum(summary.lines for summary in context["waiting"].values())
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "desk/product.html#product-detail" if fragment else "desk/product.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


PRODUCT_TEMPLATE = "desk/product.html"


@role_required_for("product-adjust")
@require_POST
def product_adjust(request: HttpRequest, sku: str) -> HttpResponse:
    """Correct the stock count of a product in one warehouse; units found go
    to the waiting orders at once and their customers are told.

    htmx gets the stock fragment and `stockAdjusted`, or the stock fragment
    with the message beside the field (200, nothing changed); without htmx it
    redirects to the product page with a message.
    """
    product = product_get(sku=sku)
    form = StockAdjustForm(request.POST)
    warehouses = {warehouse.pk: warehouse for warehouse in product_warehouses()}
    allocations = None
    warehouse = None
    if form.is_valid():
        warehouse = warehouses.get(form.cleaned_data["warehouse"])
        if warehouse is None:
            form.add_error(None, _("Choose a warehouse."))
        else:
            try:
                allocations = updates.stock_adjust(
                    product=product,
                    warehouse=warehouse,
                    change=form.cleaned_data["change"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as error:
                form_errors_from(form, error)
            except ConcurrencyConflict as error:
                form.add_error(None, str(error))
    if allocations is None or warehouse is None:
        errors = {
            ("form" if field == "__all__" else field): [str(m) for m in messages_]
            for field, messages_ in form.errors.items()
        }
        if not is_fragment_request(request):
            for field_messages in errors.values():
                for message in field_messages:
                    messages.error(request, message)
            return redirect("product", sku=product.sku)
        try:
            warehouse_id = int(request.POST.get("warehouse", ""))
        except ValueError:
            warehouse_id = None
        context = product_stock_context(
            request,
            product,
            adjust_warehouse_id=warehouse_id,
            adjust_values={
                "change": request.POST.get("change", ""),
                "reason": request.POST.get("reason", ""),
            },
            adjust_errors=errors,
        )
        return render(request, f"{PRODUCT_TEMPLATE}#product-stock", context)
    change = form.cleaned_data["change"]
    allocated = sum(allocation.quantity for allocation in allocations)
    notice = _("Stock of %(sku)s in %(warehouse)s changed by %(change)+d units.") % {
        "sku": product.sku,
        "warehouse": warehouse.name,
        "change": change,
    }
    if allocated:
        notice += " " + _("%(units)d units went to waiting orders; their customers are told.") % {
            "units": allocated
        }
    if not is_fragment_request(request):
        messages.success(request, notice)
        return redirect("product", sku=product.sku)
    context = product_stock_context(request, product, notice=notice)
    response = render(request, f"{PRODUCT_TEMPLATE}#product-stock", context)
    trigger_client_event(
        response,
        "stockAdjusted",
        {
            "sku": product.sku,
            "warehouse": warehouse.code,
            "change": change,
            "allocated": allocated,
        },
    )
    return response
