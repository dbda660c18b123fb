"""Bin locations: set from the product page (/products/<sku>/bin/); the pick list walks by them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from inventory.models import StockLevel
from notifications import updates
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]

HX = {"HX-Request": "true"}


def bin_url(sku: str) -> str:
    return reverse("product-bin", args=[sku])


def test_the_warehouse_sets_a_bin_from_the_product_page(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    lamp = shop.product(sku="LAMP-1")
    client = client_as(Role.WAREHOUSE)

    page = client.get(reverse("product", args=["LAMP-1"])).content.decode()
    response = client.post(
        bin_url("LAMP-1"),
        {"warehouse": shop.warehouse.pk, "bin_location": "  a-03-2 "},
        headers=HX,
    )

    assert f'id="bin-{shop.warehouse.pk}"' in page
    assert response.status_code == 200
    assert StockLevel.objects.get(product=lamp, warehouse=shop.warehouse).bin_location == "A-03-2"
    assert 'value="A-03-2"' in response.content.decode()
    assert "binChanged" in response["HX-Trigger"]


@pytest.mark.parametrize(
    ("value", "message"),
    [("A" * 33, "at most 32 characters"), ("A<3>", "letters, digits")],
)
def test_a_bad_bin_is_refused_beside_the_field(
    shop: Shop, client_as: Callable[..., Client], unchanged, value: str, message: str
) -> None:
    shop.product(sku="LAMP-1")

    with unchanged():
        response = client_as(Role.WAREHOUSE).post(
            bin_url("LAMP-1"), {"warehouse": shop.warehouse.pk, "bin_location": value}, headers=HX
        )

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html and 'aria-invalid="true"' in html


def test_an_unknown_warehouse_is_refused(
    shop: Shop, client_as: Callable[..., Client], unchanged
) -> None:
    shop.product(sku="LAMP-1")

    with unchanged():
        response = client_as(Role.WAREHOUSE).post(
            bin_url("LAMP-1"), {"warehouse": "99999999999999999999", "bin_location": "A1"}
        )

    assert response.status_code == 302


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.PURCHASING])
def test_only_the_warehouse_sets_bins(
    shop: Shop, client_as: Callable[..., Client], unchanged, role: Role
) -> None:
    shop.product(sku="LAMP-1")

    with unchanged():
        response = client_as(role).post(
            bin_url("LAMP-1"), {"warehouse": shop.warehouse.pk, "bin_location": "A1"}
        )

    assert response.status_code == 403


def test_the_pick_list_walks_by_bin(shop: Shop, client_as: Callable[..., Client]) -> None:
    # given: three products ready, binned C, A and none (by SKU they would be A, B, C)
    a = shop.product(sku="A-ITEM")
    b = shop.product(sku="B-ITEM")
    c = shop.product(sku="C-ITEM")
    for product in (a, b, c):
        shop.receive(product, 1)
    updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(a, 1), LineRequest(b, 1), LineRequest(c, 1)],
        by=shop.clerk,
    )
    StockLevel.objects.filter(product=a).update(bin_location="C-01")
    StockLevel.objects.filter(product=c).update(bin_location="A-09")

    # when
    html = client_as(Role.WAREHOUSE).get(reverse("shipping-pick-list")).content.decode()

    # then: by bin, the unbinned last
    body = html.split("<tbody>")[1]
    assert body.index("C-ITEM") < body.index("A-ITEM") < body.index("B-ITEM")
    assert "A-09" in body and "C-01" in body
