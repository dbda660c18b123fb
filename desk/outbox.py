"""The outbox (`/outbox/`): every customer message with its status and body; resend."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)
from django_tables2 import RequestConfig

from config.roles import Role, has_role
from desk.filters import OutboxFilter
from desk.pagination import page_size, table_paginate
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.tables.cells import held_until, status_badge
from desk.tables.outbox import OutboxTable
from notifications.models import (
    Notification,
    NotificationStatus,
)
from notifications.selectors import notification_get_message, notification_list_outbox
from notifications.services.outbox import notification_resend, notifications_sweep
from notifications.services.rendering import customer_links_inert

# The HTML body is shown in a sandboxed `<iframe srcdoc>`: no script runs in it,
# and it inherits the page's CSP. Email HTML is styled with style attributes, so
# the pages that show one allow those (attributes only: no <style>, no script).
email_preview_csp = csp_update({"style-src-attr": [UNSAFE_INLINE]})


@role_required_for("outbox")
@require_GET
@email_preview_csp
def outbox(request: HttpRequest) -> HttpResponse:
    """Every customer message, newest first; the table alone for htmx."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded mode has no beat: opening its inbox sends what is due
        # (combined updates whose window closed). Idempotent, like the sweep.
        notifications_sweep()
    queryset = notification_list_outbox()
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
    RequestConfig(request, paginate=False).configure(table)  # the sort
    table_paginate(
        table,
        request.GET.get(table.prefixed_page_field),
        per_page=page_size(request.GET.get(table.prefixed_per_page_field)),
    )
    context = {"table": table, "filter": filterset, "filtered": filtered}
    template = "desk/outbox.html"
    if is_fragment_request(request):
        template += "#outbox-table"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _message_context(request: HttpRequest, notification: Notification) -> dict[str, object]:
    # The customer's signed links act as the customer: staff see them inert.
    body_text = customer_links_inert(notification.body_text)
    body_html = customer_links_inert(notification.body_html, html=True)
    return {
        "message": notification,
        "body_text": body_text,
        "body_html": body_html,
        "links_inert": body_text != notification.body_text or body_html != notification.body_html,
        "can_resend": has_role(request.user, Role.CUSTOMER_SERVICE),
        "is_failed": notification.status == NotificationStatus.FAILED,
        "held_until": held_until(notification),
        "status_badge": status_badge(notification),
    }


@role_required_for("outbox-message")
@require_GET
@email_preview_csp  # type: ignore[arg-type]  # its stub types views as (request) only
def outbox_message(request: HttpRequest, notification_id: int) -> HttpResponse:
    """One message as the customer got it: full page, or the fragment for htmx."""
    notification = notification_get_message(notification_id=notification_id)
    context = _message_context(request, notification)
    template = "desk/outbox.html"
    if is_fragment_request(request):
        template += "#message-detail"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required_for("outbox-message-resend")
@require_POST
def outbox_message_resend(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Send a failed message again (customer service only)."""
    notification = notification_get_message(notification_id=notification_id)
    resent = notification_resend(notification_ids=[notification.pk], by=request.user)  # type: ignore[arg-type]
    if not is_fragment_request(request):
        if resent:
            messages.success(request, _("The message is back in the outbox and goes out again."))
        else:
            messages.warning(request, _("Only a failed message can be sent again."))
        return redirect("outbox-message", notification_id=notification.pk)
    notification = notification_get_message(notification_id=notification.pk)
    context = {
        **_message_context(request, notification),
        "notice": _("The message is back in the outbox and goes out again.")
        if resent
        else _("Only a failed message can be sent again."),
        "notice_ok": bool(resent),
    }
    response = render(request, "desk/outbox.html#message-detail", context)
    if resent:
        trigger_client_event(
            response,
            "notificationResent",
            {"id": notification.pk, "status": notification.status},
        )
    return response
