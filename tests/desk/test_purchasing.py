"""The purchase order pages: /purchase-orders/ and /purchase-orders/<number>/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from orders.services.intake import LineRequest, order_place
from tests.conftest import Shop
from tests.factories import PurchaseOrderFactory, PurchaseOrderLineFactory, SupplierFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
LIST = "/purchase-orders/"


def detail(number: str) -> str:
    return reverse("purchase-order", args=[number])


def waiting_on(shop: Shop, days: int = 6, customers: int = 3):
    """A purchase order due in `days` with `customers` waiting on it (2 units each)."""
    product = shop.product(name="Rattan lounge chair")
    po = shop.purchase(product, 10, days=days)
    for _ in range(customers):
        order_place(
            customer=shop.customer(),
            warehouse=shop.warehouse,
            lines=[LineRequest(product, 2)],
            by=shop.clerk,
        )
    return po


@pytest.mark.parametrize("url", [LIST, "detail"])
def test_anonymous_is_sent_to_log_in(client: Client, shop: Shop, url: str) -> None:
    po = waiting_on(shop, customers=0)
    response = client.get(detail(po.number) if url == "detail" else url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_views_the_list_and_the_detail(
    client_as: Callable[..., Client], shop: Shop, role: Role
) -> None:
    po = waiting_on(shop, customers=1)
    client = client_as(role)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert po.number in listing.content.decode()
    page = client.get(detail(po.number))
    assert page.status_code == 200
    html = page.content.decode()
    assert po.number in html and "Waiting on this order" in html
    # Only purchasing gets the form that moves the date.
    assert ('id="move-form"' in html) == (role == Role.PURCHASING)


def test_a_user_without_a_role_gets_403(client_as: Callable[..., Client], shop: Shop) -> None:
    po = waiting_on(shop, customers=0)
    client = client_as()
    assert client.get(LIST).status_code == 403
    assert client.get(detail(po.number)).status_code == 403


def test_an_unknown_number_is_a_404(client_as: Callable[..., Client]) -> None:
    assert client_as(Role.WAREHOUSE).get(detail("PO-NOPE")).status_code == 404


def test_the_list_shows_open_orders_by_default_and_filters_by_status_and_supplier(
    client_as: Callable[..., Client],
) -> None:
    acme, other = SupplierFactory.create(name="Acme"), SupplierFactory.create(name="Other")
    open_po = PurchaseOrderFactory.create(number="PO-OPEN", supplier=acme)
    PurchaseOrderLineFactory.create(purchase_order=open_po, ordered=10, received=4)
    PurchaseOrderLineFactory.create(purchase_order=open_po, ordered=5)
    PurchaseOrderFactory.create(number="PO-DONE", supplier=acme, status="received")
    PurchaseOrderFactory.create(number="PO-OTHER", supplier=other)
    client = client_as(Role.CUSTOMER_SERVICE)

    html = client.get(LIST).content.decode()
    assert "PO-OPEN" in html and "PO-OTHER" in html and "PO-DONE" not in html
    row = html.split(f'id="po-list-row-{open_po.pk}"', 1)[1].split("</tr>", 1)[0]
    assert ' class="num">2</td>' in row  # lines
    assert ' class="num">11</td>' in row  # units outstanding: 6 + 5
    assert "Ordered</span>" in row  # the status badge has text

    received = client.get(LIST, {"status": "received"}).content.decode()
    assert "PO-DONE" in received and "PO-OPEN" not in received

    by_supplier = client.get(LIST, {"supplier": other.pk}, headers=HX)
    fragment = by_supplier.content.decode()
    assert "<html" not in fragment
    assert "PO-OTHER" in fragment and "PO-OPEN" not in fragment
    assert by_supplier["Vary"].count("HX-Request")


def test_the_detail_shows_lines_waiting_customers_and_history(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    from notifications import updates

    po = waiting_on(shop, days=6, customers=3)
    other_po = waiting_on(shop, days=6, customers=1)  # someone else's order
    updates.purchase_order_move_expected_date(
        purchase_order=po,
        new_date=timezone.localdate() + dt.timedelta(days=8),
        reason="port delay",
        by=shop.clerk,
    )
    response = client_as(Role.WAREHOUSE).get(detail(po.number))
    html = response.content.decode()
    waiting = html.split('id="po-waiting"', 1)[1].split("</section>", 1)[0]
    assert waiting.count('id="waiting-line-') == 3
    assert "6 backordered units of 3 customers" in waiting
    history = html.split('id="po-history"', 1)[1].split("</section>", 1)[0]
    assert "port delay" in history and "+2" in history and "clerk" in history
    other = client_as(Role.WAREHOUSE).get(detail(other_po.number)).content.decode()
    assert other.split('id="po-waiting"', 1)[1].count('id="waiting-line-') == 1


def test_the_detail_fragment_for_htmx(client_as: Callable[..., Client], shop: Shop) -> None:
    po = waiting_on(shop, customers=1)
    response = client_as(Role.PURCHASING).get(detail(po.number), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="po-detail"' in html


def test_a_received_order_shows_no_move_form(client_as: Callable[..., Client]) -> None:
    po = PurchaseOrderFactory.create(status="received")
    html = client_as(Role.PURCHASING).get(detail(po.number)).content.decode()
    assert 'id="move-form"' not in html


LIST_QUERIES = 6  # session, user, roles, supplier choices, the page of orders (+1 spare)
DETAIL_QUERIES = 8  # session, user, roles, order, lines, waiting, history (+1 spare)


def test_the_list_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], django_assert_max_num_queries
) -> None:
    for _ in range(60):
        PurchaseOrderLineFactory.create()
    client = client_as(Role.PURCHASING)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(LIST)
    assert response.content.decode().count('id="po-list-row-') == 50
    with django_assert_max_num_queries(LIST_QUERIES):
        client.get(LIST, {"page": "2", "sort": "-units_outstanding"}, headers=HX)


def test_the_detail_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], shop: Shop, django_assert_max_num_queries
) -> None:
    from notifications import updates

    po = waiting_on(shop, customers=5)
    for days in (8, 9, 12):
        updates.purchase_order_move_expected_date(
            purchase_order=po,
            new_date=timezone.localdate() + dt.timedelta(days=days),
            reason="again",
            by=shop.clerk,
        )
    client = client_as(Role.PURCHASING)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(detail(po.number))
    assert response.content.decode().count('id="waiting-line-') == 5


@pytest.mark.parametrize("page", ["3", str(10**30), "9" * 5000])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_page_past_the_end_shows_the_last_page(
    client_as: Callable[..., Client], page: str, headers: dict[str, str]
) -> None:
    for _ in range(51):
        PurchaseOrderLineFactory.create()

    response = client_as(Role.PURCHASING).get(LIST, {"page": page}, headers=headers)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('id="po-list-row-') == 1
    assert "Page 2" in html
