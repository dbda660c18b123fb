"""Customer service works the delays page in a real browser, a screenshot per
step (build/screenshots/flow-delays-*.png): filters it, issues a discount (the
outbox shows the email), cancels a remainder (the line leaves the queue)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Warehouse
from notifications import updates
from notifications.models import CompensationPolicy
from orders.models import OrderLine
from orders.services.intake import LineRequest
from suppliers.services import PurchaseLineRequest
from tests.browser.test_flows import log_in
from tests.factories import CustomerFactory, ProductFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slipped_shop() -> None:
    """Four customers whose promised dates moved later (an apology each, no
    discount yet: the slips are shorter than the policy's threshold)."""
    call_command("load_demo", "--users-only")
    CompensationPolicy.current()  # 10 % off, one code per order
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    today = timezone.localdate()
    supplier = SupplierFactory.create(name="Brightway Lighting")
    floodlight = ProductFactory.create(sku="LT-MSF", name="Motion Sensor Floodlight")
    chair = ProductFactory.create(sku="FN-RTC", name="Rattan Lounge Chair")
    black_chair = ProductFactory.create(sku="FN-RTC-BLK", name="Rattan Lounge Chair, black")
    chair.alternatives.add(black_chair)
    purchases = {}
    for product, days in ((floodlight, 6), (chair, 5)):
        purchases[product.sku], _changes = updates.purchase_order_create(
            supplier=supplier,
            warehouse=warehouse,
            lines=[PurchaseLineRequest(product, 10)],
            expected_date=today + dt.timedelta(days=days),
            by=None,
            confirm=True,
        )
    for name, product, units in (
        ("Ayu Lestari", floodlight, 2),
        ("Mia Carter", floodlight, 2),
        ("Budi Halim", floodlight, 3),
        ("Sari Dewi", chair, 1),
    ):
        updates.order_place(
            customer=CustomerFactory.create(name=name),
            warehouse=warehouse,
            lines=[LineRequest(product, units)],
            by=None,
        )
    for sku, days in (("LT-MSF", 12), ("FN-RTC", 8)):
        updates.purchase_order_move_expected_date(
            purchase_order=purchases[sku],
            new_date=today + dt.timedelta(days=days),
            reason="Supplier confirmed a port delay",
            by=None,
        )


def cards(page):
    return page.locator("#delays-list article.delay-card")


def test_customer_service_filters_the_delays_issues_a_discount_and_cancels(
    live_server, page, screenshot, slipped_shop
) -> None:
    log_in(page, live_server, "service")
    page.goto(f"{live_server.url}/delays/")
    assert cards(page).count() == 4
    first = cards(page).first.inner_text()
    assert "6 days late" in first  # the floodlight slipped 6 days, the chair 3
    screenshot("flow-delays-1-page")

    # filter: the list updates in place and the URL can be shared
    page.fill("#id_customer", "mia")
    page.wait_for_url("**/delays/?*customer=mia*")
    page.wait_for_function("document.querySelectorAll('#delays-list article').length === 1")
    assert "Mia Carter" in cards(page).first.inner_text()
    screenshot("flow-delays-2-filtered")

    # purchasing lowers the policy while the form is open: the server refuses
    # the 10 % the form offered, beside the field; 5 % goes through
    card = cards(page).first
    card.locator("a", has_text="Act: note, discount, substitute, cancel").click()  # forms on demand
    card.locator("summary", has_text="Issue a discount").click()
    assert card.locator("input[name=percent]").input_value() == "10"
    CompensationPolicy.objects.filter(pk=1).update(discount_percent=Decimal("5"))
    card.locator("button", has_text="Issue the code and email it").click()
    page.wait_for_selector("text=Enter a percentage from 1 to 5")
    screenshot("flow-delays-3-discount-refused")
    card = cards(page).first
    card.locator("input[name=percent]").fill("5")
    card.locator(".discount-form textarea[name=note]").fill(
        "Thank you for waiting for your floodlights."
    )
    card.locator("button", has_text="Issue the code and email it").click()
    page.wait_for_selector("#delays-list .message-success")
    notice = page.inner_text("#delays-list .message-success")
    assert "is on its way to Mia Carter by email" in notice
    assert cards(page).first.locator(".delay-codes code").count() == 1
    screenshot("flow-delays-4-discount-issued")

    # the outbox shows the email with the code
    page.goto(f"{live_server.url}/outbox/?kind=personal_note")
    rows = page.locator(".table-container tbody tr:not(:has(td.empty))")
    assert rows.count() == 1
    assert "5% off your next order" in rows.first.inner_text()
    screenshot("flow-delays-5-outbox")

    # cancel Budi's remainder: the line leaves the delays page and the queue
    page.goto(f"{live_server.url}/queue/")
    assert page.locator(".table-container tbody tr", has_text="Budi Halim").count() == 1
    page.goto(f"{live_server.url}/delays/?customer=budi")
    card = cards(page).first
    card.locator("a", has_text="Act: note, discount, substitute, cancel").click()
    card.locator("summary", has_text="Cancel the remainder").click()
    card.locator("input[name=reason]").fill("Bought elsewhere, asked by phone")
    screenshot("flow-delays-6-cancel-form")
    card.locator("button", has_text="Cancel and tell the customer").click()
    page.wait_for_selector("#delays-list .message-success")
    assert "cancelled 3 × LT-MSF" in page.inner_text("#delays-list .message-success")
    assert "delayed any more" in cards(page).first.inner_text()
    screenshot("flow-delays-7-cancelled")
    budi_line = OrderLine.objects.get(order__customer__name="Budi Halim")
    assert budi_line.backordered == 0
    page.goto(f"{live_server.url}/queue/")
    assert page.locator(".table-container tbody tr", has_text="Budi Halim").count() == 0
    screenshot("flow-delays-8-queue")


def test_purchasing_reads_the_delays_without_actions(
    live_server, page, screenshot, slipped_shop
) -> None:
    log_in(page, live_server, "purchasing")
    page.goto(f"{live_server.url}/delays/")
    assert cards(page).count() == 4
    assert page.locator("text=Issue a discount").count() == 0
    page.set_viewport_size({"width": 820, "height": 1100})  # a tablet
    screenshot("flow-delays-9-purchasing-tablet")
