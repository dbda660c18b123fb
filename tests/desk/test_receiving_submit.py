"""The receive form's submit: /purchase-orders/<number>/receive/submit/."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from config.db import ConcurrencyConflict
from config.roles import Role
from notifications.models import Notification, NotificationKind
from notifications.updates import purchasing as updates_purchasing
from orders.models import OrderLine
from orders.selectors.purchasing import purchase_order_receipt_state
from suppliers.models import PurchaseOrder, PurchaseOrderStatus
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]

HX = {"HX-Request": "true"}


def submit_url(order: PurchaseOrder) -> str:
    return reverse("purchase-order-receive-submit", args=[order.number])


def form_data(order: PurchaseOrder, **units: object) -> dict[str, object]:
    """The form as rendered now, with `line_<id>=units` filled in."""
    return {"receipt_state": purchase_order_receipt_state(purchase_order_id=order.pk), **units}


@pytest.fixture
def waiting(shop: Shop):
    """Three orders waiting for 4, 3 and 5 chairs (in that queue order) and a
    purchase order of 10 chairs and 6 tables."""
    chair = shop.product(sku="CHAIR-1", name="Oak chair")
    table = shop.product(sku="TABLE-1", name="Oak table")
    orders = [shop.order(chair, units) for units in (4, 3, 5)]
    po = shop.purchase(chair, 10)
    po.lines.create(product=table, ordered=6, expected_date=po.expected_date)
    chair_line = po.lines.get(product=chair)
    table_line = po.lines.get(product=table)
    mail.outbox.clear()
    return po, chair_line, table_line, orders


# Roles


def test_url_name() -> None:
    assert reverse("purchase-order-receive-submit", args=["PO-1"]) == (
        "/purchase-orders/PO-1/receive/submit/"
    )


@pytest.mark.parametrize("headers", [{}, HX])
def test_anonymous_is_sent_to_log_in(client: Client, waiting, headers: dict[str, str]) -> None:
    po, chair_line, _table_line, _orders = waiting

    response = client.post(submit_url(po), form_data(po, **{f"line_{chair_line.pk}": 1}))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.PURCHASING, Role.CUSTOMER_SERVICE, None])
def test_only_the_warehouse_receives(
    client_as: Callable[..., Client], waiting, unchanged, role: Role | None
) -> None:
    po, chair_line, _table_line, _orders = waiting
    client = client_as(role) if role else client_as()

    with unchanged():
        response = client.post(
            submit_url(po), form_data(po, **{f"line_{chair_line.pk}": 1}), headers=HX
        )

    assert response.status_code == 403


def test_get_is_not_allowed(client_as: Callable[..., Client], waiting) -> None:
    po, *_rest = waiting

    assert client_as(Role.WAREHOUSE).get(submit_url(po)).status_code == 405


# Receiving


def test_htmx_receipt_allocates_in_queue_order_and_tells_the_ready_customers(
    client_as: Callable[..., Client], waiting
) -> None:
    # given
    po, chair_line, table_line, orders = waiting
    data = form_data(po, **{f"line_{chair_line.pk}": 10, f"line_{table_line.pk}": 2})

    # when
    response = client_as(Role.WAREHOUSE).post(submit_url(po), data, headers=HX)

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="receive-result"' in html and "<html" not in html
    assert "Allocated to the backorder queue" in html
    first, second, third = (order.number for order in orders)
    assert html.index(first) < html.index(second) < html.index(third)
    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert [("ready to ship" in row) for row in rows] == [True, True, False]
    assert "Orders now ready to ship: 2" in html
    assert "TABLE-1</span> 2" in html  # nobody waits for tables: they stay in stock
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["unitsReceived"] == {"purchase_order": po.number, "units": 12}
    # the database
    units = {o.number: OrderLine.objects.get(order=o).allocated for o in orders}
    assert units == {first: 4, second: 3, third: 3}
    chair_line.refresh_from_db()
    assert chair_line.received == 10
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    ready = Notification.objects.filter(kind=NotificationKind.READY_TO_SHIP)
    assert sorted(n.order.number for n in ready if n.order) == [first, second]
    assert len(mail.outbox) == 2


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ("11", "Only 10 of 10 units are still expected on this line."),
        ("-1", "Enter 0 or more units."),
        ("ten", "Enter a whole number of units."),
    ],
)
def test_bad_quantity_shows_the_message_beside_the_line_and_changes_nothing(
    client_as: Callable[..., Client], waiting, unchanged, units: str, message: str
) -> None:
    po, chair_line, table_line, _orders = waiting
    data = form_data(po, **{f"line_{chair_line.pk}": units, f"line_{table_line.pk}": 1})

    with unchanged():
        response = client_as(Role.WAREHOUSE).post(submit_url(po), data, headers=HX)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    chair_row = html.split(f'<tr id="receive-line-{chair_line.pk}"', 1)[1].split("</tr>", 1)[0]
    table_row = html.split(f'<tr id="receive-line-{table_line.pk}"', 1)[1].split("</tr>", 1)[0]
    assert message in chair_row
    assert f'value="{units}"' in chair_row
    assert 'class="field-error"' in table_row and message not in table_row
    assert Notification.objects.filter(kind=NotificationKind.READY_TO_SHIP).count() == 0


def test_all_zeros_asks_for_a_quantity(
    client_as: Callable[..., Client], waiting, unchanged
) -> None:
    po, chair_line, table_line, _orders = waiting
    data = form_data(po, **{f"line_{chair_line.pk}": "0", f"line_{table_line.pk}": ""})

    with unchanged():
        response = client_as(Role.WAREHOUSE).post(submit_url(po), data, headers=HX)

    assert response.status_code == 200
    assert b"Enter the units received on at least one line." in response.content


def test_a_replayed_submit_receives_nothing_the_second_time(
    client_as: Callable[..., Client], waiting, unchanged
) -> None:
    po, chair_line, _table_line, _orders = waiting
    data = form_data(po, **{f"line_{chair_line.pk}": 4})
    client = client_as(Role.WAREHOUSE)
    assert client.post(submit_url(po), data, headers=HX).status_code == 200

    with unchanged():
        again = client.post(submit_url(po), data, headers=HX)

    assert again.status_code == 200
    assert "This purchase order changed since you opened it" in again.content.decode()
    assert "HX-Trigger" not in again
    chair_line.refresh_from_db()
    assert chair_line.received == 4


def test_a_stale_form_is_refused_even_when_the_early_check_passes(
    client_as: Callable[..., Client], waiting, unchanged, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two submits arriving together both pass the unlocked check; the one
    that locks second must still be refused (the check under lock)."""

    po, chair_line, _table_line, _orders = waiting
    stale = form_data(po, **{f"line_{chair_line.pk}": 4})
    client = client_as(Role.WAREHOUSE)
    client.post(submit_url(po), stale, headers=HX)
    monkeypatch.setattr(
        updates_purchasing,
        "purchase_order_receipt_state",
        lambda **_kw: stale["receipt_state"],
    )

    with unchanged():
        again = client.post(submit_url(po), stale, headers=HX)

    assert "This purchase order changed since you opened it" in again.content.decode()


def test_without_htmx_a_receipt_redirects_with_a_summary(
    client_as: Callable[..., Client], waiting
) -> None:
    po, chair_line, _table_line, _orders = waiting
    client = client_as(Role.WAREHOUSE)

    response = client.post(submit_url(po), form_data(po, **{f"line_{chair_line.pk}": 7}))

    assert response.status_code == 302
    assert response["Location"] == reverse("purchase-order-receive", args=[po.number])
    page = client.get(response["Location"]).content.decode()
    assert (
        f"Received 7 units on {po.number}: 7 allocated to the backorder queue, "
        "2 orders now ready to ship." in page
    )


def test_without_htmx_an_error_shows_the_whole_page(
    client_as: Callable[..., Client], waiting, unchanged
) -> None:
    po, chair_line, _table_line, _orders = waiting

    with unchanged():
        response = client_as(Role.WAREHOUSE).post(
            submit_url(po), form_data(po, **{f"line_{chair_line.pk}": 99})
        )

    assert response.status_code == 200
    assert b"<html" in response.content
    assert b"Only 10 of 10 units are still expected on this line." in response.content


def test_a_concurrency_conflict_is_a_message_not_a_500(
    client_as: Callable[..., Client], waiting, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifications import updates

    po, chair_line, _table_line, _orders = waiting

    def busy(**_kwargs: object) -> None:
        raise ConcurrencyConflict()

    monkeypatch.setattr(updates, "purchase_order_receive_from_form", busy)

    response = client_as(Role.WAREHOUSE).post(
        submit_url(po), form_data(po, **{f"line_{chair_line.pk}": 1}), headers=HX
    )

    assert response.status_code == 200
    assert b"Another change to the same stock was being saved at the same moment." in (
        response.content
    )
