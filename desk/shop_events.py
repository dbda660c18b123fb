"""Inbound events (`/shop/events/`): every delivery of the shops' webhooks, its
status and what processing did; a failed one is retried once its mapping is
fixed (a product created, the connection's warehouse set)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event
from django_tables2 import RequestConfig

from api.hooks.services import inbound_event_retry
from api.models import InboundEvent, InboundStatus
from api.selectors import inbound_event_get, inbound_events_list, shop_connections_list
from desk.access import may
from desk.filters import InboundEventFilter
from desk.pagination import page_size, table_paginate
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.tables.shop_events import InboundEventTable, event_status_badge


@role_required_for("shop-events")
@require_GET
def shop_events(request: HttpRequest) -> HttpResponse:
    """Every inbound event, newest first; the table alone for htmx."""
    filterset = InboundEventFilter(request.GET or None, queryset=inbound_events_list())
    filtered = filterset.is_valid() and any(
        value not in (None, "") for value in filterset.form.cleaned_data.values()
    )
    table = InboundEventTable(
        filterset.qs,
        empty_text=_("No events match these filters.")
        if filtered
        else _("No deliveries yet. A connected shop's order webhooks appear here as they arrive."),
    )
    RequestConfig(request, paginate=False).configure(table)
    table_paginate(
        table,
        request.GET.get(table.prefixed_page_field),
        per_page=page_size(request.GET.get(table.prefixed_per_page_field)),
    )
    context = {
        "table": table,
        "filter": filterset,
        "connections": shop_connections_list(),
    }
    template = "desk/shop_events.html"
    if is_fragment_request(request):
        template += "#events-table"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _event_context(request: HttpRequest, event: InboundEvent) -> dict[str, object]:
    try:
        body = json.dumps(json.loads(event.raw_body), indent=2, ensure_ascii=False)
    except ValueError:
        body = event.raw_body
    return {
        "event": event,
        "body": body,
        "status_badge": event_status_badge(event),
        "is_failed": event.status == InboundStatus.FAILED,
        "can_retry": may(request.user, "shop-event-retry"),
    }


@role_required_for("shop-event")
@require_GET
def shop_event(request: HttpRequest, event_id: int) -> HttpResponse:
    """One delivery as it came, and what became of it."""
    event = inbound_event_get(event_id=event_id)
    template = "desk/shop_events.html"
    if is_fragment_request(request):
        template += "#event-detail"
    response = render(request, template, _event_context(request, event))
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required_for("shop-event-retry")
@require_POST
def shop_event_retry(request: HttpRequest, event_id: int) -> HttpResponse:
    """Process a failed event again (in the embedded mode at once, else by a worker)."""
    event = inbound_event_get(event_id=event_id)
    retried = inbound_event_retry(event_id=event.pk, by=request.user)  # type: ignore[arg-type]
    notice = (
        _("The event is processed again.")
        if retried
        else _("Only a failed event can be retried; this one is %(status)s.")
        % {"status": event.get_status_display().lower()}
    )
    if not is_fragment_request(request):
        (messages.success if retried else messages.warning)(request, notice)
        return redirect("shop-event", event_id=event.pk)
    event = inbound_event_get(event_id=event.pk)
    context = {**_event_context(request, event), "notice": notice, "notice_ok": retried}
    response = render(request, "desk/shop_events.html#event-detail", context)
    if retried:
        trigger_client_event(response, "inboundEventRetried", {"id": event.pk})
    return response
