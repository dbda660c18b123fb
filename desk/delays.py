"""Delays (`/delays/`): customers whose promise slipped or passed, worst first,
with what each was told; customer service's note, discount, internal note,
substitute and cancel, each answered with the updated card."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from config.roles import Role, has_role
from desk.filters import DelaysFilter
from desk.forms.delays import (
    CustomerNoteForm,
    DelayDiscountForm,
    OrderLineSubstituteForm,
    OrderNoteForm,
)
from desk.forms.orders import OrderLineCancelForm
from desk.pagination import MAX_PAGE, page_number
from desk.roles import role_required_for
from desk.shared import already_submitted, is_fragment_request
from desk.shipping import form_errors_from
from desk.tables.cells import status_badge, tier_badge
from notifications import updates
from notifications.selectors import (
    compensation_policy_get,
    customers_with_discount_codes,
    discount_codes_for_customers,
    notifications_for_customers,
    told_since,
)
from orders.models import Customer, OrderLine, Tier
from orders.selectors.delays import (
    DELAYS_PAGE_SIZE,
    DelayedCustomer,
    delay_customer_orders,
    delay_line_get,
    delayed_customers,
    last_slips,
)
from orders.selectors.orders import customer_get, order_notes_for_orders
from orders.services.notes import order_note_add

DELAYS_TEMPLATE = "desk/delays.html"


DELAYS_EVENT = "delaysChanged"


RETURN_QUERY_MAX_LENGTH = 2000


DELAY_CARD_FORMS = ("note", "discount", "internal")


@dataclass
class DelayPosted:
    """A delays form that was refused: shown again with its messages beside the fields."""

    customer_id: int
    form: str  # note, discount, internal, substitute, cancel
    line_id: int | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def _delays_filter(data: QueryDict) -> DelaysFilter:
    return DelaysFilter(data, discounted_customers=customers_with_discount_codes())


def _return_query(raw: str | None) -> QueryDict:
    """The query string (filters, page) of the delays page a form was posted
    from; only ever used to rebuild the page's own URL."""
    return QueryDict((raw or "")[:RETURN_QUERY_MAX_LENGTH])


def _delays_url(query: QueryDict, customer_id: int | None = None) -> str:
    encoded = query.urlencode()
    url = reverse("delays") + (f"?{encoded}" if encoded else "")
    return url + (f"#delay-customer-{customer_id}" if customer_id is not None else "")


def _page_number(raw: str | None) -> int:
    # The delays selector pages its grouped rows itself; past the end the page
    # says so and links back to the first page.
    return min(page_number(raw), MAX_PAGE)


def _delay_cards(
    request: HttpRequest,
    delayed: list[DelayedCustomer],
    *,
    posted: DelayPosted | None = None,
    notice: str = "",
    notice_level: str = "success",
    notice_customer_id: int | None = None,
) -> list[dict[str, Any]]:
    """One card per delayed customer: their lines, what they were told, their
    discount codes and internal notes, and fresh one-time tokens for the forms
    (four queries for the whole page)."""
    ids = [entry.customer.pk for entry in delayed]
    told = notifications_for_customers(customer_ids=ids)
    slipped = last_slips(line_ids=[line.pk for entry in delayed for line in entry.lines])
    codes = discount_codes_for_customers(customer_ids=ids)
    notes = order_notes_for_orders(
        order_ids={order_id for entry in delayed for order_id in entry.order_ids}
    )
    cards = []
    for entry in delayed:
        customer = entry.customer
        mine = posted if posted is not None and posted.customer_id == customer.pk else None
        forms_state = {
            name: {
                "token": uuid.uuid4().hex,
                "open": mine is not None and mine.form == name,
                "errors": mine.errors if mine is not None and mine.form == name else {},
                "values": mine.values if mine is not None and mine.form == name else {},
            }
            for name in DELAY_CARD_FORMS
        }
        line_ids = {line.pk for line in entry.lines}
        rows = [
            {
                "line": line,
                "form": mine.form if mine is not None and mine.line_id == line.pk else "",
                "errors": mine.errors if mine is not None and mine.line_id == line.pk else {},
                "values": mine.values if mine is not None and mine.line_id == line.pk else {},
            }
            for line in entry.lines
        ]
        # A line form refused for a line that is no longer delayed (done
        # already, a second submit): its message goes at the top of the card.
        orphan_errors = (
            [message for messages_ in mine.errors.values() for message in messages_]
            if mine is not None and mine.line_id is not None and mine.line_id not in line_ids
            else []
        )
        sent = told.get(customer.pk, [])
        card_notes = sorted(
            (note for order_id in entry.order_ids for note in notes.get(order_id, [])),
            key=lambda note: (note.created_at, note.pk),
            reverse=True,
        )
        cards.append(
            {
                "customer": customer,
                "delayed": entry,
                # Standard is most customers: only VIP and preferred are worth a badge.
                "tier_badge": tier_badge(customer.tier) if customer.tier != Tier.STANDARD else "",
                "rows": rows,
                "orders": list({line.order_id: line.order for line in entry.lines}.values()),
                "messages": [(notification, status_badge(notification)) for notification in sent],
                "messages_total": vars(sent[0])["customer_total"] if sent else 0,
                "codes": [
                    (code, f"{code.percent.normalize():f}") for code in codes.get(customer.pk, [])
                ],
                "notes": card_notes,
                "forms": forms_state,
                "orphan_errors": orphan_errors,
                "notice": notice if notice_customer_id == customer.pk else "",
                "notice_level": notice_level,
                "contact": _personal_contact(entry, sent, slipped.get(customer.pk)),
            }
        )
    # Those no email has reached since their date moved come first on the page.
    return sorted(cards, key=lambda card: not card["contact"])


def _personal_contact(entry: DelayedCustomer, sent: list[Any], last_slip: Any) -> str:
    """Why customer service should call or write to this customer in person
    ("" when an email has told them since their date last moved or passed)."""
    if entry.customer.email_opt_out:
        return _("Opted out of update emails: call or write to them in person.")
    today = timezone.localdate()
    passed = [d for line in entry.lines if (d := line.promised_date) is not None and d < today]
    since = last_slip
    if passed:
        day_after = max(passed) + dt.timedelta(days=1)
        passed_at = timezone.make_aware(dt.datetime.combine(day_after, dt.time()))
        since = max(since, passed_at) if since else passed_at
    if told_since(messages=sent, since=since):
        return ""
    return _("No email since %(date)s, when their date moved or passed: call or write.") % {
        "date": date_format(timezone.localtime(since), "SHORT_DATE_FORMAT")
    }


def _delays_common_context(request: HttpRequest, query: QueryDict) -> dict[str, Any]:
    can_act = has_role(request.user, Role.CUSTOMER_SERVICE)
    context: dict[str, Any] = {"can_act": can_act, "return_query": query.urlencode()}
    if can_act:
        policy = compensation_policy_get()
        low, high = updates.discount_percent_bounds(policy)
        # As a person writes them (10, 7.5), for the number input and its help.
        context.update(
            percent_default=f"{policy.discount_percent.normalize():f}",
            percent_low=f"{low.normalize():f}",
            percent_high=f"{high.normalize():f}",
        )
    return context


def _delays_page_context(
    request: HttpRequest,
    query: QueryDict,
    *,
    posted: DelayPosted | None = None,
    only_customer: Customer | None = None,
) -> dict[str, Any]:
    """The delays page (or, after a refused form without htmx, the one
    customer's card): a fixed number of queries whatever the page size."""
    filters = _delays_filter(query)
    page = _page_number(query.get("page"))
    context = _delays_common_context(request, query)
    delayed, has_next = delayed_customers(
        filters=filters,
        page=1 if only_customer is not None else page,
        customer_ids=[only_customer.pk] if only_customer is not None else None,
        with_alternatives=context["can_act"],
    )
    if only_customer is not None and not delayed:
        delayed = [DelayedCustomer(customer=only_customer, lines=[], days_late=0, times_slipped=0)]
    pager_query = query.copy()
    pager_query.pop("page", None)

    def page_url(number: int) -> str:
        pager_query["page"] = str(number)
        return f"?{pager_query.urlencode()}"

    first = (page - 1) * DELAYS_PAGE_SIZE + 1
    context.update(
        filters=filters,
        cards=_delay_cards(request, delayed, posted=posted),
        only_customer=only_customer,
        page=page,
        first_shown=first,
        last_shown=first + len(delayed) - 1,
        next_url=page_url(page + 1) if has_next and only_customer is None else "",
        previous_url=page_url(page - 1) if page > 1 and only_customer is None else "",
        first_page_url=page_url(1),
    )
    return context


@role_required_for("delays")
@require_GET
def delays(request: HttpRequest) -> HttpResponse:
    """Customers whose promise slipped or passed, worst first, with what each
    has been told; htmx gets only the list (filters, pages)."""
    context = _delays_page_context(request, request.GET)
    fragment = is_fragment_request(request)
    context["fragment"] = fragment
    template = f"{DELAYS_TEMPLATE}#delays-list" if fragment else DELAYS_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


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
            return redirect(_delays_url(query, customer.pk))
        context = _delays_page_context(request, query, posted=posted, only_customer=customer)
        request.nav_path = reverse("delays")  # type: ignore[attr-defined]
        return render(request, DELAYS_TEMPLATE, context)
    context = _delays_common_context(request, query)
    delayed, _has_next = delayed_customers(
        filters=_delays_filter(query), customer_ids=[customer.pk], with_alternatives=True
    )
    if not delayed:
        delayed = [DelayedCustomer(customer=customer, lines=[], days_late=0, times_slipped=0)]
    context["card"] = _delay_cards(
        request,
        delayed,
        posted=posted,
        notice=notice,
        notice_level=notice_level,
        notice_customer_id=customer.pk,
    )[0]
    response = render(request, f"{DELAYS_TEMPLATE}#delay-card", context)
    if event is not None:
        trigger_client_event(
            response, DELAYS_EVENT, {"customer": customer.pk, "message": notice, **event}
        )
    return response


@role_required_for("delay-customer-note")
@require_POST
def delay_customer_note(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Email a personal note to a delayed customer about one of their orders."""
    customer = _delay_customer_or_404(customer_id)
    query = _return_query(request.POST.get("return_query"))
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
    query = _return_query(request.POST.get("return_query"))
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
    query = _return_query(request.POST.get("return_query"))
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
    query = _return_query(request.POST.get("return_query"))
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
    query = _return_query(request.POST.get("return_query"))
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
