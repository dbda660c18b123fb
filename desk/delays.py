"""Delays (`/delays/`): customers whose promise slipped or passed, those
nobody told first, then the worst, with what each was told. The cards come
without their action forms: customer service loads one customer's forms on
demand (`delays_actions`), which keeps a page of 15 customers light."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.roles import Role, has_role
from desk.filters import DelaysFilter
from desk.pagination import MAX_PAGE, page_number
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.tables.cells import status_badge, tier_badge
from notifications import updates
from notifications.selectors import (
    compensation_policy_get,
    customers_with_discount_codes,
    discount_codes_for_customers,
    last_told_at,
    notifications_for_customers,
    told_since,
)
from orders.models import Customer, Tier
from orders.selectors.delays import (
    DELAYS_PAGE_SIZE,
    DelayedCustomer,
    alternatives_free_stock,
    delayed_customers,
    last_slips,
)
from orders.selectors.orders import order_notes_for_orders

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


def delays_filter(data: QueryDict) -> DelaysFilter:
    return DelaysFilter(data, discounted_customers=customers_with_discount_codes())


def return_query(raw: str | None) -> QueryDict:
    """The query string (filters, page) of the delays page a form was posted
    from; only ever used to rebuild the page's own URL."""
    return QueryDict((raw or "")[:RETURN_QUERY_MAX_LENGTH])


def delays_url(query: QueryDict, customer_id: int | None = None) -> str:
    encoded = query.urlencode()
    url = reverse("delays") + (f"?{encoded}" if encoded else "")
    return url + (f"#delay-customer-{customer_id}" if customer_id is not None else "")


def _page_number(raw: str | None) -> int:
    # The delays selector pages its grouped rows itself; past the end the page
    # says so and links back to the first page.
    return min(page_number(raw), MAX_PAGE)


def delay_cards(
    request: HttpRequest,
    delayed: list[DelayedCustomer],
    *,
    posted: DelayPosted | None = None,
    notice: str = "",
    notice_level: str = "success",
    notice_customer_id: int | None = None,
    forms_for: int | None = None,
) -> list[dict[str, Any]]:
    """One card per delayed customer: their lines, what they were told, their
    discount codes and internal notes (four queries for the whole page); for
    the customer `forms_for`, the action forms too, with fresh one-time tokens
    and each substitute's free stock (one query more)."""
    ids = [entry.customer.pk for entry in delayed]
    free = (
        alternatives_free_stock(
            lines=[
                line for entry in delayed if entry.customer.pk == forms_for for line in entry.lines
            ]
        )
        if forms_for is not None
        else {}
    )
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
                "alternatives": [
                    (alternative, free.get((alternative.pk, line.warehouse_id), 0))
                    for alternative in vars(line.product).get("active_alternatives", [])
                ],
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
                "forms_loaded": customer.pk == forms_for,
            }
        )
    # In the selector's order: those no email has reached first (in SQL).
    return cards


def _personal_contact(entry: DelayedCustomer, sent: list[Any], last_slip: Any) -> str:
    """Why customer service should call or write to this customer in person
    ("" when an email has told them since their date last moved or passed:
    the selector's `not_told`, worked out in SQL to sort them first)."""
    if not entry.not_told:
        return ""
    if entry.customer.email_opt_out:
        return _("Opted out of update emails: call or write to them in person.")
    today = timezone.localdate()
    passed = [d for line in entry.lines if (d := line.promised_date) is not None and d < today]
    since = last_slip
    if passed:
        day_after = max(passed) + dt.timedelta(days=1)
        passed_at = timezone.make_aware(dt.datetime.combine(day_after, dt.time()))
        since = max(since, passed_at) if since else passed_at
    if since is None or told_since(messages=sent, since=since):
        return _("No email since their date moved or passed: call or write to them in person.")
    return _("No email since %(date)s, when their date moved or passed: call or write.") % {
        "date": date_format(timezone.localtime(since), "SHORT_DATE_FORMAT")
    }


def delays_common_context(request: HttpRequest, query: QueryDict) -> dict[str, Any]:
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


def delays_page_context(
    request: HttpRequest,
    query: QueryDict,
    *,
    posted: DelayPosted | None = None,
    only_customer: Customer | None = None,
) -> dict[str, Any]:
    """The delays page (or, after a refused form without htmx, the one
    customer's card): a fixed number of queries whatever the page size."""
    filters = delays_filter(query)
    page = _page_number(query.get("page"))
    context = delays_common_context(request, query)
    delayed, has_next = delayed_customers(
        filters=filters,
        page=1 if only_customer is not None else page,
        customer_ids=[only_customer.pk] if only_customer is not None else None,
        with_alternatives=context["can_act"] and only_customer is not None,
        last_told=last_told_at(),
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
        cards=delay_cards(
            request,
            delayed,
            posted=posted,
            forms_for=(
                only_customer.pk if only_customer is not None and context["can_act"] else None
            ),
        ),
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
    context = delays_page_context(request, request.GET)
    fragment = is_fragment_request(request)
    context["fragment"] = fragment
    template = f"{DELAYS_TEMPLATE}#delays-list" if fragment else DELAYS_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
