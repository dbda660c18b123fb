"""The lists (`/products/`, `/orders/`, `/customers/`) and the search box
(`/search/?q=`): filters, sorting and lazy paging like the queue; the search
jumps to the one order, customer or product it finds, or lists them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from desk.forms.lists import CustomerListFilter, OrderListFilter, ProductListFilter
from desk.pagination import table_paginate
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.tables.fast_rows import FastRowsTable
from desk.tables.lists import CustomerListTable, OrderListTable, ProductListTable
from inventory.models import Product
from orders.models import Customer, SalesOrder
from orders.selectors.lists import (
    customer_list,
    order_list,
    order_page_complete,
    product_list,
    product_page_complete,
    search,
)

SEARCH_MAX_LENGTH = 200


def _list_page(
    request: HttpRequest,
    *,
    url_name: str,
    filters: Any,
    table: FastRowsTable,
    complete: Callable[[Sequence[Any]], None] | None,
    empty: str,
    title: str,
    lead: str,
    exports: Sequence[tuple[str, str]] = (),
) -> HttpResponse:
    """One list page (or, for htmx, its table): paged lazily, completed per page;
    `exports` are (label, url name) links to the list as a CSV file."""
    # Fetches one row past the page instead of counting.
    table_paginate(table, request.GET.get("page"))
    if complete is not None:
        complete([row.record for row in table.page.object_list])
    if filters.is_active:
        table.empty_text = format_html(
            '{} <a href="{}">{}</a>', empty, reverse(url_name), _("Clear filters")
        )
    else:
        table.empty_text = empty
    fragment = is_fragment_request(request)
    context = {
        "filters": filters,
        "table": table,
        "sort": request.GET.get("sort", ""),
        "fragment": fragment,
        "list_url": reverse(url_name),
        "title": title,
        "lead": lead,
        "exports": [(label, reverse(name)) for label, name in exports],
    }
    template = "desk/list.html#list-table" if fragment else "desk/list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@role_required_for("products")
@require_GET
def products(request: HttpRequest) -> HttpResponse:
    """Every product with its stock, waiting units, inbound supply and shortfall."""
    filters = ProductListFilter(request.GET)
    warehouse = filters.warehouse_chosen
    warehouse_id = warehouse.pk if warehouse is not None else None
    table = ProductListTable(
        product_list(filters=filters, warehouse_id=warehouse_id),
        order_by=request.GET.getlist("sort"),
    )
    return _list_page(
        request,
        url_name="products",
        filters=filters,
        table=table,
        complete=partial(product_page_complete, warehouse_id=warehouse_id),
        empty=_("No products match."),
        title=_("Products"),
        lead=_(
            "Stock, waiting units and inbound supply, over every warehouse or at the one "
            "chosen; short is what no stock or purchase order covers, warehouse by warehouse."
        ),
        exports=[
            (_("Export CSV"), "products-export"),
            (_("Stock count sheet (CSV)"), "stock-counts-export"),
        ],
    )


@role_required_for("orders")
@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    """Every order, newest first."""
    filters = OrderListFilter(request.GET)
    table = OrderListTable(order_list(filters=filters), order_by=request.GET.getlist("sort"))
    return _list_page(
        request,
        url_name="orders",
        filters=filters,
        table=table,
        complete=order_page_complete,
        empty=_("No orders match."),
        title=_("Orders"),
        lead=_("Every order, newest first, with what still waits for stock."),
    )


@role_required_for("customers")
@require_GET
def customers(request: HttpRequest) -> HttpResponse:
    """Every customer, by name."""
    filters = CustomerListFilter(request.GET)
    table = CustomerListTable(customer_list(filters=filters), order_by=request.GET.getlist("sort"))
    return _list_page(
        request,
        url_name="customers",
        filters=filters,
        table=table,
        complete=None,
        empty=_("No customers match."),
        title=_("Customers"),
        lead=_("Every customer, with their orders and the units they wait for."),
        exports=[(_("Export CSV"), "customers-export")],
    )


def _url_of(found: SalesOrder | Customer | Product) -> str:
    if isinstance(found, SalesOrder):
        return reverse("order", args=[found.number])
    if isinstance(found, Customer):
        return reverse("customer", args=[found.pk])
    return reverse("product", args=[found.sku])


@role_required_for("search")
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """The top bar's search: one match opens it, several are listed."""
    # A NUL byte can be in no stored text (and PostgreSQL refuses it in a query).
    text = request.GET.get("q", "")[:SEARCH_MAX_LENGTH].replace("\x00", "").strip()
    results = search(text=text)
    if results.only is not None:
        return redirect(_url_of(results.only))
    return render(request, "desk/search.html", {"q": text, "results": results})
