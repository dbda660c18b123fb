"""The admin's history pages: readable for every model, and no revert of a row
the use cases own (a revert writes the whole old row back: status, received
units, customer, … with no promise recomputed and no customer told)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib import admin
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from simple_history.admin import SimpleHistoryAdmin

from inventory.admin import HistoryWithoutRevertAdmin
from inventory.models import Product, Transfer, TransferRoute, Warehouse
from notifications.models import CompensationPolicy, WebhookSubscription
from notifications.updates import purchase_order_cancel
from orders.checks import stock_problems
from orders.models import Customer, OrderLine, SalesOrder, Shipment
from orders.services.receiving import purchase_order_receive
from orders.services.shipping import shipment_create
from suppliers.models import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)
from tests.conftest import Shop, db_snapshot

pytestmark = pytest.mark.django_db

USE_CASE_OWNED = {PurchaseOrder, PurchaseOrderLine, SalesOrder, OrderLine, Shipment, Transfer}
# Every field of these is on their change form, validated there: a revert is
# the same edit as typing the old values in.
REVERT_IS_AN_EDIT = {
    Customer,
    Product,
    Warehouse,
    Supplier,
    SupplierProduct,
    CompensationPolicy,
    WebhookSubscription,
    TransferRoute,
}


def admin_url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser_client(client_as: Callable[..., Client]) -> Client:
    return client_as(superuser=True)


@pytest.fixture
def history(shop: Shop) -> dict[str, tuple[Model, Any, dict[str, object]]]:
    """Per model: a row made by the use cases, an older version of it, and
    the revert form as the browser would post it for that version."""
    product = shop.product()
    order = shop.order(product, 3)
    po = shop.purchase(product, 5, days=3)
    po_line = po.lines.get()
    purchase_order_receive(purchase_order=po, quantities={po_line.pk: 2}, by=shop.clerk)
    shipment = shipment_create(order=order, tracking_number="TRACK-1", by=shop.clerk)
    line = order.lines.get()
    po.refresh_from_db()
    po_line.refresh_from_db()
    line.refresh_from_db()
    assert po.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    assert (line.shipped, line.backordered, po_line.received) == (2, 1, 2)
    ordered = po.history.filter(status=PurchaseOrderStatus.ORDERED).earliest("history_date")
    return {
        "purchaseorder": (
            po,
            ordered,
            {
                "number": ordered.number,
                "supplier": ordered.supplier_id,
                "warehouse": ordered.warehouse_id,
                "expected_date": ordered.expected_date.isoformat(),
                "notes": "",
            },
        ),
        "purchaseorderline": (
            po_line,
            po_line.history.earliest("history_date"),
            {
                "product": product.pk,
                "ordered": po_line.ordered,
                "expected_date": po_line.expected_date.isoformat(),
            },
        ),
        "salesorder": (
            order,
            order.history.earliest("history_date"),
            {
                "customer": shop.customer().pk,
                "channel": order.channel,
                "external_reference": "",
            },
        ),
        "orderline": (line, line.history.earliest("history_date"), {"priority": 5}),
        "shipment": (
            shipment,
            shipment.history.earliest("history_date"),
            {"tracking_number": "TRACK-OLD"},
        ),
    }


def row(obj: Model) -> dict[str, Any]:
    return type(obj)._default_manager.filter(pk=obj.pk).values().get()


@pytest.mark.parametrize(
    "name", ["purchaseorder", "purchaseorderline", "salesorder", "orderline", "shipment"]
)
def test_a_revert_of_a_row_the_use_cases_own_is_refused_with_a_message(
    superuser_client: Client, history: dict[str, Any], name: str
) -> None:
    # given a row made by the services and one of its older versions
    obj, version, form = history[name]
    model = type(obj)
    before, versions, everything = row(obj), obj.history.count(), db_snapshot()

    # when the revert form is posted
    response = superuser_client.post(
        admin_url(model, "simple_history", obj.pk, version.history_id),
        form | {"_save": "Revert"},
        follow=True,
    )

    # then nothing is written, and the history page says why
    assert response.redirect_chain == [(admin_url(model, "history", obj.pk), 302)]
    texts = [str(message) for message in response.context["messages"]]
    assert any(text.startswith("Reverting is refused") for text in texts)
    assert row(obj) == before
    assert obj.history.count() == versions
    assert db_snapshot() == everything
    assert stock_problems() == []


def test_a_revert_of_a_cancelled_purchase_order_does_not_reopen_it(
    superuser_client: Client,
    shop: Shop,
) -> None:
    # the case: a cancelled order reverted to its "ordered" version
    po = shop.purchase(shop.product(), 4)
    purchase_order_cancel(purchase_order=po, by=shop.clerk)
    ordered = po.history.get(status=PurchaseOrderStatus.ORDERED)

    superuser_client.post(
        admin_url(PurchaseOrder, "simple_history", po.pk, ordered.history_id),
        {
            "number": po.number,
            "supplier": po.supplier_id,
            "warehouse": po.warehouse_id,
            "expected_date": ordered.expected_date.isoformat(),
            "notes": "",
            "_save": "Revert",
        },
    )

    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.CANCELLED


@pytest.mark.parametrize(
    "name", ["purchaseorder", "purchaseorderline", "salesorder", "orderline", "shipment"]
)
def test_the_history_and_its_versions_stay_readable(
    superuser_client: Client, history: dict[str, Any], name: str
) -> None:
    obj, version, _form = history[name]
    model = type(obj)

    listing = superuser_client.get(admin_url(model, "history", obj.pk))
    page = superuser_client.get(admin_url(model, "simple_history", obj.pk, version.history_id))

    assert listing.status_code == 200
    assert listing.context["revert_disabled"] is True
    assert "Choose a date from the list below to revert" not in listing.content.decode()
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Revert"' not in html
    assert "Reverting is refused" in html
    # the version's values are shown as text, not as fields to post
    assert page.context["adminform"].form.fields == {}


def test_every_history_admin_either_refuses_reverts_or_is_plain_data() -> None:
    """A model added later with history gets one of the two on purpose."""
    history_admins = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, SimpleHistoryAdmin)
    }

    refusing = {m for m, a in history_admins.items() if isinstance(a, HistoryWithoutRevertAdmin)}

    assert refusing == USE_CASE_OWNED
    assert set(history_admins) == USE_CASE_OWNED | REVERT_IS_AN_EDIT
