"""An order's delivery (`/orders/<number>/delivery/`): the shipping address and
carrier the storefront sent, corrected by staff."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.db import ConcurrencyConflict
from desk.forms.delivery import OrderDeliveryForm
from desk.orders import order_or_404
from desk.roles import role_required_for
from desk.shared import form_errors_from
from orders.services.shipping import order_delivery_set


@role_required_for("order-delivery")
@require_http_methods(["GET", "HEAD", "POST"])
def order_delivery(request: HttpRequest, number: str) -> HttpResponse:
    """GET: the address and carrier form. POST: save them and go back to the
    order (post/redirect/get), or the form again with its messages."""
    order = order_or_404(number)
    if request.method == "POST":
        form = OrderDeliveryForm(request.POST)
        if form.is_valid():
            try:
                order_delivery_set(
                    order=order,
                    shipping_address=form.cleaned_data["shipping_address"],
                    carrier=form.cleaned_data["carrier"],
                    by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as error:
                form_errors_from(form, error)
            except ConcurrencyConflict as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    _("Delivery of %(number)s saved.") % {"number": order.number},
                )
                return redirect("order", number=order.number)
        status = 200
    else:
        form = OrderDeliveryForm(
            initial={"shipping_address": order.shipping_address, "carrier": order.carrier}
        )
        status = 200
    return render(
        request, "desk/order_delivery.html", {"order": order, "form": form}, status=status
    )
