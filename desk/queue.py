"""The backorder queue (`/queue/`): every waiting line in allocation order, with
filters, sorting, lazy pagination and a CSV export; its row actions (priority,
cancel the remainder) answer with the updated row and an event."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    trigger_client_event,
)

from config.db import ConcurrencyConflict
from config.roles import Role, has_role
from desk.filters import QueueFilter
from desk.forms.orders import OrderLineCancelForm, OrderLinePriorityForm
from desk.orders import validation_messages
from desk.pagination import PAGE_SIZE, table_paginate
from desk.roles import role_required_for
from desk.shared import is_fragment_request, query_without
from desk.tables.queue import QueueTable
from notifications import updates
from orders.models import OrderLine
from orders.selectors.queue import order_lines_by_id, queue_lines, queue_page_complete

QUEUE_PAGE_SIZE = PAGE_SIZE


def _queue_table(
    request: HttpRequest, query: QueryDict | None = None, *, export: bool = False
) -> tuple[QueueFilter, QueueTable]:
    """The queue table for the filters and sort in `query`: for a page, lines
    alone (the page completes its rows after pagination); for the export,
    every line with its related rows and position."""
    query = request.GET if query is None else query
    filters = QueueFilter(query)
    lines = queue_lines(filters=filters, positions=export, related=export)
    table = QueueTable(lines, order_by=query.getlist("sort"))
    return filters, table


def queue_context(
    request: HttpRequest,
    *,
    query: QueryDict,
    fragment: bool,
    row_errors: dict[int, dict[str, list[str]]] | None = None,
    row_values: dict[int, dict[str, Any]] | None = None,
    bulk_errors: dict[str, list[str]] | None = None,
    bulk_values: dict[str, Any] | None = None,
    notice: str = "",
    notice_level: str = "success",
) -> dict[str, Any]:
    """The queue page (or its table fragment) for the filters, sort and page in
    `query`, with the row and bulk actions the user's role allows. Also used by
    the action views (in desk) to answer with the table again,
    showing a message beside the field that was refused or a notice."""
    filters, table = _queue_table(request, query)
    can_cancel = has_role(request.user, Role.CUSTOMER_SERVICE)
    can_prioritise = has_role(request.user, Role.CUSTOMER_SERVICE, Role.PURCHASING)
    select_all = query.get("select") == "page"
    table.enable_actions(
        can_cancel=can_cancel,
        can_prioritise=can_prioritise,
        select_all=select_all,
        query=query_without(query, "select").urlencode(),
        csrf_token=get_token(request),
        errors=row_errors or {},
        values=row_values or {},
    )
    # Fetches one row past the page instead of counting the queue.
    table_paginate(table, query.get("page"), per_page=QUEUE_PAGE_SIZE)
    queue_page_complete([row.record for row in table.page.object_list])
    if filters.is_active:
        table.empty_text = format_html(
            '{} <a href="{}">{}</a>',
            _("No waiting lines match these filters."),
            reverse("queue"),
            _("Clear filters"),
        )
    else:
        table.empty_text = _("Nothing is waiting: every order line is covered by stock.")
    export_query = query_without(query, "page", "select")
    page_query = query_without(query, "select")
    select_query = page_query.copy()
    select_query["select"] = "page"
    return {
        "filters": filters,
        "table": table,
        "sort": query.get("sort", ""),
        "fragment": fragment,
        "export_url": f"{reverse('queue-export')}?{export_query.urlencode()}".rstrip("?"),
        "query": page_query.urlencode(),
        "queue_url": f"{reverse('queue')}?{page_query.urlencode()}".rstrip("?"),
        "select_all_url": f"{reverse('queue')}?{select_query.urlencode()}",
        "select_all": select_all,
        "can_bulk": can_prioritise,
        "can_notify": can_cancel,
        "bulk_errors": bulk_errors or {},
        "bulk_values": bulk_values or {},
        "notice": notice,
        "notice_level": notice_level,
    }


@role_required_for("queue")
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The backorder queue; an htmx request gets only the table fragment."""
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    context = queue_context(request, query=request.GET, fragment=fragment)
    template = "desk/queue.html#queue-table" if fragment else "desk/queue.html"
    response = render(request, template, context)
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


class _Echo:
    """A file-like object whose write() hands back the line, for csv.writer."""

    def write(self, value: str) -> str:
        return value


# A text cell starting with one of these runs as a formula in a spreadsheet,
# also after leading blanks (spreadsheets skip spaces, tabs and line breaks).
FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\n")


def _spreadsheet_safe(value: Any) -> Any:
    """A text cell that could run as a formula, as text (a leading apostrophe).

    Only text is quoted: numbers (the position, the units) are written as
    numbers, as before.
    """
    if isinstance(value, str) and (
        value[:1] in CONTROL_STARTS or value.lstrip()[:1] in FORMULA_STARTS
    ):
        return "'" + value
    return "" if value is None else value


def _csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([_spreadsheet_safe(value) for value in row])


@role_required_for("queue-export")
@require_GET
def queue_export(request: HttpRequest) -> StreamingHttpResponse:
    """The queue as CSV, with the page's filters and sort, streamed row by row."""
    _filters, table = _queue_table(request, export=True)
    response = StreamingHttpResponse(
        _csv_lines(table.export_rows()), content_type="text/csv; charset=utf-8"
    )
    filename = f"backorder-queue-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


QUEUE_TEMPLATE = "desk/queue.html"


def queue_query(request: HttpRequest) -> QueryDict:
    """The queue page's query string (filters, sort, page) an action form carried."""
    return QueryDict(request.POST.get("query", "")[:2000])


def _queue_url(query: QueryDict) -> str:
    return f"{reverse('queue')}?{query.urlencode()}".rstrip("?")


def _queue_line_or_404(line_id: int) -> OrderLine:
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
    query = queue_query(request)
    fragment = is_fragment_request(request)
    if not fragment and not errors:
        messages.add_message(
            request,
            {"success": messages.SUCCESS, "info": messages.INFO}.get(level, messages.WARNING),
            notice,
        )
        return redirect(_queue_url(query))
    context = queue_context(
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


def _line_label(line: OrderLine) -> str:
    return f"{line.order.number} · {line.product.sku}"


@role_required_for("queue-line-priority")
@require_POST
def queue_line_priority(request: HttpRequest, line_id: int) -> HttpResponse:
    """Set a waiting line's priority from the queue; setting it twice changes nothing."""
    line = _queue_line_or_404(line_id)
    form = OrderLinePriorityForm(request.POST)
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
        return refused(validation_messages(error))
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


@role_required_for("queue-line-cancel")
@require_POST
def queue_line_cancel(request: HttpRequest, line_id: int) -> HttpResponse:
    """Cancel a line's backordered remainder from the queue; the customer is told.

    A second submit (a double click, a resent form) finds nothing waiting and
    answers that the remainder is already cancelled.
    """
    line = _queue_line_or_404(line_id)
    form = OrderLineCancelForm(request.POST)
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
        return refused(validation_messages(error))
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
