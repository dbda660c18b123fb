"""Customer links, the outbox and the compensation policy.

Customer links: no login, the signed link is the credential. GET shows what
the link will do and asks to confirm (mail scanners open links; they must not
cancel anything); POST carries it out, once.

The outbox (`/outbox/`) and the policy (`/policy/`) are staff pages: the role
is checked here, for the page and each of its fragments alike.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event
from django_tables2 import RequestConfig
from django_tables2.paginators import LazyPaginator

from config.roles import Role, has_role, role_required
from notifications import selectors, updates
from notifications.filters import OutboxFilter
from notifications.forms import CompensationPolicyForm
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_resend, notifications_sweep
from notifications.tables import OutboxTable, held_until, status_badge
from orders.links import LinkError, customer_link_read
from orders.models import CustomerChoice, SalesOrder


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
