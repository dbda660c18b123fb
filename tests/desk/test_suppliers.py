"""Supplier pages (/suppliers/, /suppliers/<id>/): scorecards for every role,
purchase terms edited by purchasing only, bad input refused with a message."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from config.roles import Role
from suppliers.models import PurchaseOrderStatus, SupplierProduct
from tests.conftest import Shop
from tests.factories import PurchaseOrderLineFactory, SupplierFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def suppliers(shop: Shop) -> list:
    made = [shop.supplier, *SupplierFactory.create_batch(30)]
    for supplier in made:
        for status in (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.RECEIVED):
            PurchaseOrderLineFactory.create(
                purchase_order__supplier=supplier,
                purchase_order__warehouse=shop.warehouse,
                purchase_order__status=status,
                ordered=4,
                received=4 if status == PurchaseOrderStatus.RECEIVED else 0,
            )
    return made


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_scorecards_in_a_fixed_number_of_queries(
    client_as: Callable[..., Client], django_assert_max_num_queries, suppliers: list, role: Role
) -> None:
    client = client_as(role)
    with django_assert_max_num_queries(12):
        response = client.get("/suppliers/")
    assert response.status_code == 200
    assert len(re.findall(r'id="supplier-row-\d+"', response.content.decode())) == 31
    assert 'href="/suppliers/"' in response.content.decode()  # in the navigation


def test_search_and_sort(client_as: Callable[..., Client], suppliers: list) -> None:
    client = client_as(Role.WAREHOUSE)
    target = suppliers[5]
    response = client.get("/suppliers/", {"q": target.name}, headers=HX)
    assert "<html" not in response.content.decode()
    assert re.findall(r'id="supplier-row-(\d+)"', response.content.decode()) == [str(target.pk)]
    response = client.get("/suppliers/", {"sort": "-units_inbound", "page": "x"})
    assert response.status_code == 200


def test_detail_shows_orders_and_terms_form_only_to_purchasing(
    client_as: Callable[..., Client], suppliers: list
) -> None:
    supplier = suppliers[0]
    page = client_as(Role.PURCHASING).get(f"/suppliers/{supplier.pk}/").content.decode()
    assert "Purchase terms" in page and 'class="terms-form"' in page
    assert page.count('id="supplier-po-') == 2
    other = client_as(Role.CUSTOMER_SERVICE).get(f"/suppliers/{supplier.pk}/").content.decode()
    assert 'class="terms-form"' not in other
    assert client_as(Role.PURCHASING).get("/suppliers/99999999/").status_code == 404


def test_purchasing_sets_terms_and_the_preference_moves(
    client_as: Callable[..., Client], suppliers: list, shop: Shop
) -> None:
    lamp = shop.product(sku="LAMP")
    first, second = suppliers[0], suppliers[1]
    client = client_as(Role.PURCHASING)
    data = {"sku": "lamp", "pack_size": "6", "minimum_order": "12", "preferred": "on"}

    response = client.post(f"/suppliers/{first.pk}/terms/", data, headers=HX)
    assert response.status_code == 200
    assert "supplierTermsChanged" in response["HX-Trigger"]
    assert 'id="terms-row-LAMP"' in response.content.decode()

    response = client.post(f"/suppliers/{second.pk}/terms/", data)
    assert response.status_code == 302
    terms = {
        t.supplier: (t.pack_size, t.minimum_order, t.preferred) for t in lamp.supplier_terms.all()
    }
    assert terms == {first: (6, 12, False), second: (6, 12, True)}


@pytest.mark.parametrize(
    "data",
    [
        {"sku": "NOPE", "pack_size": "1", "minimum_order": "1"},
        {"sku": "LAMP", "pack_size": "0", "minimum_order": "1"},
        {"sku": "LAMP", "pack_size": "1", "minimum_order": "99999999999"},
        {"sku": "LAMP", "pack_size": "x", "minimum_order": ""},
        {},
    ],
)
def test_bad_terms_are_refused_beside_the_field(
    client_as: Callable[..., Client], suppliers: list, shop: Shop, data: dict
) -> None:
    shop.product(sku="LAMP")
    response = client_as(Role.PURCHASING).post(f"/suppliers/{suppliers[0].pk}/terms/", data)
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not SupplierProduct.objects.exists()


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER_SERVICE])
def test_only_purchasing_edits_terms(
    client_as: Callable[..., Client], suppliers: list, shop: Shop, role: Role
) -> None:
    shop.product(sku="LAMP")
    response = client_as(role).post(
        f"/suppliers/{suppliers[0].pk}/terms/",
        {"sku": "LAMP", "pack_size": "2", "minimum_order": "2"},
    )
    assert response.status_code == 403
    assert not SupplierProduct.objects.exists()


def test_records_show_unsorted_and_sort_when_asked(
    client_as: Callable[..., Client], suppliers: list
) -> None:
    client = client_as(Role.PURCHASING)
    page = client.get("/suppliers/").content.decode()
    assert page.count("of 1 line<") == 31  # each supplier's one received line, read per page
    ordered = client.get("/suppliers/", {"sort": "-on_time"}).content.decode()
    assert ordered.count("of 1 line<") == 31
