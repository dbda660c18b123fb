"""Shop webhooks end to end: signed Shopify deliveries posted over HTTP to the
live server, then the shop events page in Chromium, where customer service
retries the one that failed once its product exists (screenshots:
build/screenshots/shop-events-*.png)."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command

from api.hooks.services import shop_connection_create
from api.hooks.signing import body_signature
from api.models import InboundEvent, InboundStatus, ShopConnection
from inventory.models import Warehouse
from tests.browser.test_flows import log_in
from tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "shopify" / "orders_create.json"


def post_signed(page, live_server, connection: ShopConnection, body: dict) -> dict:
    """POST as Shopify does, over HTTP (Playwright's request client, not the browser)."""
    raw = json.dumps(body).encode()
    response = page.request.post(
        f"{live_server.url}{connection.webhook_path}",
        data=raw,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Hmac-Sha256": body_signature(secret="browser-secret", body=raw),
        },
    )
    assert response.status == 200
    return response.json()


def test_service_sees_a_failed_delivery_and_retries_it(live_server, page, screenshot) -> None:
    call_command("load_demo", "--users-only")
    Warehouse.objects.create(code="JKT", name="Jakarta")
    ProductFactory.create(sku="LAMP", name="Lamp")
    ProductFactory.create(sku="CHAIR", name="Chair")
    connection = shop_connection_create(
        platform="shopify",
        domain="jsmith.myshopify.com",
        secret="browser-secret",
        channel="web",
        warehouse_code="JKT",
    )
    fine = json.loads(FIXTURE.read_text())
    unknown = copy.deepcopy(fine)
    unknown.update(id=820982911946154600, name="#10000")
    unknown["line_items"][1]["sku"] = "STOOL"
    post_signed(page, live_server, connection, fine)
    failed_id = post_signed(page, live_server, connection, unknown)["event"]
    assert InboundEvent.objects.get(pk=failed_id).status == InboundStatus.FAILED

    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in {"error", "warning"}
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    log_in(page, live_server, "service")
    page.goto(f"{live_server.url}/shop/events/")
    assert page.locator("#inbound-events tbody tr").count() == 2
    assert "STOOL: no product has this SKU." in page.inner_text("#inbound-events")
    screenshot("shop-events-1-list")

    ProductFactory.create(sku="STOOL", name="Stool")
    page.click(f"#event-row-{failed_id} a.event-error")
    page.wait_for_selector(f"#event-{failed_id}")
    screenshot("shop-events-2-failed")
    page.click(f"#event-{failed_id} button[type=submit]")
    page.wait_for_selector(f"#event-{failed_id} [data-status=processed]")
    assert "Placed as SO-" in page.inner_text(f"#event-{failed_id}")
    screenshot("shop-events-3-retried")

    # at tablet width the page fits; the table scrolls in its own box
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{live_server.url}/shop/events/")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"/shop/events/ is {overflow}px wider than a tablet"
    screenshot("shop-events-4-tablet")
    assert problems == []
