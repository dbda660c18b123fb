"""Stock levels locked for a use case (one query when they exist, created when not), and
the count correction's bounds."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from inventory.limits import MAX_QUANTITY
from inventory.models import StockLevel, StockMove
from inventory.services import stock_level_adjust, stock_levels_lock
from tests.factories import ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db


def test_existing_levels_are_locked_in_one_query(django_assert_num_queries: Any) -> None:
    warehouse = WarehouseFactory.create()
    products = ProductFactory.create_batch(3)
    for product in products:
        StockLevel.objects.create(product=product, warehouse=warehouse, on_hand=5)
    keys = [(product.pk, warehouse.pk) for product in reversed(products)]
    with django_assert_num_queries(1):
        levels = stock_levels_lock(keys=keys)
    assert list(levels) == sorted(keys)
    assert {level.on_hand for level in levels.values()} == {5}


def test_missing_levels_are_created_empty_and_locked_with_the_rest() -> None:
    warehouse, other = WarehouseFactory.create_batch(2)
    known, new = ProductFactory.create_batch(2)
    StockLevel.objects.create(product=known, warehouse=warehouse, on_hand=4)
    keys = [(known.pk, warehouse.pk), (new.pk, warehouse.pk), (new.pk, other.pk)]
    levels = stock_levels_lock(keys=keys)
    assert {key: (level.on_hand, level.allocated) for key, level in levels.items()} == {
        (known.pk, warehouse.pk): (4, 0),
        (new.pk, warehouse.pk): (0, 0),
        (new.pk, other.pk): (0, 0),
    }
    assert all(level.pk for level in levels.values())
    # (known, other) was not asked for: not created
    assert StockLevel.objects.count() == 3
    assert stock_levels_lock(keys=[]) == {}


@pytest.mark.parametrize("change", [MAX_QUANTITY + 1, -(MAX_QUANTITY + 1), 2**62, 10**30])
def test_an_adjustment_moves_at_most_max_quantity_units(change: int) -> None:
    level = StockLevel.objects.create(
        product=ProductFactory.create(), warehouse=WarehouseFactory.create(), on_hand=5
    )

    with pytest.raises(ValidationError) as refused:
        stock_level_adjust(level=level, change=change, reason="count", by=None)

    assert "change" in refused.value.message_dict
    level.refresh_from_db()
    assert level.on_hand == 5 and not StockMove.objects.exists()
