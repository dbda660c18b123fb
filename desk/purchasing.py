"""Purchase orders (`/purchase-orders/…`): the list, one order with its lines and
date history; moving its expected date, confirming a draft and cancelling show
whose dates move before they are saved."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    reswap,
    retarget,
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from config.roles import Role, has_role
from desk.filters import PurchaseOrderFilterForm
from desk.forms.purchasing import MoveExpectedDateForm, PurchaseOrderActionForm
from desk.pagination import table_paginate
from desk.roles import role_required_for
from desk.shared import already_submitted, client_redirect, is_fragment_request
from desk.tables.cells import po_status_badge
from desk.tables.purchasing import PurchaseOrderTable
from notifications import updates
from orders.selectors.purchasing import (
    purchase_order_date_moves,
    purchase_order_get,
    purchase_order_lines,
    purchase_order_list,
    purchase_order_waiting_lines,
)
from suppliers.models import (
    OPEN_PO_STATUSES,
    PurchaseOrder,
    PurchaseOrderStatus,
)


@role_required_for("purchase-orders")
@require_GET
def purchase_orders(request: HttpRequest) -> HttpResponse:
    """Purchase orders, open ones by default; an htmx request gets only the table."""
    filters = PurchaseOrderFilterForm(request.GET)
    table = PurchaseOrderTable(
        purchase_order_list(**filters.filters()), order_by=request.GET.getlist("sort")
    )
    # Fetches one row past the page instead of counting.
    table_paginate(table, request.GET.get("page"))
    if filters.is_active:
        table.empty_text = format_html(
            '{} <a href="{}">{}</a>',
            _("No purchase orders match these filters."),
            reverse("purchase-orders"),
            _("Clear filters"),
        )
    else:
        table.empty_text = _("No open purchase orders.")
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    context = {
        "filters": filters,
        "table": table,
        "sort": request.GET.get("sort", ""),
        "fragment": fragment,
        "can_create": purchase_order_can_create(request.user),
    }
    template = "desk/purchase_orders.html#po-table" if fragment else "desk/purchase_orders.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def purchase_order_can_create(user: Any) -> bool:
    """Purchasing (or a superuser) creates purchase orders (/purchase-orders/new/)."""
    return has_role(user, Role.PURCHASING)


def purchase_order_can_move(user: Any, purchase_order: PurchaseOrder) -> bool:
    """Purchasing (or a superuser) may move the dates of a draft or open order."""
    movable = purchase_order.status in (PurchaseOrderStatus.DRAFT, *OPEN_PO_STATUSES)
    return movable and has_role(user, Role.PURCHASING)


def purchase_order_can_confirm(user: Any, purchase_order: PurchaseOrder) -> bool:
    """Purchasing (or a superuser) sends a draft to the supplier."""
    return purchase_order.status == PurchaseOrderStatus.DRAFT and has_role(user, Role.PURCHASING)


def purchase_order_can_cancel(user: Any, purchase_order: PurchaseOrder) -> bool:
    """Purchasing (or a superuser) cancels a draft or an open order (not a
    received or cancelled one: suppliers.services.purchase_order_cancel)."""
    cancellable = purchase_order.status in (PurchaseOrderStatus.DRAFT, *OPEN_PO_STATUSES)
    return cancellable and has_role(user, Role.PURCHASING)


def purchase_order_context(request: HttpRequest, purchase_order: PurchaseOrder) -> dict[str, Any]:
    """Everything the detail page shows of one purchase order (four queries)."""
    lines = purchase_order_lines(purchase_order=purchase_order)
    waiting = purchase_order_waiting_lines(purchase_order=purchase_order)
    can_confirm = purchase_order_can_confirm(request.user, purchase_order)
    return {
        "po": purchase_order,
        "status_badge": po_status_badge(purchase_order),
        "lines": lines,
        "ordered_total": sum(line.ordered for line in lines),
        "received_total": sum(line.received for line in lines),
        "outstanding_total": sum(line.outstanding for line in lines),
        "cost_total": sum(
            (cost for line in lines if (cost := line.line_cost) is not None), Decimal(0)
        ),
        "costs_missing": sum(1 for line in lines if line.unit_cost is None),
        "waiting": waiting,
        "waiting_units": sum(vars(line)["units_waiting"] for line in waiting),
        "waiting_customers": len({line.order.customer_id for line in waiting}),
        "moves": purchase_order_date_moves(purchase_order=purchase_order),
        "can_move": purchase_order_can_move(request.user, purchase_order),
        "can_confirm": can_confirm,
        "can_cancel": purchase_order_can_cancel(request.user, purchase_order),
        # The confirm button's one-time token (the cancel step brings its own).
        "confirm_token": uuid.uuid4().hex if can_confirm else "",
        "today": timezone.localdate(),
    }


@role_required_for("purchase-order")
@require_GET
def purchase_order(request: HttpRequest, number: str) -> HttpResponse:
    """One purchase order: lines, who waits on it, and every move of its date."""
    try:
        order = purchase_order_get(number=number)
    except PurchaseOrder.DoesNotExist as missing:
        raise Http404(_("No purchase order %(number)s.") % {"number": number}) from missing
    context = purchase_order_context(request, order)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "desk/purchase_order.html#po-detail" if fragment else "desk/purchase_order.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


PO_TEMPLATE = "desk/purchase_order.html"


def _purchase_order_or_404(number: str) -> PurchaseOrder:
    try:
        return purchase_order_get(number=number)
    except PurchaseOrder.DoesNotExist as missing:
        raise Http404(_("No purchase order %(number)s.") % {"number": number}) from missing


def _move_form_again(
    request: HttpRequest, purchase_order: PurchaseOrder, form: MoveExpectedDateForm
) -> HttpResponse:
    """The move form with its messages beside the fields; nothing was changed."""
    if is_fragment_request(request):
        response = render(request, f"{PO_TEMPLATE}#move-form", {"po": purchase_order, "form": form})
        # The form posted into #move-impact; its errors belong in the form itself.
        return reswap(retarget(response, "#move-form"), "outerHTML")
    context = {**purchase_order_context(request, purchase_order), "form": form}
    return render(request, PO_TEMPLATE, context)


def _move_form_checked(
    request: HttpRequest, number: str
) -> tuple[PurchaseOrder, MoveExpectedDateForm, bool]:
    """The purchase order and the bound form, and whether both allow a move."""
    purchase_order = _purchase_order_or_404(number)
    form = MoveExpectedDateForm(request.POST)
    valid = form.is_valid()
    if not purchase_order_can_move(request.user, purchase_order):
        form.add_error(
            None,
            _("%(number)s is %(status)s; its dates no longer matter.")
            % {
                "number": purchase_order.number,
                "status": purchase_order.get_status_display().lower(),
            },
        )
        valid = False
    return purchase_order, form, valid


@role_required_for("purchase-order-move-preview")
@require_POST
def purchase_order_move_preview(request: HttpRequest, number: str) -> HttpResponse:
    """What moving the expected date would do (exact; nothing is saved)."""
    purchase_order, form, valid = _move_form_checked(request, number)
    if not valid:
        return _move_form_again(request, purchase_order, form)
    try:
        preview = updates.purchase_order_move_preview(
            purchase_order=purchase_order,
            new_date=form.cleaned_data["new_date"],
            reason=form.cleaned_data["reason"],
            by=request.user,  # type: ignore[arg-type]
        )
    except (ValidationError, ConcurrencyConflict) as error:
        form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        return _move_form_again(request, purchase_order, form)
    fragment = is_fragment_request(request)
    if fragment:
        context: dict[str, Any] = {
            "po": purchase_order,
            "form": form,
            "preview": preview,
            "fragment": True,
        }
        return render(request, f"{PO_TEMPLATE}#move-impact", context)
    context = {**purchase_order_context(request, purchase_order), "form": form, "preview": preview}
    return render(request, PO_TEMPLATE, context)


@role_required_for("purchase-order-move")
@require_POST
def purchase_order_move(request: HttpRequest, number: str) -> HttpResponse:
    """Move the expected date and tell the customers it affects."""
    purchase_order, form, valid = _move_form_checked(request, number)
    if not valid:
        return _move_form_again(request, purchase_order, form)
    new_date = form.cleaned_data["new_date"]
    try:
        revisions, changes = updates.purchase_order_move_expected_date(
            purchase_order=purchase_order,
            new_date=new_date,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except (ValidationError, ConcurrencyConflict) as error:
        form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        return _move_form_again(request, purchase_order, form)
    moved = [change for change in changes if not change.is_first and change.days_moved]
    if revisions:
        notice = _(
            "%(number)s is now expected on %(date)s. %(promises)d customer promise(s) moved; "
            "the customers are told through the outbox."
        ) % {"number": purchase_order.number, "date": new_date, "promises": len(moved)}
    else:
        notice = _("The date was already %(date)s: nothing changed and nobody was emailed.") % {
            "date": new_date
        }
    if not is_fragment_request(request):
        (messages.success if revisions else messages.info)(request, notice)
        return redirect("purchase-order", number=purchase_order.number)
    purchase_order = _purchase_order_or_404(number)
    context = {
        **purchase_order_context(request, purchase_order),
        "notice": notice,
        "notice_level": "success" if revisions else "info",
    }
    response = render(request, f"{PO_TEMPLATE}#po-detail", context)
    if revisions:
        trigger_client_event(
            response,
            "expectedDateMoved",
            {
                "purchase_order": purchase_order.number,
                "date": new_date.isoformat(),
                "promises_moved": len(moved),
            },
        )
    return response


def _purchase_order_refused(request: HttpRequest, url: str, error: Exception) -> HttpResponse:
    """A refused confirm or cancel: back to the purchase order's page with the
    reason as a message (a form sent twice: that nothing was done again)."""
    if isinstance(error, ValidationError):
        notify = messages.info if already_submitted(error) else messages.error
        notify(request, " ".join(error.messages))
    else:
        messages.error(request, str(error))
    return client_redirect(request, url)


def _customers_told_notice(outcome: updates.PurchaseOrderOutcome) -> str:
    if outcome.customers_told:
        return ngettext(
            "%(count)d customer gets an email about it.",
            "%(count)d customers get an email about it.",
            outcome.customers_told,
        ) % {"count": outcome.customers_told}
    return _("Nobody is emailed.")


def _purchase_order_confirmed_notice(outcome: updates.PurchaseOrderOutcome) -> str:
    order = outcome.purchase_order
    parts = [
        _("%(number)s is ordered from %(supplier)s.")
        % {"number": order.number, "supplier": order.supplier.name}
    ]
    others = outcome.lines_changed - outcome.lines_from_it
    if outcome.lines_from_it:
        parts.append(
            ngettext(
                "%(count)d waiting line now has a firm date from it.",
                "%(count)d waiting lines now have a firm date from it.",
                outcome.lines_from_it,
            )
            % {"count": outcome.lines_from_it}
        )
    if others:
        parts.append(
            ngettext(
                "%(count)d other waiting line has a new date.",
                "%(count)d other waiting lines have a new date.",
                others,
            )
            % {"count": others}
        )
    if not outcome.changes:
        parts.append(_("No waiting customer's date changed."))
    parts.append(_customers_told_notice(outcome))
    return " ".join(parts)


def _purchase_order_cancelled_notice(outcome: updates.PurchaseOrderOutcome) -> str:
    parts = [_("%(number)s is cancelled.") % {"number": outcome.purchase_order.number}]
    if outcome.changes:
        parts.append(
            ngettext(
                "%(count)d waiting line has a new promised date.",
                "%(count)d waiting lines have a new promised date.",
                outcome.lines_changed,
            )
            % {"count": outcome.lines_changed}
        )
        if outcome.lines_estimated:
            parts.append(
                ngettext(
                    "%(count)d is an estimate now: no other purchase order covers it.",
                    "%(count)d are estimates now: no other purchase order covers them.",
                    outcome.lines_estimated,
                )
                % {"count": outcome.lines_estimated}
            )
    else:
        parts.append(_("No waiting customer's date changed."))
    parts.append(_customers_told_notice(outcome))
    return " ".join(parts)


@role_required_for("purchase-order-confirm")
@require_POST
def purchase_order_confirm(request: HttpRequest, number: str) -> HttpResponse:
    """Send a draft to the supplier: the waiting lines it covers get a firm
    date and their customers are told. Redirects to the purchase order's page
    (htmx: HX-Redirect) with what happened, or why nothing did, as a message.
    The button's one-time token makes a second submit change nothing."""
    return _purchase_order_action(
        request, number, updates.purchase_order_confirm, _purchase_order_confirmed_notice
    )


@role_required_for("purchase-order-cancel-preview")
@require_GET
def purchase_order_cancel_preview(request: HttpRequest, number: str) -> HttpResponse:
    """The cancel step: whose promise loses this supply and which emails that
    sends (exact; nothing is saved), and the button that cancels. htmx gets
    the step alone; without it, the page with the step under the status."""
    purchase_order = _purchase_order_or_404(number)
    try:
        preview = updates.purchase_order_cancel_preview(
            purchase_order=purchase_order,
            by=request.user,  # type: ignore[arg-type]
        )
    except (ValidationError, ConcurrencyConflict) as error:
        return _purchase_order_refused(
            request, reverse("purchase-order", args=[purchase_order.number]), error
        )
    context: dict[str, Any] = {
        "po": purchase_order,
        "cancel_preview": preview,
        "cancel_token": uuid.uuid4().hex,
    }
    if is_fragment_request(request):
        response = render(request, f"{PO_TEMPLATE}#cancel-step", context)
    else:
        context = {**purchase_order_context(request, purchase_order), **context}
        response = render(request, PO_TEMPLATE, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required_for("purchase-order-cancel")
@require_POST
def purchase_order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """Cancel a draft or an open purchase order (after the cancel step): the
    lines it covered fall back to other supply or an estimate and their
    customers are told. Answers like `purchase_order_confirm`."""
    return _purchase_order_action(
        request, number, updates.purchase_order_cancel, _purchase_order_cancelled_notice
    )


def _purchase_order_action(
    request: HttpRequest,
    number: str,
    use_case: Callable[..., Any],
    notice: Callable[[Any], str],
) -> HttpResponse:
    """Apply a purchase order button's use case with the button's one-time
    token; redirect to the purchase order's page with `notice(outcome)`, or
    with why nothing happened."""
    purchase_order = _purchase_order_or_404(number)
    page = reverse("purchase-order", args=[purchase_order.number])
    form = PurchaseOrderActionForm(request.POST)
    if not form.is_valid():
        return _purchase_order_refused(request, page, ValidationError(list(form.errors["token"])))
    try:
        outcome = use_case(
            purchase_order=purchase_order,
            by=request.user,
            token=form.cleaned_data["token"],
        )
    except (ValidationError, ConcurrencyConflict) as error:
        return _purchase_order_refused(request, page, error)
    messages.success(request, notice(outcome))
    return client_redirect(request, page)
