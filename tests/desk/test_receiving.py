"""The receiving pages: /receiving/ and a purchase order's receive form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from suppliers.models import PurchaseOrder, PurchaseOrderStatus
from tests.factories import PurchaseOrderFactory, PurchaseOrderLineFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
RECEIVING = "/receiving/"


def po(number: str, *, days: int = 10, status: str = PurchaseOrderStatus.ORDERED, **line: object):
    order = PurchaseOrderFactory.create(
        number=number,
        status=status,
        expected_date=timezone.localdate() + dt.timedelta(days=days),
    )
    PurchaseOrderLineFactory.create(purchase_order=order, **line)
    return order


def receive_url(order: PurchaseOrder) -> str:
    return reverse("purchase-order-receive", args=[order.number])


def row_numbers(response) -> list[str]:
    html = response.content.decode()
    return [
        chunk.split("</a>", 1)[0].rsplit(">", 1)[1] for chunk in html.split('<tr id="po-row-')[1:]
    ]


# Roles


def test_url_names() -> None:
    assert reverse("receiving") == RECEIVING
    assert reverse("purchase-order-receive", args=["PO-1"]) == "/purchase-orders/PO-1/receive/"


@pytest.mark.parametrize("page", ["list", "form"])
@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(client: Client, page: str, headers: dict[str, str]) -> None:
    url = RECEIVING if page == "list" else receive_url(po("PO-A"))

    response = client.get(url, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("role", "list_status", "form_status"),
    [
        (Role.WAREHOUSE, 200, 200),
        (Role.PURCHASING, 200, 403),
        (Role.CUSTOMER_SERVICE, 403, 403),
        (None, 403, 403),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_role_matrix(
    client_as: Callable[..., Client],
    role: Role | None,
    list_status: int,
    form_status: int,
    headers: dict[str, str],
) -> None:
    order = po("PO-ROLE")
    client = client_as(role) if role else client_as()

    assert client.get(RECEIVING, headers=headers).status_code == list_status
    assert client.get(receive_url(order), headers=headers).status_code == form_status


def test_superuser_may_open_both(client_as: Callable[..., Client]) -> None:
    order = po("PO-SU")
    client = client_as(superuser=True)

    assert client.get(RECEIVING).status_code == 200
    assert client.get(receive_url(order)).status_code == 200


def test_receiving_is_in_the_navigation_for_warehouse_only_of_the_staff(
    client_as: Callable[..., Client],
) -> None:
    assert b'href="/receiving/"' in client_as(Role.WAREHOUSE).get("/queue/").content
    assert b'href="/receiving/"' not in client_as(Role.CUSTOMER_SERVICE).get("/queue/").content


# The list


def test_lists_open_orders_soonest_first_and_marks_the_overdue(
    client_as: Callable[..., Client],
) -> None:
    po("PO-LATER", days=20, ordered=12, received=2)
    po("PO-LATE", days=-3, ordered=5)
    po("PO-PART", days=4, status=PurchaseOrderStatus.PARTIALLY_RECEIVED, ordered=8, received=3)
    po("PO-DRAFT", days=1, status=PurchaseOrderStatus.DRAFT)
    po("PO-DONE", days=1, status=PurchaseOrderStatus.RECEIVED, ordered=5, received=5)
    po("PO-GONE", days=1, status=PurchaseOrderStatus.CANCELLED)

    response = client_as(Role.WAREHOUSE).get(RECEIVING)

    assert response.status_code == 200
    assert row_numbers(response) == ["PO-LATE", "PO-PART", "PO-LATER"]
    html = response.content.decode()
    late_row = html.split('<tr id="po-row-')[1]
    assert "overdue" in late_row
    assert "overdue" not in "".join(html.split('<tr id="po-row-')[2:])
    assert ' class="num">5</td>' in html  # the part-received order's outstanding units
    assert ' class="num">10</td>' in html
    assert f'href="{reverse("purchase-order-receive", args=["PO-LATE"])}"' in html


def test_htmx_gets_only_the_table(client_as: Callable[..., Client]) -> None:
    po("PO-HX")

    response = client_as(Role.PURCHASING).get(RECEIVING, headers=HX)

    assert b"PO-HX" in response.content
    assert b"<html" not in response.content
    assert "HX-Request" in response["Vary"]


def test_empty_list_says_so(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(RECEIVING)

    assert b"No purchase order is waiting to be received." in response.content


def test_list_query_count_is_fixed(
    client_as: Callable[..., Client], django_assert_max_num_queries
) -> None:
    for n in range(40):
        order = po(f"PO-Q{n:03d}", days=n - 5)
        PurchaseOrderLineFactory.create(purchase_order=order)
    client = client_as(Role.WAREHOUSE)

    with django_assert_max_num_queries(5):  # session, user, groups, warehouses, the list
        response = client.get(RECEIVING)

    assert len(row_numbers(response)) == 40


# The receive form


def test_form_shows_each_open_line(client_as: Callable[..., Client]) -> None:
    order = po(
        "PO-FORM", ordered=12, received=5, product__sku="SKU-OPEN", product__name="Oak chair"
    )
    done = PurchaseOrderLineFactory.create(
        purchase_order=order, ordered=3, received=3, product__sku="SKU-DONE"
    )

    response = client_as(Role.WAREHOUSE).get(receive_url(order))

    html = response.content.decode()
    assert "SKU-OPEN" in html and "Oak chair" in html
    assert "SKU-DONE" not in html
    line = order.lines.exclude(pk=done.pk).get()
    assert f'name="line_{line.pk}"' in html
    assert 'max="7"' in html and 'min="0"' in html and 'inputmode="numeric"' in html
    assert f'name="receipt_state" value="{line.pk}:5,{done.pk}:3"' in html
    assert 'hx-post="/purchase-orders/PO-FORM/receive/submit/"' in html
    assert "Receive all outstanding" in html


def test_fill_all_prefills_the_outstanding_units(client_as: Callable[..., Client]) -> None:
    order = po("PO-FILL", ordered=12, received=5)

    response = client_as(Role.WAREHOUSE).get(receive_url(order) + "?fill=all", headers=HX)

    html = response.content.decode()
    assert 'value="7"' in html
    assert "<html" not in html and 'id="receive-form"' in html


def test_unknown_purchase_order_is_404(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get("/purchase-orders/NOPE/receive/")

    assert response.status_code == 404


def test_form_query_count_is_fixed(
    client_as: Callable[..., Client], django_assert_max_num_queries
) -> None:
    order = po("PO-BIG")
    for _ in range(19):
        PurchaseOrderLineFactory.create(purchase_order=order)
    client = client_as(Role.WAREHOUSE)

    with django_assert_max_num_queries(6):  # session, user, groups, order, lines, state
        response = client.get(receive_url(order))

    assert response.content.decode().count('type="number"') == 20


def test_receive_form_is_under_receiving_in_the_navigation(
    client_as: Callable[..., Client],
) -> None:
    order = po("PO-NAV", days=-2)

    html = client_as(Role.WAREHOUSE).get(receive_url(order)).content.decode()

    assert '<a href="/receiving/" aria-current="page">' in html
    assert 'class="badge badge-bad">overdue' in html


@pytest.mark.parametrize("page", ["3", str(10**30), "9" * 5000])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_page_past_the_end_shows_the_last_page(
    client_as: Callable[..., Client], page: str, headers: dict[str, str]
) -> None:
    for n in range(51):
        po(f"PO-{n:03d}", days=n)

    response = client_as(Role.WAREHOUSE).get(RECEIVING, {"page": page}, headers=headers)

    assert response.status_code == 200
    assert row_numbers(response) == ["PO-050"]
    assert "Page 2" in response.content.decode()
