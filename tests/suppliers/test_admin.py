"""The admin for suppliers, purchase orders, their lines and date revisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from inventory.models import Product
from notifications.models import Notification
from orders.models import PromiseRevision
from suppliers.models import (
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
)
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.conftest import Shop
from tests.factories import (
    ProductFactory,
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    SupplierFactory,
    WarehouseFactory,
)
from tests.suppliers.conftest import admin_url, in_days, line_form, line_row, order_form

pytestmark = pytest.mark.django_db


NAMES = ["supplier", "purchaseorder", "purchaseorderline", "expecteddaterevision"]


@pytest.mark.parametrize("name", NAMES)
def test_changelist_and_change_page_render(
    superuser_client: Client, purchasing: dict[str, Any], name: str
) -> None:
    obj = purchasing[name]

    changelist = superuser_client.get(admin_url(type(obj), "changelist"))
    change = superuser_client.get(admin_url(type(obj), "change", obj.pk))

    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [obj]
    assert change.status_code == 200


@pytest.mark.parametrize("name", ["supplier", "purchaseorder", "purchaseorderline"])
def test_add_page_renders(superuser_client: Client, purchasing: dict[str, Any], name: str) -> None:
    response = superuser_client.get(admin_url(type(purchasing[name]), "add"))

    assert response.status_code == 200


def test_purchase_order_page_shows_its_lines(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    order = purchasing["purchaseorder"]

    response = superuser_client.get(admin_url(PurchaseOrder, "change", order.pk))

    (formset,) = response.context["inline_admin_formsets"]
    assert [form.instance for form in formset.formset.forms] == [purchasing["purchaseorderline"]]


def test_line_page_shows_its_revisions_read_only(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    line = purchasing["purchaseorderline"]

    response = superuser_client.get(admin_url(PurchaseOrderLine, "change", line.pk))

    (formset,) = response.context["inline_admin_formsets"]
    assert formset.has_add_permission is False
    assert formset.has_change_permission is False
    assert "Factory closed for a holiday" in response.content.decode()


def test_revisions_cannot_be_added_or_deleted(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    revision = purchasing["expecteddaterevision"]

    add = superuser_client.get(admin_url(ExpectedDateRevision, "add"))
    delete = superuser_client.post(
        admin_url(ExpectedDateRevision, "delete", revision.pk), {"post": "yes"}
    )

    assert (add.status_code, delete.status_code) == (403, 403)
    assert ExpectedDateRevision.objects.filter(pk=revision.pk).exists()


def test_search_purchase_orders_by_number_and_supplier(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    other = PurchaseOrderFactory.create(number="PO-OTHER-2")

    by_number = superuser_client.get(admin_url(PurchaseOrder, "changelist"), {"q": "PO-ADMIN"})
    by_supplier = superuser_client.get(admin_url(PurchaseOrder, "changelist"), {"q": "Kettle"})
    lines = superuser_client.get(admin_url(PurchaseOrderLine, "changelist"), {"q": "PO-OTHER"})

    assert list(by_number.context["cl"].result_list) == [purchasing["purchaseorder"]]
    assert list(by_supplier.context["cl"].result_list) == [purchasing["purchaseorder"]]
    assert list(lines.context["cl"].result_list) == []
    assert other.lines.count() == 0


def test_line_ordered_below_received_is_refused(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    line = purchasing["purchaseorderline"]

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk), line_form(line, ordered=5)
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["ordered"]
    assert "6 units have already been received" in errors["ordered"][0]
    line.refresh_from_db()
    assert (line.ordered, line.received) == (10, 6)
    assert line.history.count() == 1


def test_line_ordered_below_received_is_refused_in_the_order_page(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    order = purchasing["purchaseorder"]
    line = purchasing["purchaseorderline"]

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line, ordered=5), initial=1) | {"notes": "changed"},
    )

    assert response.status_code == 200
    (formset,) = response.context["inline_admin_formsets"]
    assert "ordered" in formset.formset.forms[0].errors
    line.refresh_from_db()
    order.refresh_from_db()
    assert (line.ordered, order.notes) == (10, "")


def test_line_ordered_zero_is_refused(superuser_client: Client, purchasing: dict[str, Any]) -> None:
    line = PurchaseOrderLineFactory.create(ordered=4)

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk), line_form(line, ordered=0)
    )

    assert response.status_code == 200
    assert "ordered" in response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.ordered == 4


def test_a_drafts_line_ordered_is_saved_and_received_is_not_posted(
    superuser_client: Client,
) -> None:
    line = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk),
        line_form(line, ordered=8) | {"received": "5"},
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert (line.ordered, line.received) == (8, 0)
    assert line.history.first().history_user is not None


def test_expected_date_of_a_confirmed_order_is_not_moved_here(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    line = purchasing["purchaseorderline"]
    old_date = line.expected_date
    new_date = old_date + dt.timedelta(days=7)

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk),
        line_form(line, expected_date=new_date.isoformat()),
    )

    assert response.status_code == 200
    assert "expected_date" in response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.expected_date == old_date


def test_expected_date_of_a_draft_can_change(superuser_client: Client) -> None:
    line = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)
    new_date = line.expected_date + dt.timedelta(days=7)

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk),
        line_form(line, expected_date=new_date.isoformat()),
    )

    assert response.status_code == 302
    line.refresh_from_db()
    assert line.expected_date == new_date


def test_product_of_a_received_line_cannot_change(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    line = purchasing["purchaseorderline"]
    other = ProductFactory.create()

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk), line_form(line, product=other.pk)
    )

    assert response.status_code == 200
    assert "product" in response.context["adminform"].form.errors
    line.refresh_from_db()
    assert line.product_id != other.pk


def test_received_line_cannot_be_deleted_from_the_order_page(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    order = purchasing["purchaseorder"]
    line = purchasing["purchaseorderline"]

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line, DELETE="on"), initial=1),
    )

    assert response.status_code == 200
    (formset,) = response.context["inline_admin_formsets"]
    assert "received units" in str(formset.formset.non_form_errors())
    assert PurchaseOrderLine.objects.filter(pk=line.pk).exists()


def test_order_page_adds_a_line_to_a_draft(superuser_client: Client) -> None:
    line = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)
    order = line.purchase_order
    product = ProductFactory.create()
    new_row = {"product": product.pk, "ordered": 4, "expected_date": "2030-01-31"}

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line), new_row, initial=1),
    )

    assert response.status_code == 302
    assert order.lines.get(product=product).ordered == 4


def test_order_page_refuses_a_product_twice(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    order = purchasing["purchaseorder"]
    line = purchasing["purchaseorderline"]
    same_product = {"product": line.product_id, "ordered": 4, "expected_date": "2030-01-31"}

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line), same_product, initial=1),
    )

    assert response.status_code == 200
    assert order.lines.count() == 1


def test_no_line_is_added_to_a_received_order(superuser_client: Client) -> None:
    order = PurchaseOrderFactory.create(status=PurchaseOrderStatus.RECEIVED)
    product = ProductFactory.create()

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "add"),
        {
            "purchase_order": order.pk,
            "product": product.pk,
            "ordered": 3,
            "expected_date": "2030-01-31",
            "_save": "Save",
        },
    )

    assert response.status_code == 200
    assert not order.lines.exists()


def test_add_purchase_order_with_a_line_makes_a_draft_by_the_user(
    superuser_client: Client,
) -> None:
    supplier = SupplierFactory.create()
    warehouse = WarehouseFactory.create()
    product = ProductFactory.create()
    draft = PurchaseOrder(
        number="PO-NEW-1", supplier=supplier, warehouse=warehouse, expected_date=dt.date(2030, 1, 1)
    )
    row = {"product": product.pk, "ordered": 12, "expected_date": "2030-01-01"}

    response = superuser_client.post(
        admin_url(PurchaseOrder, "add"), order_form(draft, row, initial=0)
    )

    assert response.status_code == 302
    order = PurchaseOrder.objects.get(number="PO-NEW-1")
    assert order.status == PurchaseOrderStatus.DRAFT
    assert order.created_by is not None
    assert [(line.product, line.ordered) for line in order.lines.all()] == [(product, 12)]


def test_status_cannot_be_set_by_hand(superuser_client: Client, purchasing: dict[str, Any]) -> None:
    order = purchasing["purchaseorder"]
    line = purchasing["purchaseorderline"]

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line), initial=1) | {"status": PurchaseOrderStatus.RECEIVED},
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == PurchaseOrderStatus.ORDERED


def test_confirm_action_confirms_drafts_and_reports_the_rest(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    draft = PurchaseOrderFactory.create(status=PurchaseOrderStatus.DRAFT)
    ordered = purchasing["purchaseorder"]

    response = superuser_client.post(
        admin_url(PurchaseOrder, "changelist"),
        {"action": "confirm_selected", "_selected_action": [draft.pk, ordered.pk]},
        follow=True,
    )

    draft.refresh_from_db()
    assert draft.status == PurchaseOrderStatus.ORDERED
    assert draft.ordered_at is not None
    texts = [str(message) for message in response.context["messages"]]
    assert any("only a draft can be confirmed" in text for text in texts)
    assert "1 confirmed." in texts


def test_the_confirm_action_gives_the_waiting_lines_a_firm_date_and_tells_the_customers(
    superuser_client: Client,
    shop: Shop,
) -> None:
    # given: a line waiting on an estimate, and a draft due in 6 days for its product
    product = shop.product()
    line = shop.order(product, 2).lines.get()
    assert (line.promised_date, line.promise_is_estimate) == (in_days(15), True)
    draft = purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, 5)],
        expected_date=in_days(6),
        by=shop.clerk,
    )

    # when
    response = superuser_client.post(
        admin_url(PurchaseOrder, "changelist"),
        {"action": "confirm_selected", "_selected_action": [draft.pk]},
        follow=True,
    )

    # then: the purchase order's date + 1 handling day, and the customer hears of it
    line.refresh_from_db()
    assert (line.promised_date, line.promise_is_estimate) == (in_days(7), False)
    assert PromiseRevision.objects.filter(line=line, covered_by=draft.number).exists()
    assert Notification.objects.filter(order=line.order, kind="promise_earlier").count() == 1
    assert [str(message) for message in response.context["messages"]] == ["1 confirmed."]


def test_the_cancel_action_moves_covered_lines_back_to_an_estimate_and_tells_the_customers(
    superuser_client: Client,
    shop: Shop,
) -> None:
    product = shop.product()
    po = shop.purchase(product, 5, days=3)
    line = shop.order(product, 1).lines.get()
    assert (line.promised_date, line.promise_is_estimate) == (in_days(4), False)
    received = PurchaseOrderFactory.create(status=PurchaseOrderStatus.RECEIVED)

    response = superuser_client.post(
        admin_url(PurchaseOrder, "changelist"),
        {"action": "cancel_selected", "_selected_action": [po.pk, received.pk]},
        follow=True,
    )

    po.refresh_from_db()
    line.refresh_from_db()
    assert po.status == PurchaseOrderStatus.CANCELLED
    # the supplier's lead time (14 days) + 1 handling day: 11 days later, past the
    # policy's 7, so an apology with a discount code
    assert (line.promised_date, line.promise_is_estimate) == (in_days(15), True)
    assert Notification.objects.filter(order=line.order, kind="promise_later_discount").count() == 1
    texts = [str(message) for message in response.context["messages"]]
    assert texts == [f"{received.number} is already received.", "1 cancelled."]


def test_order_with_received_units_cannot_be_deleted(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    order = purchasing["purchaseorder"]

    page = superuser_client.get(admin_url(PurchaseOrder, "delete", order.pk))
    post = superuser_client.post(admin_url(PurchaseOrder, "delete", order.pk), {"post": "yes"})
    action = superuser_client.post(
        admin_url(PurchaseOrder, "changelist"),
        {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"},
    )

    assert page.status_code == 200
    assert "received units" in " ".join(str(p) for p in page.context["protected"])
    assert (post.status_code, action.status_code) == (200, 200)
    assert PurchaseOrder.objects.filter(pk=order.pk).exists()
    assert PurchaseOrderLine.objects.filter(pk=purchasing["purchaseorderline"].pk).exists()


def test_order_with_nothing_received_can_be_deleted(superuser_client: Client) -> None:
    line = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)

    response = superuser_client.post(
        admin_url(PurchaseOrder, "delete", line.purchase_order_id), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not PurchaseOrderLine.objects.filter(pk=line.pk).exists()


def test_supplier_with_orders_cannot_be_deleted(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    supplier = purchasing["supplier"]

    response = superuser_client.post(admin_url(Supplier, "delete", supplier.pk), {"post": "yes"})

    assert response.status_code == 200
    assert response.context["protected"]
    assert Supplier.objects.filter(pk=supplier.pk).exists()


def test_line_changelist_queries_do_not_grow_with_rows(
    superuser_client: Client, django_assert_max_num_queries: Any
) -> None:
    order = PurchaseOrderFactory.create()
    PurchaseOrderLineFactory.create_batch(30, purchase_order=order)
    ExpectedDateRevision.objects.bulk_create(
        ExpectedDateRevision(
            line=line, old_date=line.expected_date, new_date=line.expected_date, reason="x"
        )
        for line in order.lines.all()
    )

    with django_assert_max_num_queries(10):
        lines = superuser_client.get(admin_url(PurchaseOrderLine, "changelist"))
    with django_assert_max_num_queries(10):
        revisions = superuser_client.get(admin_url(ExpectedDateRevision, "changelist"))

    assert len(lines.context["cl"].result_list) == 30
    assert len(revisions.context["cl"].result_list) == 30
    assert Product.objects.count() == 30
