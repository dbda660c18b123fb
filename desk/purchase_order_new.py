"""A new purchase order (`/purchase-orders/new/`): supplier, warehouse, expected
date and lines by SKU, as a draft or confirmed at once."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from config.db import ConcurrencyConflict
from desk.forms.purchasing import PURCHASE_ORDER_MAX_ROWS, PurchaseOrderCreateForm
from desk.roles import role_required_for
from desk.shared import already_submitted, client_redirect, is_fragment_request
from desk.shipping import form_errors_from
from notifications import updates
from suppliers.models import (
    PurchaseOrder,
    PurchaseOrderStatus,
)

PO_NEW_TEMPLATE = "desk/purchase_order_new.html"


PO_NEW_MORE_ROWS = 5


def _purchase_order_new_form(request: HttpRequest, form: PurchaseOrderCreateForm) -> HttpResponse:
    """The form, with each message beside its field; nothing was created."""
    template = PO_NEW_TEMPLATE
    if is_fragment_request(request):
        template += "#po-new-form"
    context = {
        "form": form,
        "max_rows": PURCHASE_ORDER_MAX_ROWS,
        "shop_currency": settings.SHOP_CURRENCY,
    }
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _purchase_order_created_notice(order: PurchaseOrder, changes: list[Any]) -> str:
    ordered = list(order.lines.values_list("ordered", flat=True))
    figures = {
        "number": order.number,
        "supplier": order.supplier.name,
        "lines": ngettext("%(count)d line", "%(count)d lines", len(ordered))
        % {"count": len(ordered)},
        "units": sum(ordered),
        "date": date_format(order.expected_date, "SHORT_DATE_FORMAT"),
    }
    if order.status == PurchaseOrderStatus.DRAFT:
        return (
            _(
                "%(number)s is saved as a draft for %(supplier)s: %(lines)s, %(units)d units, "
                "expected %(date)s. It is not sent to the supplier and changes no customer's "
                "date until it is confirmed."
            )
            % figures
        )
    notice = (
        _("%(number)s is ordered from %(supplier)s: %(lines)s, %(units)d units, expected %(date)s.")
        % figures
    )
    moved = len({change.line_id for change in changes})
    if moved:
        notice += " " + ngettext(
            "%(count)d waiting order line now has a new promised date from it.",
            "%(count)d waiting order lines now have a new promised date from it.",
            moved,
        ) % {"count": moved}
    return notice


@role_required_for("purchase-order-new")
@require_http_methods(["GET", "POST"])
def purchase_order_new(request: HttpRequest) -> HttpResponse:
    """Create a purchase order: a draft, or confirmed at once (then the waiting
    lines it covers are promised from it and their customers told).

    A refused form answers 200 with the messages beside the fields (htmx: the
    form alone); a created one redirects to its page (htmx: HX-Redirect).
    The form's one-time token makes a second submit create nothing.
    """
    if request.method == "GET":
        return _purchase_order_new_form(
            request, PurchaseOrderCreateForm(initial={"token": uuid.uuid4().hex})
        )
    if "add_rows" in request.POST:
        # "More rows": the same form again, as typed, with five empty rows more.
        rows = PurchaseOrderCreateForm.rows_posted(request.POST) + PO_NEW_MORE_ROWS
        return _purchase_order_new_form(
            request, PurchaseOrderCreateForm(initial=request.POST.dict(), rows=rows)
        )
    form = PurchaseOrderCreateForm(request.POST)
    if form.is_valid():
        try:
            order, changes = updates.purchase_order_create(
                supplier=form.cleaned_data["supplier"],
                warehouse=form.cleaned_data["warehouse"],
                lines=form.cleaned_data["lines"],
                expected_date=form.cleaned_data["expected_date"],
                notes=form.cleaned_data["notes"],
                confirm=form.cleaned_data["confirm"],
                token=form.cleaned_data["token"],
                by=request.user,
            )
        except ValidationError as error:
            if already_submitted(error):
                messages.info(request, error.message)
                return client_redirect(request, reverse("purchase-orders"))
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _purchase_order_created_notice(order, changes))
            return client_redirect(request, reverse("purchase-order", args=[order.number]))
    return _purchase_order_new_form(request, form)
