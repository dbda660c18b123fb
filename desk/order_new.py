"""A new sales order (`/orders/new/`): customer service takes a phone or email
order, seeing as they type what each line would get (in stock, or backordered
and when it would ship), through the same use case as the storefront API."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from config.db import ConcurrencyConflict
from desk.forms.order_new import OrderCreateForm
from desk.forms.sku_lines import SKU_LINE_MAX_ROWS
from desk.roles import role_required_for
from desk.shared import already_submitted, client_redirect, form_errors_from, is_fragment_request
from inventory.models import Warehouse
from notifications import updates
from orders.models import SalesOrder
from orders.selectors.availability import LineAvailability, line_availabilities
from orders.services.intake import LineRequest

ORDER_NEW_TEMPLATE = "desk/order_new.html"

ORDER_NEW_MORE_ROWS = 5


@dataclass(frozen=True)
class RowAvailability:
    """What one typed row would get, or why it cannot be checked yet."""

    index: int
    answer: LineAvailability | None
    problem: str


@dataclass(frozen=True)
class OrderPreview:
    """The order as typed so far: each row's availability, and the lines that
    can be placed as they stand with their units, total and ship date."""

    rows: list[RowAvailability]

    @property
    def sellable(self) -> list[LineAvailability]:
        return [row.answer for row in self.rows if row.answer is not None and row.answer.sellable]

    @property
    def units(self) -> int:
        return sum(answer.quantity for answer in self.sellable)

    @property
    def total(self) -> Decimal:
        return sum((answer.product.price * answer.quantity for answer in self.sellable), Decimal(0))

    @property
    def refused(self) -> int:
        """Rows typed that cannot be placed: not sellable, or naming no product."""
        return sum(
            1
            for row in self.rows
            if (row.answer is not None and not row.answer.sellable)
            or (row.answer is None and row.problem)
        )

    @property
    def complete_by(self) -> dt.date | None:
        """When the whole order would have shipped; None while a row is refused."""
        dates = [answer.promised_date for answer in self.sellable if answer.promised_date]
        return max(dates) if dates and not self.refused else None


def _order_preview(form: OrderCreateForm) -> OrderPreview:
    """Availability of every row of a (validated) form whose SKU and quantity
    are valid, in its warehouse and for its customer's tier; nothing is written."""
    cleaned = getattr(form, "cleaned_data", {})
    warehouse = cleaned.get("warehouse") or Warehouse.objects.order_by("code").first()
    checks = form.rows_to_check()
    answers: dict[int, LineAvailability] = {}
    if checks and warehouse is not None:
        found = line_availabilities(
            warehouse=warehouse,
            lines=[(product, quantity) for _row, product, quantity in checks],
            tier=form.placing_tier(),
        )
        answers = {row: answer for (row, _p, _q), answer in zip(checks, found, strict=True)}
    rows = []
    for row in range(form.row_count):
        sku_typed = bool((form.data.get(f"sku_{row}") or "").strip())
        problem = " ".join(str(e) for e in form.errors.get(f"sku_{row}", [])) if sku_typed else ""
        rows.append(RowAvailability(index=row, answer=answers.get(row), problem=problem))
    return OrderPreview(rows=rows)


def _order_new_page(
    request: HttpRequest, form: OrderCreateForm, preview: OrderPreview | None = None
) -> HttpResponse:
    """The form, with each message beside its field; nothing was placed."""
    template = ORDER_NEW_TEMPLATE
    if is_fragment_request(request):
        template += "#order-new-form"
    checks = {row.index: row for row in preview.rows} if preview else {}
    context = {
        "form": form,
        "line_rows": [{**row, "check": checks.get(row["index"])} for row in form.line_rows()],
        "max_rows": SKU_LINE_MAX_ROWS,
        "preview": preview,
    }
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _lines_refused(form: OrderCreateForm, error: ValidationError) -> None:
    """Intake's reasons beside the rows they name (each starts with the SKU);
    anything else above the form."""
    reasons = dict(getattr(error, "message_dict", {}))
    by_sku = {product.sku: row for row, product in form.products.items()}
    for reason in reasons.pop("lines", []):
        sku = next((s for s in by_sku if reason.startswith((f"{s}:", f"{s} "))), None)
        form.add_error(f"sku_{by_sku[sku]}" if sku is not None else None, reason)
    if reasons:
        form_errors_from(form, ValidationError(reasons))


def _order_placed_notice(order: SalesOrder) -> str:
    lines = list(order.lines.all())
    waiting = [line for line in lines if line.backordered]
    notice = _("%(number)s is placed for %(customer)s: %(lines)s.") % {
        "number": order.number,
        "customer": order.customer.name,
        "lines": ngettext("%(count)d line", "%(count)d lines", len(lines)) % {"count": len(lines)},
    }
    if not waiting:
        return notice + " " + _("Everything is in stock and allocated.")
    dates = [line.promised_date for line in waiting if line.promised_date]
    notice += " " + ngettext(
        "%(count)d line is backordered",
        "%(count)d lines are backordered",
        len(waiting),
    ) % {"count": len(waiting)}
    if dates:
        notice += " " + _("(ships complete by %(date)s)") % {
            "date": date_format(max(dates), "SHORT_DATE_FORMAT")
        }
    return notice + "; " + _("the customer is emailed the confirmation with that date.")


@role_required_for("order-new")
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest) -> HttpResponse:
    """Take an order: the customer (by email), warehouse, channel, payment and
    lines by SKU, placed through `updates.order_place_for_customer` (the
    backorder confirmation email included).

    A refused form answers 200 with the messages beside the fields and each
    line's availability (htmx: the form alone); a placed order redirects to its
    page (htmx: HX-Redirect). The form's one-time token makes a second submit
    place nothing.
    """
    if request.method == "GET":
        return _order_new_page(request, OrderCreateForm(initial={"token": uuid.uuid4().hex}))
    if "add_rows" in request.POST:
        # "More rows": the same form again, as typed, with five empty rows more.
        rows = OrderCreateForm.rows_posted(request.POST) + ORDER_NEW_MORE_ROWS
        return _order_new_page(request, OrderCreateForm(initial=request.POST.dict(), rows=rows))
    form = OrderCreateForm(request.POST)
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            order = updates.order_place_for_customer(
                email=data["email"],
                name=data["name"],
                language=data["language"],
                tier=data["tier"],
                token=data["token"],
                warehouse=data["warehouse"],
                lines=[LineRequest(product, quantity) for product, quantity in form.typed_lines],
                by=request.user,
                channel=data["channel"],
                payment_status=data["payment_status"],
            )
        except ValidationError as error:
            if already_submitted(error):
                messages.info(request, error.message)
                return client_redirect(request, reverse("order-new"))
            # Each line's availability as it stood, before intake's reasons mark the rows.
            preview = _order_preview(form)
            _lines_refused(form, error)
        except ConcurrencyConflict as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _order_placed_notice(order))
            return client_redirect(request, reverse("order", args=[order.number]))
    return _order_new_page(request, form, preview or _order_preview(form))


@role_required_for("order-new-availability")
@require_GET
def order_new_availability(request: HttpRequest) -> HttpResponse:
    """The live check as the agent types (htmx, the form's fields as the query):
    the customer found by the email, and per row what it would get now and
    when it would ship. Writes nothing; a form with mistakes is checked as far
    as it goes."""
    form = OrderCreateForm(request.GET)
    form.is_valid()
    preview = _order_preview(form)
    context = {"form": form, "preview": preview}
    response = render(request, ORDER_NEW_TEMPLATE + "#order-new-availability", context)
    patch_vary_headers(response, ("HX-Request",))
    return response
