"""The shortfall worklist (/purchasing/shortfall/): rows, filters, sort, CSV,
a fixed number of queries, and drafting purchase orders from chosen rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from config.roles import Role
from inventory.models import Product
from orders.models import OrderLine
from orders.services.intake import LineRequest, order_place
from suppliers.models import PurchaseOrder, PurchaseOrderStatus, Supplier
from suppliers.services import supplier_product_terms_set
from tests.conftest import Shop
from tests.factories import (
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderLineFactory,
    SalesOrderFactory,
    SupplierFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

PAGE = "/purchasing/shortfall/"
EXPORT = "/purchasing/shortfall/export.csv"
DRAFT = "/purchasing/shortfall/draft/"
HX = {"HX-Request": "true"}


def rows_of(response) -> list[str]:
    return re.findall(r'id="shortfall-row-(\d+-\d+)"', response.content.decode())


@pytest.fixture
def short(shop: Shop) -> dict[str, object]:
    """LAMP short in MAIN (preferred supplier Lumen, packs of 4), CHAIR short in
    MAIN and EAST (last bought from the shop's supplier), RUG never bought."""
    east = WarehouseFactory.create(code="EAST")
    lumen = SupplierFactory.create(name="Lumen")
    lamp, chair, rug = (
        shop.product(sku=sku, name=f"The {sku.lower()}") for sku in ("LAMP", "CHAIR", "RUG")
    )
    supplier_product_terms_set(
        supplier=lumen, product=lamp, pack_size=4, minimum_order=1, preferred=True, by=None
    )
    PurchaseOrderLineFactory.create(
        product=chair,
        purchase_order__supplier=shop.supplier,
        purchase_order__warehouse=shop.warehouse,
        purchase_order__status=PurchaseOrderStatus.RECEIVED,
        ordered=1,
        received=1,
    )
    customer = CustomerFactory.create()
    for warehouse, product, units in (
        (shop.warehouse, lamp, 5),
        (shop.warehouse, chair, 2),
        (east, chair, 1),
        (shop.warehouse, rug, 3),
    ):
        order_place(
            customer=customer,
            warehouse=warehouse,
            lines=[LineRequest(product, units)],
            by=shop.clerk,
        )
    return {"east": east, "lumen": lumen, "lamp": lamp, "chair": chair, "rug": rug}


def drafts():
    return PurchaseOrder.objects.filter(status=PurchaseOrderStatus.DRAFT)


def key(product: Product, warehouse) -> str:
    return f"{product.pk}-{warehouse.pk}"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_worklist_and_only_purchasing_selects(
    client_as: Callable[..., Client], short: dict, role: Role
) -> None:
    response = client_as(role).get(PAGE)

    assert response.status_code == 200
    page = response.content.decode()
    assert len(rows_of(response)) == 4
    assert ('name="row"' in page) == (role == Role.PURCHASING)
    assert ('id="shortfall-draft"' in page) == (role == Role.PURCHASING)
    assert 'href="/purchasing/shortfall/"' in page  # in the navigation


def test_a_row_shows_the_suggestion_and_its_basis(
    client_as: Callable[..., Client], short: dict, shop: Shop
) -> None:
    response = client_as(Role.PURCHASING).get(PAGE)
    page = response.content.decode()

    lamp_row = page.split(f'id="shortfall-row-{key(short["lamp"], shop.warehouse)}"')[1].split(
        "</tr>"
    )[0]
    assert "Lumen" in lamp_row and "preferred" in lamp_row
    assert "<strong>8</strong>" in lamp_row  # 5 + 1 buffer → 2 packs of 4
    assert "packs of 4" in lamp_row
    rug_row = page.split(f'id="shortfall-row-{key(short["rug"], shop.warehouse)}"')[1].split(
        "</tr>"
    )[0]
    assert "none yet" in rug_row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"product": "chai"}, {"CHAIR@MAIN", "CHAIR@EAST"}),
        ({"warehouse": "EAST"}, {"CHAIR@EAST"}),
        ({"min_shortfall": "4"}, {"LAMP@MAIN"}),
        ({"product": "the rug"}, {"RUG@MAIN"}),
    ],
)
def test_filters(
    client_as: Callable[..., Client], short: dict, shop: Shop, query: dict, expected: set
) -> None:
    names = {
        key(short[sku.lower()], short["east"] if wh == "EAST" else shop.warehouse): f"{sku}@{wh}"
        for sku, wh in (("LAMP", "MAIN"), ("CHAIR", "MAIN"), ("CHAIR", "EAST"), ("RUG", "MAIN"))
    }
    response = client_as(Role.WAREHOUSE).get(PAGE, query, headers=HX)

    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # the table fragment only
    assert {names[row] for row in rows_of(response)} == expected


def test_the_supplier_filter_and_the_sort(
    client_as: Callable[..., Client], short: dict, shop: Shop
) -> None:
    client = client_as(Role.PURCHASING)
    lumen = short["lumen"]
    assert rows_of(client.get(PAGE, {"supplier": lumen.pk})) == [key(short["lamp"], shop.warehouse)]
    by_product = rows_of(client.get(PAGE, {"sort": "product"}))
    skus = [Product.objects.get(pk=int(row.split("-")[0])).sku for row in by_product]
    assert skus == sorted(skus)


@pytest.mark.parametrize(
    "query",
    [
        {"min_shortfall": "lots"},
        {"buffer": "-5"},
        {"buffer": "9" * 40},
        {"warehouse": "NOPE"},
        {"supplier": "x"},
        {"page": "999999999999"},
        {"sort": "nonsense"},
    ],
)
def test_bad_input_is_shown_not_a_500(
    client_as: Callable[..., Client], short: dict, query: dict
) -> None:
    response = client_as(Role.PURCHASING).get(PAGE, query)
    assert response.status_code == 200


def test_the_csv_has_every_row_with_its_figures(
    client_as: Callable[..., Client], short: dict
) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).get(EXPORT, {"buffer": "0"})

    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(body)))
    by_row = {(row["sku"], row["warehouse"]): row for row in rows}
    assert set(by_row) == {("LAMP", "MAIN"), ("CHAIR", "MAIN"), ("CHAIR", "EAST"), ("RUG", "MAIN")}
    lamp = by_row[("LAMP", "MAIN")]
    assert (lamp["units_short"], lamp["supplier"], lamp["suggested_units"]) == ("5", "Lumen", "8")
    assert by_row[("RUG", "MAIN")]["supplier"] == ""


@pytest.fixture
def many_short(shop: Shop) -> None:
    """120 short queues over three suppliers: bare rows, no stock, no supply."""
    suppliers = SupplierFactory.create_batch(3)
    for index in range(120):
        product = ProductFactory.create()
        PurchaseOrderLineFactory.create(
            product=product,
            purchase_order__supplier=suppliers[index % 3],
            purchase_order__warehouse=shop.warehouse,
            purchase_order__status=PurchaseOrderStatus.RECEIVED,
            ordered=2,
            received=2,
        )
        order = SalesOrderFactory.create(warehouse=shop.warehouse)
        OrderLineFactory.create(order=order, product=product, promise_is_estimate=True)


PAGE_QUERIES = 16


@pytest.mark.parametrize("query", [{}, {"sort": "-oldest", "page": "2"}, {"product": "SKU"}])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_page_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    many_short: None,
    query: dict,
    headers: dict,
) -> None:
    client = client_as(Role.PURCHASING)

    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(PAGE, query, headers=headers)

    assert response.status_code == 200
    assert len(rows_of(response)) == 50


def test_draft_review_writes_nothing_and_groups_by_supplier_and_warehouse(
    client_as: Callable[..., Client], short: dict, shop: Shop
) -> None:
    client = client_as(Role.PURCHASING)
    chosen = [
        key(short["lamp"], shop.warehouse),
        key(short["chair"], shop.warehouse),
        key(short["chair"], short["east"]),
        key(short["rug"], shop.warehouse),
    ]

    response = client.post(DRAFT, {"row": chosen, "buffer": "0"})

    assert response.status_code == 200
    page = response.content.decode()
    assert not drafts()
    titles = re.findall(r'<h2 id="draft-[\d-]+-title">([^<]+)</h2>', page)
    assert titles == [
        "Lumen → Warehouse MAIN",
        f"{shop.supplier.name} → Warehouse EAST",
        f"{shop.supplier.name} → Warehouse MAIN",
    ]
    assert "No supplier to suggest" in page and "RUG" in page


def _review_form(client: Client, chosen: list[str]) -> dict[str, object]:
    page = client.post(DRAFT, {"row": chosen, "buffer": "0"}).content.decode()
    data: dict[str, object] = {"row": chosen, "buffer": "0", "create": "1"}
    for name, value in re.findall(
        r'<input type="(?:number|date|hidden)" name="([a-z_0-9-]+)" value="([^"]*)"', page
    ):
        if name not in ("row", "csrfmiddlewaretoken"):
            data[name] = value
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page)
    assert token is not None
    data["token"] = token.group(1)
    return data


def test_creating_drafts_makes_one_per_supplier_and_warehouse_once(
    client_as: Callable[..., Client], short: dict, shop: Shop
) -> None:
    client = client_as(Role.PURCHASING)
    chosen = [
        key(short["lamp"], shop.warehouse),
        key(short["chair"], shop.warehouse),
        key(short["chair"], short["east"]),
    ]
    data = _review_form(client, chosen)
    data[f"quantity_{key(short['chair'], shop.warehouse)}"] = "7"

    response = client.post(DRAFT, data)

    assert response.status_code == 302
    assert response["Location"] == "/purchase-orders/?status=draft"
    made = drafts().order_by("supplier__name", "warehouse__code")
    assert [(po.supplier.name, po.warehouse.code, po.status) for po in made] == [
        ("Lumen", "MAIN", PurchaseOrderStatus.DRAFT),
        (shop.supplier.name, "EAST", PurchaseOrderStatus.DRAFT),
        (shop.supplier.name, "MAIN", PurchaseOrderStatus.DRAFT),
    ]
    lamp_line = made[0].lines.get()
    assert (lamp_line.product, lamp_line.ordered) == (short["lamp"], 8)  # 5 → 2 packs of 4
    assert made[2].lines.get().ordered == 7
    assert made[0].expected_date == timezone.localdate() + dt.timedelta(
        days=short["lumen"].lead_time_days
    )
    # drafts change no promise
    assert OrderLine.objects.filter(promise_is_estimate=True).count() == 4

    again = client.post(DRAFT, data)
    assert again.status_code == 302
    assert drafts().count() == 3


def test_one_draft_opens_its_page(
    client_as: Callable[..., Client], short: dict, shop: Shop
) -> None:
    client = client_as(Role.PURCHASING)
    response = client.post(DRAFT, _review_form(client, [key(short["lamp"], shop.warehouse)]))
    po = drafts().get()
    assert response["Location"] == f"/purchase-orders/{po.number}/"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "-1"),
        ("quantity", "abc"),
        ("quantity", "99999999"),
        ("expected", "2001-01-01"),
        ("expected", "9999-12-31"),
        ("expected", "soon"),
    ],
)
def test_a_refused_review_creates_nothing(
    client_as: Callable[..., Client], short: dict, shop: Shop, field: str, value: str
) -> None:
    client = client_as(Role.PURCHASING)
    chosen = [key(short["lamp"], shop.warehouse), key(short["chair"], shop.warehouse)]
    data = _review_form(client, chosen)
    name = next(name for name in data if name.startswith(field + "_"))
    data[name] = value

    response = client.post(DRAFT, data)

    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not drafts()


def test_all_quantities_zero_creates_nothing(
    client_as: Callable[..., Client], short: dict, shop: Shop
) -> None:
    client = client_as(Role.PURCHASING)
    data = _review_form(client, [key(short["lamp"], shop.warehouse)])
    data[f"quantity_{key(short['lamp'], shop.warehouse)}"] = "0"
    response = client.post(DRAFT, data)
    assert "nothing to order" in response.content.decode()
    assert not drafts()


def test_a_row_without_a_supplier_joins_the_drafts_of_the_one_chosen(
    client_as: Callable[..., Client], short: dict, shop: Shop
) -> None:
    client = client_as(Role.PURCHASING)
    rug = key(short["rug"], shop.warehouse)
    lamp = key(short["lamp"], shop.warehouse)

    # the review of the rug alone offers a choice, and nothing to create yet
    page = client.post(DRAFT, {"row": [rug], "buffer": "0"}).content.decode()
    assert f'name="supplier_{rug}"' in page and 'name="create"' not in page

    # choosing Lumen regroups: the rug joins the lamp's draft
    data = {"row": [rug, lamp], "buffer": "0", f"supplier_{rug}": str(short["lumen"].pk)}
    page = client.post(DRAFT, data).content.decode()
    assert re.findall(r'<h2 id="draft-[\d-]+-title">([^<]+)</h2>', page) == [
        "Lumen → Warehouse MAIN"
    ]
    assert f'name="quantity_{rug}"' in page
    assert not drafts()

    # an unknown or inactive supplier is no choice
    inactive = SupplierFactory.create(active=False)
    page = client.post(DRAFT, {**data, f"supplier_{rug}": str(inactive.pk)}).content.decode()
    assert f'name="quantity_{rug}"' not in page


@pytest.mark.parametrize("rows", [[], ["junk"], ["999999-999999"]])
def test_no_usable_rows_goes_back_with_a_message(
    client_as: Callable[..., Client], short: dict, rows: list[str]
) -> None:
    response = client_as(Role.PURCHASING).post(DRAFT, {"row": rows}, follow=True)
    assert response.status_code == 200
    assert not drafts()
    assert any(
        "nothing" in str(m).lower() or "no longer" in str(m) for m in response.context["messages"]
    )


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER_SERVICE])
def test_only_purchasing_drafts(
    client_as: Callable[..., Client], short: dict, shop: Shop, role: Role
) -> None:
    response = client_as(role).post(DRAFT, {"row": [key(short["lamp"], shop.warehouse)]})
    assert response.status_code == 403
    assert not Supplier.objects.filter(purchase_orders__status=PurchaseOrderStatus.DRAFT).exists()


def test_select_all_ticks_every_row_of_the_page(
    client_as: Callable[..., Client], short: dict
) -> None:
    page = client_as(Role.PURCHASING).get(PAGE, {"select": "page"}, headers=HX).content.decode()
    assert page.count(" checked>") == 4
    assert "Clear selection" in page
