"""desk.tables.fast_rows.FastRowsTable renders exactly the cells django-tables2 would."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from config.roles import Role
from desk.tables.fast_rows import FastRowsTable
from orders.models import Tier
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def table_html(client: Client, path: str) -> str:
    html = client.get(path, headers={"HX-Request": "true"}).content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r"\s+", " ", html)


@pytest.fixture
def busy_shop(shop: Shop) -> Shop:
    """A queue with VIPs, a manual priority, estimates and a purchase order."""
    kettle, lamp = shop.product(sku="KET-1"), shop.product(sku="LAMP-<b>")
    shop.purchase(kettle, 3)
    for index in range(8):
        customer = shop.customer(tier=Tier.VIP if index % 3 == 0 else Tier.STANDARD)
        placed = timezone.now() - dt.timedelta(days=index)
        order = shop.order(kettle if index % 2 else lamp, 2, customer=customer, placed_at=placed)
        if index == 5:
            order.lines.update(priority=7)
    return shop


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.CUSTOMER_SERVICE, "/queue/"),
        (Role.CUSTOMER_SERVICE, "/queue/?sort=-promised_date"),
        (Role.WAREHOUSE, "/queue/?sort=queue_position"),
        (Role.WAREHOUSE, "/receiving/"),
        (Role.PURCHASING, "/purchase-orders/"),
    ],
)
def test_the_fast_body_is_the_same_html_as_django_tables2s(
    busy_shop: Shop,
    client_as: Callable[..., Client],
    monkeypatch: pytest.MonkeyPatch,
    role: Role,
    path: str,
) -> None:
    client = client_as(role)
    fast = table_html(client, path)
    monkeypatch.setattr(FastRowsTable, "fast_rows", lambda self: [])  # django-tables2's loop
    slow = table_html(client, path)
    assert "<tbody" in fast
    assert fast.count("<tr") == slow.count("<tr") > 1
    assert fast == slow
