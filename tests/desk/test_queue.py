"""The backorder queue page /queue/, its htmx fragment and its CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable

import factory
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from orders.models import OrderLine, Tier
from tests.factories import (
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    PurchaseOrderLineFactory,
    SalesOrderFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
QUEUE = "/queue/"
EXPORT = "/queue/export.csv"


def days_ago(days: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def line(**fields: object) -> OrderLine:
    """A waiting line; `customer`, `warehouse`, `placed_at`, `number` go to its order.

    Lines share the MAIN warehouse unless told otherwise, so they share queues.
    """
    fields.setdefault("warehouse", WarehouseFactory.create(code="MAIN"))
    order_fields = {
        key: fields.pop(key)
        for key in ("customer", "warehouse", "placed_at", "number")
        if key in fields
    }
    return OrderLineFactory.create(order=SalesOrderFactory.create(**order_fields), **fields)


def rows_of(response) -> list[str]:
    """Order numbers in the table, top to bottom."""
    html = response.content.decode()
    return [
        re.sub(r"<[^>]+>", "", chunk.split(' class="order-number">', 1)[1].split("</td>", 1)[0])
        for chunk in html.split('<tr id="line-row-')[1:]
    ]


def csv_of(response) -> list[dict[str, str]]:
    body = response.getvalue().decode()
    return list(csv.DictReader(io.StringIO(body)))


# Roles


def test_url_names() -> None:
    assert reverse("queue") == QUEUE
    assert reverse("queue-export") == EXPORT


@pytest.mark.parametrize("url", [QUEUE, EXPORT])
@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(client: Client, url: str, headers: dict[str, str]) -> None:
    response = client.get(url, headers=headers)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url", [QUEUE, EXPORT])
@pytest.mark.parametrize("headers", [{}, HX])
def test_user_without_a_role_is_refused(
    client_as: Callable[..., Client], url: str, headers: dict[str, str]
) -> None:
    response = client_as().get(url, headers=headers)

    assert response.status_code == 403


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("url", [QUEUE, EXPORT])
@pytest.mark.parametrize("headers", [{}, HX])
def test_every_role_may_view(
    client_as: Callable[..., Client], role: Role, url: str, headers: dict[str, str]
) -> None:
    line(number="SO-ROLE-1")

    response = client_as(role).get(url, headers=headers)

    assert response.status_code == 200
    content = response.getvalue() if url == EXPORT else response.content
    assert b"SO-ROLE-1" in content


def test_superuser_may_view(client_as: Callable[..., Client]) -> None:
    assert client_as(superuser=True).get(QUEUE).status_code == 200


def test_queue_is_in_the_navigation(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.PURCHASING).get(QUEUE)

    assert b'<a href="/queue/" aria-current="page">' in response.content


# Page and fragment


def test_full_page_has_the_filter_form_and_the_table(client_as: Callable[..., Client]) -> None:
    line(number="SO-PAGE-1", ordered=7)

    response = client_as(Role.WAREHOUSE).get(QUEUE)

    html = response.content.decode()
    assert "<html" in html
    assert '<form id="queue-filters"' in html
    assert 'hx-target="#queue-table-container"' in html
    assert 'hx-push-url="true"' in html
    assert 'id="queue-table-container"' in html
    assert rows_of(response) == ["SO-PAGE-1"]
    assert ' class="num">7</td>' in html  # units waiting, right-aligned


def test_htmx_request_gets_only_the_table_fragment(client_as: Callable[..., Client]) -> None:
    line(number="SO-FRAG-1")

    response = client_as(Role.WAREHOUSE).get(QUEUE, headers=HX)

    html = response.content.decode()
    assert "<html" not in html
    assert '<form id="queue-filters"' not in html
    assert 'id="queue-table-container"' in html
    assert rows_of(response) == ["SO-FRAG-1"]
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_full_page(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(
        QUEUE, headers={**HX, "HX-History-Restore-Request": "true"}
    )

    assert b"<html" in response.content


def test_row_shows_badges_for_tier_estimate_and_slips(client_as: Callable[..., Client]) -> None:
    line(
        customer=CustomerFactory.create(name="Vera Vip", tier=Tier.VIP),
        customer_tier=Tier.VIP,
        promised_date=dt.date(2030, 1, 2),
        promise_is_estimate=True,
        times_slipped=2,
        placed_at=days_ago(12),
    )

    html = client_as(Role.CUSTOMER_SERVICE).get(QUEUE).content.decode()

    assert 'Vera Vip <span class="badge badge-tier-vip">VIP</span>' in html
    assert '<time datetime="2030-01-02">' in html
    assert ">estimate</span>" in html
    assert ">2×</span>" in html
    assert ' class="num">12</td>' in html  # age in days


def test_empty_queue_says_what_it_means(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(QUEUE)

    assert b"Nothing is waiting: every order line is covered by stock." in response.content


def test_empty_filtered_queue_offers_to_clear_the_filters(
    client_as: Callable[..., Client],
) -> None:
    line()

    response = client_as(Role.WAREHOUSE).get(QUEUE, {"customer": "nobody"}, headers=HX)

    html = response.content.decode()
    assert "No waiting lines match these filters." in html
    assert '<a href="/queue/">Clear filters</a>' in html


# Filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"product": "lamp"}, ["SO-LAMP"]),
        ({"customer": "ann@"}, ["SO-ANN"]),
        ({"slipped": "on"}, ["SO-SLIP"]),
        ({"estimate": "on"}, ["SO-EST"]),
        ({"warehouse": "EAST"}, ["SO-EAST"]),
        ({"min_age": "20"}, ["SO-OLD"]),
        ({"product": "lamp", "slipped": "on"}, []),
    ],
)
def test_filters(
    client_as: Callable[..., Client], query: dict[str, str], expected: list[str]
) -> None:
    # given
    main = WarehouseFactory.create(code="MAIN")
    line(number="SO-LAMP", product=ProductFactory.create(name="Desk Lamp"), warehouse=main)
    line(number="SO-ANN", customer=CustomerFactory.create(email="ann@example.com"), warehouse=main)
    line(number="SO-SLIP", times_slipped=1, warehouse=main)
    line(number="SO-EST", promise_is_estimate=True, warehouse=main)
    line(number="SO-EAST", warehouse=WarehouseFactory.create(code="EAST"))
    line(number="SO-OLD", placed_at=days_ago(25), warehouse=main)

    # when
    response = client_as(Role.WAREHOUSE).get(QUEUE, query, headers=HX)

    # then
    assert response.status_code == 200
    assert rows_of(response) == expected


def test_supplier_filter(client_as: Callable[..., Client]) -> None:
    bought = ProductFactory.create()
    po_line = PurchaseOrderLineFactory.create(product=bought)
    line(number="SO-BOUGHT", product=bought)
    line(number="SO-OTHER")

    response = client_as(Role.PURCHASING).get(
        QUEUE, {"supplier": po_line.purchase_order.supplier_id}
    )

    assert rows_of(response) == ["SO-BOUGHT"]


@pytest.mark.parametrize("headers", [{}, HX])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"min_age": "abc"}, "Enter a whole number of days, like 7."),
        ({"min_age": "-3"}, "Ensure this value is greater than or equal to 0."),
        ({"warehouse": "NOPE"}, "Select a valid choice."),
        ({"supplier": "abc"}, "Select a valid choice."),
    ],
)
def test_bad_filter_value_shows_a_message_beside_the_field(
    client_as: Callable[..., Client], headers: dict[str, str], query: dict[str, str], message: str
) -> None:
    line(number="SO-STILL-LISTED")
    field = next(iter(query))

    response = client_as(Role.WAREHOUSE).get(QUEUE, query, headers=headers)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="queue-filter-error-{field}"' in html
    error = html.split(f'id="queue-filter-error-{field}"', 1)[1].split("</p>", 1)[0]
    assert message in error
    # the other filters still apply, the bad one is left out
    assert rows_of(response) == ["SO-STILL-LISTED"]


def test_fragment_clears_messages_of_fields_now_valid(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(QUEUE, {"min_age": "3"}, headers=HX)

    html = response.content.decode()
    assert (
        '<p id="queue-filter-error-min_age" class="field-error" aria-live="polite" '
        'hx-swap-oob="true"></p>'
    ) in html


# Sorting and paging


def test_sort_by_promised_date_both_ways_with_no_date_last(
    client_as: Callable[..., Client],
) -> None:
    today = timezone.localdate()
    line(number="SO-LATE", promised_date=today + dt.timedelta(days=30))
    line(number="SO-NONE", promised_date=None)
    line(number="SO-SOON", promised_date=today + dt.timedelta(days=3))
    client = client_as(Role.WAREHOUSE)

    ascending = client.get(QUEUE, {"sort": "promised_date"}, headers=HX)
    descending = client.get(QUEUE, {"sort": "-promised_date"}, headers=HX)

    assert rows_of(ascending) == ["SO-SOON", "SO-LATE", "SO-NONE"]
    assert rows_of(descending) == ["SO-LATE", "SO-SOON", "SO-NONE"]
    assert 'aria-sort="descending"' in descending.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-age", ["SO-A", "SO-B", "SO-C"]),
        ("age", ["SO-C", "SO-B", "SO-A"]),
        ("-units_waiting", ["SO-B", "SO-C", "SO-A"]),
        ("-times_slipped", ["SO-C", "SO-A", "SO-B"]),
        ("queue_position", ["SO-A", "SO-C", "SO-B"]),
        ("nonsense", ["SO-A", "SO-B", "SO-C"]),  # unknown: the queue order
    ],
)
def test_sort_by_other_columns(
    client_as: Callable[..., Client], sort: str, expected: list[str]
) -> None:
    shared = ProductFactory.create()
    line(number="SO-A", placed_at=days_ago(9), ordered=1, times_slipped=1, product=shared)
    line(number="SO-B", placed_at=days_ago(5), ordered=9, product=shared)
    line(number="SO-C", placed_at=days_ago(1), ordered=4, times_slipped=3)

    response = client_as(Role.WAREHOUSE).get(QUEUE, {"sort": sort}, headers=HX)

    assert rows_of(response) == expected


def test_sort_links_keep_the_filters_and_a_real_href(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(QUEUE, {"customer": "ann"})

    html = response.content.decode()
    assert 'href="?customer=ann&amp;sort=promised_date"' in html
    assert 'hx-get="?customer=ann&amp;sort=promised_date"' in html


def test_current_sort_travels_with_the_filter_form(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(QUEUE, {"sort": "-age"}, headers=HX)

    assert b'<input type="hidden" name="sort" value="-age" form="queue-filters">' in (
        response.content
    )


def test_position_is_in_the_whole_queue_when_filtered(client_as: Callable[..., Client]) -> None:
    # given: Ann's line is third in the queue for the lamp
    lamp = ProductFactory.create()
    line(product=lamp, placed_at=days_ago(9))
    line(product=lamp, placed_at=days_ago(8))
    ann = CustomerFactory.create(name="Ann Third")
    third = line(product=lamp, placed_at=days_ago(7), customer=ann)

    # when
    response = client_as(Role.CUSTOMER_SERVICE).get(QUEUE, {"customer": "Ann Third"}, headers=HX)

    # then
    html = response.content.decode()
    row = html.split(f'<tr id="line-row-{third.pk}"', 1)[1].split("</tr>", 1)[0]
    assert ' class="select">' in row  # customer service can select it …
    assert ' class="num">3</td>' in row  # … and it is third


def test_pages_of_fifty_without_counting(client_as: Callable[..., Client]) -> None:
    OrderLineFactory.create_batch(
        51, order=factory.SubFactory(SalesOrderFactory, placed_at=days_ago(3))
    )
    client = client_as(Role.WAREHOUSE)

    with CaptureQueriesContext(connection) as queries:
        first = client.get(QUEUE, headers=HX)
        second = client.get(QUEUE, {"page": 2}, headers=HX)

    assert len(rows_of(first)) == 50
    assert 'rel="next"' in first.content.decode()
    assert len(rows_of(second)) == 1
    assert 'rel="next"' not in second.content.decode()
    assert not [q for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(")]


@pytest.mark.parametrize("page", ["99", str(10**30), "9" * 5000])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_page_past_the_end_shows_the_last_page(
    client_as: Callable[..., Client], page: str, headers: dict[str, str]
) -> None:
    OrderLineFactory.create_batch(
        51, order=factory.SubFactory(SalesOrderFactory, placed_at=days_ago(3))
    )

    response = client_as(Role.WAREHOUSE).get(QUEUE, {"page": page}, headers=headers)

    assert response.status_code == 200
    assert len(rows_of(response)) == 1
    assert "Page 2" in response.content.decode()


# CSV


def test_csv_has_the_columns_and_respects_filters_and_sort(
    client_as: Callable[..., Client],
) -> None:
    # given
    lamp = ProductFactory.create(sku="LMP-1", name="Desk Lamp, Brass")
    line(number="SO-1", product=lamp, promised_date=dt.date(2030, 5, 1), ordered=2)
    line(
        number="SO-2",
        product=lamp,
        promised_date=dt.date(2030, 4, 1),
        promise_is_estimate=True,
        times_slipped=1,
        customer=CustomerFactory.create(name="=cmd|' /C calc'!A0", tier=Tier.VIP),
        customer_tier=Tier.VIP,
    )
    line(number="SO-OTHER")

    # when
    response = client_as(Role.PURCHASING).get(EXPORT, {"product": "lamp", "sort": "promised_date"})

    # then
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="backorder-queue-')
    rows = csv_of(response)
    assert list(rows[0]) == [
        "Pos.",
        "Order",
        "Customer",
        "Tier",
        "Product",
        "Product name",
        "Warehouse",
        "Units",
        "Age (days)",
        "Promised",
        "Estimate",
        "Slipped",
    ]
    assert [(r["Order"], r["Pos."], r["Promised"], r["Estimate"]) for r in rows] == [
        ("SO-2", "1", "2030-04-01", "yes"),
        ("SO-1", "2", "2030-05-01", "no"),
    ]
    assert rows[0]["Customer"] == "'=cmd|' /C calc'!A0"  # never a spreadsheet formula
    assert rows[0]["Tier"] == "VIP"
    assert rows[1]["Product name"] == "Desk Lamp, Brass"
    assert rows[1]["Units"] == "2"
    assert rows[1]["Age (days)"] == "0"


def test_page_links_to_the_csv_with_the_current_query(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(QUEUE, {"customer": "ann", "page": "2"})

    assert b'href="/queue/export.csv?customer=ann"' in response.content


def test_csv_of_an_empty_queue_is_just_the_header(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get(EXPORT)

    body = response.getvalue().decode()
    assert body.splitlines() == [
        "Pos.,Order,Customer,Tier,Product,Product name,Warehouse,Units,Age (days),"
        "Promised,Estimate,Slipped"
    ]


# Queries


@pytest.fixture
def long_queue() -> list[OrderLine]:
    """210 waiting lines over a few products, warehouses and customers."""
    products = ProductFactory.create_batch(4)
    warehouses = [WarehouseFactory.create(code=code) for code in ("MAIN", "EAST")]
    customers = [CustomerFactory.create(tier=tier) for tier in Tier]
    orders = [
        SalesOrderFactory.create(
            customer=customers[n % 3], warehouse=warehouses[n % 2], placed_at=days_ago(n % 40)
        )
        for n in range(70)
    ]
    return OrderLineFactory.create_batch(
        210,
        order=factory.Iterator(orders),
        product=factory.Iterator(products),
        promised_date=factory.Iterator([None, timezone.localdate() + dt.timedelta(days=9)]),
        promise_is_estimate=factory.Iterator([False, True, False]),
        times_slipped=factory.Iterator([0, 0, 1, 3]),
    )


# session, user, the user's groups, the page of lines, their queue positions;
# the full page adds the supplier and warehouse choices of the filter form.
PAGE_QUERIES = 7
FRAGMENT_QUERIES = 5


@pytest.mark.parametrize("query", [{}, {"sort": "queue_position"}, {"slipped": "on", "page": "2"}])
def test_full_page_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    long_queue: list[OrderLine],
    query: dict[str, str],
) -> None:
    client = client_as(Role.WAREHOUSE)

    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(QUEUE, query)

    assert response.status_code == 200
    assert len(rows_of(response)) == 50


@pytest.mark.parametrize("query", [{}, {"sort": "-promised_date"}, {"estimate": "on"}])
def test_fragment_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    long_queue: list[OrderLine],
    query: dict[str, str],
) -> None:
    client = client_as(Role.WAREHOUSE)

    with django_assert_max_num_queries(FRAGMENT_QUERIES):
        response = client.get(QUEUE, query, headers=HX)

    assert response.status_code == 200
    assert len(rows_of(response)) == 50


def test_csv_streams_every_line_in_few_queries(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    long_queue: list[OrderLine],
) -> None:
    client = client_as(Role.WAREHOUSE)

    with django_assert_max_num_queries(FRAGMENT_QUERIES):
        rows = csv_of(client.get(EXPORT))

    assert len(rows) == 210


def test_csv_exports_every_column_of_the_table() -> None:
    from desk.tables.queue import QueueTable

    table = QueueTable([])

    assert set(QueueTable.export_columns) == {
        column.name for column in table.columns.iterall()
    } - set(QueueTable.ACTION_COLUMNS)
