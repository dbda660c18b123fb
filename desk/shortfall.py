"""The shortfall worklist (`/purchasing/shortfall/`): per product and warehouse,
the waiting units no stock or open purchase order covers, with a suggested
supplier and quantity; purchasing ticks rows, reviews the draft purchase
orders they make (one per supplier and warehouse) and creates them."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from config.db import ConcurrencyConflict
from desk.access import may
from desk.forms.shortfall import ShortfallDraftForm, ShortfallFilter
from desk.pagination import PAGE_SIZE, table_paginate
from desk.queue import _csv_lines
from desk.roles import role_required_for
from desk.shared import (
    already_submitted,
    client_redirect,
    form_errors_from,
    is_fragment_request,
    query_without,
)
from desk.tables.shortfall import ShortfallTable
from notifications import updates
from orders.selectors.shortfall import (
    BUFFER_PERCENT,
    DraftGroup,
    ShortfallRow,
    draft_groups,
    parse_keys,
    shortfall_rows,
    shortfall_rows_assign,
    shortfall_rows_complete,
)
from suppliers.models import Supplier
from suppliers.services import PurchaseLineRequest

SHORTFALL_TEMPLATE = "desk/shortfall.html"
DRAFT_TEMPLATE = "desk/shortfall_draft.html"
# The most rows one review may draft from (two pages of the worklist).
MAX_DRAFT_ROWS = 2 * PAGE_SIZE


def _rows(query: QueryDict) -> tuple[ShortfallFilter, list[ShortfallRow]]:
    filters = ShortfallFilter(query)
    rows = shortfall_rows(filters=filters, buffer_percent=filters.buffer_percent)
    return filters, filters.rows_matching(rows)


def shortfall_context(request: HttpRequest, *, query: QueryDict, fragment: bool) -> dict[str, Any]:
    filters, rows = _rows(query)
    table = ShortfallTable(rows, order_by=query.getlist("sort"))
    can_draft = may(request.user, "shortfall-draft")
    select_all = query.get("select") == "page"
    if can_draft:
        table.enable_select(selected=set(query.getlist("row")), select_all=select_all)
    # A list in memory: paging it counts nothing in the database.
    table_paginate(table, query.get("page"))
    shortfall_rows_complete([row.record for row in table.page.object_list])
    if filters.is_active:
        table.empty_text = format_html(
            '{} <a href="{}">{}</a>',
            _("No shortfall matches these filters."),
            reverse("shortfall"),
            _("Clear filters"),
        )
    else:
        table.empty_text = _(
            "No shortfall: stock and open purchase orders cover every waiting line."
        )
    page_query = query_without(query, "row", "select")
    export_query = query_without(page_query, "page")
    select_query = page_query.copy()
    select_query["select"] = "page"
    return {
        "filters": filters,
        "table": table,
        "sort": query.get("sort", ""),
        "buffer": filters.buffer_percent,
        "default_buffer": BUFFER_PERCENT,
        "fragment": fragment,
        "can_draft": can_draft,
        "row_count": len(rows),
        "units_short": sum(row.shortfall for row in rows),
        "export_url": f"{reverse('shortfall-export')}?{export_query.urlencode()}".rstrip("?"),
        "query": page_query.urlencode(),
        "select_all": select_all,
        "page_url": f"{reverse('shortfall')}?{page_query.urlencode()}".rstrip("?"),
        "select_all_url": f"{reverse('shortfall')}?{select_query.urlencode()}",
    }


@role_required_for("shortfall")
@require_GET
def shortfall(request: HttpRequest) -> HttpResponse:
    """The worklist; an htmx request (filters, sort, page) gets only the table."""
    fragment = is_fragment_request(request)
    context = shortfall_context(request, query=request.GET, fragment=fragment)
    template = f"{SHORTFALL_TEMPLATE}#shortfall-table" if fragment else SHORTFALL_TEMPLATE
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


EXPORT_HEADER = [
    "sku",
    "product",
    "warehouse",
    "units_short",
    "waiting",
    "available",
    "inbound",
    "uncovered_lines",
    "customers",
    "oldest_placed",
    "free_elsewhere",
    "supplier",
    "supplier_basis",
    "on_time_percent",
    "pack_size",
    "minimum_order",
    "suggested_units",
]


def _export_rows(rows: list[ShortfallRow]) -> Any:
    yield EXPORT_HEADER
    shortfall_rows_complete(rows)
    for row in rows:
        yield [
            row.sku,
            row.product.name,
            row.warehouse_code,
            row.shortfall,
            row.waiting,
            row.available,
            row.inbound,
            row.lines,
            row.customers,
            timezone.localtime(row.oldest_placed_at).date().isoformat(),
            row.free_elsewhere,
            row.supplier_name,
            row.supplier_source,
            "" if row.record is None else (row.record.on_time_percent or ""),
            row.pack_size,
            row.minimum_order,
            row.suggested_quantity,
        ]


@role_required_for("shortfall-export")
@require_GET
def shortfall_export(request: HttpRequest) -> StreamingHttpResponse:
    """The worklist as CSV, with the page's filters, sort and buffer."""
    _filters, rows = _rows(request.GET)
    table = ShortfallTable(rows, order_by=request.GET.getlist("sort"))
    ordered = [row.record for row in table.rows]
    response = StreamingHttpResponse(
        _csv_lines(_export_rows(ordered)), content_type="text/csv; charset=utf-8"
    )
    filename = f"shortfall-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _draft_review(
    request: HttpRequest,
    *,
    groups: list[DraftGroup],
    without: list[ShortfallRow],
    form: ShortfallDraftForm,
    buffer: int,
    notice: str = "",
) -> HttpResponse:
    """The drafts the chosen rows make, for review: nothing is written yet."""
    request.nav_path = reverse("shortfall")  # type: ignore[attr-defined]
    context = {
        "form": form,
        "drafts": form.bound_rows(),
        "without": without,
        "buffer": buffer,
        "keys": [row.key for group in groups for row in group.rows] + [row.key for row in without],
        "notice": notice,
        "suppliers": Supplier.objects.filter(active=True).order_by("name") if without else [],
    }
    return render(request, DRAFT_TEMPLATE, context)


def _chosen_suppliers(request: HttpRequest, rows: list[ShortfallRow]) -> dict[str, Supplier]:
    """The active supplier the review chose for each row that had none
    (`supplier_<row key>`); anything else is left out (one query)."""
    chosen: dict[str, int] = {}
    for row in rows:
        value = request.POST.get(f"supplier_{row.key}", "")
        if row.supplier is None and value.isascii() and value.isdigit() and len(value) < 12:
            chosen[row.key] = int(value)
    if not chosen:
        return {}
    suppliers = Supplier.objects.filter(active=True).in_bulk(set(chosen.values()))
    return {key: suppliers[pk] for key, pk in chosen.items() if pk in suppliers}


def _created_notice(orders: list[Any]) -> str:
    numbers = ", ".join(order.number for order in orders)
    return ngettext(
        "Draft %(numbers)s is saved. Check it and confirm it to send it to the supplier; "
        "no customer's date changes until then.",
        "%(count)d drafts are saved: %(numbers)s. Check each and confirm it to send it to "
        "the supplier; no customer's date changes until then.",
        len(orders),
    ) % {"count": len(orders), "numbers": numbers}


@role_required_for("shortfall-draft")
@require_POST
def shortfall_draft(request: HttpRequest) -> HttpResponse:
    """Review, then create, the draft purchase orders for the chosen rows.

    Without `create` the chosen rows are read afresh and shown as drafts, one
    per supplier and warehouse, with the suggested quantities and dates to
    change: nothing is written. With `create` the reviewed form makes them,
    all or none, through `updates.purchase_order_drafts_create`; one draft
    opens its page, several the list of drafts. The form's one-time token
    makes a second submit create nothing.
    """
    filters = ShortfallFilter(QueryDict(f"buffer={request.POST.get('buffer', '')[:12]}"))
    buffer = filters.buffer_percent
    keys = parse_keys(request.POST.getlist("row"), limit=MAX_DRAFT_ROWS)
    rows = shortfall_rows(keys=keys, buffer_percent=buffer) if keys else []
    shortfall_rows_assign(rows, suppliers=_chosen_suppliers(request, rows), buffer_percent=buffer)
    groups, without = draft_groups(rows)
    if not groups and not without:
        notice = (
            _("Tick the rows to draft purchase orders for; nothing was created.")
            if not keys
            else _("The chosen rows are no longer short: nothing to draft.")
        )
        messages.warning(request, notice)
        return client_redirect(request, reverse("shortfall"))
    if "create" not in request.POST:
        # The first review, or rows given a supplier on it: nothing is written.
        form = ShortfallDraftForm(initial={"token": uuid.uuid4().hex}, groups=groups)
        return _draft_review(request, groups=groups, without=without, form=form, buffer=buffer)
    form = ShortfallDraftForm(request.POST, groups=groups)
    if form.is_valid():
        drafts = []
        for group in groups:
            lines = [
                PurchaseLineRequest(product=row.product, quantity=quantity)
                for row in group.rows
                if (quantity := form.cleaned_data[f"quantity_{row.key}"])
            ]
            if lines:
                drafts.append(
                    updates.DraftRequest(
                        supplier=group.supplier,
                        warehouse=group.warehouse,
                        lines=lines,
                        expected_date=form.cleaned_data[f"expected_{group.key}"],
                    )
                )
        try:
            created = updates.purchase_order_drafts_create(
                drafts=drafts,
                token=form.cleaned_data["token"],
                notes=_("Drafted from the shortfall worklist."),
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            if already_submitted(error):
                messages.info(request, error.message)
                return client_redirect(request, f"{reverse('purchase-orders')}?status=draft")
            form_errors_from(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _created_notice(created))
            if len(created) == 1:
                return client_redirect(request, reverse("purchase-order", args=[created[0].number]))
            return client_redirect(request, f"{reverse('purchase-orders')}?status=draft")
    return _draft_review(
        request,
        groups=groups,
        without=without,
        form=form,
        buffer=buffer,
        notice=_("Nothing was created: check the fields marked below."),
    )
