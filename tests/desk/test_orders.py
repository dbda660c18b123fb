"""The order page /orders/<number>/ and the customer page /customers/<id>/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from orders.models import Customer, OrderNote, PaymentStatus, SalesOrder
from orders.services.cancelling import order_line_cancel
from orders.services.intake import LineRequest, order_place
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def order_url(order: SalesOrder) -> str:
    return reverse("order", args=[order.number])


def customer_url(customer: Customer) -> str:
    return reverse("customer", args=[customer.pk])


def backordered(shop: Shop, *, units: int = 2, products: int = 1) -> SalesOrder:
    """An order placed with no stock: every line waits, promised from a purchase order."""
    from notifications import updates

    lines = []
    for _ in range(products):
        product = shop.product()
        shop.purchase(product, 50, days=6)
        lines.append(LineRequest(product, units))
    return updates.order_place(
        customer=shop.customer(), warehouse=shop.warehouse, lines=lines, by=shop.clerk
    )


def section(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</section>", 1)[0]


# --- roles ---------------------------------------------------------------------


@pytest.mark.parametrize("page", ["order", "customer"])
def test_anonymous_is_sent_to_log_in(client: Client, shop: Shop, page: str) -> None:
    order = backordered(shop)
    url = order_url(order) if page == "order" else customer_url(order.customer)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_views_the_order_and_the_customer(
    client_as: Callable[..., Client], shop: Shop, role: Role
) -> None:
    order = backordered(shop)
    client = client_as(role)
    page = client.get(order_url(order))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Order {order.number}" in html
    # Only customer service acts on the order page (DESIGN.md's role table):
    # purchasing sets priorities on /queue/, not here.
    assert ("cancel-form" in html) == (role == Role.CUSTOMER_SERVICE)
    assert ("priority-form" in html) == (role == Role.CUSTOMER_SERVICE)
    assert ("Actions</th>" in html) == (role == Role.CUSTOMER_SERVICE)
    # and the lines fragment the page reloads says the same
    lines = client.get(order_url(order), headers=HX).content.decode()
    assert ("priority-form" in lines) == (role == Role.CUSTOMER_SERVICE)
    person = client.get(customer_url(order.customer))
    assert person.status_code == 200
    assert order.number in person.content.decode()


def test_a_superuser_sees_every_action(client_as: Callable[..., Client], shop: Shop) -> None:
    html = client_as(superuser=True).get(order_url(backordered(shop))).content.decode()
    assert "cancel-form" in html and "priority-form" in html


def test_a_user_without_a_role_gets_403(client_as: Callable[..., Client], shop: Shop) -> None:
    order = backordered(shop)
    client = client_as()
    for url in (order_url(order), customer_url(order.customer)):
        assert client.get(url).status_code == 403
        assert client.get(url, headers=HX).status_code == 403


def test_unknown_orders_and_customers_are_404(client_as: Callable[..., Client]) -> None:
    client = client_as(Role.WAREHOUSE)
    assert client.get(reverse("order", args=["SO-NOPE"])).status_code == 404
    assert client.get(reverse("customer", args=[999_999])).status_code == 404


# --- the order page ----------------------------------------------------------------


def test_the_order_page_shows_facts_lines_promises_and_the_audit_trail(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    from notifications import updates

    order = backordered(shop, units=3)
    line = order.lines.get()
    updates.order_line_set_priority(line=line, priority=5, by=shop.clerk)
    html = client_as(Role.WAREHOUSE).get(order_url(order)).content.decode()

    assert f'href="{customer_url(order.customer)}"' in html
    assert "Web shop" in html and shop.warehouse.code in html
    assert "Backordered</span>" in html  # the status badges have text
    row = html.split(f'id="line-row-{line.pk}"', 1)[1].split("</tr>", 1)[0]
    assert line.product.sku in row
    assert ' class="num"><strong>3</strong></td>' in row  # backordered
    line.refresh_from_db()
    assert line.promised_date is not None and line.promised_date.isoformat() in row
    promises = section(html, 'id="order-promises"')
    assert f'id="promise-history-{line.pk}"' in promises
    audit = section(html, 'id="order-audit"')
    assert "created" in audit and "priority 0 → 5" in audit and "clerk" in audit
    # The messages are in the page as it loads (no card filled in later moves
    # the page), and reload when a line is cancelled
    messages_url = reverse("order-messages", args=[order.number])
    assert f'hx-get="{messages_url}" hx-trigger="orderLineCancelled from:body"' in html
    assert 'hx-trigger="load' not in html
    messages = html.split('id="order-messages"', 1)[1].split("</section>", 1)[0]
    assert 'class="order-messages-table"' in messages


def test_the_audit_trail_lists_shipments_cancellations_and_stock_moves(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    from notifications import updates

    product = shop.product()
    shop.receive(product, 1)
    order = updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, 3)],
        by=shop.clerk,
    )
    line = order.lines.get()
    updates.order_line_cancel(line=line, reason="customer phoned", by=shop.clerk)
    updates.shipment_create(order=order, tracking_number="TRACK-123", by=shop.clerk)
    html = client_as(Role.CUSTOMER_SERVICE).get(order_url(order)).content.decode()
    audit = section(html, 'id="order-audit"')
    assert "Shipped 1 units" in audit and "TRACK-123" in audit
    assert "Cancelled 2 ×" in audit and "customer phoned" in audit and "refund due" in audit
    assert "Allocation 1 ×" in audit and f"{order.number}/{line.pk}" in audit


def test_the_order_fragment_for_htmx(client_as: Callable[..., Client], shop: Shop) -> None:
    order = backordered(shop)
    response = client_as(Role.PURCHASING).get(order_url(order), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="order-lines"' in html
    assert 'id="order-audit"' not in html
    assert response["Vary"].count("HX-Request")


# --- the customer page --------------------------------------------------------------


def test_the_customer_page_shows_facts_and_orders_newest_first(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    from notifications import updates

    person = shop.customer(tier=1, email_opt_out=True, language="nl")
    product = shop.product()
    now = timezone.now()
    older, newer = (
        updates.order_place(
            customer=person,
            warehouse=shop.warehouse,
            lines=[LineRequest(product, units)],
            placed_at=now - dt.timedelta(days=days),
            by=shop.clerk,
        )
        for units, days in ((2, 5), (4, 1))
    )
    html = client_as(Role.WAREHOUSE).get(customer_url(person)).content.decode()
    assert person.email in html and "Dutch" in html
    assert 'class="badge badge-tier-vip">VIP</span>' in html and "Opted out" in html
    orders = section(html, 'id="customer-orders"')
    assert orders.index(newer.number) < orders.index(older.number)
    assert f'href="{order_url(newer)}"' in orders
    row = orders.split(f'id="customer-order-{newer.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "<strong>4</strong>" in row and "Backordered</span>" in row
    messages_url = reverse("customer-messages", args=[person.pk])
    assert f'hx-get="{messages_url}"' in html and f'href="{messages_url}"' in html


def test_the_customer_fragment_for_htmx(client_as: Callable[..., Client], shop: Shop) -> None:
    order = backordered(shop)
    response = client_as(Role.WAREHOUSE).get(customer_url(order.customer), headers=HX)
    html = response.content.decode()
    assert "<html" not in html and 'id="customer-orders"' in html and order.number in html


# --- queries -----------------------------------------------------------------------


def test_the_order_page_says_what_each_promise_rests_on(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    order = backordered(shop)
    line = order.lines.get()
    po = line.product.purchase_lines.get().purchase_order

    html = client_as(Role.CUSTOMER_SERVICE).get(order_url(order)).content.decode()

    basis = html.split(f'data-promise-basis="{line.pk}">', 1)[1].split("</span>", 1)[0]
    due = po.lines.get().expected_date
    assert f"rests on {po.number}, due {due:%-d %b %Y}" in basis  # with the year
    assert f"ships by {line.promised_date:%-d %b %Y}" in basis
    assert "usually" not in basis  # the naive engine counts on no lateness


# session, user, roles, order, lines, promise revisions, the purchase order lines
# promises rest on, order history, line history, shipments, cancellations,
# customer choices, stock moves, the messages, the refunds card (+1 spare)
ORDER_QUERIES = 16
# session, user, roles, customer, orders, their lines (+1 spare)
CUSTOMER_QUERIES = 7


def test_the_order_page_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], shop: Shop, django_assert_max_num_queries
) -> None:
    from notifications import updates

    order = backordered(shop, products=30)
    for line in list(order.lines.all())[:10]:
        updates.order_line_set_priority(line=line, priority=3, by=shop.clerk)
    client = client_as(Role.CUSTOMER_SERVICE)
    with django_assert_max_num_queries(ORDER_QUERIES):
        response = client.get(order_url(order))
    assert response.content.decode().count('id="line-row-') == 30
    with django_assert_max_num_queries(ORDER_QUERIES):
        client.get(order_url(order), headers=HX)


def test_the_customer_page_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], shop: Shop, django_assert_max_num_queries
) -> None:
    from notifications import updates

    person = shop.customer()
    first, second = shop.product(), shop.product()
    for _ in range(60):
        updates.order_place(
            customer=person,
            warehouse=shop.warehouse,
            lines=[LineRequest(first, 1), LineRequest(second, 2)],
            by=shop.clerk,
        )
    client = client_as(Role.PURCHASING)
    with django_assert_max_num_queries(CUSTOMER_QUERIES):
        response = client.get(customer_url(person))
    assert response.content.decode().count('id="customer-order-') == 60


def test_the_order_page_shows_internal_notes(client_as: Callable[..., Client], delays) -> None:
    order = SalesOrder.objects.get(customer=delays["ada"])
    author = User.objects.create_user(username="sari")
    OrderNote.objects.create(
        order=order, body="Offered the black one\nshe will think", author=author
    )
    html = client_as(Role.WAREHOUSE).get(reverse("order", args=[order.number])).content.decode()
    assert 'id="order-notes"' in html
    assert "Offered the black one<br>she will think" in html and "sari" in html
    other = SalesOrder.objects.get(customer=delays["bea"])
    html = client_as(Role.WAREHOUSE).get(reverse("order", args=[other.number])).content.decode()
    assert "No internal notes." in html


def test_the_order_page_shows_what_each_line_and_the_order_come_to(
    client_as: Callable[..., Client], shop: Shop, settings
) -> None:
    # given two lines at the shop's prices, one unit of the second cancelled
    settings.SHOP_CURRENCY = "EUR"
    lamp = shop.product(sku="LAMP-1", price=Decimal("79.00"))
    chair = shop.product(sku="CHAIR-2", price=Decimal("1250.50"))
    order = order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(lamp, 3), LineRequest(chair, 2)],
        by=shop.clerk,
        payment_status=PaymentStatus.PAID,
    )
    chair_line = order.lines.get(product=chair)
    order_line_cancel(line=chair_line, reason="customer asked", by=shop.clerk, quantity=1)

    html = client_as(Role.CUSTOMER_SERVICE).get(f"/orders/{order.number}/").content.decode()

    nbsp = "\N{NO-BREAK SPACE}"
    lamp_row = html.split(f'id="line-row-{order.lines.get(product=lamp).pk}"', 1)[1]
    assert f"EUR{nbsp}237.00" in lamp_row.split("</tr>", 1)[0]  # 3 × 79.00
    chair_row = html.split(f'id="line-row-{chair_line.pk}"', 1)[1].split("</tr>", 1)[0]
    assert f"EUR{nbsp}1,250.50" in chair_row and "1 cancelled" in chair_row
    total = html.split('class="order-total"', 1)[1].split("</tr>", 1)[0]
    assert f"EUR{nbsp}1,487.50" in total  # 237.00 + 1 × 1,250.50
    assert '<dd id="order-payment">Paid</dd>' in html
