"""Agents see names, not internal keys (issue 16): the outbox message says what
it is and for whom, its deduplication key only under "For support"; pages name
warehouses, and the wide tables give the code its name."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from tests.conftest import Shop
from tests.desk.test_outbox import make_notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]


def test_the_message_page_names_its_purpose_and_hides_the_key_under_support(
    client_as: Callable[..., Client],
) -> None:
    message = make_notification(dedup_key="shipped:internal-key-42")
    assert message.order is not None

    html = (
        client_as(Role.CUSTOMER_SERVICE)
        .get(reverse("outbox-message", args=[message.pk]))
        .content.decode()
    )

    head, support = html.split("<summary>For support</summary>")
    assert "shipped:internal-key-42" not in head
    assert "shipped:internal-key-42" in support
    assert f"{message.get_kind_display()} about {message.order.number} for" in head
    assert reverse("customer", args=[message.customer_id]) in head


def test_pages_name_the_warehouse(shop: Shop, client_as: Callable[..., Client]) -> None:
    lamp = shop.product(sku="LAMP-1")
    order = shop.order(lamp, 2)
    client = client_as(Role.CUSTOMER_SERVICE)

    order_page = client.get(reverse("order", args=[order.number])).content.decode()
    product_page = client.get(reverse("product", args=["LAMP-1"])).content.decode()
    queue = client.get(reverse("queue")).content.decode()

    assert f"<dd>{shop.warehouse.name}</dd>" in order_page
    assert f"{shop.warehouse.code} · " not in order_page
    assert (
        f'<td data-label="Warehouse" class="warehouse">{shop.warehouse.name}</td>' in product_page
    )
    assert f'<abbr title="{shop.warehouse.name}">{shop.warehouse.code}</abbr>' in queue
