"""The suppliers' admin once a purchase order is the use cases' (issue 18: #1 no write around
them, #7 bounds)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from suppliers.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
)
from tests.factories import (
    ProductFactory,
    PurchaseOrderLineFactory,
    SupplierFactory,
    WarehouseFactory,
)
from tests.suppliers.conftest import admin_url, in_days, line_form, line_row, order_form

pytestmark = pytest.mark.django_db


# --- once sent to the supplier, a purchase order is the use cases' (issue 18, #1) ---


def test_an_ordered_purchase_orders_supplier_warehouse_and_number_are_refused(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    order = purchasing["purchaseorder"]
    line = purchasing["purchaseorderline"]
    before = (order.number, order.supplier_id, order.warehouse_id, order.history.count())

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line), initial=1)
        | {
            "number": "PO-RENAMED",
            "supplier": SupplierFactory.create().pk,
            "warehouse": WarehouseFactory.create().pk,
        },
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert sorted(errors) == ["number", "supplier", "warehouse"]
    assert (
        "PO-ADMIN-1 is ordered: its number, supplier and warehouse no longer change"
        in (errors["warehouse"][0])
    )
    order.refresh_from_db()
    assert (order.number, order.supplier_id, order.warehouse_id, order.history.count()) == before


def test_a_drafts_supplier_and_warehouse_can_change(superuser_client: Client) -> None:
    line = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)
    order = line.purchase_order
    warehouse = WarehouseFactory.create()

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line), initial=1) | {"warehouse": warehouse.pk},
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.warehouse_id == warehouse.pk


@pytest.mark.parametrize(
    "change", [{"ordered": 12}, {"product": "other"}], ids=["ordered", "product"]
)
def test_a_line_of_an_ordered_purchase_order_is_not_changed_here(
    superuser_client: Client, change: dict[str, object]
) -> None:
    line = PurchaseOrderLineFactory.create(ordered=10)
    if change.get("product") == "other":
        change = {"product": ProductFactory.create().pk}

    on_line_page = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk), line_form(line, **change)
    )
    on_order_page = superuser_client.post(
        admin_url(PurchaseOrder, "change", line.purchase_order_id),
        order_form(line.purchase_order, line_row(line, **change), initial=1),
    )

    assert (on_line_page.status_code, on_order_page.status_code) == (200, 200)
    (field,) = change
    message = on_line_page.context["adminform"].form.errors[field][0]
    assert message.startswith(f"{line.purchase_order.number} is ordered: its lines no longer")
    (formset,) = on_order_page.context["inline_admin_formsets"]
    assert formset.formset.forms[0].errors[field] == [message]
    line.refresh_from_db()
    assert (line.ordered, line.history.count()) == (10, 1)


def test_no_line_is_added_to_an_ordered_purchase_order(
    superuser_client: Client, purchasing: dict[str, Any]
) -> None:
    order = purchasing["purchaseorder"]
    line = purchasing["purchaseorderline"]
    product = ProductFactory.create()
    new_row = {"product": product.pk, "ordered": 4, "expected_date": "2030-01-31"}

    on_order_page = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line), new_row, initial=1),
    )
    on_line_page = superuser_client.post(
        admin_url(PurchaseOrderLine, "add"),
        {"purchase_order": order.pk, "_save": "Save"} | new_row,
    )

    assert (on_order_page.status_code, on_line_page.status_code) == (200, 200)
    assert "its lines no longer change here" in str(
        on_line_page.context["adminform"].form.non_field_errors()
    )
    assert order.lines.count() == 1


def test_a_line_with_nothing_received_is_not_deleted_from_an_ordered_order(
    superuser_client: Client,
) -> None:
    line = PurchaseOrderLineFactory.create()

    inline = superuser_client.post(
        admin_url(PurchaseOrder, "change", line.purchase_order_id),
        order_form(line.purchase_order, line_row(line, DELETE="on"), initial=1),
    )
    page = superuser_client.post(admin_url(PurchaseOrderLine, "delete", line.pk), {"post": "yes"})

    (formset,) = inline.context["inline_admin_formsets"]
    assert "its lines no longer change here" in str(formset.formset.non_form_errors())
    assert "(sent to the supplier)" in " ".join(str(p) for p in page.context["protected"])
    assert PurchaseOrderLine.objects.filter(pk=line.pk).exists()


def test_delete_selected_refuses_ordered_purchase_orders_and_deletes_drafts(
    superuser_client: Client,
) -> None:
    ordered = PurchaseOrderLineFactory.create().purchase_order
    draft = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)
    changelist = admin_url(PurchaseOrder, "changelist")

    refused = superuser_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [ordered.pk, draft.pk], "post": "yes"},
    )
    deleted = superuser_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [draft.purchase_order_id], "post": "yes"},
    )

    assert refused.status_code == 200
    assert f"{ordered.number} (ordered: cancel it on its page instead)" in (
        refused.content.decode()
    )
    assert deleted.status_code == 302
    assert set(PurchaseOrder.objects.values_list("pk", flat=True)) == {ordered.pk}


def test_supplier_history_can_still_be_reverted_as_an_edit(superuser_client: Client) -> None:
    # plain data: every field is on the form, validated there
    supplier = SupplierFactory.create(lead_time_days=14)
    supplier.lead_time_days = 21
    supplier.save()
    old = supplier.history.earliest("history_date")

    response = superuser_client.post(
        admin_url(Supplier, "simple_history", supplier.pk, old.history_id),
        {
            "name": supplier.name,
            "contact_email": supplier.contact_email,
            "lead_time_days": 14,
            "active": "on",
            "notes": "",
            "_save": "Revert",
        },
    )

    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.lead_time_days == 14


# --- bounds (issue 18, #7) -------------------------------------------------------


@pytest.mark.parametrize(("days", "saved"), [(365, True), (366, False), (3_000_000, False)])
def test_a_suppliers_lead_time_is_bounded(superuser_client: Client, days: int, saved: bool) -> None:
    supplier = SupplierFactory.create(lead_time_days=14)

    response = superuser_client.post(
        admin_url(Supplier, "change", supplier.pk),
        {
            "name": supplier.name,
            "contact_email": supplier.contact_email,
            "lead_time_days": days,
            "active": "on",
            "notes": "",
            "_save": "Save",
        },
    )

    supplier.refresh_from_db()
    if saved:
        assert response.status_code == 302
        assert supplier.lead_time_days == days
    else:
        assert response.context["adminform"].form.errors["lead_time_days"] == [
            "Enter a number of days from 0 to 365."
        ]
        assert supplier.lead_time_days == 14


def test_a_drafts_line_above_the_maximum_quantity_is_refused(superuser_client: Client) -> None:
    line = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)

    response = superuser_client.post(
        admin_url(PurchaseOrderLine, "change", line.pk), line_form(line, ordered=1_000_001)
    )

    assert response.context["adminform"].form.errors["ordered"] == [
        "Enter a whole number of units from 1 to 1000000."
    ]
    line.refresh_from_db()
    assert line.ordered == 10


def test_an_expected_date_years_ahead_is_refused(superuser_client: Client) -> None:
    line = PurchaseOrderLineFactory.create(purchase_order__status=PurchaseOrderStatus.DRAFT)
    order = line.purchase_order

    response = superuser_client.post(
        admin_url(PurchaseOrder, "change", order.pk),
        order_form(order, line_row(line, expected_date="9999-12-31"), initial=1)
        | {"expected_date": "9999-12-31"},
    )

    assert response.status_code == 200
    (message,) = response.context["adminform"].form.errors["expected_date"]
    assert message.startswith("An expected date can be at most 1830 days ahead")
    (formset,) = response.context["inline_admin_formsets"]
    assert "expected_date" in formset.formset.forms[0].errors
    order.refresh_from_db()
    line.refresh_from_db()
    assert order.expected_date == line.expected_date == in_days(10)
