"""The lists (/products/, /orders/, /customers/) and the search box (/search/)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from config.roles import Role
from notifications import updates
from orders.services.intake import LineRequest
from tests.conftest import Shop
from tests.factories import (
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    SalesOrderFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def ids(response, kind: str) -> list[str]:
    return re.findall(rf'id="{kind}-row-(\d+)"', response.content.decode())


@pytest.fixture
def many(shop: Shop) -> None:
    """70 products, customers and orders, each order one waiting line."""
    for index in range(70):
        product = ProductFactory.create(sku=f"SKU-{index:03d}", name=f"Widget {index}")
        customer = CustomerFactory.create(name=f"Customer {index:03d}")
        order = SalesOrderFactory.create(customer=customer, warehouse=shop.warehouse)
        OrderLineFactory.create(order=order, product=product, ordered=2)


@pytest.mark.parametrize(
    ("url", "kind"), [("/products/", "product"), ("/orders/", "order"), ("/customers/", "customer")]
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_list_page_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    many: None,
    url: str,
    kind: str,
    headers: dict,
) -> None:
    client = client_as(Role.WAREHOUSE)
    with django_assert_max_num_queries(14):
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert len(ids(response, kind)) == 50
    assert ("<html" in response.content.decode()) == (not headers)
    second = client.get(url, {"page": "2"}, headers=headers)
    assert len(ids(second, kind)) == 20


def test_products_show_their_figures_and_filter_short_ones(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    lamp, chair = shop.product(sku="LAMP"), shop.product(sku="CHAIR")
    shop.receive(chair, 5)
    shop.order(lamp, 3)
    client = client_as(Role.CUSTOMER_SERVICE)

    page = client.get("/products/").content.decode()
    lamp_row = page.split(f'id="product-row-{lamp.pk}"')[1].split("</tr>")[0]
    assert '<span class="badge badge-bad">3</span>' in lamp_row
    assert ids(client.get("/products/", {"short": "on"}), "product") == [str(lamp.pk)]
    assert ids(client.get("/products/", {"q": "cha"}), "product") == [str(chair.pk)]


def test_with_a_warehouse_chosen_the_figures_are_for_it(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    lamp = shop.product(sku="LAMP")
    shop.order(lamp, 3)
    east = WarehouseFactory.create(code="EAST")
    updates.order_place(
        customer=shop.customer(), warehouse=east, lines=[LineRequest(lamp, 5)], by=shop.clerk
    )
    client = client_as(Role.WAREHOUSE)

    def lamp_row(query: dict[str, str]) -> str:
        page = client.get("/products/", query).content.decode()
        return page.split(f'id="product-row-{lamp.pk}"')[1].split("</tr>")[0]

    assert '<span class="badge badge-bad">8</span>' in lamp_row({})
    assert '<span class="badge badge-bad">5</span>' in lamp_row({"warehouse": "EAST"})
    assert '<span class="badge badge-bad">3</span>' in lamp_row({"warehouse": "MAIN"})


def test_orders_filter_by_status_and_customer(client_as: Callable[..., Client], shop: Shop) -> None:
    lamp = shop.product(sku="LAMP")
    shop.receive(lamp, 2)
    ready = shop.order(lamp, 2, customer=shop.customer(name="Ann Ready"))
    waiting = shop.order(lamp, 1, customer=shop.customer(name="Ben Waiting"))
    client = client_as(Role.PURCHASING)

    assert ids(client.get("/orders/", {"status": "waiting"}), "order") == [str(waiting.pk)]
    assert ids(client.get("/orders/", {"status": "ready"}), "order") == [str(ready.pk)]
    assert ids(client.get("/orders/", {"q": "ann"}), "order") == [str(ready.pk)]
    assert set(ids(client.get("/orders/", {"status": "open"}), "order")) == {
        str(ready.pk),
        str(waiting.pk),
    }
    assert ids(client.get("/orders/", {"status": "closed"}), "order") == []


def test_customers_filter_waiting_and_tier(client_as: Callable[..., Client], shop: Shop) -> None:
    lamp = shop.product(sku="LAMP")
    vip = shop.customer(name="Vera", tier=1)
    shop.order(lamp, 1, customer=vip)
    idle = shop.customer(name="Ida")
    client = client_as(Role.WAREHOUSE)
    assert ids(client.get("/customers/", {"waiting": "on"}), "customer") == [str(vip.pk)]
    assert ids(client.get("/customers/", {"tier": "1"}), "customer") == [str(vip.pk)]
    assert str(idle.pk) in ids(client.get("/customers/", {"q": "ida"}), "customer")


@pytest.mark.parametrize(
    "query",
    [
        {"page": "-1"},
        {"page": "9" * 50},
        {"sort": "nope"},
        {"placed_from": "0001-01-01", "placed_to": "9999-12-31"},
        {"placed_from": "soon"},
        {"status": "lost"},
        {"tier": "9"},
        {"warehouse": "NOPE"},
        {"q": "\x00" + "x" * 5000},
    ],
)
@pytest.mark.parametrize("url", ["/products/", "/orders/", "/customers/", "/search/"])
def test_bad_input_is_never_a_500(
    client_as: Callable[..., Client], many: None, url: str, query: dict
) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).get(url, query)
    assert response.status_code in (200, 302)


def test_search_jumps_to_the_one_match(client_as: Callable[..., Client], shop: Shop) -> None:
    lamp = shop.product(sku="LAMP-01", name="Desk lamp")
    ann = shop.customer(name="Ann Example", email="ann@example.com")
    order = shop.order(lamp, 1, customer=ann)
    client = client_as(Role.WAREHOUSE)

    assert (
        client.get("/search/", {"q": order.number.lower()})["Location"]
        == f"/orders/{order.number}/"
    )
    assert client.get("/search/", {"q": " ANN@example.com "})["Location"] == f"/customers/{ann.pk}/"
    assert client.get("/search/", {"q": "lamp-01"})["Location"] == "/products/LAMP-01/"


def test_search_lists_several_matches(client_as: Callable[..., Client], shop: Shop) -> None:
    shop.product(sku="ANNEX-1", name="Annex shelf")
    shop.customer(name="Ann Example")
    shop.customer(name="Annie Other")
    response = client_as(Role.PURCHASING).get("/search/", {"q": "ann"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ann Example" in page and "Annie Other" in page and "ANNEX-1" in page
    nothing = client_as(Role.PURCHASING).get("/search/", {"q": "zzzz"}).content.decode()
    assert "Nothing matches" in nothing


def test_the_top_bar_has_the_search_box(client_as: Callable[..., Client]) -> None:
    page = client_as(Role.WAREHOUSE).get("/").content.decode()
    assert 'action="/search/"' in page and 'name="q"' in page
