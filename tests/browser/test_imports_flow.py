"""CSV import in a real browser, a screenshot per step
(build/screenshots/flow-imports-*.png): purchasing uploads a product file with
bad rows and sees each with its line and reason, nothing applied; uploads the
corrected file, reads the preview and applies it."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from inventory.models import Product
from tests.browser.page_checks import axe_violations, html_errors, require_checkers
from tests.browser.test_flows import log_in
from tests.factories import ProductFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "sku,name,price,policy,cap,supplier,pack_size\n"
GOOD = (
    "LT-MSF,Motion Sensor Floodlight,39.90,cap,20,Brightway Lighting,6\n"
    "KT-GLS,Glass Kettle 1.7 l,24.50,allow,,,\n"
    "FN-DSK,Desk Fan 30 cm,19.00,deny,,,\n"
)
BAD = "LP-DSK,Desk Lamp,abc,allow,,,\nBT-200,Bottle 2 l,4.00,cap,,,\nMG 01,Mug,3.00,sometimes,,,\n"


def upload(page, live_server, content: str) -> None:
    page.goto(f"{live_server.url}/imports/")
    page.select_option("#id_kind", "products")
    page.set_input_files(
        "#id_file",
        files=[{"name": "products.csv", "mimeType": "text/csv", "buffer": content.encode()}],
    )
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_selector("#import-job")


def test_purchasing_imports_products(live_server, page, screenshot) -> None:
    require_checkers()
    call_command("load_demo", "--users-only")
    problems: list[str] = []
    documents: dict[str, str] = {}

    def check_page(name: str) -> None:
        problems.extend(f"{name}: {v}" for v in axe_violations(page))
        documents[name] = page.content()

    SupplierFactory.create(name="Brightway Lighting")
    ProductFactory.create(sku="KT-GLS", name="Glass Kettle 1.7 l", price="22.00")
    log_in(page, live_server, "purchasing")

    page.goto(f"{live_server.url}/imports/")
    screenshot("flow-imports-1-upload")
    check_page("upload")

    # a file with three bad rows: each listed with its line; no apply button
    upload(page, live_server, HEADER + GOOD + BAD)
    assert page.locator("#import-job-status").inner_text() == "Rows refused: nothing applied"
    assert page.locator("#import-errors tbody tr").count() == 3
    assert page.locator("#import-apply").count() == 0
    screenshot("flow-imports-2-refused")
    check_page("refused")
    assert not Product.objects.filter(sku="LT-MSF").exists()

    # the corrected file: 2 new, 1 changed; apply
    upload(page, live_server, HEADER + GOOD)
    assert page.locator('[data-count="new"]').inner_text() == "2"
    assert page.locator('[data-count="changed"]').inner_text() == "1"
    screenshot("flow-imports-3-preview")
    check_page("preview")
    page.get_by_role("button", name="Apply: 2 new, 1 changed").click()
    page.wait_for_selector(".import-job-done")
    screenshot("flow-imports-4-applied")
    assert Product.objects.get(sku="LT-MSF").backorder_cap == 20
    check_page("applied")
    problems.extend(html_errors(documents))
    assert not problems, "\n".join(problems)
