"""A product's bin location in one warehouse (`/products/<sku>/bin/`), set from the product page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from config.db import ConcurrencyConflict
from desk.products import PRODUCT_TEMPLATE, product_stock_context
from desk.roles import role_required_for
from desk.shared import is_fragment_request, validation_messages
from inventory.bins import stock_bin_set
from orders.selectors.products import product_get, product_warehouses


@role_required_for("product-bin")
@require_POST
def product_bin(request: HttpRequest, sku: str) -> HttpResponse:
    """Set or clear the bin of a product in a warehouse. htmx gets the stock
    fragment (with the message beside the field when refused, 200, nothing
    changed) and `binChanged`; without htmx, a redirect with a message."""
    product = product_get(sku=sku)
    warehouses = {warehouse.pk: warehouse for warehouse in product_warehouses()}
    raw_warehouse = request.POST.get("warehouse", "")
    value = request.POST.get("bin_location", "")[:200]
    warehouse = warehouses.get(int(raw_warehouse)) if raw_warehouse.isdigit() else None
    errors: list[str] = []
    level = None
    if warehouse is None:
        errors = [_("Choose a warehouse.")]
    else:
        try:
            level = stock_bin_set(product=product, warehouse=warehouse, bin_location=value)
        except ValidationError as error:
            errors = validation_messages(error)
        except ConcurrencyConflict as error:
            errors = [str(error)]
    if level is None or warehouse is None:
        if not is_fragment_request(request):
            for message in errors:
                messages.error(request, message)
            return redirect("product", sku=product.sku)
        context = product_stock_context(
            request,
            product,
            bin_posted=(warehouse.pk if warehouse else 0, value, errors),
        )
        return render(request, f"{PRODUCT_TEMPLATE}#product-stock", context)
    if level.bin_location:
        notice = _("%(sku)s in %(warehouse)s is in bin %(bin)s.") % {
            "sku": product.sku,
            "warehouse": warehouse.name,
            "bin": level.bin_location,
        }
    else:
        notice = _("%(sku)s in %(warehouse)s has no bin now.") % {
            "sku": product.sku,
            "warehouse": warehouse.name,
        }
    if not is_fragment_request(request):
        messages.success(request, notice)
        return redirect("product", sku=product.sku)
    response = render(
        request,
        f"{PRODUCT_TEMPLATE}#product-stock",
        product_stock_context(request, product, notice=notice),
    )
    trigger_client_event(
        response,
        "binChanged",
        {"sku": product.sku, "warehouse": warehouse.code, "bin": level.bin_location},
    )
    return response
