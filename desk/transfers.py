"""Transfers between warehouses (`/transfers/`): warehouse ships free units of a
product to another warehouse and receives them there; everyone else reads.

The form is prefilled from the query string (`?sku=…&from=…&to=…&quantity=…`),
which is how the shortfall worklist's "transfer instead" suggestion links here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from config.db import ConcurrencyConflict
from desk.access import may
from desk.forms.transfers import TransferForm
from desk.roles import role_required_for
from desk.shared import already_submitted, client_redirect, form_errors_from, is_fragment_request
from inventory.models import Product, Warehouse
from notifications import updates
from orders.selectors.transfers import TRANSFERS_LIMIT, transfers_page

TEMPLATE = "desk/transfers.html"


def _page(request: HttpRequest, form: TransferForm, *, status: int = 200) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "transfers": transfers_page(),
        "limit": TRANSFERS_LIMIT,
        "may_ship": may(request.user, "transfers", "POST"),
        "may_receive": may(request.user, "transfer-receive", "POST"),
    }
    template = f"{TEMPLATE}#transfer-form" if is_fragment_request(request) else TEMPLATE
    return render(request, template, context, status=status)


@role_required_for("transfers")
@require_http_methods(["GET", "HEAD", "POST"])
def transfers(request: HttpRequest) -> HttpResponse:
    """GET: the new transfer form and the transfers in transit. POST: ship a
    transfer; refused input comes back beside its field, nothing changed."""
    warehouses = list(Warehouse.objects.order_by("code"))
    if request.method != "POST":
        initial = {
            "token": uuid.uuid4().hex,
            "sku": request.GET.get("sku", "")[:64],
            "from_warehouse": request.GET.get("from", "")[:16],
            "to_warehouse": request.GET.get("to", "")[:16],
            "quantity": request.GET.get("quantity", "")[:8],
        }
        return _page(request, TransferForm(initial=initial, warehouses=warehouses))
    form = TransferForm(request.POST, warehouses=warehouses)
    if form.is_valid():
        sku = form.cleaned_data["sku"].strip()
        product = Product.objects.filter(sku=sku).first()
        try:
            if product is None:
                raise ValidationError({"sku": _("No product has the SKU %(sku)s.") % {"sku": sku}})
            shipped = updates.transfer_ship(
                token=form.cleaned_data["token"],
                product=product,
                from_warehouse=form.cleaned_data["from_warehouse"],
                to_warehouse=form.cleaned_data["to_warehouse"],
                quantity=form.cleaned_data["quantity"],
                by=request.user,
            )
        except ValidationError as error:
            if already_submitted(error):
                messages.info(request, _("That transfer was already shipped."))
                return client_redirect(request, reverse("transfers"))
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            transfer = shipped.transfer
            notice = _(
                "Transfer %(number)s shipped: %(units)d × %(sku)s from %(source)s to "
                "%(destination)s, expected %(date)s."
            ) % {
                "number": transfer.number,
                "units": transfer.quantity,
                "sku": product.sku,
                "source": transfer.from_warehouse.code,
                "destination": transfer.to_warehouse.code,
                "date": transfer.expected_date.isoformat(),
            }
            moved = len({change.line_id for change in shipped.changes})
            if moved:
                notice += " " + ngettext(
                    "%(count)d waiting line has a new promised date.",
                    "%(count)d waiting lines have a new promised date.",
                    moved,
                ) % {"count": moved}
            messages.success(request, notice)
            return client_redirect(request, reverse("transfers"))
    return _page(request, form, status=200)


@role_required_for("transfer-receive")
@require_POST
def transfer_receive(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """Receive a transfer at its destination: the units go to the waiting
    orders there in queue order, and customers whose lines are ready are told."""
    try:
        received = updates.transfer_receive(transfer_id=transfer_id, by=request.user)
    except (ValidationError, ConcurrencyConflict) as error:
        for message in getattr(error, "messages", [str(error)]):
            messages.error(request, message)
        return client_redirect(request, reverse("transfers"))
    allocated = sum(allocation.quantity for allocation in received.allocations)
    notice = _(
        "Transfer %(number)s received: %(allocated)d units went to waiting orders, "
        "%(left)d left in stock."
    ) % {
        "number": received.transfer.number,
        "allocated": allocated,
        "left": received.left_in_stock,
    }
    if received.ready_orders:
        notice += " " + _("Ready to ship now: %(orders)s.") % {
            "orders": ", ".join(received.ready_orders)
        }
    messages.success(request, notice)
    return client_redirect(request, reverse("transfers"))
