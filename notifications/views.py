"""Customer links, the outbox and the compensation policy.

Customer links: no login, the signed link is the credential. GET shows what
the link will do and asks to confirm (mail scanners open links; they must not
cancel anything); POST carries it out, once.

The outbox (`/outbox/`) and the policy (`/policy/`) are staff pages: the role
is checked here, for the page and each of its fragments alike.
"""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from config.db import ConcurrencyConflict
from config.roles import Role, has_role, role_required
from notifications import selectors, updates
from notifications.filters import OutboxFilter
from notifications.forms import (
    CompensationPolicyForm,
    MoveExpectedDateForm,
    PurchaseOrderReceiveForm,
)
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_resend, notifications_sweep
from notifications.tables import OutboxTable, held_until, status_badge
from orders.links import LinkError, customer_link_read
from orders.models import CustomerChoice, SalesOrder
from orders.selectors import (
    order_lines_by_id,
    purchase_order_for_receiving,
    purchase_order_get,
    purchase_order_open_lines,
)
from orders.services import ReceiptResult
from orders.views import purchase_order_can_move, purchase_order_context, receive_form_context
from suppliers.models import PurchaseOrder


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
