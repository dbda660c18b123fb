"""The ready-to-ship page: /shipping/."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from orders.models import SalesOrder
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
SHIPPING = "/shipping/"


def ready(shop: Shop, units: int, *, extra: int = 0, days_ago: int = 1, **product: object):
    """An order of `units + extra` units of a new product with `units` allocated."""
    item = shop.product(**product)
    order = shop.order(item, units + extra, placed_at=timezone.now() - dt.timedelta(days=days_ago))
    shop.receive(item, units)
    return order


def order_numbers(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", chunk.split('class="order-number">', 1)[1].split("</h2>", 1)[0])
        for chunk in html.split('<article id="ship-order-')[1:]
    ]


def test_url_names() -> None:
    assert reverse("shipping") == SHIPPING
    assert reverse("order-ship", args=["SO-1"]) == "/shipping/SO-1/ship/"


@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(client: Client, headers: dict[str, str]) -> None:
    response = client.get(SHIPPING, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.WAREHOUSE, 200),
        (Role.CUSTOMER_SERVICE, 403),
        (Role.PURCHASING, 403),
        (None, 403),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_role_matrix(
    client_as: Callable[..., Client], role: Role | None, status: int, headers: dict[str, str]
) -> None:
    client = client_as(role) if role else client_as()

    assert client.get(SHIPPING, headers=headers).status_code == status


def test_superuser_may_open_it(client_as: Callable[..., Client]) -> None:
    assert client_as(superuser=True).get(SHIPPING).status_code == 200


def test_in_the_navigation_for_the_warehouse_only(client_as: Callable[..., Client]) -> None:
    assert b'href="/shipping/"' in client_as(Role.WAREHOUSE).get("/queue/").content
    assert b'href="/shipping/"' not in client_as(Role.PURCHASING).get("/queue/").content


def test_lists_orders_with_allocated_units_oldest_first(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    # given
    newer = ready(shop, 2, days_ago=1, sku="NEW-1", name="New lamp")
    older = ready(shop, 3, extra=4, days_ago=5, sku="OLD-1", name="Old chair")
    waiting = shop.order(shop.product(sku="WAIT-1"), 2)  # nothing allocated

    # when
    response = client_as(Role.WAREHOUSE).get(SHIPPING)

    # then
    html = response.content.decode()
    assert order_numbers(html) == [older.number, newer.number]
    assert waiting.number not in html
    old_card = html.split(f'id="ship-order-{older.pk}"')[1].split("</article>")[0]
    assert "OLD-1" in old_card and "Old chair" in old_card
    assert '<td class="num ready" data-label="Ready">3</td>' in old_card
    assert "4 waiting" in old_card and "some lines still waiting" in old_card
    assert older.customer.name in old_card and shop.warehouse.name in old_card
    assert f'hx-post="/shipping/{older.number}/ship/"' in old_card
    assert 'name="tracking_number"' in old_card
    assert 'name="ship_choice" value="ready" checked' in old_card
    new_card = html.split(f'id="ship-order-{newer.pk}"')[1].split("</article>")[0]
    assert "some lines still waiting" not in new_card and "complete" in new_card
    assert 'name="ship_choice"' not in new_card


def test_htmx_gets_only_the_list(shop: Shop, client_as: Callable[..., Client]) -> None:
    order = ready(shop, 1)

    response = client_as(Role.WAREHOUSE).get(SHIPPING, headers=HX)

    html = response.content.decode()
    assert "<html" not in html and 'id="shipping-list"' in html and order.number in html
    assert "HX-Request" in response["Vary"]


def test_empty_page_says_so(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(SHIPPING)

    assert b"Nothing is ready to ship" in response.content


def test_pages_of_fifty_with_a_next_link_and_a_fixed_query_count(
    shop: Shop, client_as: Callable[..., Client], django_assert_max_num_queries
) -> None:
    # given: 52 ready orders sharing one product
    item = shop.product(sku="MANY-1")
    orders = [
        shop.order(item, 1, placed_at=timezone.now() - dt.timedelta(minutes=100 - n))
        for n in range(52)
    ]
    shop.receive(item, 52)
    client = client_as(Role.WAREHOUSE)

    # when: session, user, groups, warehouses (the filter), orders, their lines
    with django_assert_max_num_queries(6):
        first = client.get(SHIPPING)
    with django_assert_max_num_queries(6):
        second = client.get(SHIPPING + "?page=2")

    # then
    assert order_numbers(first.content.decode()) == [o.number for o in orders[:50]]
    assert 'href="?page=2"' in first.content.decode()
    assert order_numbers(second.content.decode()) == [o.number for o in orders[50:]]
    assert 'href="?page=3"' not in second.content.decode()
    assert 'href="?page=1"' in second.content.decode()
    assert SalesOrder.objects.count() == 52


def test_a_bad_page_number_shows_the_first_page(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    order = ready(shop, 1)

    response = client_as(Role.WAREHOUSE).get(SHIPPING + "?page=abc")

    assert order.number in response.content.decode()


@pytest.mark.parametrize("page", ["3", str(10**30), "9" * 5000])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_page_past_the_end_shows_the_last_page(
    shop: Shop, client_as: Callable[..., Client], page: str, headers: dict[str, str]
) -> None:
    item = shop.product(sku="MANY-1")
    orders = [
        shop.order(item, 1, placed_at=timezone.now() - dt.timedelta(minutes=100 - n))
        for n in range(51)
    ]
    shop.receive(item, 51)

    response = client_as(Role.WAREHOUSE).get(SHIPPING, {"page": page}, headers=headers)

    assert response.status_code == 200
    html = response.content.decode()
    assert order_numbers(html) == [orders[-1].number]
    assert "Page 2" in html and 'href="?page=1"' in html
