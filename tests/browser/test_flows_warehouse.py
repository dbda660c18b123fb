"""The warehouse floor in a real browser: scanning a delivery into the receive
form, and shipping part of an order whose other lines still wait. Screenshots
at laptop (1280 px) and tablet (820 px) width go to build/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Warehouse
from notifications import updates
from orders.models import SalesOrder, Shipment
from orders.services.intake import LineRequest
from suppliers.models import PurchaseOrder
from suppliers.services import PurchaseLineRequest
from tests.browser.page_checks import AXE
from tests.conftest import SCREENSHOT_DIR
from tests.factories import CustomerFactory, ProductFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"laptop": (1280, 860), "tablet": (820, 1180)}


@pytest.fixture
def floor() -> tuple[PurchaseOrder, SalesOrder]:
    """A purchase order of 10 lamps and 4 rugs; an order of 2 lamps, 3 chairs
    (2 in stock) and 2 rugs (none in stock)."""
    call_command("load_demo", "--users-only")
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    supplier = SupplierFactory.create(name="Brightway Lighting")
    lamp = ProductFactory.create(sku="LAMP-1", name="Desk lamp")
    chair = ProductFactory.create(sku="CHAIR-1", name="Oak chair")
    rug = ProductFactory.create(sku="RUG-1", name="Wool rug")
    for product, units in ((lamp, 2), (chair, 2)):
        stock, _ = updates.purchase_order_create(
            supplier=supplier,
            warehouse=warehouse,
            lines=[PurchaseLineRequest(product, units)],
            expected_date=timezone.localdate(),
            by=None,
            confirm=True,
        )
        updates.purchase_order_receive(
            purchase_order=stock, quantities={stock.lines.get().pk: units}, by=None
        )
    po, _changes = updates.purchase_order_create(
        supplier=supplier,
        warehouse=warehouse,
        lines=[PurchaseLineRequest(lamp, 10), PurchaseLineRequest(rug, 4)],
        expected_date=timezone.localdate() + dt.timedelta(days=6),
        by=None,
        confirm=True,
    )
    order = updates.order_place(
        customer=CustomerFactory.create(name="Ayu Lestari"),
        warehouse=warehouse,
        lines=[LineRequest(lamp, 2), LineRequest(chair, 3), LineRequest(rug, 2)],
        by=None,
    )
    return po, order


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_scanning_counts_units_into_the_receive_form(live_server, page, screenshot, floor):
    po, _order = floor
    lamp_line = po.lines.get(product__sku="LAMP-1")
    log_in(page, live_server, "warehouse")
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/purchase-orders/{po.number}/receive/")
        scan = page.locator("#scan-sku")
        assert scan.is_visible()
        for _ in range(3):
            scan.fill("lamp-1")
            scan.press("Enter")
        assert page.input_value(f"input[name=line_{lamp_line.pk}]") == "3"
        assert page.inner_text("#scan-status") == "+1 LAMP-1 (3 of 10)"
        assert "scan-hit" in (page.get_attribute(f"#receive-line-{lamp_line.pk}", "class") or "")
        screenshot(f"flow-scan-1-counted-{width_name}")
        scan.fill("NOPE-9")
        scan.press("Enter")
        assert page.inner_text("#scan-status").startswith("NOPE-9 is not on this purchase order")
        assert page.input_value(f"input[name=line_{lamp_line.pk}]") == "3"
        screenshot(f"flow-scan-2-unknown-{width_name}")
    # Enter in the scan box never submitted the form: nothing was received
    assert po.lines.get(pk=lamp_line.pk).received == 0
    page.click("text=Receive these units")
    page.wait_for_selector("text=Orders now ready to ship")
    assert po.lines.get(pk=lamp_line.pk).received == 3


def test_shipping_part_of_an_order_whose_lines_wait(live_server, page, screenshot, floor):
    _po, order = floor
    lamp, chair, rug = order.lines.order_by("pk")
    log_in(page, live_server, "warehouse")
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/shipping/")
        card = page.locator(f"#ship-order-{order.pk}")
        assert card.locator("text=RUG-1").is_visible()
        assert card.locator("text=some lines still waiting").is_visible()
        screenshot(f"flow-ship-1-desk-{width_name}")
    page.goto(f"{live_server.url}/shipping/{order.number}/packing-slip/")
    screenshot("flow-ship-2-packing-slip-tablet")
    page.goto(f"{live_server.url}/shipping/pick-list/")
    screenshot("flow-ship-3-pick-list-tablet")
    page.set_viewport_size({"width": 1280, "height": 860})
    page.goto(f"{live_server.url}/shipping/")
    page.fill(f"input[name=line_{chair.pk}]", "0")
    page.fill(f"#tracking-{order.pk}", "JNE-0042")
    page.click(f"#ship-order-{order.pk} button[type=submit]")
    page.wait_for_selector(f"#ship-order-{order.pk}.ship-done")
    screenshot("flow-ship-4-shipped")
    shipment = Shipment.objects.get(order=order)
    assert [(s.order_line_id, s.quantity) for s in shipment.lines.all()] == [(lamp.pk, 2)]
    assert rug.pk not in [s.order_line_id for s in shipment.lines.all()]


TARGET_SIZE = """async () => (await axe.run(document, {runOnly: ['target-size']})).violations
    .map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""


def test_the_demo_shops_warehouse_pages_have_touch_sized_targets(live_server, page):
    """axe's target-size rule (WCAG 2.2, not in its default run) on the
    warehouse pages of the demo shop at both widths; a viewport screenshot of
    the shipping desk's first orders (the full page is long)."""
    call_command("load_demo", verbosity=0)
    po = PurchaseOrder.objects.filter(status="ordered").order_by("number").first()
    first = SalesOrder.objects.filter(lines__allocated__gt=0).order_by("placed_at", "pk").first()
    assert po is not None and first is not None
    log_in(page, live_server, "warehouse")
    paths = [
        "/shipping/",
        "/shipping/pick-list/",
        f"/shipping/{first.number}/packing-slip/",
        "/receiving/",
        f"/purchase-orders/{po.number}/receive/",
    ]
    problems = []
    for width_name, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            page.goto(f"{live_server.url}{path}")
            page.evaluate(AXE.read_text())
            problems += [f"{path} {width_name}: {v}" for v in page.evaluate(TARGET_SIZE)]
        page.goto(f"{live_server.url}/shipping/")
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"flow-ship-demo-{width_name}.png"))
    assert not problems, "\n".join(problems)
