"""The bounds on model fields (inventory/limits.py and its siblings): one
definition each, validators only, so rows stored before them still migrate."""

from __future__ import annotations

import datetime as dt
import itertools
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Field, Model

from inventory.limits import MAX_QUANTITY, sku_validator
from inventory.models import Product
from notifications.limits import POLICY_LIMITS
from notifications.models import CompensationPolicy
from orders.models import OrderLine
from suppliers.limits import MAX_EXPECTED_DAYS_AHEAD, latest_expected_date, validate_expected_date
from suppliers.models import PurchaseOrder, PurchaseOrderLine
from tests.factories import ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

LIMIT_MIGRATIONS = [
    ("inventory", "0003_field_limits"),
    ("suppliers", "0002_field_limits"),
    ("orders", "0007_field_limits"),
    ("notifications", "0004_field_limits"),
]


# Outside a transaction: SQLite's schema editor (which sqlmigrate uses) needs that.
@pytest.mark.django_db(transaction=True)
def test_the_migrations_adding_the_bounds_change_no_sql() -> None:
    # Rows already outside the bounds cannot make them fail, forwards or back.
    for (app, migration), backwards in itertools.product(LIMIT_MIGRATIONS, (False, True)):
        out = StringIO()
        call_command("sqlmigrate", app, migration, backwards=backwards, stdout=out)
        statements = [
            line
            for line in out.getvalue().splitlines()
            if line.strip() and not line.startswith("--") and line not in ("BEGIN;", "COMMIT;")
        ]
        assert statements == [], (app, migration, backwards)


def test_rows_stored_outside_the_bounds_load_and_full_clean_names_them() -> None:
    product = ProductFactory.create(sku="OLD/1", default_lead_time_days=3000)
    warehouse = WarehouseFactory.create(handling_days=3000)

    product.refresh_from_db()
    with pytest.raises(ValidationError) as product_error:
        product.full_clean()
    with pytest.raises(ValidationError) as warehouse_error:
        warehouse.full_clean()

    assert set(product_error.value.message_dict) == {"sku", "default_lead_time_days"}
    assert set(warehouse_error.value.message_dict) == {"handling_days"}


def limit_values(model: type[Model], name: str) -> set[Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return {getattr(validator, "limit_value", None) for validator in field.validators}


def test_one_definition_each_on_the_model_fields() -> None:
    # forms, the API and imports read the same validators and constants
    assert sku_validator in Product._meta.get_field("sku").validators
    assert {1, MAX_QUANTITY} <= limit_values(OrderLine, "ordered")
    assert {1, MAX_QUANTITY} <= limit_values(PurchaseOrderLine, "ordered")
    for name, (low, high, _message) in POLICY_LIMITS.items():
        assert {low, high} <= limit_values(CompensationPolicy, name)
    today = dt.date(2026, 12, 1)
    assert latest_expected_date(today) == today + dt.timedelta(days=MAX_EXPECTED_DAYS_AHEAD)
    for model in (PurchaseOrder, PurchaseOrderLine):
        field = model._meta.get_field("expected_date")
        assert validate_expected_date in field.validators
