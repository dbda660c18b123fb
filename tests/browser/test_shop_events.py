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
from tests.browser.page_checks import (
    axe_violations,
    html_errors,
    require_checkers,
    scroll_box_overflows,
)
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

    # at laptop and tablet width: the page fits, nothing scrolls sideways, axe
    # finds nothing critical or serious and the HTML is valid (issue 16's checks)
    require_checkers()
    documents: dict[str, str] = {}
    for width, height in ((1280, 860), (820, 1180)):
        page.set_viewport_size({"width": width, "height": height})
        for name, path in (("list", "/shop/events/"), ("event", f"/shop/events/{failed_id}/")):
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} is {overflow}px wider than {width}px"
            assert scroll_box_overflows(page) == [], (path, width)
            assert axe_violations(page) == [], (path, width)
            documents[f"{name}-{width}"] = response.text()
        if width == 820:
            page.goto(f"{live_server.url}/shop/events/")
            screenshot("shop-events-4-tablet")
    assert html_errors(documents) == []
    assert problems == []
