"""The delays page's actions (`/delays/customers/<id>/…`): a customer's action
forms loaded on demand, and customer service's note, discount, internal note,
substitute and cancel, each answered with the updated card."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from desk.delays import (
    DELAYS_EVENT,
    DELAYS_TEMPLATE,
    DelayPosted,
    delay_cards,
    delays_common_context,
    delays_filter,
    delays_page_context,
    delays_url,
    return_query,
)
from desk.forms.delays import (
    CustomerNoteForm,
    DelayDiscountForm,
    OrderLineSubstituteForm,
    OrderNoteForm,
)
from desk.forms.orders import OrderLineCancelForm
from desk.roles import role_required_for
from desk.shared import already_submitted, form_errors_from, is_fragment_request
from notifications import updates
from notifications.selectors import compensation_policy_get, last_told_at
from orders.models import Customer, OrderLine
from orders.selectors.delays import (
    DelayedCustomer,
    delay_customer_orders,
    delay_line_get,
    delayed_customers,
)
from orders.selectors.orders import customer_get
from orders.services.notes import order_note_add


def _delay_customer_or_404(customer_id: int) -> Customer:
    try:
        return customer_get(customer_id=customer_id)
    except Customer.DoesNotExist as missing:
        raise Http404(_("No customer %(id)s.") % {"id": customer_id}) from missing


def _delay_line_or_404(customer_id: int, line_id: int) -> OrderLine:
    try:
        return delay_line_get(customer_id=customer_id, line_id=line_id)
    except OrderLine.DoesNotExist as missing:
        raise Http404(
            _("Customer %(id)s has no order line %(line)s.") % {"id": customer_id, "line": line_id}
        ) from missing


def _delay_posted(
    customer: Customer,
    name: str,
    form: Any,
    fields: tuple[str, ...],
    line_id: int | None = None,
) -> DelayPosted:
    """A refused form's messages by field ("form" for the rest) and the values typed."""
    errors: dict[str, list[str]] = {}
    for field_name, messages_ in form.errors.items():
        key = field_name if field_name in fields else "form"
        errors.setdefault(key, []).extend(str(message) for message in messages_)
    values = {field_name: str(form.data.get(field_name, ""))[:5000] for field_name in fields}
    return DelayPosted(
        customer_id=customer.pk, form=name, line_id=line_id, errors=errors, values=values
    )


def _delay_answer(
    request: HttpRequest,
    customer: Customer,
    *,
    query: QueryDict,
    notice: str = "",
    notice_level: str = "success",
    posted: DelayPosted | None = None,
    event: dict[str, Any] | None = None,
) -> HttpResponse:
    """The answer of every delays action.

    htmx: the customer's card again (with the messages beside the fields, or
    the notice) and, for a change, the `delaysChanged` event. Without htmx: a
    change redirects back to the page it came from (post/redirect/get); a
    refused form shows the customer's card on the page with its messages.
    """
    if not is_fragment_request(request):
        if posted is None:
            (messages.success if notice_level == "success" else messages.info)(request, notice)
            return redirect(delays_url(query, customer.pk))
        context = delays_page_context(request, query, posted=posted, only_customer=customer)
        request.nav_path = reverse("delays")  # type: ignore[attr-defined]
        return render(request, DELAYS_TEMPLATE, context)
    context = delays_common_context(request, query)
    delayed, _has_next = delayed_customers(
        filters=delays_filter(query),
        customer_ids=[customer.pk],
        with_alternatives=True,
        last_told=last_told_at(),
    )
    if not delayed:
        delayed = [DelayedCustomer(customer=customer, lines=[], days_late=0, times_slipped=0)]
    context["card"] = delay_cards(
        request,
        delayed,
        posted=posted,
        notice=notice,
        notice_level=notice_level,
        notice_customer_id=customer.pk,
        forms_for=customer.pk,
    )[0]
    response = render(request, f"{DELAYS_TEMPLATE}#delay-card", context)
    if event is not None:
        trigger_client_event(
            response, DELAYS_EVENT, {"customer": customer.pk, "message": notice, **event}
        )
    return response


@role_required_for("delay-customer-actions")
@require_GET
def delay_customer_actions(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One customer's card with its action forms (fresh one-time tokens, each
    substitute's free stock and price): htmx swaps it for the light card of
    the list; without htmx, the delays page with only this customer."""
    customer = _delay_customer_or_404(customer_id)
    query = return_query(request.GET.get("return_query"))
    if not is_fragment_request(request):
        context = delays_page_context(request, query, only_customer=customer)
        request.nav_path = reverse("delays")  # type: ignore[attr-defined]
        response = render(request, DELAYS_TEMPLATE, context)
    else:
        response = _delay_answer(request, customer, query=query)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required_for("delay-customer-note")
@require_POST
def delay_customer_note(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Email a personal note to a delayed customer about one of their orders."""
    customer = _delay_customer_or_404(customer_id)
    query = return_query(request.POST.get("return_query"))
    waiting = {o.number: o for o in delay_customer_orders(customer=customer)}
    form = CustomerNoteForm(request.POST, orders=waiting)
    if form.is_valid():
        try:
            updates.customer_note_send(
                order=form.cleaned_data["order"],
                note=form.cleaned_data["note"],
                subject=form.cleaned_data["subject"],
                token=form.cleaned_data["token"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            if already_submitted(error):
                return _delay_answer(
                    request, customer, query=query, notice=str(error.message), notice_level="info"
                )
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            order = form.cleaned_data["order"]
            notice = _("Your note to %(name)s about %(number)s is in the outbox.") % {
                "name": customer.name,
                "number": order.number,
            }
            return _delay_answer(
                request,
                customer,
                query=query,
                notice=notice,
                event={"action": "personal_note", "order": order.number},
            )
    posted = _delay_posted(customer, "note", form, ("order", "subject", "note"))
    return _delay_answer(request, customer, query=query, posted=posted)


@role_required_for("delay-discount")
@require_POST
def delay_discount(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Issue a discount code for a delayed order and email it to the customer."""
    customer = _delay_customer_or_404(customer_id)
    query = return_query(request.POST.get("return_query"))
    waiting = {o.number: o for o in delay_customer_orders(customer=customer)}
    low, high = updates.discount_percent_bounds(compensation_policy_get())
    form = DelayDiscountForm(request.POST, orders=waiting, low=low, high=high)
    if form.is_valid():
        try:
            code, notification = updates.order_discount_issue(
                order=form.cleaned_data["order"],
                percent=form.cleaned_data["percent"],
                note=form.cleaned_data["note"],
                token=form.cleaned_data["token"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            if already_submitted(error):
                return _delay_answer(
                    request, customer, query=query, notice=str(error.message), notice_level="info"
                )
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            figures = {
                "code": code.code,
                "percent": f"{code.percent.normalize():f}",
                "name": customer.name,
                "number": code.order.number if code.order else "",
            }
            if notification is not None:
                notice = (
                    _(
                        "Discount code %(code)s (%(percent)s%%) for %(number)s is on its way to "
                        "%(name)s by email."
                    )
                    % figures
                )
            else:
                notice = (
                    _(
                        "Discount code %(code)s (%(percent)s%%) issued for %(number)s. %(name)s "
                        "opted out of update emails: tell them the code yourself."
                    )
                    % figures
                )
            return _delay_answer(
                request,
                customer,
                query=query,
                notice=notice,
                event={"action": "discount", "order": figures["number"], "code": code.code},
            )
    posted = _delay_posted(customer, "discount", form, ("order", "percent", "note"))
    return _delay_answer(request, customer, query=query, posted=posted)


@role_required_for("delay-order-note")
@require_POST
def delay_order_note(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Add an internal note to one of the customer's orders (never emailed)."""
    customer = _delay_customer_or_404(customer_id)
    query = return_query(request.POST.get("return_query"))
    waiting = {o.number: o for o in delay_customer_orders(customer=customer)}
    form = OrderNoteForm(request.POST, orders=waiting)
    if form.is_valid():
        try:
            note = order_note_add(
                order=form.cleaned_data["order"],
                body=form.cleaned_data["body"],
                token=form.cleaned_data["token"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            if already_submitted(error):
                return _delay_answer(
                    request, customer, query=query, notice=str(error.message), notice_level="info"
                )
            form_errors_from(form, error)
        else:
            notice = _("Internal note added to %(number)s. The customer does not see it.") % {
                "number": note.order.number
            }
            return _delay_answer(
                request,
                customer,
                query=query,
                notice=notice,
                event={"action": "internal_note", "order": note.order.number},
            )
    posted = _delay_posted(customer, "internal", form, ("order", "body"))
    return _delay_answer(request, customer, query=query, posted=posted)


@role_required_for("delay-line-substitute")
@require_POST
def delay_line_substitute(request: HttpRequest, customer_id: int, line_id: int) -> HttpResponse:
    """Swap a delayed line's backordered remainder to an alternative product;
    the customer is told by email."""
    customer = _delay_customer_or_404(customer_id)
    line = _delay_line_or_404(customer_id, line_id)
    query = return_query(request.POST.get("return_query"))
    alternatives = vars(line.product)["active_alternatives"]
    form = OrderLineSubstituteForm(request.POST, alternatives=alternatives)
    if form.is_valid():
        try:
            substitution, _email = updates.order_line_substitute(
                line=line,
                product=form.cleaned_data["product"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            new_line = substitution.line
            figures = {
                "units": new_line.ordered,
                "old": line.product.sku,
                "new": new_line.product.sku,
                "number": line.order.number,
                "allocated": new_line.allocated,
                "waiting": new_line.backordered,
            }
            notice = (
                _(
                    "%(number)s: %(units)d × %(old)s replaced with %(new)s "
                    "(%(allocated)d allocated now, %(waiting)d waiting)."
                )
                % figures
            )
            # A swap changes the order: its email goes out even to an opted-out customer.
            notice += " " + _("The customer is told by email.")
            return _delay_answer(
                request,
                customer,
                query=query,
                notice=notice,
                event={"action": "substitute", "order": line.order.number, "line": new_line.pk},
            )
    posted = _delay_posted(customer, "substitute", form, ("product",), line_id=line.pk)
    return _delay_answer(request, customer, query=query, posted=posted)


@role_required_for("delay-line-cancel")
@require_POST
def delay_line_cancel(request: HttpRequest, customer_id: int, line_id: int) -> HttpResponse:
    """Cancel a delayed line's backordered remainder; the customer is told."""
    customer = _delay_customer_or_404(customer_id)
    line = _delay_line_or_404(customer_id, line_id)
    query = return_query(request.POST.get("return_query"))
    form = OrderLineCancelForm(request.POST)
    if form.is_valid():
        try:
            cancellation = updates.order_line_cancel(
                line=line, reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as error:
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            notice = _(
                "%(number)s: cancelled %(units)d × %(sku)s; refund due %(refund)s. "
                "The customer is told by email."
            ) % {
                "number": line.order.number,
                "units": cancellation.quantity,
                "sku": line.product.sku,
                "refund": cancellation.refund_due,
            }
            return _delay_answer(
                request,
                customer,
                query=query,
                notice=notice,
                event={"action": "cancel", "order": line.order.number, "line": line.pk},
            )
    posted = _delay_posted(customer, "cancel", form, ("reason",), line_id=line.pk)
    return _delay_answer(request, customer, query=query, posted=posted)
