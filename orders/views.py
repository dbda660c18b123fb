"""Order pages: HTTP only. Roles checked here; querysets from orders.selectors."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_tables2.paginators import LazyPaginator

from config.roles import ALL_ROLES, Role, has_role, role_required
from orders import models, selectors, tables
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
    queue_page_complete,
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
    the action views (notifications.views) to answer with the table again,
    showing a message beside the field that was refused or a notice."""
    filters, table = _queue_table(request, query)
    can_cancel = has_role(request.user, Role.CUSTOMER_SERVICE)
    can_prioritise = has_role(request.user, Role.CUSTOMER_SERVICE, Role.PURCHASING)
    select_all = query.get("select") == "page"
    table.enable_actions(
        can_cancel=can_cancel,
        can_prioritise=can_prioritise,
        select_all=select_all,
        query=_without(query, "select").urlencode(),
        csrf_token=get_token(request),
        errors=row_errors or {},
        values=row_values or {},
    )
    # LazyPaginator fetches one row past the page instead of counting the queue.
    try:
        table.paginate(
            paginator_class=LazyPaginator,
            per_page=QUEUE_PAGE_SIZE,
            page=query.get("page") or 1,
        )
    except (EmptyPage, PageNotAnInteger):
        table.paginate(paginator_class=LazyPaginator, per_page=QUEUE_PAGE_SIZE, page=1)
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
    export_query = _without(query, "page", "select")
    page_query = _without(query, "select")
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


def _without(query: QueryDict, *names: str) -> QueryDict:
    copy = query.copy()
    for name in names:
        copy.pop(name, None)
    return copy


@role_required(*ALL_ROLES)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The backorder queue; an htmx request gets only the table fragment."""
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    context = queue_context(request, query=request.GET, fragment=fragment)
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
    _filters, table = _queue_table(request, export=True)
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
        "can_create": purchase_order_can_create(request.user),
    }
    template = "orders/purchase_orders.html#po-table" if fragment else "orders/purchase_orders.html"
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


# --- ready to ship (/shipping/) --------------------------------------------------

SHIPPING_PAGE_SIZE = 50


@role_required(Role.WAREHOUSE)
@require_GET
def shipping(request: HttpRequest) -> HttpResponse:
    """Orders with allocated units, oldest first, each with its ship form.

    One row past the page is fetched to know whether there is a next page:
    no COUNT(*).
    """
    try:
        page = max(int(request.GET.get("page") or 1), 1)
    except ValueError:
        page = 1
    start = (page - 1) * SHIPPING_PAGE_SIZE
    orders = list(selectors.shipping_orders()[start : start + SHIPPING_PAGE_SIZE + 1])
    context = {
        "orders": orders[:SHIPPING_PAGE_SIZE],
        "page": page,
        "next_page": page + 1 if len(orders) > SHIPPING_PAGE_SIZE else None,
        "previous_page": page - 1 if page > 1 else None,
    }
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "orders/shipping.html#shipping-list" if fragment else "orders/shipping.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- product (/products/<sku>/) -------------------------------------------------


def product_stock_context(
    request: HttpRequest,
    product: Any,
    *,
    adjust_warehouse_id: int | None = None,
    adjust_values: dict[str, Any] | None = None,
    adjust_errors: dict[str, list[str]] | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """The stock table of a product: one row per warehouse with on hand,
    allocated, available, inbound, waiting and the shortfall, and the adjust
    form's values and messages for the warehouse just posted. Also used by the
    adjust view (notifications.views) to answer with the stock fragment."""
    warehouses = selectors.product_warehouses()
    levels = selectors.product_stock_levels(product=product)
    inbound = selectors.product_inbound_lines(product=product)
    waiting = selectors.product_queue_summary(product=product)
    inbound_units: dict[int, int] = {}
    for line in inbound:
        warehouse_id = line.purchase_order.warehouse_id
        inbound_units[warehouse_id] = inbound_units.get(warehouse_id, 0) + line.outstanding
    rows = []
    for warehouse in warehouses:
        level = levels.get(warehouse.pk)
        on_hand = level.on_hand if level else 0
        allocated = level.allocated if level else 0
        summary = waiting.get(warehouse.pk)
        backordered = summary.units if summary else 0
        available = on_hand - allocated
        coming = inbound_units.get(warehouse.pk, 0)
        posted = warehouse.pk == adjust_warehouse_id
        rows.append(
            {
                "warehouse": warehouse,
                "on_hand": on_hand,
                "allocated": allocated,
                "available": available,
                "inbound": coming,
                "backordered": backordered,
                "waiting_lines": summary.lines if summary else 0,
                # Backordered units that neither free stock nor open purchase orders cover.
                "shortfall": max(backordered - max(available, 0) - coming, 0),
                "values": (adjust_values or {}) if posted else {},
                "errors": (adjust_errors or {}) if posted else {},
            }
        )
    return {
        "product": product,
        "stock_rows": rows,
        "inbound": inbound,
        "waiting": waiting,
        "can_adjust": has_role(request.user, Role.WAREHOUSE),
        "adjust_notice": notice,
    }


@role_required(*ALL_ROLES)
@require_GET
def product(request: HttpRequest, sku: str) -> HttpResponse:
    """One product: its facts, stock per warehouse, inbound supply and its queue."""
    item = selectors.product_get(sku=sku)
    context = {
        **product_stock_context(request, item),
        "queue": selectors.product_queue(product=item),
        "queue_limit": selectors.PRODUCT_QUEUE_LIMIT,
        "today": timezone.localdate(),
    }
    context["queue_total"] = sum(summary.lines for summary in context["waiting"].values())
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "orders/product.html#product-detail" if fragment else "orders/product.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- one sales order (/orders/<number>/) and one customer (/customers/<id>/) ----


def order_can_cancel(user: Any) -> bool:
    """Customer service (or a superuser) may cancel a line's backordered remainder."""
    return has_role(user, Role.CUSTOMER_SERVICE)


def order_can_prioritise(user: Any) -> bool:
    """Customer service and purchasing may move a waiting line in the queue."""
    return has_role(user, Role.CUSTOMER_SERVICE, Role.PURCHASING)


def order_lines_context(
    request: HttpRequest,
    order: models.SalesOrder,
    *,
    errors: dict[tuple[int, str], list[str]] | None = None,
    values: dict[tuple[int, str], Any] | None = None,
    notice: str = "",
) -> dict[str, Any]:
    """The lines fragment of the order page: one row per line with its promise
    history, and the forms' values and messages by (line id, "cancel" or
    "priority"). Also used by the action views (notifications.views)."""
    errors = errors or {}
    values = values or {}
    lines = selectors.order_lines(order=order)
    revisions = selectors.order_promise_revisions(order=order)
    rows = [
        {
            "line": line,
            "status_badge": tables.order_status_badge(line.status),
            "revisions": revisions.get(line.pk, []),
            "cancel_errors": errors.get((line.pk, "cancel"), []),
            "cancel_reason": values.get((line.pk, "cancel"), ""),
            "priority_errors": errors.get((line.pk, "priority"), []),
            "priority_value": values.get((line.pk, "priority"), line.priority),
        }
        for line in lines
    ]
    status = order.status_from(lines)
    return {
        "order": order,
        "lines": lines,
        "rows": rows,
        "order_status": status,
        "status_badge": tables.order_status_badge(status),
        "units_waiting": sum(line.backordered for line in lines),
        "has_revisions": bool(revisions),
        "can_cancel": order_can_cancel(request.user),
        "can_prioritise": order_can_prioritise(request.user),
        "lines_notice": notice,
    }


def order_page_context(
    request: HttpRequest, order: models.SalesOrder, **kwargs: Any
) -> dict[str, Any]:
    """Everything the order page shows (a fixed number of queries)."""
    context = order_lines_context(request, order, **kwargs)
    context["audit"] = selectors.order_audit_trail(order=order, lines=context["lines"])
    context["notes"] = selectors.order_notes(order=order)
    return context


def order_or_404(number: str) -> models.SalesOrder:
    try:
        return selectors.order_get(number=number)
    except models.SalesOrder.DoesNotExist as missing:
        raise Http404(_("No order %(number)s.") % {"number": number}) from missing


@role_required(*ALL_ROLES)
@require_GET
def order(request: HttpRequest, number: str) -> HttpResponse:
    """One sales order: lines, promise history, messages (loaded) and audit trail."""
    sales_order = order_or_404(number)
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    if fragment and request.GET.get("part") == "audit":
        lines = selectors.order_lines(order=sales_order)
        audit = selectors.order_audit_trail(order=sales_order, lines=lines)
        context = {"order": sales_order, "audit": audit}
        response = render(request, "orders/order.html#order-audit", context)
    elif fragment:
        context = order_lines_context(request, sales_order)
        response = render(request, "orders/order.html#order-lines", context)
    else:
        response = render(request, "orders/order.html", order_page_context(request, sales_order))
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required(*ALL_ROLES)
@require_GET
def customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    """One customer: facts, their newest orders, messages (loaded) and discount codes."""
    try:
        person = selectors.customer_get(customer_id=customer_id)
    except models.Customer.DoesNotExist as missing:
        raise Http404(_("No customer %(id)s.") % {"id": customer_id}) from missing
    rows = []
    for sales_order in selectors.customer_orders(customer=person):
        lines = list(sales_order.lines.all())
        rows.append(
            {
                "order": sales_order,
                "status_badge": tables.order_status_badge(sales_order.status_from(lines)),
                "lines": len(lines),
                "units_waiting": sum(line.backordered for line in lines),
            }
        )
    context = {
        "customer": person,
        "tier_badge": tables.tier_badge(person.tier),
        "orders": rows,
        "orders_limit": selectors.CUSTOMER_ORDERS_LIMIT,
    }
    fragment = bool(request.htmx) and not request.htmx.history_restore_request  # type: ignore[attr-defined]
    template = "orders/customer.html#customer-orders" if fragment else "orders/customer.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
