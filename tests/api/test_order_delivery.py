"""Order intake takes the ship preference, shipping address and carrier (issue 16)."""

from __future__ import annotations

import pytest

from orders.models import SalesOrder, ShipPreference
from tests.api.conftest import order_body, post_order

pytestmark = pytest.mark.django_db


def test_the_ship_preference_address_and_carrier_are_kept(stocked, api_key) -> None:
    body = order_body(
        ship_preference="hold",
        shipping_address="Jl. Sudirman 1\nJakarta 10220",
        carrier="jne",
    )

    response = post_order(api_key.key, body)

    assert response.status_code == 201, response.content
    order = SalesOrder.objects.get()
    assert order.ship_preference == ShipPreference.HOLD
    assert (order.shipping_address, order.carrier) == ("Jl. Sudirman 1\nJakarta 10220", "jne")
    document = response.json()
    assert (document["ship_preference"], document["carrier"]) == ("hold", "jne")
    assert document["shipping_address"] == "Jl. Sudirman 1\nJakarta 10220"


def test_without_them_nothing_is_said(stocked, api_key) -> None:
    document = post_order(api_key.key, order_body()).json()

    assert (document["ship_preference"], document["carrier"], document["shipping_address"]) == (
        "",
        "",
        "",
    )


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"ship_preference": "whenever"}, "#/ship_preference"),
        ({"carrier": "pigeon"}, "#/carrier"),
        ({"shipping_address": "x" * 1001}, "#/shipping_address"),
    ],
)
def test_bad_values_are_422_and_nothing_is_saved(stocked, api_key, change, pointer) -> None:
    response = post_order(api_key.key, order_body(**change))

    assert response.status_code == 422
    assert pointer in [error["pointer"] for error in response.json()["errors"]]
    assert not SalesOrder.objects.exists()
