"""Order pages: HTTP only. Roles checked here; querysets from orders.selectors."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2.paginators import LazyPaginator

from config.roles import ALL_ROLES, role_required
from orders.filters import QueueFilter
from orders.selectors import queue_lines
from orders.tables import QueueTable

QUEUE_PAGE_SIZE = 50


def _queue_table(request: HttpRequest) -> tuple[QueueFilter, QueueTable]:
    filters = QueueFilter(request.GET)
    table = QueueTable(queue_lines(filters=filters), order_by=request.GET.getlist("sort"))
    return filters, table


@role_required(*ALL_ROLES)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The backorder queue; an htmx request gets only the table fragment."""
    filters, table = _queue_table(request)
    # LazyPaginator fetches one row past the page instead of counting the queue.
    try:
        table.paginate(
            paginator_class=LazyPaginator,
            per_page=QUEUE_PAGE_SIZE,
            page=request.GET.get("page") or 1,
        )
    except (EmptyPage, PageNotAnInteger):
        table.paginate(paginator_class=LazyPaginator, per_page=QUEUE_PAGE_SIZE, page=1)
    if filters.is_active:
        table.empty_text = format_html(
            '{} <a href="{}">{}</a>',
            _("No waiting lines match these filters."),
            reverse("queue"),
            _("Clear filters"),
        )
    else:
        table.empty_text = _("Nothing is waiting: every order line is covered by stock.")

    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    export_query = request.GET.copy()
    export_query.pop("page", None)
    context = {
        "filters": filters,
        "table": table,
        "sort": request.GET.get("sort", ""),
        "fragment": fragment,
        "export_url": f"{reverse('queue-export')}?{export_query.urlencode()}".rstrip("?"),
    }
    template = "orders/queue.html#queue-table" if fragment else "orders/queue.html"
    response = render(request, template, context)
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


class _Echo:
    """A file-like object whose write() hands back the line, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def _spreadsheet_safe(value: Any) -> Any:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([_spreadsheet_safe(value) for value in row])


@role_required(*ALL_ROLES)
@require_GET
def queue_export(request: HttpRequest) -> StreamingHttpResponse:
    """The queue as CSV, with the page's filters and sort, streamed row by row."""
    _filters, table = _queue_table(request)
    response = StreamingHttpResponse(
        _csv_lines(table.export_rows()), content_type="text/csv; charset=utf-8"
    )
    filename = f"backorder-queue-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
