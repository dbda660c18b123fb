"""The product page: /products/<sku>/."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse

from config.roles import Role
from inventory.models import BackorderPolicy
from orders.models import Tier
from tests.conftest import Shop
from tests.factories import WarehouseFactory
from tests.orders.test_calibration import MONDAY, _history

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def url(sku: str) -> str:
    return reverse("product", args=[sku])


@pytest.fixture
def chair(shop: Shop):
    """4 chairs received (2 allocated to the first order), 3 on an open PO, and
    orders waiting for 2+3, 6 and 1 (VIP) chairs in MAIN."""
    item = shop.product(
        sku="CHAIR-1", name="Oak chair", backorder_policy=BackorderPolicy.CAP, backorder_cap=50
    )
    first = shop.order(item, 5)
    shop.receive(item, 2)
    second = shop.order(item, 6)
    vip = shop.order(item, 1, customer=shop.customer(tier=Tier.VIP, name="Vera VIP"))
    po = shop.purchase(item, 3, days=7)
    return item, [first, second, vip], po


def test_url_names() -> None:
    assert url("SKU-1") == "/products/SKU-1/"
    assert reverse("product-adjust", args=["SKU-1"]) == "/products/SKU-1/adjust/"


@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(client: Client, chair, headers: dict[str, str]) -> None:
    response = client.get(url("CHAIR-1"), headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "status", "can_adjust"),
    [
        (Role.WAREHOUSE, 200, True),
        (Role.CUSTOMER_SERVICE, 200, False),
        (Role.PURCHASING, 200, False),
        (None, 403, False),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_role_matrix(
    client_as: Callable[..., Client],
    chair,
    role: Role | None,
    status: int,
    can_adjust: bool,
    headers: dict[str, str],
) -> None:
    client = client_as(role) if role else client_as()

    response = client.get(url("CHAIR-1"), headers=headers)

    assert response.status_code == status
    if status == 200:
        assert ('hx-post="/products/CHAIR-1/adjust/"' in response.content.decode()) is can_adjust


def test_superuser_sees_the_adjust_form(client_as: Callable[..., Client], chair) -> None:
    response = client_as(superuser=True).get(url("CHAIR-1"))

    assert b'hx-post="/products/CHAIR-1/adjust/"' in response.content


def test_unknown_sku_is_404(client_as: Callable[..., Client]) -> None:
    assert client_as(Role.PURCHASING).get(url("NOPE")).status_code == 404


def test_shows_facts_stock_inbound_queue_and_shortfall(
    client_as: Callable[..., Client], chair
) -> None:
    _item, (first, second, vip), po = chair

    response = client_as(Role.CUSTOMER_SERVICE).get(url("CHAIR-1"))

    html = response.content.decode()
    assert "Oak chair" in html and "19.90" in html and "cap 50 units" in html
    assert "active" in html
    stock = html.split('id="stock-row-')[1].split("</tr>")[0]
    # on hand 2, allocated 2, available 0, inbound 3, backordered 3+6+1, shortfall 7
    cells = re.findall(r' class="num[^"]*">(.*?)</td>', stock)
    assert cells[:5] == ["2", "2", "0", "3", "10"]
    assert cells[5] == '<span class="badge badge-bad">7</span>'
    inbound = html.split('id="product-inbound"')[1].split("</table>")[0]
    assert f'href="/purchase-orders/{po.number}/"' in inbound and ' class="num">3</td>' in inbound
    queue = html.split('id="product-queue"')[1]
    # VIP first, then first come first served
    assert queue.index(vip.number) < queue.index(first.number) < queue.index(second.number)
    rows = queue.split('<tr id="queue-line-')[1:]
    assert [' class="num">1</td>' in rows[0], ' class="num">2</td>' in rows[1]] == [
        True,
        True,
    ]
    assert "Vera VIP" in rows[0]
    assert "estimate" in rows[2]  # 6 chairs: the PO covers the VIP and the first order only


def test_positions_count_per_warehouse(shop: Shop, client_as: Callable[..., Client]) -> None:
    item = shop.product(sku="LAMP-1")
    shop.order(item, 1)
    north = WarehouseFactory.create(code="NORTH")
    shop.warehouse, main = north, shop.warehouse
    shop.order(item, 2)
    shop.warehouse = main

    html = client_as(Role.WAREHOUSE).get(url("LAMP-1")).content.decode()

    rows = html.split('<tr id="queue-line-')[1:]
    assert ["MAIN" in rows[0], "NORTH" in rows[1]] == [True, True]
    assert all(' class="num">1</td>' in row for row in rows)
    assert html.count('id="stock-row-') == 2


def test_htmx_gets_only_the_detail(client_as: Callable[..., Client], chair) -> None:
    response = client_as(Role.WAREHOUSE).get(url("CHAIR-1"), headers=HX)

    html = response.content.decode()
    assert "<html" not in html and 'id="product-detail"' in html and 'id="product-stock"' in html
    assert "HX-Request" in response["Vary"]


def test_query_count_is_fixed(
    shop: Shop, client_as: Callable[..., Client], django_assert_max_num_queries
) -> None:
    # given: 40 waiting orders, 5 open purchase orders, 3 warehouses
    item = shop.product(sku="BUSY-1")
    for _ in range(40):
        shop.order(item, 2)
    for _ in range(5):
        shop.purchase(item, 4)
    WarehouseFactory.create(code="EAST")
    WarehouseFactory.create(code="WEST")
    client = client_as(Role.WAREHOUSE)

    # session, user, groups, product, warehouses, levels, inbound, transfers in transit,
    # queue summary, queue, the queue's latest promise revisions, the purchase order lines
    # they rest on
    with django_assert_max_num_queries(12):
        response = client.get(url("BUSY-1"))

    html = response.content.decode()
    assert html.count('<tr id="queue-line-') == 40
    assert html.count('<tr id="inbound-line-') == 5
    assert '<span class="badge badge-bad">60</span>' in html  # 80 waiting − 20 inbound


def test_the_queue_says_what_each_promise_rests_on_with_the_year(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    item = shop.product(sku="LAMP-1")
    po = shop.purchase(item, 3, days=6)
    covered = shop.order(item, 2).lines.get()
    beyond = shop.order(item, 2).lines.get()  # one unit more than the purchase order brings
    due = po.lines.get().expected_date

    html = client_as(Role.WAREHOUSE).get(url("LAMP-1")).content.decode()

    basis = html.split(f'data-promise-basis="{covered.pk}">', 1)[1].split("</small>", 1)[0]
    assert f"rests on {po.number}, due {due:%-d %b %Y}" in basis  # with the year
    assert f"ships by {covered.promised_date:%-d %b %Y}" in basis
    assert "usually" not in basis  # the naive engine counts on no lateness
    assert f'data-promise-basis="{beyond.pk}"' not in html  # an estimate rests on no order


def test_a_calibrated_promise_says_how_late_the_supplier_usually_is(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        _history(shop, traveller)  # the supplier came 3 and 4 days late
        item = shop.product(sku="LAMP-2")
        po = shop.purchase(item, 5, days=7)  # due Monday 22 June
        with override_settings(PROMISE_ENGINE="calibrated"):
            line = shop.order(item, 1).lines.get()
            html = client_as(Role.WAREHOUSE).get(url("LAMP-2")).content.decode()

    basis = html.split(f'data-promise-basis="{line.pk}">', 1)[1].split("</small>", 1)[0]
    assert (
        f"rests on {po.number}, due 22 Jun 2026, supplier usually 4 days late"
        " → ships by 29 Jun 2026" in basis
    )


def test_units_in_transit_count_as_inbound_not_short(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    from orders.services.allocation import stock_adjust
    from orders.services.transfers import transfer_ship

    item = shop.product(sku="MOVED-1")
    east = WarehouseFactory.create(code="EAST")
    shop.order(item, 5)
    stock_adjust(product=item, warehouse=east, change=3, reason="count", by=None)
    transfer_ship(
        product=item, from_warehouse=east, to_warehouse=shop.warehouse, quantity=3, by=None
    )

    html = client_as(Role.WAREHOUSE).get(url("MOVED-1")).content.decode()

    assert '<span class="badge badge-bad">2</span>' in html  # 5 waiting − 3 in transit
