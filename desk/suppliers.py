"""Suppliers (`/suppliers/`, `/suppliers/<id>/`): scorecards, one supplier's
purchase orders and date moves, and the purchase terms purchasing edits."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from desk.access import may
from desk.forms.suppliers import SupplierSearchForm, SupplierTermsForm
from desk.pagination import table_paginate
from desk.roles import role_required_for
from desk.shared import form_errors_from, is_fragment_request
from desk.tables.cells import po_status_badge
from desk.tables.suppliers import ScorecardTable
from orders.selectors.suppliers import (
    BROKEN_PROMISE_DAYS,
    Scorecard,
    supplier_date_revisions,
    supplier_products_bought,
    supplier_purchase_orders,
    supplier_scorecards,
    supplier_scorecards_complete,
    supplier_terms,
)
from suppliers.models import Supplier
from suppliers.services import supplier_product_terms_set

SUPPLIERS_TEMPLATE = "desk/suppliers.html"
RECORD_COLUMNS = {"on_time", "late", "lead"}
SUPPLIER_TEMPLATE = "desk/supplier.html"


def _matching(cards: list[Scorecard], form: SupplierSearchForm) -> list[Scorecard]:
    cleaned = form.cleaned()
    text = (cleaned.get("q") or "").strip().lower()
    return [
        card
        for card in cards
        if (not text or text in card.name.lower())
        and (not cleaned.get("active") or card.supplier.active)
    ]


@role_required_for("suppliers")
@require_GET
def suppliers(request: HttpRequest) -> HttpResponse:
    """Every supplier's scorecard; an htmx request gets only the table."""
    form = SupplierSearchForm(request.GET)
    sort = request.GET.getlist("sort") or ["name"]
    # The delivery records are read for every supplier only to sort by them.
    by_record = any(key.lstrip("-") in RECORD_COLUMNS for key in sort)
    cards = _matching(supplier_scorecards(records=by_record), form)
    table = ScorecardTable(cards, order_by=sort)
    table_paginate(table, request.GET.get("page"))
    supplier_scorecards_complete([row.record for row in table.page.object_list])
    table.empty_text = format_html(
        '{} <a href="{}">{}</a>',
        _("No supplier matches."),
        reverse("suppliers"),
        _("Clear the search"),
    )
    fragment = is_fragment_request(request)
    context = {
        "form": form,
        "table": table,
        "sort": request.GET.get("sort", ""),
        "days": BROKEN_PROMISE_DAYS,
        "fragment": fragment,
    }
    template = f"{SUPPLIERS_TEMPLATE}#supplier-table" if fragment else SUPPLIERS_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _supplier_or_404(supplier_id: int) -> Supplier:
    supplier = Supplier.objects.filter(pk=supplier_id).first()
    if supplier is None:
        raise Http404(_("No supplier %(id)s.") % {"id": supplier_id})
    return supplier


def _supplier_context(
    request: HttpRequest, supplier: Supplier, *, form: SupplierTermsForm | None = None
) -> dict[str, Any]:
    (card,) = supplier_scorecards(supplier_ids=[supplier.pk])
    supplier_scorecards_complete([card])
    orders = list(supplier_purchase_orders(supplier=supplier))
    can_edit = may(request.user, "supplier-terms")
    return {
        "supplier": supplier,
        "card": card,
        "orders": [(order, po_status_badge(order)) for order in orders],
        "revisions": supplier_date_revisions(supplier=supplier),
        "terms": supplier_terms(supplier=supplier),
        "can_edit": can_edit,
        "form": form or SupplierTermsForm(),
        "skus": supplier_products_bought(supplier=supplier) if can_edit else [],
        "days": BROKEN_PROMISE_DAYS,
    }


@role_required_for("supplier")
@require_GET
def supplier(request: HttpRequest, supplier_id: int) -> HttpResponse:
    """One supplier: its scorecard, purchase terms, purchase orders and date moves."""
    found = _supplier_or_404(supplier_id)
    return render(request, SUPPLIER_TEMPLATE, _supplier_context(request, found))


@role_required_for("supplier-terms")
@require_POST
def supplier_terms_set(request: HttpRequest, supplier_id: int) -> HttpResponse:
    """Set a product's pack size, minimum order and preference for this supplier.

    htmx gets the terms card again (with the messages beside the fields when
    refused) and a `supplierTermsChanged` event; without htmx a change
    redirects back to the page.
    """
    found = _supplier_or_404(supplier_id)
    form = SupplierTermsForm(request.POST)
    if form.is_valid():
        product = form.cleaned_data["sku"]
        try:
            supplier_product_terms_set(
                supplier=found,
                product=product,
                pack_size=form.cleaned_data["pack_size"],
                minimum_order=form.cleaned_data["minimum_order"],
                preferred=form.cleaned_data["preferred"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            notice = _("%(sku)s: terms with %(supplier)s saved.") % {
                "sku": product.sku,
                "supplier": found.name,
            }
            if not is_fragment_request(request):
                messages.success(request, notice)
                return redirect(reverse("supplier", args=[found.pk]))
            context = _supplier_context(request, found)
            context["notice"] = notice
            response = render(request, f"{SUPPLIER_TEMPLATE}#supplier-terms", context)
            trigger_client_event(
                response, "supplierTermsChanged", {"sku": product.sku, "message": notice}
            )
            return response
    template = SUPPLIER_TEMPLATE
    if is_fragment_request(request):
        template += "#supplier-terms"
    return render(request, template, _supplier_context(request, found, form=form))
