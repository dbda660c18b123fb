"""The admin for customers, sales orders, lines, shipments and cancellations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inventory.models import StockLevel
from orders.limits import MAX_PRIORITY, PRIORITY_MESSAGE
from orders.models import (
    Cancellation,
    Customer,
    OrderLine,
    SalesOrder,
    Shipment,
    ShipmentLine,
    Status,
)
from tests.factories import CustomerFactory, OrderLineFactory, ProductFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

# Session, user, counts, the page of rows, the filters' choices, the date
# hierarchy: a fixed number whatever the number of rows.
CHANGELIST_MAX_QUERIES = 10


def admin_url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser_client(client_as: Callable[..., Client]) -> Client:
    return client_as(superuser=True)


@pytest.fixture
def sales() -> dict[str, Any]:
    """One row of every orders model: a line of 5 with 1 shipped and 1 cancelled."""
    customer = CustomerFactory.create(name="Ada Lovelace", email="ada@example.com")
    order = SalesOrderFactory.create(number="SO-ADMIN-1", customer=customer)
    line = OrderLineFactory.create(order=order, ordered=5, shipped=1, cancelled=1)
    shipment = Shipment.objects.create(order=order, tracking_number="TRACK-123")
    shipment_line = ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=1)
    cancellation = Cancellation.objects.create(
        order_line=line, quantity=1, refund_due=Decimal("19.90"), reason="Customer asked"
    )
    return {
        "customer": customer,
        "salesorder": order,
        "orderline": line,
        "shipment": shipment,
        "shipmentline": shipment_line,
        "cancellation": cancellation,
    }


def priority_form(priority: object) -> dict[str, object]:
    return {
        "priority": priority,
        # The read-only inlines still post their management forms.
        "shipment_lines-TOTAL_FORMS": 0,
        "shipment_lines-INITIAL_FORMS": 0,
        "cancellations-TOTAL_FORMS": 0,
        "cancellations-INITIAL_FORMS": 0,
        "_save": "Save",
    }


NAMES = ["customer", "salesorder", "orderline", "shipment", "shipmentline", "cancellation"]


@pytest.mark.parametrize("name", NAMES)
def test_changelist_and_change_page_render(
    superuser_client: Client, sales: dict[str, Any], name: str
) -> None:
    obj = sales[name]

    changelist = superuser_client.get(admin_url(type(obj), "changelist"))
    change = superuser_client.get(admin_url(type(obj), "change", obj.pk))

    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [obj]
    assert change.status_code == 200


def test_customer_add_page_renders(superuser_client: Client) -> None:
    response = superuser_client.get(admin_url(Customer, "add"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "model", [SalesOrder, OrderLine, Shipment, ShipmentLine, Cancellation], ids=str
)
def test_rows_made_by_the_services_are_not_added_here(
    superuser_client: Client, model: type[Model]
) -> None:
    response = superuser_client.get(admin_url(model, "add"))

    assert response.status_code == 403


@pytest.mark.parametrize(
    "name", ["salesorder", "orderline", "shipment", "shipmentline", "cancellation"]
)
def test_rows_made_by_the_services_are_not_deleted_here(
    superuser_client: Client, sales: dict[str, Any], name: str
) -> None:
    obj = sales[name]

    response = superuser_client.post(admin_url(type(obj), "delete", obj.pk), {"post": "yes"})

    assert response.status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_order_line_changelist_shows_the_quantities(
    superuser_client: Client, sales: dict[str, Any]
) -> None:
    response = superuser_client.get(admin_url(OrderLine, "changelist"))

    html = response.content.decode()
    assert '<td class="field-backordered">3</td>' in html
    assert f'<td class="field-status">{Status.BACKORDERED.label}</td>' in html


def test_order_line_changelist_runs_a_fixed_number_of_queries(
    superuser_client: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(10):
        order = SalesOrderFactory.create()
        OrderLineFactory.create_batch(5, order=order, product=ProductFactory.create())

    with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
        response = superuser_client.get(admin_url(OrderLine, "changelist"))

    assert len(response.context["cl"].result_list) == 50


def test_sales_order_changelist_runs_a_fixed_number_of_queries(
    superuser_client: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(50):
        OrderLineFactory.create_batch(2, order=SalesOrderFactory.create())

    with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
        response = superuser_client.get(admin_url(SalesOrder, "changelist"))

    assert len(response.context["cl"].result_list) == 50
    assert response.content.decode().count(f">{Status.BACKORDERED.label}</td>") == 50


@pytest.mark.parametrize(
    ("model", "query", "name"),
    [
        (Customer, "ada@example", "customer"),
        (SalesOrder, "SO-ADMIN", "salesorder"),
        (OrderLine, "SO-ADMIN-1", "orderline"),
        (OrderLine, "ada@", "orderline"),
        (Shipment, "TRACK-123", "shipment"),
        (Cancellation, "SO-ADMIN", "cancellation"),
    ],
)
def test_changelist_search(
    superuser_client: Client, sales: dict[str, Any], model: type[Model], query: str, name: str
) -> None:
    OrderLineFactory.create(order__number="SO-OTHER-2", order__customer__email="bob@example.com")

    response = superuser_client.get(admin_url(model, "changelist"), {"q": query})

    assert list(response.context["cl"].result_list) == [sales[name]]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (Status.BACKORDERED, ["waiting"]),
        (Status.READY_TO_SHIP, ["ready"]),
        (Status.PARTIALLY_SHIPPED, ["part"]),
        (Status.SHIPPED, ["shipped"]),
        (Status.CANCELLED, ["cancelled"]),
    ],
)
def test_order_line_status_filter(
    superuser_client: Client, status: Status, expected: list[str]
) -> None:
    lines = {
        "waiting": OrderLineFactory.create(ordered=3, allocated=1),
        "ready": OrderLineFactory.create(ordered=3, allocated=3),
        "part": OrderLineFactory.create(ordered=3, allocated=2, shipped=1),
        "shipped": OrderLineFactory.create(ordered=3, shipped=2, cancelled=1),
        "cancelled": OrderLineFactory.create(ordered=3, cancelled=3),
    }
    assert {name: line.status for name, line in lines.items()}[expected[0]] == status

    response = superuser_client.get(admin_url(OrderLine, "changelist"), {"status": status.value})

    assert list(response.context["cl"].result_list) == [lines[name] for name in expected]


def test_order_line_priority_is_changed_and_quantities_are_not(
    superuser_client: Client, sales: dict[str, Any]
) -> None:
    line = sales["orderline"]

    response = superuser_client.post(
        admin_url(OrderLine, "change", line.pk),
        priority_form(7) | {"ordered": "1", "allocated": "3", "shipped": "0", "cancelled": "0"},
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.priority, line.ordered, line.allocated, line.shipped, line.cancelled) == (
        7,
        5,
        0,
        1,
        1,
    )
    assert line.history.first().history_user is not None
    assert StockLevel.objects.filter(product=line.product, warehouse=line.warehouse).exists()


@pytest.mark.parametrize("priority", [101, -101, "high"])
def test_order_line_priority_out_of_range_is_refused(
    superuser_client: Client, sales: dict[str, Any], priority: object
) -> None:
    line = sales["orderline"]

    response = superuser_client.post(
        admin_url(OrderLine, "change", line.pk), priority_form(priority)
    )

    assert response.status_code == 200
    assert "priority" in response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.priority == 0


def test_priority_of_a_line_no_longer_waiting_is_refused(superuser_client: Client) -> None:
    line = OrderLineFactory.create(ordered=2, shipped=2)

    response = superuser_client.post(admin_url(OrderLine, "change", line.pk), priority_form(5))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "not waiting in the queue" in errors["priority"][0]
    line.refresh_from_db()
    assert line.priority == 0


def test_priority_is_changed_from_the_order_page(
    superuser_client: Client, sales: dict[str, Any]
) -> None:
    order = sales["salesorder"]
    line = sales["orderline"]

    response = superuser_client.post(
        admin_url(SalesOrder, "change", order.pk),
        {
            "customer": order.customer_id,
            "channel": order.channel,
            "external_reference": "",
            "lines-TOTAL_FORMS": 1,
            "lines-INITIAL_FORMS": 1,
            "lines-0-id": line.pk,
            "lines-0-order": order.pk,
            "lines-0-priority": 9,
            "lines-0-allocated": 3,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.priority, line.allocated) == (9, 0)


def test_order_page_shows_lines_read_only_except_priority(
    superuser_client: Client, sales: dict[str, Any]
) -> None:
    response = superuser_client.get(admin_url(SalesOrder, "change", sales["salesorder"].pk))

    (formset,) = response.context["inline_admin_formsets"]
    assert list(formset.formset.forms[0].fields) == ["priority", "id", "order"]
    assert formset.has_add_permission is False
    assert formset.has_delete_permission is False


def test_customer_with_orders_cannot_be_deleted(
    superuser_client: Client, sales: dict[str, Any]
) -> None:
    customer = sales["customer"]

    response = superuser_client.post(admin_url(Customer, "delete", customer.pk), {"post": "yes"})

    assert response.status_code == 200
    assert response.context["protected"]
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_shipment_tracking_number_can_be_fixed(
    superuser_client: Client, sales: dict[str, Any]
) -> None:
    shipment = sales["shipment"]
    order_id = shipment.order_id

    response = superuser_client.post(
        admin_url(Shipment, "change", shipment.pk),
        {
            "tracking_number": "TRACK-124",
            "order": SalesOrderFactory.create().pk,
            "lines-TOTAL_FORMS": 0,
            "lines-INITIAL_FORMS": 0,
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    shipment.refresh_from_db()
    assert (shipment.tracking_number, shipment.order_id) == ("TRACK-124", order_id)


def test_a_priority_raised_in_the_admin_tells_the_customer_it_overtakes(
    superuser_client: Client, shop: Any
) -> None:
    # given two waiting lines and a purchase order that covers only the first
    from notifications.models import Notification, NotificationKind
    from orders.services.promises import promises_refresh

    product = shop.product()
    first = shop.order(product, 2, placed_at=timezone.now() - dt.timedelta(days=2)).lines.get()
    second = shop.order(product, 2).lines.get()
    shop.purchase(product, 2, days=5)
    promises_refresh(keys=[(product.pk, shop.warehouse.pk)], cause="PO confirmed")
    first.refresh_from_db()
    assert not first.promise_is_estimate
    # when an admin puts the second line first
    response = superuser_client.post(
        admin_url(OrderLine, "change", second.pk),
        priority_form(5) | {"ordered": "2", "allocated": "0", "shipped": "0", "cancelled": "0"},
    )
    # then the first line's promise moves later and its customer gets the apology
    assert response.status_code == 302
    first.refresh_from_db()
    assert first.promise_is_estimate and first.times_slipped == 1
    assert Notification.objects.filter(
        order=first.order, kind__startswith=NotificationKind.PROMISE_LATER
    ).exists()


def test_an_order_is_not_reassigned_to_another_customer(
    superuser_client: Client, sales: dict[str, Any]
) -> None:
    order = sales["salesorder"]
    other = CustomerFactory.create()
    page = superuser_client.get(admin_url(SalesOrder, "change", order.pk))

    response = superuser_client.post(
        admin_url(SalesOrder, "change", order.pk),
        {
            "customer": other.pk,
            "channel": order.channel,
            "external_reference": "",
            "lines-TOTAL_FORMS": 0,
            "lines-INITIAL_FORMS": 0,
            "_save": "Save",
        },
    )

    assert "An order stays with the customer who placed it" in page.content.decode()
    assert "customer" not in page.context["adminform"].form.fields
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.customer_id == sales["customer"].pk


def test_the_priority_range_is_the_models(superuser_client: Client, sales: dict[str, Any]) -> None:
    line = sales["orderline"]

    response = superuser_client.post(
        admin_url(OrderLine, "change", line.pk), priority_form(MAX_PRIORITY + 1)
    )

    assert response.context["adminform"].form.errors["priority"] == [str(PRIORITY_MESSAGE)]
    assert str(PRIORITY_MESSAGE) == "Enter a whole number from -100 to 100."
