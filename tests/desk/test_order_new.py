"""Taking an order on the phone or by email: /orders/new/ (customer service)."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve, reverse

from config.db import ConcurrencyConflict
from config.roles import Role
from inventory.models import BackorderPolicy
from notifications import updates
from notifications.models import Notification
from orders.models import Channel, Customer, FormSubmission, PaymentStatus, SalesOrder, Tier
from tests.conftest import Shop
from tests.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
NEW = "/orders/new/"
CHECK = "/orders/new/availability/"


def form_data(shop: Shop, *lines: tuple[str, Any], **fields: Any) -> dict[str, Any]:
    """A filled-in form for a new customer: `lines` are (SKU, quantity) rows."""
    data: dict[str, Any] = {
        "token": uuid.uuid4().hex,
        "email": "ana@example.com",
        "name": "Ana Putri",
        "language": "id",
        "tier": Tier.STANDARD,
        "warehouse": shop.warehouse.pk,
        "channel": Channel.PHONE,
        "payment_status": PaymentStatus.UNPAID,
        "rows": 5,
    }
    for row in range(5):
        sku, quantity = lines[row] if row < len(lines) else ("", "")
        data[f"sku_{row}"] = sku
        data[f"quantity_{row}"] = quantity
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def error_beside(html: str, field: str) -> str:
    match = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</', html, re.S)
    return html_lib.unescape(match.group(1).strip()) if match else ""


def availability_of(html: str, row: int) -> str:
    """The text of row `row`'s availability cell, whitespace collapsed."""
    match = re.search(rf'id="order-new-availability-{row}"[^>]*>(.*?)</div>', html, re.S)
    assert match, f"no availability for row {row}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


# --- roles ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [NEW, CHECK])
def test_anonymous_is_sent_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.PURCHASING])
def test_only_customer_service_takes_orders(
    client_as: Callable[..., Client], shop: Shop, role: Role, unchanged
) -> None:
    shop.product(sku="LAMP-1")
    client = client_as(role)
    with unchanged():
        assert client.get(NEW).status_code == 403
        assert client.get(CHECK, {"sku_0": "LAMP-1", "quantity_0": "1"}).status_code == 403
        for headers in ({}, HX):
            response = client.post(NEW, form_data(shop, ("LAMP-1", 1)), headers=headers)
            assert response.status_code == 403
    assert not Customer.objects.exists()


def test_the_url_comes_before_the_order_page() -> None:
    assert reverse("order-new") == NEW
    assert resolve(NEW).url_name == "order-new"
    assert resolve("/orders/SO-0000001/").url_name == "order"


@pytest.mark.parametrize("superuser", [False, True])
def test_customer_service_gets_the_form(
    client_as: Callable[..., Client], shop: Shop, superuser: bool
) -> None:
    client = client_as(superuser=True) if superuser else client_as(Role.CUSTOMER_SERVICE)
    html = client.get(NEW).content.decode()
    assert "<h1>New order</h1>" in html
    assert 'type="email" name="email"' in html
    for name in ("name", "language", "tier", "warehouse", "channel", "payment_status"):
        assert f'name="{name}"' in html, name
    assert all(f'name="sku_{row}"' in html for row in range(5))
    assert re.search(r'name="token" value="[0-9a-f]{32}"', html)
    # the first warehouse is chosen already (a select without an empty choice)
    assert re.search(rf'<select name="warehouse"[^>]*>\s*<option value="{shop.warehouse.pk}"', html)
    assert f'hx-get="{CHECK}"' in html and 'hx-post="/orders/new/"' in html
    # phone and email only: a web or marketplace order comes from the shop
    assert '<option value="phone" selected>' in html and '<option value="email">' in html
    assert 'value="web"' not in html


def test_the_navigation_offers_it_to_customer_service_only(
    client_as: Callable[..., Client],
) -> None:
    for role in Role:
        html = client_as(role).get(reverse("home")).content.decode()
        assert (f'href="{NEW}"' in html) == (role == Role.CUSTOMER_SERVICE), role


def test_the_form_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], shop: Shop, django_assert_max_num_queries
) -> None:
    for _ in range(10):
        WarehouseFactory.create()
    client = client_as(Role.CUSTOMER_SERVICE)
    with django_assert_max_num_queries(5):  # session, user, roles, warehouses
        assert client.get(NEW).status_code == 200


# --- placing -------------------------------------------------------------------


@pytest.mark.usefixtures("run_on_commit_at_once")
def test_a_valid_form_places_the_order_and_the_customer_is_told(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    # given a lamp in stock and a chair coming on a purchase order
    lamp = shop.product(sku="LAMP-1", name="Desk lamp")
    chair = shop.product(sku="CHAIR-2")
    shop.receive(lamp, 3)
    shop.purchase(chair, 10, days=6)
    client = client_as(Role.CUSTOMER_SERVICE)

    # when customer service takes an order for a new customer (SKU in lower case)
    response = client.post(
        NEW,
        form_data(
            shop,
            (" lamp-1 ", "2"),
            ("", ""),
            ("CHAIR-2", "4"),
            channel=Channel.EMAIL,
            payment_status=PaymentStatus.PAID,
            tier=Tier.PREFERRED,
        ),
    )

    # then the order exists with both lines, and the browser goes to it
    order = SalesOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("order", args=[order.number])
    assert (order.channel, order.payment_status, order.warehouse) == (
        Channel.EMAIL,
        PaymentStatus.PAID,
        shop.warehouse,
    )
    assert (order.customer.email, order.customer.name, order.customer.tier) == (
        "ana@example.com",
        "Ana Putri",
        Tier.PREFERRED,
    )
    assert order.created_by is not None
    lines = {line.product.sku: line for line in order.lines.select_related("product")}
    assert (lines["LAMP-1"].allocated, lines["CHAIR-2"].backordered) == (2, 4)
    assert Notification.objects.filter(kind="backorder_confirmed", order=order).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert f"{order.number} is placed for Ana Putri: 2 lines. 1 line is backordered" in page


def test_htmx_gets_a_client_redirect_to_the_new_order(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    shop.product(sku="LAMP-1")
    response = client_as(Role.CUSTOMER_SERVICE).post(
        NEW, form_data(shop, ("LAMP-1", "1")), headers=HX
    )
    order = SalesOrder.objects.get()
    assert response["HX-Redirect"] == reverse("order", args=[order.number])


def test_the_same_form_submitted_twice_places_one_order(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    shop.product(sku="LAMP-1")
    client = client_as(Role.CUSTOMER_SERVICE)
    data = form_data(shop, ("LAMP-1", "1"))
    assert client.post(NEW, data).status_code == 302

    again = client.post(NEW, data, follow=True)
    by_htmx = client.post(NEW, data, headers=HX)

    assert (SalesOrder.objects.count(), FormSubmission.objects.count()) == (1, 1)
    assert again.redirect_chain[-1][0] == NEW
    assert "already submitted" in again.content.decode()
    assert by_htmx["HX-Redirect"] == NEW


# --- refused input: the message beside the field, nothing placed ------------------


@pytest.mark.parametrize(
    ("lines", "fields", "field", "message"),
    [
        ([("LAMP-1", "1")], {"email": ""}, "email", "Enter the customer's email address"),
        ([("LAMP-1", "1")], {"email": "ana@"}, "email", "Enter a valid email address"),
        ([("LAMP-1", "1")], {"name": ""}, "name", "Enter the customer's name: this email is new"),
        ([("LAMP-1", "1")], {"language": "fr"}, "language", "Choose one of the languages."),
        ([("LAMP-1", "1")], {"tier": "9"}, "tier", "Choose one of the tiers."),
        ([("LAMP-1", "1")], {"warehouse": "999999"}, "warehouse", "Choose one of the warehouses."),
        ([("LAMP-1", "1")], {"warehouse": "x"}, "warehouse", "Choose one of the warehouses."),
        ([("LAMP-1", "1")], {"channel": "web"}, "channel", "Choose phone or email."),
        ([("LAMP-1", "1")], {"payment_status": "free"}, "payment_status", "Choose one of"),
        ([("NOPE-9", "1")], {}, "sku_0", "No product has the SKU NOPE-9."),
        ([("LAMP-1", "0")], {}, "quantity_0", "Enter a whole number of units above zero."),
        ([("LAMP-1", "")], {}, "quantity_0", "Enter the quantity the customer wants."),
        ([], {}, "sku_0", "Add at least one product"),
        ([("LAMP-1", "1"), ("lamp-1", "2")], {}, "sku_1", "LAMP-1 is already on line 1"),
        (
            [("FLAT-1", "3")],
            {},
            "sku_0",
            "FLAT-1: only 1 in stock and this product is not sold on backorder.",
        ),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_bad_input_shows_the_message_beside_the_field_and_places_nothing(
    client_as: Callable[..., Client],
    shop: Shop,
    unchanged,
    lines: list[tuple[str, str]],
    fields: dict[str, Any],
    field: str,
    message: str,
    headers: dict[str, str],
) -> None:
    shop.product(sku="LAMP-1")
    flat = shop.product(sku="FLAT-1", backorder_policy=BackorderPolicy.DENY)
    shop.receive(flat, 1)
    client = client_as(Role.CUSTOMER_SERVICE)
    with unchanged():
        response = client.post(NEW, form_data(shop, *lines, **fields), headers=headers)
    html = response.content.decode()
    assert response.status_code == 200
    assert error_beside(html, field).startswith(message)
    assert ("<html" in html) == (not headers)  # htmx gets the form alone
    assert not Customer.objects.exists()
    assert not FormSubmission.objects.exists()


def test_a_refused_line_shows_every_line_s_availability(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    lamp = shop.product(sku="LAMP-1", name="Desk lamp")
    shop.receive(lamp, 5)
    shop.product(sku="FLAT-1", backorder_policy=BackorderPolicy.DENY)
    data = form_data(shop, ("LAMP-1", "2"), ("FLAT-1", "1"), email="Ana@Example.com")
    html = client_as(Role.CUSTOMER_SERVICE).post(NEW, data).content.decode()
    assert availability_of(html, 0).startswith("Desk lamp")
    assert "in stock ships by" in availability_of(html, 0)
    assert "cannot be sold" in availability_of(html, 1)
    assert 'name="sku_0" value="LAMP-1"' in html  # as typed
    assert f'name="token" value="{data["token"]}"' in html  # nothing was spent


def test_a_conflict_is_a_message_not_a_500(
    client_as: Callable[..., Client], shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    def conflict(**kwargs: Any) -> Any:
        raise ConcurrencyConflict()

    monkeypatch.setattr(updates, "order_place_for_customer", conflict)
    shop.product(sku="LAMP-1")
    response = client_as(Role.CUSTOMER_SERVICE).post(NEW, form_data(shop, ("LAMP-1", "1")))
    assert response.status_code == 200
    assert 'class="form-error"' in response.content.decode()


def test_more_rows_keeps_the_values_and_places_nothing(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    shop.product(sku="LAMP-1")
    data = {**form_data(shop, ("LAMP-1", "3")), "add_rows": "1"}
    html = client_as(Role.CUSTOMER_SERVICE).post(NEW, data).content.decode()
    assert 'name="sku_9"' in html and 'name="sku_10"' not in html
    assert 'name="sku_0" value="LAMP-1"' in html
    assert not SalesOrder.objects.exists()


# --- the live check ------------------------------------------------------------


def test_the_live_check_promises_what_placing_then_gives(
    client_as: Callable[..., Client], shop: Shop, unchanged
) -> None:
    # given a VIP already waiting for chairs, 6 coming in 6 days and 10 in 20
    chair = shop.product(sku="CHAIR-2", name="Chair")
    shop.purchase(chair, 6, days=6)
    shop.purchase(chair, 10, days=20)
    shop.order(chair, 4, customer=shop.customer(tier=Tier.VIP))
    client = client_as(Role.CUSTOMER_SERVICE)
    data = form_data(shop, ("CHAIR-2", "5"))
    query = {key: value for key, value in data.items() if key != "token"}

    # when the agent types 5 chairs, nothing is written and a date is shown
    with unchanged():
        answer = client.get(CHECK, query, headers=HX)
    html = answer.content.decode()
    assert answer.status_code == 200 and "<html" not in html
    shown = availability_of(html, 0)
    assert shown.startswith("Chair") and "5 backordered" not in shown  # none in stock
    assert "ships complete by" in shown

    # then placing it gives the line the date the check showed
    client.post(NEW, data)
    line = SalesOrder.objects.get(customer__email="ana@example.com").lines.get()
    assert line.promised_date is not None
    assert line.promised_date.strftime("%-d %b %Y") in shown
    assert 'id="order-new-summary"' in html and "1 line, 5 units" in html


def test_the_live_check_names_a_known_customer_and_an_unknown_sku(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    known = shop.customer(email="bram@example.com", name="Bram Visser", tier=Tier.VIP)
    query = {"email": "BRAM@example.com", "sku_0": "NOPE-9", "quantity_0": "1", "rows": "5"}
    html = client_as(Role.CUSTOMER_SERVICE).get(CHECK, query, headers=HX).content.decode()
    assert "known customer" in html and f'href="/customers/{known.pk}/"' in html
    assert "Bram Visser" in html and "VIP" in html
    assert availability_of(html, 0) == "No product has the SKU NOPE-9."
    assert "1 line cannot be placed as typed" in html


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"rows": "100000", "sku_0": "x" * 500, "quantity_0": "-1"},
        {"warehouse": "abc", "tier": "x", "email": "@@"},
        {"sku_0": "LAMP-1", "quantity_0": "99999999999999999999"},
    ],
)
def test_the_live_check_takes_any_query_without_a_500(
    client_as: Callable[..., Client], shop: Shop, query: dict[str, str]
) -> None:
    shop.product(sku="LAMP-1")
    response = client_as(Role.CUSTOMER_SERVICE).get(CHECK, query, headers=HX)
    assert response.status_code == 200
    assert 'id="order-new-summary"' in response.content.decode()


def test_the_live_check_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], shop: Shop, django_assert_max_num_queries
) -> None:
    skus = [shop.product(sku=f"P-{n}").sku for n in range(5)]
    query: dict[str, Any] = {"email": "ana@example.com", "rows": 5}
    for row, sku in enumerate(skus):
        query[f"sku_{row}"], query[f"quantity_{row}"] = sku, 2
    client = client_as(Role.CUSTOMER_SERVICE)
    # session, user, roles, warehouse, customer, products, stock, waiting, queue tails
    with django_assert_max_num_queries(12):
        assert client.get(CHECK, query, headers=HX).status_code == 200
