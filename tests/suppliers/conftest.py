"""Fixtures and helpers of the suppliers' admin tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from suppliers.models import (
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
)
from tests.factories import (
    PurchaseOrderFactory,
    PurchaseOrderLineFactory,
    SupplierFactory,
)


def in_days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def admin_url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser_client(client_as: Callable[..., Client]) -> Client:
    return client_as(superuser=True)


@pytest.fixture
def purchasing() -> dict[str, Any]:
    """One row of every suppliers model: a line with 6 of its 10 units received."""
    supplier = SupplierFactory.create(name="Kettle Works", contact_email="sales@kettle.example")
    order = PurchaseOrderFactory.create(number="PO-ADMIN-1", supplier=supplier)
    line = PurchaseOrderLineFactory.create(purchase_order=order, ordered=10, received=6)
    revision = ExpectedDateRevision.objects.create(
        line=line,
        old_date=line.expected_date - dt.timedelta(days=3),
        new_date=line.expected_date,
        reason="Factory closed for a holiday",
    )
    return {
        "supplier": supplier,
        "purchaseorder": order,
        "purchaseorderline": line,
        "expecteddaterevision": revision,
    }


def order_form(order: PurchaseOrder, *lines: dict[str, object], initial: int) -> dict[str, object]:
    """The purchase order change form as the browser posts it, with its line rows."""
    data: dict[str, object] = {
        "number": order.number,
        "supplier": order.supplier_id,
        "warehouse": order.warehouse_id,
        "expected_date": order.expected_date.isoformat(),
        "notes": order.notes,
        "lines-TOTAL_FORMS": len(lines),
        "lines-INITIAL_FORMS": initial,
        "lines-MIN_NUM_FORMS": 0,
        "lines-MAX_NUM_FORMS": 1000,
        "_save": "Save",
    }
    for index, line in enumerate(lines):
        data.update({f"lines-{index}-{key}": value for key, value in line.items()})
    return data


def line_row(line: PurchaseOrderLine, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": line.pk,
        "purchase_order": line.purchase_order_id,
        "product": line.product_id,
        "ordered": line.ordered,
        "expected_date": line.expected_date.isoformat(),
    }
    row.update(overrides)
    return row


def line_form(line: PurchaseOrderLine, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "product": line.product_id,
        "ordered": line.ordered,
        "expected_date": line.expected_date.isoformat(),
        # The read-only revisions inline still posts its management form.
        "revisions-TOTAL_FORMS": 0,
        "revisions-INITIAL_FORMS": 0,
        "_save": "Save",
    }
    data.update(overrides)
    return data
