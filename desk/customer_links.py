"""Customer links (`/c/<token>/`): no login, the signed link is the credential.

GET shows what the link will do and asks to confirm (mail scanners open links;
they must not cancel anything); POST carries it out, once.

A staff member signed in is never the customer: whatever link reached them (a
forwarded email, an old copy of a message), the page tells them so, shows no
button, and a POST is refused (403) — an agent acts from the order page, where
the change is recorded as theirs."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from notifications import updates
from orders.links import CustomerLink, LinkError, customer_link_read
from orders.models import CustomerChoice, SalesOrder


def _staff_notice() -> str:
    return _(
        "You are signed in as staff: this link is the customer's; ask them to use it, "
        "or act from the order page."
    )


@require_http_methods(["GET", "POST"])
def customer_link(request: HttpRequest, token: str) -> HttpResponse:
    """What the link will do, then (POST) done; in the customer's language
    once the link names their order (staff see it in their own)."""
    as_staff = request.user.is_authenticated
    try:
        link = customer_link_read(token)
        order = SalesOrder.objects.select_related("customer").get(pk=link.order_id)
    except (LinkError, SalesOrder.DoesNotExist) as error:
        message = str(error) if isinstance(error, LinkError) else _("We could not find this order.")
        context: dict[str, Any] = {"error": message}
        if as_staff:
            context["staff_notice"] = _staff_notice()
        status = 403 if as_staff and request.method == "POST" else 400
        return render(request, "customer/link.html", context, status=status)
    if as_staff:
        context = {"order": order, "staff_notice": _staff_notice()}
        status = 403 if request.method == "POST" else 200
        return render(request, "customer/link.html", context, status=status)
    # The customer reads the page in the language of their emails, whatever
    # the browser they opened the link in asks for.
    with translation.override(order.customer.language or None):
        request.LANGUAGE_CODE = translation.get_language()
        response = _customer_page(request, link, order)
        response.headers["Content-Language"] = request.LANGUAGE_CODE
    return response


def _customer_page(request: HttpRequest, link: CustomerLink, order: SalesOrder) -> HttpResponse:
    if CustomerChoice.objects.filter(link_id=link.link_id).exists():
        return render(
            request,
            "customer/link.html",
            {"error": _("This link has already been used."), "order": order},
            status=400,
        )
    waiting = [line for line in order.lines.select_related("product") if line.backordered]
    context = {"order": order, "action": link.action, "waiting": waiting}
    if request.method == "GET":
        return render(request, "customer/link.html", context)
    try:
        result = updates.order_customer_choose(link=link)
    except LinkError as error:
        return render(
            request,
            "customer/link.html",
            {**context, "error": str(error)},
            status=400,
        )
    return render(request, "customer/link.html", {**context, "done": True, "result": result})
