"""The order page's notifications side: the messages fragments, cancelling a
line's backordered remainder and changing a waiting line's priority."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications import updates
from notifications.models import Notification, NotificationKind
from orders.models import Cancellation, OrderLine, SalesOrder
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def order(shop: Shop) -> SalesOrder:
    """An order of two backordered units, promised from a purchase order."""
    product = shop.product(name="Rattan lounge chair")
    shop.purchase(product, 10, days=6)
    return updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, 2)],
        by=shop.clerk,
    )


def cancel_url(order: SalesOrder, line: OrderLine) -> str:
    return reverse("order-line-cancel", args=[order.number, line.pk])


def priority_url(order: SalesOrder, line: OrderLine) -> str:
    return reverse("order-line-priority", args=[order.number, line.pk])


def messages_url(order: SalesOrder) -> str:
    return reverse("order-messages", args=[order.number])


def customer_messages_url(order: SalesOrder) -> str:
    return reverse("customer-messages", args=[order.customer_id])


# --- the messages fragments ----------------------------------------------------------


@pytest.mark.parametrize("which", ["order", "customer"])
def test_anonymous_is_sent_to_log_in_for_messages(
    client: Client, order: SalesOrder, which: str
) -> None:
    url = messages_url(order) if which == "order" else customer_messages_url(order)
    response = client.get(url, headers=HX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reads_the_messages_and_only_outbox_roles_open_them(
    client_as: Callable[..., Client], order: SalesOrder, role: Role
) -> None:
    message = Notification.objects.get(order=order)  # the backorder confirmation
    client = client_as(role)
    for url in (messages_url(order), customer_messages_url(order)):
        response = client.get(url, headers=HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html and message.subject in html
        assert f'id="message-{message.pk}"' in html
        assert ("Pending</span>" in html) or ("Sent</span>" in html)  # status with text
        linked = f'href="{reverse("outbox-message", args=[message.pk])}"' in html
        assert linked == (role in (Role.CUSTOMER_SERVICE, Role.PURCHASING))


def test_a_user_without_a_role_gets_403_on_the_messages(
    client_as: Callable[..., Client], order: SalesOrder
) -> None:
    client = client_as()
    assert client.get(messages_url(order), headers=HX).status_code == 403
    assert client.get(customer_messages_url(order), headers=HX).status_code == 403


def test_without_htmx_the_messages_are_a_page_of_their_own(
    client_as: Callable[..., Client], order: SalesOrder
) -> None:
    response = client_as(Role.WAREHOUSE).get(messages_url(order))
    html = response.content.decode()
    assert "<html" in html and "Messages to the customer" in html
    assert f'href="{reverse("order", args=[order.number])}"' in html


def test_the_customer_messages_show_discount_codes(
    client_as: Callable[..., Client], order: SalesOrder
) -> None:
    from notifications.models import DiscountCode

    DiscountCode.objects.create(
        code="SORRY-10",
        customer=order.customer,
        order=order,
        percent=10,
        reason="late twice",
        expires_on="2099-01-01",
    )
    html = client_as(Role.CUSTOMER_SERVICE).get(customer_messages_url(order), headers=HX)
    text = html.content.decode()
    assert "SORRY-10" in text and "late twice" in text and "10 %" in text


def test_unknown_orders_and_customers_are_404(client_as: Callable[..., Client]) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    assert client.get(reverse("order-messages", args=["SO-NOPE"]), headers=HX).status_code == 404
    assert client.get(reverse("customer-messages", args=[999_999]), headers=HX).status_code == 404


# --- cancelling the backordered remainder -----------------------------------------------


def test_anonymous_is_sent_to_log_in_for_the_actions(
    client: Client, order: SalesOrder, unchanged
) -> None:
    line = order.lines.get()
    with unchanged():
        for url, data in (
            (cancel_url(order, line), {"reason": "x"}),
            (priority_url(order, line), {"priority": 5}),
        ):
            response = client.post(url, data)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.PURCHASING, None])
def test_only_customer_service_cancels(
    client_as: Callable[..., Client], order: SalesOrder, role: Role | None, unchanged
) -> None:
    line = order.lines.get()
    client = client_as(role) if role else client_as()
    with unchanged():
        for headers in ({}, HX):
            response = client.post(cancel_url(order, line), {"reason": "asked"}, headers=headers)
            assert response.status_code == 403


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.PURCHASING, None])
def test_only_customer_service_sets_priorities_on_the_order_page(
    client_as: Callable[..., Client], order: SalesOrder, role: Role | None, unchanged
) -> None:
    line = order.lines.get()
    client = client_as(role) if role else client_as()
    with unchanged():
        for headers in ({}, HX):
            response = client.post(priority_url(order, line), {"priority": 5}, headers=headers)
            assert response.status_code == 403


def test_a_get_is_not_allowed(client_as: Callable[..., Client], order: SalesOrder) -> None:
    line = order.lines.get()
    assert client_as(Role.CUSTOMER_SERVICE).get(cancel_url(order, line)).status_code == 405


def test_cancelling_the_remainder_answers_the_lines_and_tells_the_customer(
    client_as: Callable[..., Client], order: SalesOrder
) -> None:
    line = order.lines.get()
    response = client_as(Role.CUSTOMER_SERVICE).post(
        cancel_url(order, line), {"reason": "customer phoned"}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="order-lines"' in html
    assert "Cancelled 2 backordered" in html and "Cancelled</span>" in html
    assert 'id="order-status" hx-swap-oob="true"' in html
    event = json.loads(response["HX-Trigger"])["orderLineCancelled"]
    assert event == {"order": order.number, "line": line.pk, "units": 2}
    line.refresh_from_db()
    assert (line.cancelled, line.backordered) == (2, 0)
    cancellation = Cancellation.objects.get(order_line=line)
    assert cancellation.reason == "customer phoned" and cancellation.cancelled_by is not None
    assert Notification.objects.filter(order=order, kind=NotificationKind.CANCELLED).count() == 1
    # The messages fragment (reloaded on the event) shows the cancellation message.
    messages = client_as(Role.CUSTOMER_SERVICE).get(messages_url(order), headers=HX)
    assert "Cancelled" in messages.content.decode()


def test_without_htmx_a_cancel_redirects_to_the_order_with_a_message(
    client_as: Callable[..., Client], order: SalesOrder
) -> None:
    line = order.lines.get()
    client = client_as(superuser=True)
    response = client.post(cancel_url(order, line), {"reason": "customer phoned"})
    assert response.status_code == 302
    assert response["Location"] == reverse("order", args=[order.number])
    assert "Cancelled 2 backordered" in client.get(response["Location"]).content.decode()


def test_a_cancel_without_a_reason_is_refused_beside_the_field(
    client_as: Callable[..., Client], order: SalesOrder, unchanged
) -> None:
    line = order.lines.get()
    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(
            cancel_url(order, line), {"reason": "  "}, headers=HX
        )
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert f'id="cancel-reason-{line.pk}-error"' in html
    assert "Say why; the customer is told" in html
    assert not Notification.objects.filter(kind=NotificationKind.CANCELLED).exists()


def test_a_line_with_nothing_waiting_is_refused(
    client_as: Callable[..., Client], shop: Shop, unchanged
) -> None:
    product = shop.product()
    shop.receive(product, 5)
    order = shop.order(product, 2)  # fully allocated: nothing backordered
    line = order.lines.get()
    client = client_as(Role.CUSTOMER_SERVICE)
    with unchanged():
        cancel = client.post(cancel_url(order, line), {"reason": "asked"}, headers=HX)
        priority = client.post(priority_url(order, line), {"priority": 4}, headers=HX)
    assert cancel.status_code == 200 and "HX-Trigger" not in cancel
    assert "Nothing on this line is waiting on backorder." in cancel.content.decode()
    assert f'id="cancel-reason-{line.pk}-error"' in cancel.content.decode()
    assert priority.status_code == 200 and "HX-Trigger" not in priority
    assert "This line is not waiting in the queue." in priority.content.decode()


def test_without_htmx_a_refusal_shows_the_whole_page_with_the_message(
    client_as: Callable[..., Client], order: SalesOrder, unchanged
) -> None:
    line = order.lines.get()
    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(cancel_url(order, line), {"reason": ""})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and 'id="order-audit"' in html
    assert f'id="cancel-reason-{line.pk}-error"' in html


def test_a_line_of_another_order_is_404(
    client_as: Callable[..., Client], shop: Shop, order: SalesOrder, unchanged
) -> None:
    other = shop.order(shop.product(), 1)
    line = other.lines.get()
    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(
            cancel_url(order, line), {"reason": "x"}, headers=HX
        )
    assert response.status_code == 404


# --- priority ----------------------------------------------------------------------


@pytest.mark.parametrize("superuser", [False, True])
def test_changing_the_priority_answers_the_lines_with_an_event(
    client_as: Callable[..., Client], order: SalesOrder, superuser: bool
) -> None:
    line = order.lines.get()
    client = client_as(superuser=True) if superuser else client_as(Role.CUSTOMER_SERVICE)
    response = client.post(priority_url(order, line), {"priority": "-7"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200 and 'id="order-lines"' in html
    assert "now has priority -7" in html
    assert json.loads(response["HX-Trigger"])["priorityChanged"]["priority"] == -7
    line.refresh_from_db()
    assert line.priority == -7


@pytest.mark.parametrize("value", ["101", "-101", "high", "", "2.5"])
def test_a_bad_priority_is_refused_beside_the_field(
    client_as: Callable[..., Client], order: SalesOrder, value: str, unchanged
) -> None:
    line = order.lines.get()
    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(
            priority_url(order, line), {"priority": value}, headers=HX
        )
    html = response.content.decode()
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert f'id="priority-{line.pk}-error"' in html
    assert "Enter a whole number from -100 to 100." in html
