"""Customer links, the outbox and the compensation policy.

Customer links: no login, the signed link is the credential. GET shows what
the link will do and asks to confirm (mail scanners open links; they must not
cancel anything); POST carries it out, once.

The outbox (`/outbox/`) and the policy (`/policy/`) are staff pages: the role
is checked here, for the page and each of its fragments alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import (
    HttpResponseClientRedirect,
    reswap,
    retarget,
    trigger_client_event,
)
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from config.db import ConcurrencyConflict
from config.roles import ALL_ROLES, Role, has_role, role_required
from notifications import forms, selectors, updates
from notifications.dashboard import dashboard_charts, dashboard_kpis
from notifications.filters import OutboxFilter
from notifications.forms import (
    PURCHASE_ORDER_MAX_ROWS,
    CompensationPolicyForm,
    MoveExpectedDateForm,
    PurchaseOrderActionForm,
    PurchaseOrderCreateForm,
    PurchaseOrderReceiveForm,
    ShipOrderForm,
    StockAdjustForm,
)
from notifications.models import (
    BulkJob,
    BulkJobKind,
    BulkJobStatus,
    Notification,
    NotificationStatus,
)
from notifications.services import notification_resend, notifications_sweep
from notifications.tables import OutboxTable, held_until, status_badge
from orders import models as order_models
from orders import selectors as order_selectors
from orders import views as order_views
from orders.filters import DelaysFilter
from orders.links import LinkError, customer_link_read
from orders.models import CustomerChoice, SalesOrder
from orders.selectors import (
    order_lines_by_id,
    purchase_order_for_receiving,
    purchase_order_get,
    purchase_order_open_lines,
)
from orders.services.notes import order_note_add
from orders.services.receiving import ReceiptResult
from orders.tables import tier_badge
from orders.views import (
    product_stock_context,
    purchase_order_can_move,
    purchase_order_context,
    receive_form_context,
)
from suppliers.models import PurchaseOrder, PurchaseOrderStatus


@require_http_methods(["GET", "POST"])
def customer_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = customer_link_read(token)
        order = SalesOrder.objects.select_related("customer").get(pk=link.order_id)
    except (LinkError, SalesOrder.DoesNotExist) as error:
        message = str(error) if isinstance(error, LinkError) else _("We could not find this order.")
        return render(request, "notifications/customer_link.html", {"error": message}, status=400)
    if CustomerChoice.objects.filter(link_id=link.link_id).exists():
        return render(
            request,
            "notifications/customer_link.html",
            {"error": _("This link has already been used."), "order": order},
            status=400,
        )
    waiting = [line for line in order.lines.select_related("product") if line.backordered]
    context = {"order": order, "action": link.action, "waiting": waiting}
    if request.method == "GET":
        return render(request, "notifications/customer_link.html", context)
    try:
        result = updates.order_customer_choose(link=link)
    except LinkError as error:
        return render(
            request,
            "notifications/customer_link.html",
            {**context, "error": str(error)},
            status=400,
        )
    return render(
        request, "notifications/customer_link.html", {**context, "done": True, "result": result}
    )


# --- staff pages: the outbox and the compensation policy -----------------------


# The HTML body is shown in a sandboxed `<iframe srcdoc>`: no script runs in it,
# and it inherits the page's CSP. Email HTML is styled with style attributes, so
# the pages that show one allow those (attributes only: no <style>, no script).
email_preview_csp = csp_update({"style-src-attr": [UNSAFE_INLINE]})


def _is_fragment_request(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_GET
@email_preview_csp
def outbox(request: HttpRequest) -> HttpResponse:
    """Every customer message, newest first; the table alone for htmx."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded mode has no beat: opening its inbox sends what is due
        # (combined updates whose window closed). Idempotent, like the sweep.
        notifications_sweep()
    queryset = selectors.notification_list_outbox()
    filterset = OutboxFilter(request.GET or None, queryset=queryset)
    filtered = filterset.is_valid() and any(
        value not in (None, "") for value in filterset.form.cleaned_data.values()
    )
    table = OutboxTable(
        filterset.qs,
        empty_text=_("No messages match these filters.")
        if filtered
        else _(
            "No messages yet. Messages appear here when an order is backordered, "
            "a date moves, an order ships or is cancelled."
        ),
    )
    RequestConfig(request, paginate={"paginator_class": LazyPaginator, "per_page": 50}).configure(
        table
    )
    context = {"table": table, "filter": filterset, "filtered": filtered}
    template = "notifications/outbox.html"
    if _is_fragment_request(request):
        template += "#outbox-table"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _message_context(request: HttpRequest, notification: Notification) -> dict[str, object]:
    return {
        "message": notification,
        "can_resend": has_role(request.user, Role.CUSTOMER_SERVICE),
        "is_failed": notification.status == NotificationStatus.FAILED,
        "held_until": held_until(notification),
        "status_badge": status_badge(notification),
    }


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_GET
@email_preview_csp  # type: ignore[arg-type]  # its stub types views as (request) only
def outbox_message(request: HttpRequest, notification_id: int) -> HttpResponse:
    """One message as the customer got it: full page, or the fragment for htmx."""
    notification = selectors.notification_get_message(notification_id=notification_id)
    context = _message_context(request, notification)
    template = "notifications/outbox.html"
    if _is_fragment_request(request):
        template += "#message-detail"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def outbox_message_resend(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Send a failed message again (customer service only)."""
    notification = selectors.notification_get_message(notification_id=notification_id)
    resent = notification_resend(notification_ids=[notification.pk], by=request.user)  # type: ignore[arg-type]
    if not _is_fragment_request(request):
        if resent:
            messages.success(request, _("The message is back in the outbox and goes out again."))
        else:
            messages.warning(request, _("Only a failed message can be sent again."))
        return redirect("outbox-message", notification_id=notification.pk)
    notification = selectors.notification_get_message(notification_id=notification.pk)
    context = {
        **_message_context(request, notification),
        "notice": _("The message is back in the outbox and goes out again.")
        if resent
        else _("Only a failed message can be sent again."),
        "notice_ok": bool(resent),
    }
    response = render(request, "notifications/outbox.html#message-detail", context)
    if resent:
        trigger_client_event(
            response,
            "notificationResent",
            {"id": notification.pk, "status": notification.status},
        )
    return response


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    """The compensation policy: purchasing edits it, customer service reads it."""
    can_edit = has_role(request.user, Role.PURCHASING)
    current = selectors.compensation_policy_get()
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Only purchasing may change the compensation policy.")
        form = CompensationPolicyForm(request.POST, instance=current)
        if form.is_valid():
            changed = form.has_changed()
            if changed:
                saved = form.save(commit=False)
                saved._history_user = request.user
                saved.save()
            notice = (
                _("The compensation policy is saved. It applies to the next date change.")
                if changed
                else _("Nothing changed: the policy was already set like this.")
            )
            if not _is_fragment_request(request):
                messages.success(request, notice)
                return redirect("policy")
            form = CompensationPolicyForm(instance=selectors.compensation_policy_get())
            response = render(
                request,
                "notifications/policy.html#policy-form",
                {"form": form, "can_edit": True, "notice": notice},
            )
            trigger_client_event(response, "policySaved", {"changed": changed})
            return response
    else:
        form = CompensationPolicyForm(instance=current, read_only=not can_edit)
    template = "notifications/policy.html"
    if _is_fragment_request(request):
        template += "#policy-form"
    response = render(request, template, {"form": form, "can_edit": can_edit})
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- receiving: the receive form's submit ---------------------------------------


def _receipt_summary(result: ReceiptResult, products: dict[int, Any]) -> dict[str, Any]:
    """What the result fragment shows: units per product, where they went, what is left."""
    received: dict[int, dict[str, Any]] = {}
    for line_id, units in result.received.items():
        product = products[line_id]
        entry = received.setdefault(product.pk, {"product": product, "units": 0})
        entry["units"] += units
    order_lines = order_lines_by_id(line_ids=[a.line_id for a in result.allocations])
    allocations = [
        {
            "order_number": allocation.order_number,
            "customer": order_lines[allocation.line_id].order.customer,
            "product": order_lines[allocation.line_id].product,
            "units": allocation.quantity,
            "ready_to_ship": allocation.ready_to_ship,
        }
        for allocation in result.allocations
    ]
    return {
        "received": list(received.values()),
        "units_received": sum(result.received.values()),
        "allocations": allocations,
        "units_allocated": sum(a.quantity for a in result.allocations),
        "ready_orders": result.ready_orders,
        "left_in_stock": sorted(result.left_in_stock.items()),
    }


@role_required(Role.WAREHOUSE)
@require_POST
def purchase_order_receive_submit(request: HttpRequest, number: str) -> HttpResponse:
    """Receive the units typed into the receive form and allocate them to the queue.

    htmx gets the result fragment and `unitsReceived`, or the form again with
    each message beside its line (200, nothing changed); without htmx a
    success redirects to the receive page with a summary.
    """
    purchase_order = purchase_order_for_receiving(number=number)
    lines = purchase_order_open_lines(purchase_order=purchase_order)
    form = PurchaseOrderReceiveForm(request.POST, line_ids=[line.pk for line in lines])
    result: ReceiptResult | None = None
    if form.is_valid():
        try:
            result = updates.purchase_order_receive_from_form(
                purchase_order=purchase_order,
                quantities=form.quantities(),
                receipt_state=form.cleaned_data["receipt_state"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages_ in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages_)
            else:
                form.add_error(None, error.messages)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
    if result is None:
        posted = {line.pk: request.POST.get(f"line_{line.pk}", "") for line in lines}
        context = receive_form_context(
            purchase_order=purchase_order,
            lines=lines,
            values=posted,
            errors=form.line_errors(),
            form_errors=[str(message) for message in form.non_field_errors()],
            # A form that was refused as out of date shows the numbers as they
            # are now, so submitting it again is a deliberate second receipt.
            state=None,
        )
        template = "orders/purchase_order_receive.html"
        if _is_fragment_request(request):
            template += "#receive-form"
        request.nav_path = reverse("receiving")  # type: ignore[attr-defined]
        return render(request, template, context)
    summary = _receipt_summary(result, {line.pk: line.product for line in lines})
    if not _is_fragment_request(request):
        messages.success(
            request,
            _(
                "Received %(units)d units on %(number)s: %(allocated)d allocated to the "
                "backorder queue, %(ready)d orders now ready to ship."
            )
            % {
                "units": summary["units_received"],
                "number": purchase_order.number,
                "allocated": summary["units_allocated"],
                "ready": len(summary["ready_orders"]),
            },
        )
        return redirect("purchase-order-receive", number=purchase_order.number)
    purchase_order.refresh_from_db(fields=["status"])
    response = render(
        request,
        "orders/purchase_order_receive.html#receive-result",
        {"purchase_order": purchase_order, **summary},
    )
    trigger_client_event(
        response,
        "unitsReceived",
        {"purchase_order": purchase_order.number, "units": summary["units_received"]},
    )
    return response


# --- moving a purchase order's expected date (purchasing) -----------------------

PO_TEMPLATE = "orders/purchase_order.html"


def _purchase_order_or_404(number: str) -> PurchaseOrder:
    try:
        return purchase_order_get(number=number)
    except PurchaseOrder.DoesNotExist as missing:
        raise Http404(_("No purchase order %(number)s.") % {"number": number}) from missing


def _move_form_again(
    request: HttpRequest, purchase_order: PurchaseOrder, form: MoveExpectedDateForm
) -> HttpResponse:
    """The move form with its messages beside the fields; nothing was changed."""
    if _is_fragment_request(request):
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


@role_required(Role.PURCHASING)
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
    fragment = _is_fragment_request(request)
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


@role_required(Role.PURCHASING)
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
    if not _is_fragment_request(request):
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


# --- confirming and cancelling a purchase order (purchasing) ---------------------


def _purchase_order_refused(request: HttpRequest, url: str, error: Exception) -> HttpResponse:
    """A refused confirm or cancel: back to the purchase order's page with the
    reason as a message (a form sent twice: that nothing was done again)."""
    if isinstance(error, ValidationError):
        notify = messages.info if _already_submitted(error) else messages.error
        notify(request, " ".join(error.messages))
    else:
        messages.error(request, str(error))
    return _client_redirect(request, url)


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


@role_required(Role.PURCHASING)
@require_POST
def purchase_order_confirm(request: HttpRequest, number: str) -> HttpResponse:
    """Send a draft to the supplier: the waiting lines it covers get a firm
    date and their customers are told. Redirects to the purchase order's page
    (htmx: HX-Redirect) with what happened, or why nothing did, as a message.
    The button's one-time token makes a second submit change nothing."""
    return _purchase_order_action(
        request, number, updates.purchase_order_confirm, _purchase_order_confirmed_notice
    )


@role_required(Role.PURCHASING)
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
    if _is_fragment_request(request):
        response = render(request, f"{PO_TEMPLATE}#cancel-step", context)
    else:
        context = {**purchase_order_context(request, purchase_order), **context}
        response = render(request, PO_TEMPLATE, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required(Role.PURCHASING)
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
    return _client_redirect(request, page)


# --- a new purchase order (purchasing) -------------------------------------------

PO_NEW_TEMPLATE = "orders/purchase_order_new.html"
PO_NEW_MORE_ROWS = 5


def _client_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """After a post: a redirect, or for htmx a full page load of `url`
    (the form's target is not where the answer belongs)."""
    if _is_fragment_request(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _purchase_order_new_form(request: HttpRequest, form: PurchaseOrderCreateForm) -> HttpResponse:
    """The form, with each message beside its field; nothing was created."""
    template = PO_NEW_TEMPLATE
    if _is_fragment_request(request):
        template += "#po-new-form"
    context = {"form": form, "max_rows": PURCHASE_ORDER_MAX_ROWS}
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


@role_required(Role.PURCHASING)
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
            if _already_submitted(error):
                messages.info(request, error.message)
                return _client_redirect(request, reverse("purchase-orders"))
            _form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _purchase_order_created_notice(order, changes))
            return _client_redirect(request, reverse("purchase-order", args=[order.number]))
    return _purchase_order_new_form(request, form)


# --- ready to ship: shipping an order (warehouse) --------------------------------

SHIPPING_TEMPLATE = "orders/shipping.html"


def _form_errors_from(form: Any, error: ValidationError) -> None:
    """A use case's ValidationError onto the form: by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


@role_required(Role.WAREHOUSE)
@require_POST
def order_ship(request: HttpRequest, number: str) -> HttpResponse:
    """Ship everything allocated on an order with a tracking number; the
    customer gets the shipped email.

    htmx gets the order's row replaced by a confirmation and `orderShipped`,
    or the row again with the message beside the field (200, nothing
    changed); without htmx it redirects to the page with a message.
    """
    order = order_selectors.shipping_order(number=number)
    form = ShipOrderForm(request.POST)
    shipment = None
    if form.is_valid():
        try:
            shipment = updates.shipment_create(
                order=order,
                tracking_number=form.cleaned_data["tracking_number"],
                by=request.user,
            )
        except ValidationError as error:
            _form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
    if shipment is None:
        if not _is_fragment_request(request):
            for message in [*form.non_field_errors(), *form.errors.get("tracking_number", [])]:
                messages.error(request, f"{order.number}: {message}")
            return redirect("shipping")
        # Show the order as it is now: a second submit finds nothing allocated.
        order = order_selectors.shipping_order(number=number)
        return render(
            request,
            f"{SHIPPING_TEMPLATE}#ship-order",
            {"order": order, "form": form, "values": request.POST},
        )
    units = sum(line.quantity for line in shipment.lines.all())
    notice = _("Shipped %(number)s with tracking %(tracking)s (%(units)d units).") % {
        "number": order.number,
        "tracking": shipment.tracking_number,
        "units": units,
    }
    if not _is_fragment_request(request):
        messages.success(request, notice)
        return redirect("shipping")
    response = render(
        request,
        f"{SHIPPING_TEMPLATE}#ship-done",
        {"order": order, "shipment": shipment, "units": units, "notice": notice},
    )
    trigger_client_event(
        response,
        "orderShipped",
        {"order": order.number, "tracking_number": shipment.tracking_number, "units": units},
    )
    return response


# --- product: adjusting stock (warehouse) ------------------------------------------

PRODUCT_TEMPLATE = "orders/product.html"


@role_required(Role.WAREHOUSE)
@require_POST
def product_adjust(request: HttpRequest, sku: str) -> HttpResponse:
    """Correct the stock count of a product in one warehouse; units found go
    to the waiting orders at once and their customers are told.

    htmx gets the stock fragment and `stockAdjusted`, or the stock fragment
    with the message beside the field (200, nothing changed); without htmx it
    redirects to the product page with a message.
    """
    product = order_selectors.product_get(sku=sku)
    form = StockAdjustForm(request.POST)
    warehouses = {warehouse.pk: warehouse for warehouse in order_selectors.product_warehouses()}
    allocations = None
    warehouse = None
    if form.is_valid():
        warehouse = warehouses.get(form.cleaned_data["warehouse"])
        if warehouse is None:
            form.add_error(None, _("Choose a warehouse."))
        else:
            try:
                allocations = updates.stock_adjust(
                    product=product,
                    warehouse=warehouse,
                    change=form.cleaned_data["change"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as error:
                _form_errors_from(form, error)
            except ConcurrencyConflict as error:
                form.add_error(None, str(error))
    if allocations is None or warehouse is None:
        errors = {
            ("form" if field == "__all__" else field): [str(m) for m in messages_]
            for field, messages_ in form.errors.items()
        }
        if not _is_fragment_request(request):
            for field_messages in errors.values():
                for message in field_messages:
                    messages.error(request, message)
            return redirect("product", sku=product.sku)
        try:
            warehouse_id = int(request.POST.get("warehouse", ""))
        except ValueError:
            warehouse_id = None
        context = product_stock_context(
            request,
            product,
            adjust_warehouse_id=warehouse_id,
            adjust_values={
                "change": request.POST.get("change", ""),
                "reason": request.POST.get("reason", ""),
            },
            adjust_errors=errors,
        )
        return render(request, f"{PRODUCT_TEMPLATE}#product-stock", context)
    change = form.cleaned_data["change"]
    allocated = sum(allocation.quantity for allocation in allocations)
    notice = _("Stock of %(sku)s in %(warehouse)s changed by %(change)+d units.") % {
        "sku": product.sku,
        "warehouse": warehouse.code,
        "change": change,
    }
    if allocated:
        notice += " " + _("%(units)d units went to waiting orders; their customers are told.") % {
            "units": allocated
        }
    if not _is_fragment_request(request):
        messages.success(request, notice)
        return redirect("product", sku=product.sku)
    context = product_stock_context(request, product, notice=notice)
    response = render(request, f"{PRODUCT_TEMPLATE}#product-stock", context)
    trigger_client_event(
        response,
        "stockAdjusted",
        {
            "sku": product.sku,
            "warehouse": warehouse.code,
            "change": change,
            "allocated": allocated,
        },
    )
    return response


# --- the order and customer pages: messages, cancelling and priority -------------

ORDER_TEMPLATE = "orders/order.html"


def _can_open_outbox(user: Any) -> bool:
    """The outbox is for customer service and purchasing: others see subjects only."""
    return has_role(user, Role.CUSTOMER_SERVICE, Role.PURCHASING)


@role_required(*ALL_ROLES)
@require_GET
def order_messages(request: HttpRequest, number: str) -> HttpResponse:
    """The messages sent about one order: the order page loads them (htmx) and
    reloads them when a line is cancelled; without htmx, a page of its own."""
    sales_order = order_views.order_or_404(number)
    fragment_template = f"{ORDER_TEMPLATE}#order-messages"
    context = {
        "order": sales_order,
        "notifications": [
            (notification, status_badge(notification))
            for notification in selectors.notification_list_for_order(order_id=sales_order.pk)
        ],
        "can_open_outbox": _can_open_outbox(request.user),
        "fragment_template": fragment_template,
        "back_url": reverse("order", args=[sales_order.number]),
        "back_label": sales_order.number,
    }
    template = fragment_template if _is_fragment_request(request) else "orders/messages.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required(*ALL_ROLES)
@require_GET
def customer_messages(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The messages and discount codes a customer was sent, for the customer page."""
    try:
        person = order_selectors.customer_get(customer_id=customer_id)
    except order_models.Customer.DoesNotExist as missing:
        raise Http404(_("No customer %(id)s.") % {"id": customer_id}) from missing
    fragment_template = "orders/customer.html#customer-messages"
    context = {
        "customer": person,
        "notifications": [
            (notification, status_badge(notification))
            for notification in selectors.notification_list_for_customer(customer_id=person.pk)
        ],
        "discount_codes": selectors.discount_codes_for_customer(customer_id=person.pk),
        "can_open_outbox": _can_open_outbox(request.user),
        "messages_limit": selectors.MESSAGES_LIMIT,
        "fragment_template": fragment_template,
        "back_url": reverse("customer", args=[person.pk]),
        "back_label": person.name,
    }
    template = fragment_template if _is_fragment_request(request) else "orders/messages.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _order_line_or_404(number: str, line_id: int) -> tuple[SalesOrder, order_models.OrderLine]:
    sales_order = order_views.order_or_404(number)
    line = next(
        (line for line in order_selectors.order_lines(order=sales_order) if line.pk == line_id),
        None,
    )
    if line is None:
        raise Http404(
            _("Order %(number)s has no line %(line)s.") % {"number": number, "line": line_id}
        )
    return sales_order, line


def _validation_messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def _order_lines_again(
    request: HttpRequest,
    sales_order: SalesOrder,
    *,
    key: tuple[int, str],
    errors: list[str],
    value: Any,
) -> HttpResponse:
    """The lines again with the message beside the field; nothing was changed."""
    shown: dict[str, Any] = {"errors": {key: errors}, "values": {key: value}}
    if _is_fragment_request(request):
        context = order_views.order_lines_context(request, sales_order, **shown)
        return render(request, f"{ORDER_TEMPLATE}#order-lines", context)
    return render(
        request, ORDER_TEMPLATE, order_views.order_page_context(request, sales_order, **shown)
    )


def _order_lines_done(
    request: HttpRequest, sales_order: SalesOrder, notice: str, event: str, detail: dict[str, Any]
) -> HttpResponse:
    if not _is_fragment_request(request):
        messages.success(request, notice)
        return redirect("order", number=sales_order.number)
    sales_order = order_views.order_or_404(sales_order.number)
    context = order_views.order_lines_context(request, sales_order, notice=notice)
    response = render(request, f"{ORDER_TEMPLATE}#order-lines", context)
    trigger_client_event(response, event, detail)
    return response


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def order_line_cancel(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """Cancel a line's backordered remainder; the customer is told (outbox)."""
    sales_order, line = _order_line_or_404(number, line_id)
    form = forms.OrderLineCancelForm(request.POST)
    key = (line.pk, "cancel")
    reason = request.POST.get("reason", "")
    if not form.is_valid():
        return _order_lines_again(
            request,
            sales_order,
            key=key,
            errors=[str(error) for error in form.errors["reason"]],
            value=reason,
        )
    try:
        cancellation = updates.order_line_cancel(
            line=line,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as error:
        return _order_lines_again(
            request, sales_order, key=key, errors=_validation_messages(error), value=reason
        )
    except ConcurrencyConflict as error:
        return _order_lines_again(request, sales_order, key=key, errors=[str(error)], value=reason)
    notice = _(
        "Cancelled %(units)d backordered × %(sku)s; refund due %(refund)s. "
        "The customer is told through the outbox."
    ) % {"units": cancellation.quantity, "sku": line.product.sku, "refund": cancellation.refund_due}
    return _order_lines_done(
        request,
        sales_order,
        notice,
        "orderLineCancelled",
        {"order": sales_order.number, "line": line.pk, "units": cancellation.quantity},
    )


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_POST
def order_line_priority(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    """Move a waiting line up or down its product's queue."""
    sales_order, line = _order_line_or_404(number, line_id)
    form = forms.OrderLinePriorityForm(request.POST)
    key = (line.pk, "priority")
    value = request.POST.get("priority", "")
    if not form.is_valid():
        return _order_lines_again(
            request,
            sales_order,
            key=key,
            errors=[str(error) for error in form.errors["priority"]],
            value=value,
        )
    try:
        changed = updates.order_line_set_priority(
            line=line,
            priority=form.cleaned_data["priority"],
            by=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        return _order_lines_again(
            request, sales_order, key=key, errors=_validation_messages(error), value=value
        )
    except ConcurrencyConflict as error:
        return _order_lines_again(request, sales_order, key=key, errors=[str(error)], value=value)
    notice = _("%(sku)s now has priority %(priority)d in the queue.") % {
        "sku": line.product.sku,
        "priority": changed.priority,
    }
    return _order_lines_done(
        request,
        sales_order,
        notice,
        "priorityChanged",
        {"order": sales_order.number, "line": line.pk, "priority": changed.priority},
    )


# --- the dashboard (every role) -------------------------------------------------


@role_required(*ALL_ROLES)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """KPIs over the whole shop; the KPI grid alone for htmx (the Refresh button)."""
    kpis = dashboard_kpis()
    context = {"kpis": kpis, "charts": dashboard_charts(kpis)}
    template = "notifications/dashboard.html"
    if _is_fragment_request(request):
        template += "#kpis"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- the queue: row actions and bulk jobs ----------------------------------------

QUEUE_TEMPLATE = "orders/queue.html"


def _queue_query(request: HttpRequest) -> QueryDict:
    """The queue page's query string (filters, sort, page) an action form carried."""
    return QueryDict(request.POST.get("query", "")[:2000])


def _queue_url(query: QueryDict) -> str:
    return f"{reverse('queue')}?{query.urlencode()}".rstrip("?")


def _queue_line_or_404(line_id: int) -> order_models.OrderLine:
    line = order_lines_by_id(line_ids=[line_id]).get(line_id)
    if line is None:
        raise Http404(_("No order line %(line)s.") % {"line": line_id})
    return line


def _queue_answer(
    request: HttpRequest,
    *,
    notice: str,
    level: str = "success",
    event: str = "",
    detail: dict[str, Any] | None = None,
    errors: dict[int, dict[str, list[str]]] | None = None,
    values: dict[int, dict[str, Any]] | None = None,
) -> HttpResponse:
    """The queue table again, as the page showed it (same filters, sort and page).

    htmx gets the table fragment, the notice out of band and `event` with the
    notice as its message; without htmx a change redirects back to the queue
    (post/redirect/get) and a refused form is shown again on the full page.
    """
    query = _queue_query(request)
    fragment = _is_fragment_request(request)
    if not fragment and not errors:
        messages.add_message(
            request,
            {"success": messages.SUCCESS, "info": messages.INFO}.get(level, messages.WARNING),
            notice,
        )
        return redirect(_queue_url(query))
    context = order_views.queue_context(
        request,
        query=query,
        fragment=fragment,
        row_errors=errors,
        row_values=values,
        notice=notice,
        notice_level=level,
    )
    request.nav_path = reverse("queue")  # type: ignore[attr-defined]
    template = f"{QUEUE_TEMPLATE}#queue-table" if fragment else QUEUE_TEMPLATE
    response = render(request, template, context)
    if event:
        trigger_client_event(response, event, {**(detail or {}), "message": notice})
    return response


def _line_label(line: order_models.OrderLine) -> str:
    return f"{line.order.number} · {line.product.sku}"


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_POST
def queue_line_priority(request: HttpRequest, line_id: int) -> HttpResponse:
    """Set a waiting line's priority from the queue; setting it twice changes nothing."""
    line = _queue_line_or_404(line_id)
    form = forms.OrderLinePriorityForm(request.POST)
    value = request.POST.get("priority", "")
    label = _line_label(line)

    def refused(errors: list[str]) -> HttpResponse:
        return _queue_answer(
            request,
            notice=_("%(line)s: nothing changed.") % {"line": label},
            level="error",
            errors={line.pk: {"priority": errors}},
            values={line.pk: {"priority": value}},
        )

    if not form.is_valid():
        return refused([str(error) for error in form.errors["priority"]])
    priority = form.cleaned_data["priority"]
    if not line.backordered:
        return _queue_answer(
            request,
            notice=_("%(line)s is no longer waiting in the queue; nothing changed.")
            % {"line": label},
            level="info",
        )
    if line.priority == priority:
        return _queue_answer(
            request,
            notice=_("%(line)s already has priority %(priority)d; nothing changed.")
            % {"line": label, "priority": priority},
            level="info",
        )
    try:
        changed = updates.order_line_set_priority(
            line=line,
            priority=priority,
            by=request.user,  # type: ignore[arg-type]
        )
    except ValidationError as error:
        return refused(_validation_messages(error))
    except ConcurrencyConflict as error:
        return refused([str(error)])
    notice = _("%(line)s now has priority %(priority)d in the queue.") % {
        "line": label,
        "priority": changed.priority,
    }
    return _queue_answer(
        request,
        notice=notice,
        event="priorityChanged",
        detail={"order": line.order.number, "line": line.pk, "priority": changed.priority},
    )


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def queue_line_cancel(request: HttpRequest, line_id: int) -> HttpResponse:
    """Cancel a line's backordered remainder from the queue; the customer is told.

    A second submit (a double click, a resent form) finds nothing waiting and
    answers that the remainder is already cancelled.
    """
    line = _queue_line_or_404(line_id)
    form = forms.OrderLineCancelForm(request.POST)
    reason = request.POST.get("reason", "")
    label = _line_label(line)

    def already_done() -> HttpResponse:
        notice = (
            _("%(line)s: the remainder is already cancelled; nothing changed.")
            if line.cancelled
            else _("%(line)s is no longer waiting in the queue; nothing changed.")
        )
        return _queue_answer(request, notice=notice % {"line": label}, level="info")

    def refused(errors: list[str]) -> HttpResponse:
        return _queue_answer(
            request,
            notice=_("%(line)s: nothing changed.") % {"line": label},
            level="error",
            errors={line.pk: {"reason": errors}},
            values={line.pk: {"reason": reason}},
        )

    if not line.backordered:
        return already_done()
    if not form.is_valid():
        return refused([str(error) for error in form.errors["reason"]])
    try:
        cancellation = updates.order_line_cancel(
            line=line, reason=form.cleaned_data["reason"], by=request.user
        )
    except ValidationError as error:
        line.refresh_from_db()
        if not line.backordered:  # a concurrent submit got there first
            return already_done()
        return refused(_validation_messages(error))
    except ConcurrencyConflict as error:
        return refused([str(error)])
    notice = _(
        "Cancelled %(units)d waiting × %(line)s; refund due %(refund)s. "
        "The customer is told through the outbox."
    ) % {"units": cancellation.quantity, "line": label, "refund": cancellation.refund_due}
    return _queue_answer(
        request,
        notice=notice,
        event="orderLineCancelled",
        detail={"order": line.order.number, "line": line.pk, "units": cancellation.quantity},
    )


BULK_JOB_TEMPLATE = "notifications/bulk_job.html"
BULK_JOB_STATUS_BADGES = {
    BulkJobStatus.PENDING: "badge",
    BulkJobStatus.RUNNING: "badge badge-estimate",
    BulkJobStatus.DONE: "badge badge-ok",
    BulkJobStatus.FAILED: "badge badge-bad",
}


def _bulk_job_summary(job: BulkJob) -> str:
    """What the job did so far, in a sentence."""
    outcome = job.outcome
    parts: list[str] = []
    if job.kind == BulkJobKind.NOTIFY:
        count = outcome.get("messages", 0)
        parts.append(
            ngettext("%(count)d customer emailed.", "%(count)d customers emailed.", count)
            % {"count": count}
        )
        if count := outcome.get("opted_out", 0):
            parts.append(
                ngettext(
                    "%(count)d opted out of updates and was not emailed.",
                    "%(count)d opted out of updates and were not emailed.",
                    count,
                )
                % {"count": count}
            )
    else:
        count = outcome.get("changed", 0)
        parts.append(
            ngettext(
                "%(count)d line moved to priority %(priority)s.",
                "%(count)d lines moved to priority %(priority)s.",
                count,
            )
            % {"count": count, "priority": job.parameters.get("priority")}
        )
        if count := outcome.get("unchanged", 0):
            parts.append(
                ngettext(
                    "%(count)d already had it or no longer waits.",
                    "%(count)d already had it or no longer wait.",
                    count,
                )
                % {"count": count}
            )
    if count := outcome.get("not_waiting", 0):
        parts.append(
            ngettext(
                "%(count)d line no longer waiting was skipped.",
                "%(count)d lines no longer waiting were skipped.",
                count,
            )
            % {"count": count}
        )
    return " ".join(parts) if job.done else ""


def _bulk_job_context(request: HttpRequest, job: BulkJob) -> dict[str, Any]:
    return {
        "job": job,
        "status_class": BULK_JOB_STATUS_BADGES.get(BulkJobStatus(job.status), "badge"),
        "summary": _bulk_job_summary(job),
        "can_open_outbox": _can_open_outbox(request.user),
        "back_url": reverse("queue"),
    }


def _bulk_job_response(request: HttpRequest, job: BulkJob, *, started: bool) -> HttpResponse:
    """The progress bar (htmx) or the job's own page. A finished job answers
    htmx's polling with 286, which stops it, and fires bulkJobFinished so the
    queue table reloads."""
    context = _bulk_job_context(request, job)
    if not _is_fragment_request(request):
        request.nav_path = reverse("queue")  # type: ignore[attr-defined]
        return render(request, BULK_JOB_TEMPLATE, context)
    response = render(request, f"{BULK_JOB_TEMPLATE}#bulk-job", context)
    detail = {"job": job.pk, "kind": job.kind, "done": job.done, "total": job.total}
    if started:
        trigger_client_event(
            response,
            "bulkJobStarted",
            {
                **detail,
                "message": ngettext(
                    "%(kind)s: %(total)d line.", "%(kind)s: %(total)d lines.", job.total
                )
                % {"kind": job.get_kind_display(), "total": job.total},
            },
        )
    if job.is_finished:
        if not started:
            response.status_code = 286
        trigger_client_event(
            response,
            "bulkJobFinished",
            {**detail, "status": job.status, "message": context["summary"]},
        )
    return response


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_POST
def queue_jobs(request: HttpRequest) -> HttpResponse:
    """Start a bulk action on the ticked queue lines: email their customers
    (customer service) or set their priority (customer service, purchasing)."""
    if request.POST.get("kind") == BulkJobKind.NOTIFY and not has_role(
        request.user, Role.CUSTOMER_SERVICE
    ):
        raise PermissionDenied("Only customer service emails customers.")
    form = forms.QueueBulkForm(request.POST)
    job = None
    if form.is_valid():
        try:
            job = updates.bulk_job_start(
                kind=form.cleaned_data["kind"],
                line_ids=form.cleaned_data["lines"],
                parameters=form.parameters(),
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _form_errors_from(form, error)
    if job is None:
        errors = {
            ("kind" if field == "__all__" else field): [str(m) for m in field_messages]
            for field, field_messages in form.errors.items()
        }
        values = {"priority": request.POST.get("priority", "")}
        if _is_fragment_request(request):
            context = {
                "can_notify": has_role(request.user, Role.CUSTOMER_SERVICE),
                "bulk_errors": errors,
                "bulk_values": values,
            }
            response = render(request, f"{QUEUE_TEMPLATE}#queue-bulk", context)
            return reswap(retarget(response, "#queue-bulk"), "outerHTML")
        context = order_views.queue_context(
            request,
            query=_queue_query(request),
            fragment=False,
            bulk_errors=errors,
            bulk_values=values,
        )
        request.nav_path = reverse("queue")  # type: ignore[attr-defined]
        return render(request, QUEUE_TEMPLATE, context)
    # In the embedded mode the task ran at commit: the job may be finished already.
    job = updates.bulk_job_progress(job_id=job.pk)
    if not _is_fragment_request(request):
        return redirect("queue-job", job_id=job.pk)
    return _bulk_job_response(request, job, started=True)


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_GET
def queue_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A bulk job's progress: the bar polls this every second until it is done."""
    try:
        job = updates.bulk_job_progress(job_id=job_id)
    except BulkJob.DoesNotExist as missing:
        raise Http404(_("No bulk job %(id)s.") % {"id": job_id}) from missing
    response = _bulk_job_response(request, job, started=False)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- delays (/delays/): customers whose promise slipped or passed -------------------
#
# The page shows orders data (orders.selectors.delayed_customers) beside
# notifications data: the messages each customer was sent, their discount
# codes, and the "discount sent" filter. orders may not import notifications,
# so the page is composed here, in the higher app, as the order page's
# messages fragment is; its actions are use cases of notifications.updates,
# whose views live here anyway (README, "Layout"). Customer service acts,
# purchasing reads; the warehouse gets 403.

DELAYS_TEMPLATE = "notifications/delays.html"
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
    return DelaysFilter(data, discounted_customers=selectors.customers_with_discount_codes())


def _return_query(raw: str | None) -> QueryDict:
    """The query string (filters, page) of the delays page a form was posted
    from; only ever used to rebuild the page's own URL."""
    return QueryDict((raw or "")[:RETURN_QUERY_MAX_LENGTH])


def _delays_url(query: QueryDict, customer_id: int | None = None) -> str:
    encoded = query.urlencode()
    url = reverse("delays") + (f"?{encoded}" if encoded else "")
    return url + (f"#delay-customer-{customer_id}" if customer_id is not None else "")


def _page_number(raw: str | None) -> int:
    try:
        return min(max(int(raw or 1), 1), 100_000)
    except ValueError:
        return 1


def _delay_cards(
    request: HttpRequest,
    delayed: list[order_selectors.DelayedCustomer],
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
    told = selectors.notifications_for_customers(customer_ids=ids)
    codes = selectors.discount_codes_for_customers(customer_ids=ids)
    notes = order_selectors.order_notes_for_orders(
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
                "tier_badge": tier_badge(customer.tier)
                if customer.tier != order_models.Tier.STANDARD
                else "",
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
            }
        )
    return cards


def _delays_common_context(request: HttpRequest, query: QueryDict) -> dict[str, Any]:
    can_act = has_role(request.user, Role.CUSTOMER_SERVICE)
    context: dict[str, Any] = {"can_act": can_act, "return_query": query.urlencode()}
    if can_act:
        policy = selectors.compensation_policy_get()
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
    only_customer: order_models.Customer | None = None,
) -> dict[str, Any]:
    """The delays page (or, after a refused form without htmx, the one
    customer's card): a fixed number of queries whatever the page size."""
    filters = _delays_filter(query)
    page = _page_number(query.get("page"))
    context = _delays_common_context(request, query)
    delayed, has_next = order_selectors.delayed_customers(
        filters=filters,
        page=1 if only_customer is not None else page,
        customer_ids=[only_customer.pk] if only_customer is not None else None,
        with_alternatives=context["can_act"],
    )
    if only_customer is not None and not delayed:
        delayed = [
            order_selectors.DelayedCustomer(
                customer=only_customer, lines=[], days_late=0, times_slipped=0
            )
        ]
    pager_query = query.copy()
    pager_query.pop("page", None)

    def page_url(number: int) -> str:
        pager_query["page"] = str(number)
        return f"?{pager_query.urlencode()}"

    first = (page - 1) * order_selectors.DELAYS_PAGE_SIZE + 1
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


@role_required(Role.CUSTOMER_SERVICE, Role.PURCHASING)
@require_GET
def delays(request: HttpRequest) -> HttpResponse:
    """Customers whose promise slipped or passed, worst first, with what each
    has been told; htmx gets only the list (filters, pages)."""
    context = _delays_page_context(request, request.GET)
    fragment = _is_fragment_request(request)
    context["fragment"] = fragment
    template = f"{DELAYS_TEMPLATE}#delays-list" if fragment else DELAYS_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _delay_customer_or_404(customer_id: int) -> order_models.Customer:
    try:
        return order_selectors.customer_get(customer_id=customer_id)
    except order_models.Customer.DoesNotExist as missing:
        raise Http404(_("No customer %(id)s.") % {"id": customer_id}) from missing


def _delay_line_or_404(customer_id: int, line_id: int) -> order_models.OrderLine:
    try:
        return order_selectors.delay_line_get(customer_id=customer_id, line_id=line_id)
    except order_models.OrderLine.DoesNotExist as missing:
        raise Http404(
            _("Customer %(id)s has no order line %(line)s.") % {"id": customer_id, "line": line_id}
        ) from missing


def _delay_posted(
    customer: order_models.Customer,
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


def _already_submitted(error: ValidationError) -> bool:
    return getattr(error, "code", None) == "already_submitted"


def _delay_answer(
    request: HttpRequest,
    customer: order_models.Customer,
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
    if not _is_fragment_request(request):
        if posted is None:
            (messages.success if notice_level == "success" else messages.info)(request, notice)
            return redirect(_delays_url(query, customer.pk))
        context = _delays_page_context(request, query, posted=posted, only_customer=customer)
        request.nav_path = reverse("delays")  # type: ignore[attr-defined]
        return render(request, DELAYS_TEMPLATE, context)
    context = _delays_common_context(request, query)
    delayed, _has_next = order_selectors.delayed_customers(
        filters=_delays_filter(query), customer_ids=[customer.pk], with_alternatives=True
    )
    if not delayed:
        delayed = [
            order_selectors.DelayedCustomer(
                customer=customer, lines=[], days_late=0, times_slipped=0
            )
        ]
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


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def delay_customer_note(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Email a personal note to a delayed customer about one of their orders."""
    customer = _delay_customer_or_404(customer_id)
    query = _return_query(request.POST.get("return_query"))
    waiting = {o.number: o for o in order_selectors.delay_customer_orders(customer=customer)}
    form = forms.CustomerNoteForm(request.POST, orders=waiting)
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
            if _already_submitted(error):
                return _delay_answer(
                    request, customer, query=query, notice=str(error.message), notice_level="info"
                )
            _form_errors_from(form, error)
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


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def delay_discount(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Issue a discount code for a delayed order and email it to the customer."""
    customer = _delay_customer_or_404(customer_id)
    query = _return_query(request.POST.get("return_query"))
    waiting = {o.number: o for o in order_selectors.delay_customer_orders(customer=customer)}
    low, high = updates.discount_percent_bounds(selectors.compensation_policy_get())
    form = forms.DelayDiscountForm(request.POST, orders=waiting, low=low, high=high)
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
            if _already_submitted(error):
                return _delay_answer(
                    request, customer, query=query, notice=str(error.message), notice_level="info"
                )
            _form_errors_from(form, error)
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


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def delay_order_note(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Add an internal note to one of the customer's orders (never emailed)."""
    customer = _delay_customer_or_404(customer_id)
    query = _return_query(request.POST.get("return_query"))
    waiting = {o.number: o for o in order_selectors.delay_customer_orders(customer=customer)}
    form = forms.OrderNoteForm(request.POST, orders=waiting)
    if form.is_valid():
        try:
            note = order_note_add(
                order=form.cleaned_data["order"],
                body=form.cleaned_data["body"],
                token=form.cleaned_data["token"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            if _already_submitted(error):
                return _delay_answer(
                    request, customer, query=query, notice=str(error.message), notice_level="info"
                )
            _form_errors_from(form, error)
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


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def delay_line_substitute(request: HttpRequest, customer_id: int, line_id: int) -> HttpResponse:
    """Swap a delayed line's backordered remainder to an alternative product;
    the customer is told by email."""
    customer = _delay_customer_or_404(customer_id)
    line = _delay_line_or_404(customer_id, line_id)
    query = _return_query(request.POST.get("return_query"))
    alternatives = vars(line.product)["active_alternatives"]
    form = forms.OrderLineSubstituteForm(request.POST, alternatives=alternatives)
    if form.is_valid():
        try:
            substitution, _email = updates.order_line_substitute(
                line=line,
                product=form.cleaned_data["product"],
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _form_errors_from(form, error)
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


@role_required(Role.CUSTOMER_SERVICE)
@require_POST
def delay_line_cancel(request: HttpRequest, customer_id: int, line_id: int) -> HttpResponse:
    """Cancel a delayed line's backordered remainder; the customer is told."""
    customer = _delay_customer_or_404(customer_id)
    line = _delay_line_or_404(customer_id, line_id)
    query = _return_query(request.POST.get("return_query"))
    form = forms.OrderLineCancelForm(request.POST)
    if form.is_valid():
        try:
            cancellation = updates.order_line_cancel(
                line=line, reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as error:
            _form_errors_from(form, error)
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
