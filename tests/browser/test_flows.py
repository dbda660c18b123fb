"""The back office in a real browser, a screenshot per step (build/screenshots/).

Purchasing moves a purchase order's date, reads the impact, confirms; customer
service finds the apologies in the outbox. Warehouse receives the purchase
order and watches the queue shrink.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone, translation
from django.utils.formats import date_format

from inventory.models import Warehouse
from notifications import updates
from orders.services.intake import LineRequest
from suppliers.models import PurchaseOrder
from suppliers.services import PurchaseLineRequest
from tests.factories import CustomerFactory, ProductFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting_shop() -> PurchaseOrder:
    """Three customers waiting for a purchase order due in 6 days."""
    call_command("load_demo", "--users-only")
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    product = ProductFactory.create(sku="LT-MSF", name="Motion Sensor Floodlight")
    po, _changes = updates.purchase_order_create(
        supplier=SupplierFactory.create(name="Brightway Lighting"),
        warehouse=warehouse,
        lines=[PurchaseLineRequest(product, 6)],
        expected_date=timezone.localdate() + dt.timedelta(days=6),
        by=None,
        confirm=True,
    )
    for name in ("Ayu Lestari", "Mia Carter", "Budi Halim"):
        updates.order_place(
            customer=CustomerFactory.create(name=name),
            warehouse=warehouse,
            lines=[LineRequest(product, 2)],
            by=None,
        )
    return po


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_purchasing_moves_a_date_and_service_sees_the_apologies(
    live_server, page, screenshot, waiting_shop
) -> None:
    po = waiting_shop
    log_in(page, live_server, "purchasing")
    page.goto(f"{live_server.url}/purchase-orders/{po.number}/")
    assert page.locator("#po-waiting tbody tr").count() == 3
    screenshot("flow-po-1-detail")
    new_date = timezone.localdate() + dt.timedelta(days=8)
    page.fill("#move-new-date", new_date.isoformat())
    page.fill("#move-reason", "Supplier confirmed a port delay")
    page.click("#move-form button[type=submit]")
    page.wait_for_selector("text=Confirm and tell customers")
    impact = page.inner_text("#move-impact")
    assert "3 lines" in impact and "+2 days" in impact
    screenshot("flow-po-2-impact")
    page.click("text=Confirm and tell customers")
    # Dates show in the browser's locale (English here: "30 Nov 2026").
    with translation.override("en"):
        shown = date_format(new_date, "SHORT_DATE_FORMAT")
    page.wait_for_selector(f"#po-history >> text={shown}")
    screenshot("flow-po-3-confirmed")

    log_in(page, live_server, "service")
    page.goto(f"{live_server.url}/outbox/?kind=promise_later")
    rows = page.locator(".table-container tbody tr:not(:has(td.empty))")
    assert rows.count() == 3
    assert "delayed" in rows.first.inner_text()
    screenshot("flow-po-4-outbox")


def test_warehouse_receives_and_the_queue_shrinks(live_server, page, screenshot, waiting_shop):
    po = waiting_shop
    log_in(page, live_server, "warehouse")
    page.goto(f"{live_server.url}/queue/")
    assert page.locator(".table-container tbody tr:not(:has(td.empty))").count() == 3
    screenshot("flow-receive-1-queue")
    page.goto(f"{live_server.url}/purchase-orders/{po.number}/receive/")
    line = po.lines.get()
    page.fill(f"input[name=line_{line.pk}]", "4")
    screenshot("flow-receive-2-form")
    page.click("text=Receive these units")
    page.wait_for_selector("text=Orders now ready to ship")
    assert page.locator("text=ready to ship").count() >= 2
    screenshot("flow-receive-3-result")
    page.goto(f"{live_server.url}/queue/")
    assert page.locator(".table-container tbody tr:not(:has(td.empty))").count() == 1
    screenshot("flow-receive-4-queue")


def test_purchasing_creates_a_confirmed_purchase_order(live_server, page, screenshot):
    call_command("load_demo", "--users-only")
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    supplier = SupplierFactory.create(name="Brightway Lighting")
    ProductFactory.create(sku="LT-MSF", name="Motion Sensor Floodlight")
    lamp = ProductFactory.create(sku="LT-DSK", name="Desk Lamp")
    for name in ("Ayu Lestari", "Mia Carter"):
        updates.order_place(
            customer=CustomerFactory.create(name=name),
            warehouse=warehouse,
            lines=[LineRequest(lamp, 2)],
            by=None,
        )
    log_in(page, live_server, "purchasing")
    page.goto(f"{live_server.url}/purchase-orders/")
    page.click("text=New purchase order")
    page.wait_for_selector("h1:has-text('New purchase order')")
    page.select_option("#id_supplier", str(supplier.pk))
    page.select_option("#id_warehouse", str(warehouse.pk))
    expected = timezone.localdate() + dt.timedelta(days=9)
    page.fill("#id_expected_date", expected.isoformat())
    page.fill("#id_sku_0", "lt-dsk")
    page.fill("#id_quantity_0", "10")
    page.fill("#id_sku_1", "LT-NOPE")
    page.fill("#id_quantity_1", "4")
    page.check("#id_confirm")
    page.click(".po-new-submit")
    page.wait_for_selector("#id_sku_1_error:has-text('No product has the SKU LT-NOPE.')")
    assert page.input_value("#id_sku_0") == "lt-dsk"
    assert page.is_checked("#id_confirm")
    screenshot("flow-po-new-1-refused")
    page.click("text=More rows")
    page.wait_for_selector("#id_sku_9")
    assert page.input_value("#id_sku_1") == "LT-NOPE"
    assert page.locator(".po-new-form .field-error:not(:empty)").count() == 0
    page.fill("#id_sku_1", "LT-MSF")
    page.press("#id_quantity_1", "Enter")  # Enter creates it, not "More rows"
    page.wait_for_url(f"{live_server.url}/purchase-orders/PO-*/")
    po = PurchaseOrder.objects.get(supplier=supplier)
    assert po.lines.count() == 2 and po.status == "ordered"
    assert f"{po.number} is ordered from Brightway Lighting" in page.inner_text(".messages")
    assert page.locator("#po-waiting tbody tr[id^=waiting-line-]").count() == 2
    screenshot("flow-po-new-2-created")


def test_purchasing_confirms_a_draft_from_its_page_then_cancels_it(live_server, page, screenshot):
    call_command("load_demo", "--users-only")
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    supplier = SupplierFactory.create(name="Brightway Lighting")
    lamp = ProductFactory.create(sku="LT-DSK", name="Desk Lamp")
    for name in ("Ayu Lestari", "Mia Carter"):
        updates.order_place(
            customer=CustomerFactory.create(name=name),
            warehouse=warehouse,
            lines=[LineRequest(lamp, 2)],
            by=None,
        )
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server, "purchasing")

    # A draft, created without "Confirm now".
    page.goto(f"{live_server.url}/purchase-orders/new/")
    page.select_option("#id_supplier", str(supplier.pk))
    page.select_option("#id_warehouse", str(warehouse.pk))
    page.fill("#id_expected_date", (timezone.localdate() + dt.timedelta(days=9)).isoformat())
    page.fill("#id_sku_0", "LT-DSK")
    page.fill("#id_quantity_0", "10")
    page.click(".po-new-submit")
    page.wait_for_url(f"{live_server.url}/purchase-orders/PO-*/")
    po = PurchaseOrder.objects.get(supplier=supplier)
    assert po.status == "draft"
    assert "saved as a draft" in page.inner_text(".messages")
    assert page.locator("#po-waiting tbody tr[id^=waiting-line-]").count() == 0
    screenshot("flow-po-confirm-1-draft")

    # Confirm it from its page: the two waiting lines now have a firm date from it.
    page.click("text=Confirm (send to supplier)")
    page.wait_for_selector(".messages >> text=is ordered from Brightway Lighting")
    notice = page.inner_text(".messages")
    assert "2 waiting lines now have a firm date from it" in notice
    assert "2 customers get an email about it" in notice
    assert page.inner_text(".facts .badge").strip() == "Ordered"
    assert page.locator("#po-waiting tbody tr[id^=waiting-line-]").count() == 2
    assert page.locator("text=Confirm (send to supplier)").count() == 0
    po.refresh_from_db()
    assert po.status == "ordered"
    screenshot("flow-po-confirm-2-ordered")

    # Cancel: first the step that says who loses this supply, then the button.
    page.click("text=Cancel purchase order…")
    page.wait_for_selector(f"#cancel-step >> text=Cancel {po.number}?")
    step = page.inner_text("#cancel-step")
    assert "2 waiting lines" in step and "lose this supply" in step
    # Back to the estimate the customers were told: their pending good news is withdrawn.
    assert "2 pending updates withdrawn" in step
    po.refresh_from_db()
    assert po.status == "ordered"  # nothing changed yet
    screenshot("flow-po-confirm-3-cancel-step")
    page.click(f"text=Yes, cancel {po.number}")
    page.wait_for_selector(f".messages >> text={po.number} is cancelled.")
    assert "Nobody is emailed." in page.inner_text(".messages")
    assert page.inner_text(".facts .badge").strip() == "Cancelled"
    assert "none (10 cancelled)" in page.inner_text(".facts")
    assert page.locator("#po-actions").count() == 0
    po.refresh_from_db()
    assert po.status == "cancelled"
    screenshot("flow-po-confirm-4-cancelled")
    assert dialogs == []
