"""The transfers page (/transfers/): the form, the list in transit, receiving,
roles, bad input and a fixed number of queries; the shortfall worklist's link."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from config.roles import Role
from inventory.models import StockLevel, Transfer, TransferStatus
from orders.services.allocation import stock_adjust
from orders.services.intake import LineRequest, order_place
from orders.services.transfers import transfer_ship
from tests.conftest import Shop
from tests.factories import WarehouseFactory

pytestmark = pytest.mark.django_db

PAGE = "/transfers/"
HX = {"HX-Request": "true"}


@pytest.fixture
def east(shop: Shop):
    return WarehouseFactory.create(code="EAST")


@pytest.fixture
def lamp(shop: Shop, east):
    product = shop.product(sku="LAMP", name="The lamp")
    stock_adjust(product=product, warehouse=east, change=10, reason="count", by=shop.clerk)
    return product


def post(client: Client, **fields: object) -> Any:
    data = {"token": uuid.uuid4().hex, **fields}
    return client.post(PAGE, data)


def test_warehouse_ships_a_transfer_from_the_form(
    client_as: Callable[..., Client], shop: Shop, east, lamp
) -> None:
    client = client_as(Role.WAREHOUSE)
    response = post(client, sku="LAMP", from_warehouse="EAST", to_warehouse="MAIN", quantity="4")
    assert response.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.quantity, transfer.from_warehouse, transfer.to_warehouse) == (
        4,
        east,
        shop.warehouse,
    )
    page = client.get(PAGE).content.decode()
    assert f"Transfer {transfer.number} shipped" in page
    assert f'id="transfer-{transfer.pk}"' in page
    assert StockLevel.objects.get(product=lamp, warehouse=east).on_hand == 6


def test_the_same_form_sent_twice_ships_once(
    client_as: Callable[..., Client], shop: Shop, lamp
) -> None:
    client = client_as(Role.WAREHOUSE)
    data = {
        "token": uuid.uuid4().hex,
        "sku": "LAMP",
        "from_warehouse": "EAST",
        "to_warehouse": "MAIN",
        "quantity": "2",
    }
    client.post(PAGE, data)
    client.post(PAGE, data)
    assert Transfer.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"quantity": "0"}, "Enter a whole number of units from 1 to"),
        ({"quantity": "11"}, "Only 10 units are free in EAST"),
        ({"quantity": "abc"}, "Enter a whole number of units."),
        ({"to_warehouse": "EAST"}, "Choose a warehouse other than the one the units leave."),
        ({"sku": "NOPE"}, "No product has the SKU NOPE."),
        ({"from_warehouse": "MARS"}, "Choose a warehouse from the list."),
        ({"sku": ""}, "Enter the SKU of the product to move."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_bad_input_gets_a_message_and_changes_nothing(
    client_as: Callable[..., Client], shop: Shop, lamp, unchanged, fields, message, headers
) -> None:
    client = client_as(Role.WAREHOUSE)
    data = {
        "token": uuid.uuid4().hex,
        "sku": "LAMP",
        "from_warehouse": "EAST",
        "to_warehouse": "MAIN",
        "quantity": "3",
        **fields,
    }
    with unchanged():
        response = client.post(PAGE, data, headers=headers)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body.replace("&#x27;", "'")
    assert "Nothing was shipped" in body
    assert not Transfer.objects.exists()
    if headers:
        assert body.lstrip().startswith('<form id="transfer-form"')


def test_receive_button_allocates_and_says_what_became_ready(
    client_as: Callable[..., Client], shop: Shop, east, lamp
) -> None:
    order = order_place(
        customer=shop.customer(), warehouse=shop.warehouse, lines=[LineRequest(lamp, 3)], by=None
    )
    shipped = transfer_ship(
        product=lamp, from_warehouse=east, to_warehouse=shop.warehouse, quantity=5, by=None
    )
    client = client_as(Role.WAREHOUSE)
    response = client.post(f"/transfers/{shipped.transfer.pk}/receive/", follow=True)
    body = response.content.decode()
    assert f"Transfer {shipped.transfer.number} received: 3 units went to waiting orders" in body
    assert order.number in body
    assert Transfer.objects.get().status == TransferStatus.RECEIVED
    # again: refused with a message, nothing changes
    again = client.post(f"/transfers/{shipped.transfer.pk}/receive/", follow=True)
    assert "already received" in again.content.decode()


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.PURCHASING])
def test_other_roles_read_but_may_not_ship_or_receive(
    client_as: Callable[..., Client], shop: Shop, east, lamp, role
) -> None:
    shipped = transfer_ship(
        product=lamp, from_warehouse=east, to_warehouse=shop.warehouse, quantity=1, by=None
    )
    client = client_as(role)
    page = client.get(PAGE)
    assert page.status_code == 200
    body = page.content.decode()
    assert shipped.transfer.number in body
    assert 'id="transfer-form"' not in body
    assert "/receive/" not in body
    assert post(client, sku="LAMP", from_warehouse="EAST", to_warehouse="MAIN").status_code == 403
    assert client.post(f"/transfers/{shipped.transfer.pk}/receive/").status_code == 403


def test_the_form_is_prefilled_from_the_query(
    client_as: Callable[..., Client], shop: Shop, east
) -> None:
    body = (
        client_as(Role.WAREHOUSE)
        .get(PAGE, {"sku": "LAMP", "from": "EAST", "to": "MAIN", "quantity": "3"})
        .content.decode()
    )
    assert re.search(r'name="sku"[^>]*value="LAMP"', body)
    assert re.search(r'<option value="EAST" selected>', body)
    assert re.search(r'name="quantity"[^>]*value="3"', body)


PAGE_QUERIES = 9


@pytest.mark.parametrize("count", [1, 30])
def test_the_page_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    shop: Shop,
    east,
    lamp,
    count: int,
) -> None:
    products = [lamp] + [shop.product() for _ in range(count - 1)]
    for product in products[1:]:
        stock_adjust(product=product, warehouse=east, change=2, reason="count", by=None)
    for product in products:
        transfer_ship(
            product=product, from_warehouse=east, to_warehouse=shop.warehouse, quantity=1, by=None
        )
    client = client_as(Role.WAREHOUSE)
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(PAGE)
    assert response.content.decode().count('id="transfer-') == count + 1  # + the form


def test_the_list_is_capped(client_as: Callable[..., Client], shop: Shop, east, lamp) -> None:
    from orders.selectors import transfers as selectors

    for _ in range(3):
        transfer_ship(
            product=lamp, from_warehouse=east, to_warehouse=shop.warehouse, quantity=1, by=None
        )
    selectors_limit = selectors.TRANSFERS_LIMIT
    try:
        selectors.TRANSFERS_LIMIT = 2
        page = selectors.transfers_page()
    finally:
        selectors.TRANSFERS_LIMIT = selectors_limit
    assert (len(page.in_transit), page.in_transit_total, page.in_transit_units) == (2, 3, 3)


def test_shortfall_suggests_a_transfer_with_a_prefilled_link(
    client_as: Callable[..., Client], shop: Shop, east, lamp
) -> None:
    order_place(
        customer=shop.customer(), warehouse=shop.warehouse, lines=[LineRequest(lamp, 4)], by=None
    )
    body = client_as(Role.PURCHASING).get("/purchasing/shortfall/").content.decode()
    assert "/transfers/?sku=LAMP&amp;from=EAST&amp;to=MAIN&amp;quantity=4" in body
