"""Webhook deliveries (`/shop/deliveries/`): every event posted to the shops'
storefronts, its status, attempts and last answer; a failed one is sent again."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event
from django_tables2 import RequestConfig

from desk.access import may
from desk.filters import WebhookDeliveryFilter
from desk.pagination import page_size, table_paginate
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.tables.shop_deliveries import WebhookDeliveryTable
from notifications.selectors import webhook_deliveries_list, webhook_delivery_get
from notifications.services.webhooks import webhook_deliveries_sweep, webhook_delivery_retry

EMBEDDED_SWEEP_LIMIT = 3


@role_required_for("shop-deliveries")
@require_GET
def shop_deliveries(request: HttpRequest) -> HttpResponse:
    """Every outbound delivery, newest first; the table alone for htmx."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded mode has no beat: opening the page sends the retries
        # whose time has come, a few at a time (each POST may take up to its
        # timeout, inside this request). Idempotent, like the sweep.
        webhook_deliveries_sweep(limit=EMBEDDED_SWEEP_LIMIT)
    filterset = WebhookDeliveryFilter(request.GET or None, queryset=webhook_deliveries_list())
    filtered = filterset.is_valid() and any(
        value not in (None, "") for value in filterset.form.cleaned_data.values()
    )
    table = WebhookDeliveryTable(
        filterset.qs,
        request=request,
        can_retry=may(request.user, "shop-delivery-retry"),
        empty_text=_("No deliveries match these filters.")
        if filtered
        else _(
            "No deliveries yet. Once a shop subscribes (manage.py webhook_subscribe), "
            "its order events appear here as they are sent."
        ),
    )
    RequestConfig(request, paginate=False).configure(table)
    table_paginate(
        table,
        request.GET.get(table.prefixed_page_field),
        per_page=page_size(request.GET.get(table.prefixed_per_page_field)),
    )
    template = "desk/shop_deliveries.html"
    if is_fragment_request(request):
        template += "#deliveries-table"
    response = render(request, template, {"table": table, "filter": filterset})
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required_for("shop-delivery-retry")
@require_POST
def shop_delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """Send a failed delivery again: back to pending, published after commit."""
    delivery = webhook_delivery_get(delivery_id=delivery_id)
    retried = webhook_delivery_retry(delivery_id=delivery.pk, by=request.user)  # type: ignore[arg-type]
    notice = (
        _("Delivery %(id)s is sent again.") % {"id": delivery.pk}
        if retried
        else _("Only a failed delivery can be sent again; this one is %(status)s.")
        % {"status": delivery.get_status_display().lower()}
    )
    if not is_fragment_request(request):
        (messages.success if retried else messages.warning)(request, notice)
        return redirect("shop-deliveries")
    # The table refreshes itself with its filters on the event.
    response = HttpResponse(status=204)
    trigger_client_event(
        response,
        "webhookDeliveryRetried",
        {"id": delivery.pk, "retried": retried, "notice": notice},
    )
    return response
