"""Order pages: HTTP only. Roles checked here; querysets from orders.selectors."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2.paginators import LazyPaginator

from config.roles import ALL_ROLES, Role, has_role, role_required
from orders.filters import PurchaseOrderFilterForm, QueueFilter
from orders.selectors import (
    purchase_order_date_moves,
    purchase_order_for_receiving,
    purchase_order_get,
    purchase_order_lines,
    purchase_order_list,
    purchase_order_open_lines,
    purchase_order_receipt_state,
    purchase_order_waiting_lines,
    queue_lines,
    receiving_purchase_orders,
)
from orders.tables import PurchaseOrderTable, QueueTable, ReceivingTable, po_status_badge
from suppliers.models import (
    OPEN_PO_STATUSES,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)

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


# --- receiving ---------------------------------------------------------------

RECEIVING_PAGE_SIZE = 50


@role_required(Role.WAREHOUSE, Role.PURCHASING)
@require_GET
def receiving(request: HttpRequest) -> HttpResponse:
    """The open purchase orders, soonest expected first, each linking to its receive form."""
    table = ReceivingTable(
        receiving_purchase_orders(),
        empty_text=_("No purchase order is waiting to be received."),
    )
    try:
        table.paginate(
            paginator_class=LazyPaginator,
            per_page=RECEIVING_PAGE_SIZE,
            page=request.GET.get("page") or 1,
        )
    except (EmptyPage, PageNotAnInteger):
        table.paginate(paginator_class=LazyPaginator, per_page=RECEIVING_PAGE_SIZE, page=1)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "orders/receiving.html#receiving-table" if fragment else "orders/receiving.html"
    response = render(request, template, {"table": table})
    patch_vary_headers(response, ["HX-Request"])
    return response


def receive_form_context(
    *,
    purchase_order: PurchaseOrder,
    lines: list[PurchaseOrderLine],
    values: dict[int, Any] | None = None,
    errors: dict[int, list[str]] | None = None,
    form_errors: list[str] | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    """The context of the receive form: one row per open line with the value
    typed in and the message beside it. Also used by the submit view
    (notifications.views) to show the form again with its errors."""
    values = values or {}
    errors = errors or {}
    rows = [
        {
            "line": line,
            "name": f"line_{line.pk}",
            "value": "" if values.get(line.pk) in (None, "") else values[line.pk],
            "errors": errors.get(line.pk, []),
        }
        for line in lines
    ]
    return {
        "purchase_order": purchase_order,
        "rows": rows,
        "form_errors": form_errors or [],
        "receipt_state": state
        if state is not None
        else purchase_order_receipt_state(purchase_order_id=purchase_order.pk),
        "units_outstanding": sum(line.outstanding for line in lines),
        "overdue": purchase_order.expected_date < timezone.localdate(),
    }


@role_required(Role.WAREHOUSE)
@require_GET
def purchase_order_receive(request: HttpRequest, number: str) -> HttpResponse:
    """The receive form of one purchase order; `?fill=all` fills in every
    outstanding quantity (the "Receive all outstanding" button, no script)."""
    purchase_order = purchase_order_for_receiving(number=number)
    lines = purchase_order_open_lines(purchase_order=purchase_order)
    values: dict[int, Any] = (
        {line.pk: line.outstanding for line in lines} if request.GET.get("fill") == "all" else {}
    )
    context = receive_form_context(purchase_order=purchase_order, lines=lines, values=values)
    request.nav_path = reverse("receiving")  # type: ignore[attr-defined]
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = (
        "orders/purchase_order_receive.html#receive-form"
        if fragment
        else "orders/purchase_order_receive.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- purchase orders (/purchase-orders/) ----------------------------------------

PURCHASE_ORDER_PAGE_SIZE = 50


@role_required(*ALL_ROLES)
@require_GET
def purchase_orders(request: HttpRequest) -> HttpResponse:
    """Purchase orders, open ones by default; an htmx request gets only the table."""
    filters = PurchaseOrderFilterForm(request.GET)
    table = PurchaseOrderTable(
        purchase_order_list(**filters.filters()), order_by=request.GET.getlist("sort")
    )
    # LazyPaginator fetches one row past the page instead of counting.
    try:
        table.paginate(
            paginator_class=LazyPaginator,
            per_page=PURCHASE_ORDER_PAGE_SIZE,
            page=request.GET.get("page") or 1,
        )
    except (EmptyPage, PageNotAnInteger):
        table.paginate(paginator_class=LazyPaginator, per_page=PURCHASE_ORDER_PAGE_SIZE, page=1)
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
    }
    template = "orders/purchase_orders.html#po-table" if fragment else "orders/purchase_orders.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def purchase_order_can_move(user: Any, purchase_order: PurchaseOrder) -> bool:
    """Purchasing (or a superuser) may move the dates of a draft or open order."""
    movable = purchase_order.status in (PurchaseOrderStatus.DRAFT, *OPEN_PO_STATUSES)
    return movable and has_role(user, Role.PURCHASING)


def purchase_order_context(request: HttpRequest, purchase_order: PurchaseOrder) -> dict[str, Any]:
    """Everything the detail page shows of one purchase order (four queries)."""
    lines = purchase_order_lines(purchase_order=purchase_order)
    waiting = purchase_order_waiting_lines(purchase_order=purchase_order)
    return {
        "po": purchase_order,
        "status_badge": po_status_badge(purchase_order),
        "lines": lines,
        "ordered_total": sum(line.ordered for line in lines),
        "received_total": sum(line.received for line in lines),
        "outstanding_total": sum(line.outstanding for line in lines),
        "waiting": waiting,
        "waiting_units": sum(vars(line)["units_waiting"] for line in waiting),
        "waiting_customers": len({line.order.customer_id for line in waiting}),
        "moves": purchase_order_date_moves(purchase_order=purchase_order),
        "can_move": purchase_order_can_move(request.user, purchase_order),
        "today": timezone.localdate(),
    }


@role_required(*ALL_ROLES)
@require_GET
def purchase_order(request: HttpRequest, number: str) -> HttpResponse:
    """One purchase order: lines, who waits on it, and every move of its date."""
    try:
        order = purchase_order_get(number=number)
    except PurchaseOrder.DoesNotExist as missing:
        raise Http404(_("No purchase order %(number)s.") % {"number": number}) from missing
    context = purchase_order_context(request, order)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "orders/purchase_order.html#po-detail" if fragment else "orders/purchase_order.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
