"""Creating a purchase order: /purchase-orders/new/ (purchasing)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from orders.models import FormSubmission, OrderLine, PromiseRevision
from suppliers.limits import EXPECTED_DATE_MESSAGE, MAX_EXPECTED_DAYS_AHEAD, latest_expected_date
from suppliers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from tests.conftest import Shop
from tests.factories import SupplierFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
NEW = "/purchase-orders/new/"
TOO_FAR = str(EXPECTED_DATE_MESSAGE) % {
    "days": MAX_EXPECTED_DAYS_AHEAD,
    "latest": latest_expected_date().isoformat(),
}


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def form_data(shop: Shop, *lines: tuple[str, Any], **fields: Any) -> dict[str, Any]:
    """A filled-in form: `lines` are (SKU, quantity) rows, the rest left blank."""
    data: dict[str, Any] = {
        "token": uuid.uuid4().hex,
        "supplier": shop.supplier.pk,
        "warehouse": shop.warehouse.pk,
        "expected_date": days(10).isoformat(),
        "notes": "",
        "rows": 5,
    }
    for row in range(5):
        sku, quantity = lines[row] if row < len(lines) else ("", "")
        data[f"sku_{row}"] = sku
        data[f"quantity_{row}"] = quantity
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def error_beside(html: str, field: str) -> str:
    """The text of the message shown under the field `field` (empty if none)."""
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</', html, re.S)
    return match.group(1).strip() if match else ""


def nothing_created() -> tuple[int, int, int]:
    return (
        PurchaseOrder.objects.count(),
        PurchaseOrderLine.objects.count(),
        FormSubmission.objects.count(),
    )


# --- roles ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_log_in(client: Client, method: str) -> None:
    response = getattr(client, method)(NEW)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER_SERVICE])
def test_warehouse_and_customer_service_may_not_create(
    client_as: Callable[..., Client], shop: Shop, role: Role
) -> None:
    product = shop.product(sku="LAMP-1")
    client = client_as(role)
    assert client.get(NEW).status_code == 403
    for headers in ({}, HX):
        response = client.post(NEW, form_data(shop, (product.sku, 5)), headers=headers)
        assert response.status_code == 403
    assert nothing_created() == (0, 0, 0)


def test_the_url_comes_before_the_detail_pattern() -> None:
    assert reverse("purchase-order-new") == NEW
    from django.urls import resolve

    assert resolve(NEW).url_name == "purchase-order-new"
    assert resolve("/purchase-orders/PO-000001/").url_name == "purchase-order"


@pytest.mark.parametrize("superuser", [False, True])
def test_purchasing_gets_the_form(
    client_as: Callable[..., Client], shop: Shop, superuser: bool
) -> None:
    SupplierFactory.create(name="Gone Ltd", active=False)
    client = client_as(superuser=True) if superuser else client_as(Role.PURCHASING)
    response = client.get(NEW)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>New purchase order</h1>" in html
    assert '<select name="supplier"' in html and shop.supplier.name in html
    assert "Gone Ltd" not in html  # inactive suppliers are not offered
    assert '<select name="warehouse"' in html
    assert 'type="date" name="expected_date"' in html
    assert f'min="{timezone.localdate().isoformat()}"' in html
    assert 'name="confirm"' in html and "Confirm now (send to supplier)" in html
    assert 'name="notes"' in html
    assert all(f'name="sku_{row}"' in html for row in range(5))
    assert all(f'name="quantity_{row}"' in html for row in range(5))
    assert 'name="sku_5"' not in html
    assert re.search(r'name="token" value="[0-9a-f]{32}"', html)
    assert 'hx-post="/purchase-orders/new/"' in html


def test_the_only_warehouse_is_chosen_already(client_as: Callable[..., Client], shop: Shop) -> None:
    html = client_as(Role.PURCHASING).get(NEW).content.decode()
    assert f'<option value="{shop.warehouse.pk}" selected>' in html


def test_the_list_links_to_the_form_for_purchasing_only(
    client_as: Callable[..., Client],
) -> None:
    for role in Role:
        html = client_as(role).get(reverse("purchase-orders")).content.decode()
        assert (f'href="{NEW}"' in html) == (role == Role.PURCHASING), role
    assert f'href="{NEW}"' in client_as(superuser=True).get("/purchase-orders/").content.decode()


GET_QUERIES = 7  # session, user, roles, suppliers, warehouses, the only-warehouse check (+1)


def test_the_form_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], shop: Shop, django_assert_max_num_queries
) -> None:
    for _ in range(30):
        SupplierFactory.create()
    client = client_as(Role.PURCHASING)
    with django_assert_max_num_queries(GET_QUERIES):
        assert client.get(NEW).status_code == 200


# --- creating --------------------------------------------------------------------


def test_a_valid_form_creates_a_draft_with_its_lines_and_redirects(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    # given a product a customer waits for, on an estimate
    lamp = shop.product(sku="LAMP-1", name="Desk lamp")
    shop.product(sku="CHAIR-2")
    waiting = shop.order(lamp, 2).lines.get()
    promised_before = (waiting.promised_date, waiting.promise_is_estimate)
    assert promised_before[1] is True
    client = client_as(Role.PURCHASING)

    # when purchasing saves a draft (SKU typed in lower case, with spaces; a blank row between)
    data = form_data(
        shop, ("  lamp-1 ", "12"), ("", ""), ("CHAIR-2", "3"), notes="Call before delivery"
    )
    response = client.post(NEW, data)

    # then there is one draft with both lines, and the browser goes to it
    po = PurchaseOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("purchase-order", args=[po.number])
    assert po.status == PurchaseOrderStatus.DRAFT
    assert (po.supplier, po.warehouse, po.expected_date) == (
        shop.supplier,
        shop.warehouse,
        days(10),
    )
    assert po.notes == "Call before delivery"
    assert po.created_by is not None and po.created_by.groups.filter(name="purchasing").exists()
    assert sorted(po.lines.values_list("product__sku", "ordered", "expected_date")) == [
        ("CHAIR-2", 3, days(10)),
        ("LAMP-1", 12, days(10)),
    ]
    # a draft is not inbound supply: the waiting customer's promise stays as it was
    waiting.refresh_from_db()
    assert (waiting.promised_date, waiting.promise_is_estimate) == promised_before

    page = client.get(response["Location"]).content.decode()
    assert f"{po.number} is saved as a draft for {shop.supplier.name}: 2 lines, 15 units" in page
    assert 'class="message message-success"' in page


def test_confirm_now_orders_it_and_recomputes_the_waiting_promises(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    # given two customers waiting for a lamp on an estimate (21 days out)
    lamp = shop.product(sku="LAMP-1", default_lead_time_days=20)
    first, second = (shop.order(lamp, 2).lines.get() for _ in range(2))
    assert (first.promised_date, first.promise_is_estimate) == (days(21), True)

    # when purchasing orders 10 lamps due in 6 days, confirmed at once
    response = client_as(Role.PURCHASING).post(
        NEW,
        form_data(shop, ("LAMP-1", "10"), expected_date=days(6).isoformat(), confirm="on"),
        follow=True,
    )

    # then it is ordered, and both lines are promised from it: 6 days + 1 handling day
    po = PurchaseOrder.objects.get()
    assert po.status == PurchaseOrderStatus.ORDERED and po.ordered_at is not None
    for line in (first, second):
        line.refresh_from_db()
        assert (line.promised_date, line.promise_is_estimate) == (days(7), False)
        revision = PromiseRevision.objects.filter(line=line).latest("pk")
        assert po.number in revision.cause
    html = response.content.decode()
    assert response.redirect_chain == [(reverse("purchase-order", args=[po.number]), 302)]
    assert f"{po.number} is ordered from {shop.supplier.name}" in html
    assert "2 waiting order lines now have a new promised date" in html


def test_htmx_gets_a_client_redirect_to_the_new_order(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    shop.product(sku="LAMP-1")
    response = client_as(Role.PURCHASING).post(NEW, form_data(shop, ("LAMP-1", "4")), headers=HX)
    po = PurchaseOrder.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("purchase-order", args=[po.number])


def test_the_same_form_submitted_twice_creates_one_purchase_order(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    shop.product(sku="LAMP-1")
    client = client_as(Role.PURCHASING)
    data = form_data(shop, ("LAMP-1", "4"), confirm="on")
    first = client.post(NEW, data)
    assert first.status_code == 302
    counts = nothing_created()
    assert counts == (1, 1, 1)

    again = client.post(NEW, data, follow=True)
    assert nothing_created() == counts
    assert again.redirect_chain[-1][0] == reverse("purchase-orders")
    assert "already submitted" in again.content.decode()

    by_htmx = client.post(NEW, data, headers=HX)
    assert nothing_created() == counts
    assert by_htmx["HX-Redirect"] == reverse("purchase-orders")


# --- refused input: the message beside the field, nothing created -------------------


@pytest.mark.parametrize(
    ("lines", "fields", "field", "message"),
    [
        ([("NOPE-9", "3")], {}, "sku_0", "No product has the SKU NOPE-9."),
        ([("LAMP-1", "0")], {}, "quantity_0", "Enter a whole number of units above zero."),
        ([("LAMP-1", "-2")], {}, "quantity_0", "Enter a whole number of units above zero."),
        ([("LAMP-1", "1.5")], {}, "quantity_0", "Enter a whole number of units above zero."),
        ([("LAMP-1", "lots")], {}, "quantity_0", "Enter a whole number of units above zero."),
        ([("LAMP-1", "")], {}, "quantity_0", "Enter the quantity to order."),
        ([("", "4")], {}, "sku_0", "Enter the SKU of the product."),
        ([], {}, "sku_0", "Add at least one product: its SKU and the quantity to order."),
        (
            [("LAMP-1", "3"), ("lamp-1", "2")],
            {},
            "sku_1",
            "LAMP-1 is already on line 1: combine the quantities there.",
        ),
        (
            [("LAMP-1", "3")],
            {"expected_date": days(-1).isoformat()},
            "expected_date",
            "The expected date cannot be in the past.",
        ),
        (
            [("LAMP-1", "3")],
            {"expected_date": "31/02/2030"},
            "expected_date",
            "Enter a valid date.",
        ),
        ([("LAMP-1", "3")], {"expected_date": ""}, "expected_date", "Enter the expected date."),
        ([("LAMP-1", "3")], {"expected_date": "9999-12-31"}, "expected_date", TOO_FAR),
        (
            [("LAMP-1", "3")],
            {"expected_date": (latest_expected_date() + dt.timedelta(days=1)).isoformat()},
            "expected_date",
            TOO_FAR,
        ),
        ([("LAMP-1", "3")], {"supplier": ""}, "supplier", "Choose the supplier."),
        ([("LAMP-1", "3")], {"supplier": "999999"}, "supplier", "Choose one of the suppliers."),
        ([("LAMP-1", "3")], {"warehouse": ""}, "warehouse", "Choose the warehouse."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_bad_input_shows_the_message_beside_the_field_and_creates_nothing(
    client_as: Callable[..., Client],
    shop: Shop,
    lines: list[tuple[str, str]],
    fields: dict[str, Any],
    field: str,
    message: str,
    headers: dict[str, str],
) -> None:
    shop.product(sku="LAMP-1")
    response = client_as(Role.PURCHASING).post(
        NEW, form_data(shop, *lines, confirm="on", **fields), headers=headers
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert error_beside(html, field) == message
    assert ("<html" in html) == (not headers)  # htmx gets the form alone
    assert 'id="po-new-form"' in html
    assert nothing_created() == (0, 0, 0)


@pytest.mark.parametrize("token", [None, "not-a-token"])
def test_a_form_without_its_token_is_refused(
    client_as: Callable[..., Client], shop: Shop, token: str | None
) -> None:
    shop.product(sku="LAMP-1")
    response = client_as(Role.PURCHASING).post(
        NEW, {**form_data(shop, ("LAMP-1", "3")), "token": token or ""}
    )
    assert response.status_code == 200
    assert "This form is out of date: reload the page and try again." in response.content.decode()
    assert nothing_created() == (0, 0, 0)


def test_a_refused_form_keeps_what_was_typed(client_as: Callable[..., Client], shop: Shop) -> None:
    other = WarehouseFactory.create(code="EAST")
    shop.product(sku="LAMP-1", name="Desk lamp")
    data = form_data(
        shop,
        ("lamp-1", "3"),
        ("NOPE-9", "2"),
        warehouse=other.pk,
        notes="Pallets, please",
        confirm="on",
    )
    html = client_as(Role.PURCHASING).post(NEW, data).content.decode()
    assert f'<option value="{shop.supplier.pk}" selected>' in html
    assert f'<option value="{other.pk}" selected>' in html
    assert 'name="sku_0" value="lamp-1"' in html and 'name="quantity_1" value="2"' in html
    assert "Desk lamp" in html  # the SKU that was found shows its product
    assert "Pallets, please" in html
    assert re.search(r'name="confirm"[^>]*checked', html)
    assert f'name="token" value="{data["token"]}"' in html  # nothing was spent: same form


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (ValidationError({"lines": ["Each product may appear only once."]}), "form"),
        (ValidationError({"expected_date": "The supplier does not deliver then."}), "date"),
        (ValidationError("Something else is wrong."), "form"),
    ],
)
def test_a_refusal_of_the_service_is_shown_not_a_500(
    client_as: Callable[..., Client],
    shop: Shop,
    monkeypatch: pytest.MonkeyPatch,
    error: ValidationError,
    shown: str,
) -> None:
    from notifications import updates

    def refuse(**kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(updates, "purchase_order_create", refuse)
    shop.product(sku="LAMP-1")
    response = client_as(Role.PURCHASING).post(NEW, form_data(shop, ("LAMP-1", "3")))
    html = response.content.decode()
    assert response.status_code == 200
    message = error.messages[0]
    if shown == "date":
        assert error_beside(html, "expected_date") == message
    else:
        assert message in html.split('class="form-error"', 1)[1].split("</div>", 1)[0]
    assert nothing_created() == (0, 0, 0)


def test_an_invalid_line_rolls_back_everything(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    """The service refuses after the token is spent: nothing stays, not even the token."""
    lamp = shop.product(sku="LAMP-1")
    line = shop.order(lamp, 2).lines.get()
    before = (line.promised_date, PromiseRevision.objects.count())
    from notifications import updates
    from suppliers.services import PurchaseLineRequest

    with pytest.raises(ValidationError):
        updates.purchase_order_create(
            supplier=shop.supplier,
            warehouse=shop.warehouse,
            lines=[PurchaseLineRequest(lamp, 2), PurchaseLineRequest(lamp, 3)],
            expected_date=days(5),
            by=shop.clerk,
            confirm=True,
            token=uuid.uuid4().hex,
        )
    line.refresh_from_db()
    assert (line.promised_date, PromiseRevision.objects.count()) == before
    assert nothing_created() == (0, 0, 0)


# --- more rows -------------------------------------------------------------------------


def test_more_rows_keeps_the_values_and_creates_nothing(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    shop.product(sku="LAMP-1")
    data = form_data(shop, ("LAMP-1", "3"), add_rows="1")
    for headers in ({}, HX):
        response = client_as(Role.PURCHASING).post(NEW, data, headers=headers)
        html = response.content.decode()
        assert response.status_code == 200
        assert 'name="sku_9"' in html and 'name="sku_10"' not in html
        assert 'name="rows" value="10"' in html
        assert 'name="sku_0" value="LAMP-1"' in html
        assert 'class="errorlist"' not in html and "form-error" not in html
    assert nothing_created() == (0, 0, 0)


def test_lines_beyond_the_first_five_are_created(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    products = [shop.product(sku=f"P-{n}") for n in range(7)]
    data = form_data(shop, rows=10)
    for row, product in enumerate(products):
        data[f"sku_{row}"], data[f"quantity_{row}"] = product.sku, str(row + 1)
    response = client_as(Role.PURCHASING).post(NEW, data)
    assert response.status_code == 302
    assert PurchaseOrderLine.objects.count() == 7
    assert not OrderLine.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_submits_of_one_form_at_once_create_one_purchase_order(shop: Shop) -> None:
    """A double click that reaches two workers together: the second waits for
    the first on the token's unique index, then creates nothing."""
    import threading

    from django.db import connection

    from notifications import updates
    from suppliers.services import PurchaseLineRequest

    lamp = shop.product(sku="LAMP-1")
    shop.order(lamp, 2)
    token = uuid.uuid4().hex
    start = threading.Barrier(2)
    answers: list[str] = []

    def submit() -> None:
        try:
            start.wait(timeout=10)
            updates.purchase_order_create(
                supplier=shop.supplier,
                warehouse=shop.warehouse,
                lines=[PurchaseLineRequest(lamp, 5)],
                expected_date=days(5),
                by=shop.clerk,
                confirm=True,
                token=token,
            )
            answers.append("created")
        except ValidationError as error:
            answers.append(str(error.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == ["already_submitted", "created"]
    assert nothing_created() == (1, 1, 1)
