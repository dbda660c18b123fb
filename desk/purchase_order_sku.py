"""The new purchase order form's SKU lookup (`/purchase-orders/new/sku/`): as a
SKU is typed, its product, stock and shortfall at the chosen warehouse, an
empty quantity filled with the shortfall's suggestion and an empty unit cost
with the supplier's price (htmx)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from desk.roles import role_required_for
from inventory.limits import SKU_MAX_LENGTH
from inventory.models import Product, Warehouse
from orders.selectors.shortfall import BUFFER_PERCENT, queue_figures, suggested_quantity
from suppliers.models import Supplier, SupplierProduct

ROWS = 100


def _row_and_sku(request: HttpRequest) -> tuple[int | None, str, str]:
    """The row whose SKU was typed, the SKU and the quantity typed beside it."""
    for name in request.GET:
        value = request.GET.get(name, "")
        row = name.removeprefix("sku_")
        if name.startswith("sku_") and row.isascii() and row.isdigit() and int(row) < ROWS:
            quantity = request.GET.get(f"quantity_{row}", "")
            return int(row), value.replace("\x00", "").strip()[:SKU_MAX_LENGTH], quantity.strip()
    return None, "", ""


def _pk(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


@role_required_for("purchase-order-sku")
@require_GET
def purchase_order_sku(request: HttpRequest) -> HttpResponse:
    """The hint under a row's SKU; with the warehouse chosen, the shortfall
    there and (when the quantity is still empty) the suggested units."""
    row, sku, quantity = _row_and_sku(request)
    context: dict[str, Any] = {"row": row, "sku": sku}
    product = Product.objects.filter(sku__iexact=sku).first() if sku else None
    context["product"] = product
    warehouse_id = _pk(request.GET.get("warehouse", ""))
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first() if warehouse_id else None
    if product is not None and row is not None:
        waiting, available, inbound = queue_figures({product.pk})
        context["warehouse"] = warehouse
        context["on_hand_free"] = sum(units for (_p, _w), units in available.items())
        context["waiting"] = sum(waiting.values())
        if warehouse is not None:
            key = (product.pk, warehouse.pk)
            short = max(waiting.get(key, 0) - available.get(key, 0) - inbound.get(key, 0), 0)
            supplier_id = _pk(request.GET.get("supplier", ""))
            terms = (
                SupplierProduct.objects.filter(supplier_id=supplier_id, product=product).first()
                if supplier_id and Supplier.objects.filter(pk=supplier_id).exists()
                else None
            )
            context["short"] = short
            context["suggested"] = suggested_quantity(
                shortfall=short,
                buffer_percent=BUFFER_PERCENT,
                pack_size=terms.pack_size if terms else 1,
                minimum_order=terms.minimum_order if terms else 1,
            )
            context["fill_quantity"] = not quantity and context["suggested"] > 0
            cost = request.GET.get(f"cost_{row}", "").strip()
            if not cost and terms is not None and terms.unit_cost is not None:
                context["fill_cost"] = f"{terms.unit_cost:f}"
    return render(request, "desk/purchase_order_new.html#po-new-sku-hint", context)
