"""The delays page (/delays/): roles, the cards, the filters, the htmx fragment,
paging, and its query count. Who is on it and in which order:
tests/orders/test_selectors_delays.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications.models import DiscountCode, Notification, NotificationKind
from orders.models import Customer, OrderLine, OrderNote, SalesOrder
from orders.selectors.delays import DELAYS_PAGE_SIZE
from tests.conftest import delayed_line
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    WarehouseFactory,
)

pytestmark = pytest.mark.django_db

DELAYS = "/delays/"
HX = {"HX-Request": "true"}


def names(client: Client, query: str = "") -> list[str]:
    response = client.get(f"{DELAYS}?{query}", headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    found = []
    for customer in Customer.objects.all():
        position = html.find(f'id="delay-customer-{customer.pk}"')
        if position >= 0:
            found.append((position, customer.name.split()[0].lower()))
    return [name for _position, name in sorted(found)]


# --- the page: roles, page and fragment ------------------------------------------------


def test_url_name() -> None:
    assert reverse("delays") == DELAYS


@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(client: Client, headers: dict[str, str]) -> None:
    response = client.get(DELAYS, headers=headers)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("headers", [{}, HX])
def test_the_warehouse_gets_403(client_as: Callable[..., Client], headers) -> None:
    assert client_as(Role.WAREHOUSE).get(DELAYS, headers=headers).status_code == 403


def test_customer_service_loads_the_actions_on_demand(
    client_as: Callable[..., Client], delays
) -> None:
    line = OrderLine.objects.get(product__sku="BEA-1")
    line.product.alternatives.add(ProductFactory.create(sku="BEA-ALT"))
    client = client_as(Role.CUSTOMER_SERVICE)
    page = client.get(DELAYS).content.decode()
    assert "<h1>Delays</h1>" in page
    assert 'aria-current="page">Delays' in page
    actions = reverse("delay-customer-actions", args=[delays["bea"].pk])
    assert f'hx-get="{actions}' in page
    assert reverse("delay-customer-note", args=[delays["bea"].pk]) not in page
    html = client.get(actions, headers=HX).content.decode()
    assert html.lstrip().startswith(f'<article id="delay-customer-{delays["bea"].pk}"')
    for action in ("delay-customer-note", "delay-discount", "delay-order-note"):
        assert reverse(action, args=[delays["bea"].pk]) in html
    assert reverse("delay-line-cancel", args=[delays["bea"].pk, line.pk]) in html
    assert reverse("delay-line-substitute", args=[delays["bea"].pk, line.pk]) in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "BEA-ALT · " in html
    # a product without alternatives says so instead of offering an empty choice
    ada = reverse("delay-customer-actions", args=[delays["ada"].pk])
    assert "ADA-1 has no active alternatives." in client.get(ada, headers=HX).content.decode()


def test_purchasing_reads_the_page_without_actions(client_as: Callable[..., Client], delays):
    response = client_as(Role.PURCHASING).get(DELAYS)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="delay-customer-{delays["bea"].pk}"' in html
    assert "<form" in html  # the filters
    assert "/delays/customers/" not in html
    assert "Send a personal note" not in html and "Cancel the remainder" not in html


def test_the_card_links_customer_order_and_product(client_as: Callable[..., Client], delays):
    line = OrderLine.objects.select_related("order", "product").get(product__sku="BEA-1")
    html = client_as(Role.PURCHASING).get(DELAYS).content.decode()
    assert f'href="{reverse("customer", args=[delays["bea"].pk])}"' in html
    assert f'href="{reverse("order", args=[line.order.number])}"' in html
    assert f'href="{reverse("product", args=[line.product.sku])}"' in html
    # dates through the date filter, numbers right-aligned, colour with words
    first = line.first_promised_date
    assert first is not None
    assert f'<time datetime="{first.isoformat()}">{first:%-d %b %Y}</time>' in html
    assert '<td class="num delay-days">20</td>' in html
    assert ">20 days late</span>" in html and ">passed</span>" in html
    assert ">1 promise passed</span>" in html


def test_the_card_shows_what_the_customer_was_told(
    client_as: Callable[..., Client], delays, make_user
) -> None:
    bea = delays["bea"]
    order = SalesOrder.objects.get(customer=bea)
    message = Notification.objects.create(
        kind=NotificationKind.PROMISE_LATER,
        customer=bea,
        order=order,
        language="en",
        to_email=bea.email,
        subject="Order is delayed – sorry",
        body_text="x",
        body_html="x",
        dedup_key="test:1",
    )
    DiscountCode.objects.create(
        code="SORRY-ABCD-EFGH",
        customer=bea,
        order=order,
        percent=Decimal("12.50"),
        reason="test",
        expires_on=timezone.localdate(),
    )
    OrderNote.objects.create(order=order, body="Called her, she keeps waiting", author=make_user())
    html = client_as(Role.CUSTOMER_SERVICE).get(DELAYS).content.decode()
    assert f'href="{reverse("outbox-message", args=[message.pk])}">Order is delayed' in html
    assert 'data-status="pending">Pending</span>' in html
    assert "SORRY-ABCD-EFGH" in html and "12.5%" in html
    assert "Called her, she keeps waiting" in html
    assert "No email yet: the customer has not been told about the delay." in html  # others


def test_htmx_gets_only_the_list(client_as: Callable[..., Client], delays) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).get(f"{DELAYS}?passed=on", headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "<h1>" not in html
    assert html.lstrip().startswith('<div id="delays-list"')
    assert 'id="delays-filter-error-min_days"' in html and 'hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_full_page(client_as: Callable[..., Client], delays) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).get(
        DELAYS, headers={**HX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.content.decode()


def test_the_filter_form_updates_the_list_in_place_and_pushes_the_url(
    client_as: Callable[..., Client], delays
) -> None:
    html = client_as(Role.CUSTOMER_SERVICE).get(DELAYS).content.decode()
    assert 'hx-get="/delays/" hx-target="#delays-list"' in html
    assert 'hx-push-url="true"' in html
    assert 'method="get" action="/delays/"' in html


def test_views_through_the_client_use_the_filters(client_as: Callable[..., Client], delays):
    client = client_as(Role.CUSTOMER_SERVICE)
    assert names(client) == ["bea", "ada", "dan", "cal"]
    assert names(client, "passed=on") == ["bea"]
    assert names(client, "customer=dan") == ["dan"]


def test_a_bad_filter_value_gets_a_message_beside_the_field(
    client_as: Callable[..., Client], delays
) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).get(f"{DELAYS}?min_days=soon&page=x")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter a whole number of days, like 7." in html
    assert html.count('class="card delay-card"') == 4  # the rest of the filters still apply


def test_the_empty_page_says_what_to_do(client_as: Callable[..., Client]) -> None:
    html = client_as(Role.CUSTOMER_SERVICE).get(DELAYS).content.decode()
    assert "Nobody is waiting past their promise." in html
    assert f'href="{reverse("queue")}"' in html


def test_an_empty_filter_result_offers_to_clear(client_as: Callable[..., Client], delays):
    html = client_as(Role.CUSTOMER_SERVICE).get(f"{DELAYS}?customer=nobody").content.decode()
    assert "No delayed customer matches these filters." in html
    assert 'href="/delays/">Clear the filters</a>' in html


def test_pages_link_forward_and_back_keeping_the_filters(
    client_as: Callable[..., Client],
) -> None:
    for number in range(DELAYS_PAGE_SIZE + 1):
        delayed_line(CustomerFactory.create(), first=-5, promised=number + 1, slipped=1)
    client = client_as(Role.CUSTOMER_SERVICE)
    html = client.get(f"{DELAYS}?min_days=1").content.decode()
    assert html.count('class="card delay-card"') == DELAYS_PAGE_SIZE
    assert 'href="?min_days=1&amp;page=2"' in html
    second = client.get(f"{DELAYS}?min_days=1&page=2").content.decode()
    assert second.count('class="card delay-card"') == 1
    assert 'href="?min_days=1&amp;page=1"' in second and 'rel="next"' not in second
    beyond = client.get(f"{DELAYS}?page=9").content.decode()
    assert "No more delayed customers on this page." in beyond


# --- a fixed number of queries ----------------------------------------------------


@pytest.fixture
def many_delays(make_user) -> None:
    """220 delayed customers with 2 lines each (440 lines), 3 messages, a code and
    a note each, every line with two alternatives: far more than a page."""
    today = timezone.localdate()
    warehouse = WarehouseFactory.create(code="BIG")
    products = ProductFactory.create_batch(10)
    for product in products:
        product.alternatives.set([p for p in products if p != product][:2])
    author = make_user()
    customers = Customer.objects.bulk_create(
        Customer(name=f"Customer {i:03d}", email=f"c{i}@example.com") for i in range(220)
    )
    orders = SalesOrder.objects.bulk_create(
        SalesOrder(number=f"SO-BIG-{i:04d}", customer=customer, warehouse=warehouse)
        for i, customer in enumerate(customers)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            product=products[(i + j) % 10],
            warehouse=warehouse,
            customer_tier=3,
            placed_at=order.placed_at,
            unit_price=Decimal("10.00"),
            ordered=2,
            first_promised_date=today - dt.timedelta(days=i % 30),
            promised_date=today + dt.timedelta(days=j - 1),
            times_slipped=1 + j,
        )
        for i, order in enumerate(orders)
        for j in range(2)
    )
    Notification.objects.bulk_create(
        Notification(
            kind=NotificationKind.PROMISE_LATER,
            customer=order.customer,
            order=order,
            language="en",
            to_email=order.customer.email,
            subject=f"Update {k}",
            body_text="x",
            body_html="x",
            dedup_key=f"big:{order.pk}:{k}",
        )
        for order in orders
        for k in range(3)
    )
    DiscountCode.objects.bulk_create(
        DiscountCode(
            code=f"BIG-{order.pk}",
            customer=order.customer,
            order=order,
            percent=Decimal("10"),
            reason="x",
            expires_on=today,
        )
        for order in orders
    )
    OrderNote.objects.bulk_create(
        OrderNote(order=order, body="n", author=author) for order in orders
    )


# session, user, roles, policy, the page of customers, the customers, their lines,
# messages, codes, notes, the last slips, the supplier choices (the alternatives
# come with a customer's action forms)
PAGE_QUERIES = 12


@pytest.mark.parametrize("headers", [{}, HX])
def test_the_page_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], django_assert_max_num_queries, many_delays, headers
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    client.get(DELAYS)  # the policy row is created on first use
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = client.get(f"{DELAYS}?discount=sent&min_days=1", headers=headers)
    html = response.content.decode()
    assert html.count('class="card delay-card"') == DELAYS_PAGE_SIZE
    assert html.count('class="delay-load-actions"') == DELAYS_PAGE_SIZE  # forms on demand
    assert "Update 2" in html and "BIG-" in html


def test_the_query_count_does_not_grow_with_the_page(
    client_as: Callable[..., Client], many_delays
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    client.get(DELAYS)
    counts = []
    for customer_filter in ("Customer 00", ""):  # 10 customers on the page, then 15
        with CaptureQueriesContext(connection) as queries:
            client.get(f"{DELAYS}?customer={customer_filter}")
        counts.append(len(queries))
        assert not any("COUNT(*)" in query["sql"] for query in queries.captured_queries)
    assert counts[0] == counts[1]
