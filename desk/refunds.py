"""Refunds (`/refunds/`): customer service's worklist of money owed back for
cancelled units that were paid for — amount, currency, reason, how long it has
waited, oldest first — and *mark refunded* with the payment provider's
reference (who and when are recorded; the storefront hears `refund.recorded`).
Everyone else reads it."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from config.db import ConcurrencyConflict
from desk.access import may
from desk.forms.refunds import RefundFilterForm, RefundMarkForm
from desk.pagination import rows_page
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.templatetags.desk_format import money_text
from notifications import updates
from orders.models import RefundDue
from orders.selectors.refunds import refund_get, refunds_due_list, refunds_open_totals
from orders.services.refunds import AlreadyRefunded

TEMPLATE = "desk/refunds.html"


def _state(request: HttpRequest) -> tuple[RefundFilterForm, str]:
    form = RefundFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        return form, form.cleaned_data["state"] or "open"
    return form, "open"


@role_required_for("refunds")
@require_GET
def refunds(request: HttpRequest) -> HttpResponse:
    """The refunds in the state asked for (still owed by default), oldest first.

    One row past the page is fetched to know whether another follows: no COUNT(*)."""
    form, state = _state(request)
    rows, page, has_next = rows_page(refunds_due_list(state=state), request.GET.get("page"))
    context: dict[str, Any] = {
        "filter_form": form,
        "state": state,
        "refunds": rows,
        "totals": refunds_open_totals(),
        "page": page,
        "next_page": page + 1 if has_next else None,
        "previous_page": page - 1 if page > 1 else None,
        "can_mark": may(request.user, "refund-mark-refunded"),
    }
    template = TEMPLATE
    if is_fragment_request(request):
        part = "refund-totals" if request.GET.get("part") == "totals" else "refunds-list"
        template += f"#{part}"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("refunds")


@role_required_for("refund-mark-refunded")
@require_POST
def refund_mark_refunded(request: HttpRequest, refund_id: int) -> HttpResponse:
    """Record that the money was paid back, with its reference. A refund
    already marked says so and changes nothing; a missing reference is asked for."""
    try:
        refund = refund_get(refund_id=refund_id)
    except RefundDue.DoesNotExist as missing:
        raise Http404(_("No refund %(id)s.") % {"id": refund_id}) from missing
    form = RefundMarkForm(request.POST)
    notice, ok = "", False
    if form.is_valid():
        try:
            refund = updates.refund_mark_refunded(
                refund_id=refund.pk,
                reference=form.cleaned_data["reference"],
                by=request.user,  # type: ignore[arg-type]
            )
        except AlreadyRefunded as error:
            notice = " ".join(error.messages)
            refund = refund_get(refund_id=refund.pk)
        except ConcurrencyConflict:
            notice = _("Someone else changed this refund at the same time; try again.")
        except ValidationError as error:
            for field, errors in getattr(
                error, "message_dict", {"reference": error.messages}
            ).items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            ok = True
            notice = _("%(number)s: %(amount)s marked refunded (%(reference)s).") % {
                "number": refund.order.number,
                "amount": money_text(refund.amount, refund.currency),
                "reference": refund.reference,
            }
    if not is_fragment_request(request):
        if notice:
            (messages.success if ok else messages.warning)(request, notice)
        else:
            for problem in form.errors.get("reference", []):
                messages.error(request, str(problem))
        return redirect(_back(request))
    context = {
        "refund": refund,
        "form": form if not ok else RefundMarkForm(),
        "notice": notice,
        "notice_ok": ok,
        "can_mark": True,
    }
    response = render(request, f"{TEMPLATE}#refund-row", context)
    if ok:
        trigger_client_event(response, "refundRecorded", {"id": refund.pk})
    return response
