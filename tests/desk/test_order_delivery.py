"""An order's shipping address and carrier: /orders/<number>/delivery/, shown
on the order, the shipping desk and the packing slip."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from orders.models import SalesOrder
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]


@pytest.fixture
def ready(shop: Shop) -> SalesOrder:
    lamp = shop.product(sku="LAMP-1")
    shop.receive(lamp, 2)
    return shop.order(lamp, 2)


def delivery_url(order: SalesOrder) -> str:
    return reverse("order-delivery", args=[order.number])


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.WAREHOUSE])
def test_staff_set_the_address_and_carrier(
    ready: SalesOrder, client_as: Callable[..., Client], role: Role
) -> None:
    client = client_as(role)

    form = client.get(delivery_url(ready))
    response = client.post(
        delivery_url(ready),
        {"shipping_address": "  Jl. Sudirman 1 \r\n\r\n Jakarta 10220 ", "carrier": "jne"},
    )

    assert form.status_code == 200 and 'name="shipping_address"' in form.content.decode()
    assert response.status_code == 302 and response["Location"] == reverse(
        "order", args=[ready.number]
    )
    ready.refresh_from_db()
    assert (ready.shipping_address, ready.carrier) == ("Jl. Sudirman 1\nJakarta 10220", "jne")


def test_the_delivery_shows_on_the_order_desk_and_slip(
    ready: SalesOrder, client_as: Callable[..., Client]
) -> None:
    SalesOrder.objects.filter(pk=ready.pk).update(
        shipping_address="Jl. Sudirman 1\nJakarta", carrier="postnl"
    )
    client = client_as(Role.WAREHOUSE)

    pages = [
        client.get(reverse("order", args=[ready.number])).content.decode(),
        client.get(reverse("shipping")).content.decode(),
        client.get(reverse("shipping-packing-slip", args=[ready.number])).content.decode(),
    ]

    for html in pages:
        assert "PostNL" in html
    assert "Jl. Sudirman 1<br>Jakarta" in pages[0] and "Jl. Sudirman 1<br>Jakarta" in pages[2]
    assert "Jl. Sudirman 1, Jakarta" in pages[1]
    assert 'placeholder="like 3SABCD1234567"' in pages[1]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"shipping_address": "x", "carrier": "pigeon"}, "carrier", "Choose one of the carriers."),
        ({"shipping_address": "x" * 1001, "carrier": ""}, "shipping_address", "at most 1000"),
    ],
)
def test_bad_delivery_is_refused_beside_the_field(
    ready: SalesOrder,
    client_as: Callable[..., Client],
    unchanged,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(delivery_url(ready), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and f'id="id_{field}-error"' in html


def test_purchasing_may_not_edit_the_delivery(
    ready: SalesOrder, client_as: Callable[..., Client], unchanged
) -> None:
    client = client_as(Role.PURCHASING)
    with unchanged():
        assert client.post(delivery_url(ready), {"carrier": "jne"}).status_code == 403
    assert client.get(delivery_url(ready)).status_code == 403


def test_an_unknown_order_is_404(client_as: Callable[..., Client]) -> None:
    assert client_as(Role.WAREHOUSE).get("/orders/SO-NOPE/delivery/").status_code == 404
