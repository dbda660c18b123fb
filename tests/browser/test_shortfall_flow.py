"""Purchasing in a real browser: the shortfall worklist drafts purchase orders
for two suppliers, one is confirmed, and the customers waiting for it get a
promised date from it instead of an estimate. A screenshot per step."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from inventory.models import Warehouse
from notifications import updates
from orders.models import OrderLine
from orders.services.intake import LineRequest
from suppliers.models import PurchaseOrder, PurchaseOrderStatus
from suppliers.services import supplier_product_terms_set
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    PurchaseOrderLineFactory,
    SupplierFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def short_shop() -> dict[str, object]:
    """Lamps (preferred supplier Lumen, packs of 6) and floodlights (last bought
    from Brightway) waited for in Jakarta, with nothing on order."""
    call_command("load_demo", "--users-only")
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    lamp = ProductFactory.create(sku="LT-DSK", name="Desk Lamp")
    flood = ProductFactory.create(sku="LT-MSF", name="Motion Sensor Floodlight")
    lumen = SupplierFactory.create(name="Lumen Works")
    brightway = SupplierFactory.create(name="Brightway Lighting")
    supplier_product_terms_set(
        supplier=lumen, product=lamp, pack_size=6, minimum_order=1, preferred=True, by=None
    )
    PurchaseOrderLineFactory.create(
        product=flood,
        purchase_order__supplier=brightway,
        purchase_order__warehouse=warehouse,
        purchase_order__status=PurchaseOrderStatus.RECEIVED,
        ordered=1,
        received=1,
    )
    for name, product, units in (
        ("Ayu Lestari", lamp, 2),
        ("Mia Carter", lamp, 1),
        ("Budi Halim", flood, 3),
    ):
        updates.order_place(
            customer=CustomerFactory.create(name=name),
            warehouse=warehouse,
            lines=[LineRequest(product, units)],
            by=None,
        )
    return {"lamp": lamp, "flood": flood, "lumen": lumen, "brightway": brightway}


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_purchasing_drafts_from_the_shortfall_and_confirms_one(
    live_server, page, screenshot, short_shop
) -> None:
    lamp = short_shop["lamp"]
    assert all(line.promise_is_estimate for line in OrderLine.objects.filter(product=lamp))
    log_in(page, live_server, "purchasing")

    # the worklist: two rows, each with its suggested supplier
    page.goto(f"{live_server.url}/purchasing/shortfall/")
    rows = page.locator("#shortfall-table tbody tr")
    assert rows.count() == 2
    assert "Lumen Works" in page.inner_text("#shortfall-table")
    screenshot("flow-shortfall-1-worklist")

    # tick both, review: one draft per supplier, nothing saved yet
    for box in page.locator("input[name=row]").all():
        box.check()
    page.click("text=Review draft purchase orders")
    page.wait_for_selector("text=Review draft purchase orders")
    assert page.locator(".draft-card h2").all_inner_texts() == [
        "Brightway Lighting → Jakarta",
        "Lumen Works → Jakarta",
    ]
    assert not PurchaseOrder.objects.filter(status=PurchaseOrderStatus.DRAFT).exists()
    screenshot("flow-shortfall-2-review")

    # create them: the list of drafts opens
    page.click("text=Create 2 draft purchase orders")
    page.wait_for_url(f"{live_server.url}/purchase-orders/?status=draft")
    drafts = PurchaseOrder.objects.filter(status=PurchaseOrderStatus.DRAFT)
    assert drafts.count() == 2
    lumen_draft = drafts.get(supplier=short_shop["lumen"])
    assert lumen_draft.lines.get().ordered == 6  # 3 short + 1 buffer → one pack of 6
    screenshot("flow-shortfall-3-drafts")

    # confirm the lamp draft: its waiting customers now have a date from it
    page.goto(f"{live_server.url}/purchase-orders/{lumen_draft.number}/")
    page.click("text=Confirm (send to supplier)")
    page.wait_for_selector("#po-waiting >> text=Ayu Lestari")
    assert page.locator("#po-waiting tbody tr").count() == 2
    screenshot("flow-shortfall-4-confirmed")
    lines = OrderLine.objects.filter(product=lamp)
    assert not any(line.promise_is_estimate for line in lines)

    # and the lamp is off the worklist; the floodlight still waits for its draft
    page.goto(f"{live_server.url}/purchasing/shortfall/")
    assert page.locator("#shortfall-table tbody tr").count() == 1
    assert "LT-MSF" in page.inner_text("#shortfall-table")
