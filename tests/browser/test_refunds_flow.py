"""The refunds worklist in Chromium: customer service marks a refund paid back
in its row (htmx), the totals follow; the page and the order's card pass the
layout, axe and HTML checks at laptop and tablet width (screenshots:
build/screenshots/refunds-*.png)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from inventory.models import Warehouse
from notifications import updates
from orders.models import Customer, PaymentStatus, RefundDue
from orders.services.intake import LineRequest
from tests.browser.page_checks import (
    axe_violations,
    html_errors,
    require_checkers,
    scroll_box_overflows,
)
from tests.browser.test_flows import log_in
from tests.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_service_marks_a_refund_paid_back(live_server, page, screenshot) -> None:
    call_command("load_demo", "--users-only")
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    for n, price in enumerate(("25.00", "129.90")):
        order = updates.order_place(
            customer=Customer.objects.create(name=f"Customer {n}", email=f"c{n}@example.com"),
            warehouse=warehouse,
            lines=[LineRequest(ProductFactory.create(price=Decimal(price)), 2)],
            by=None,
            payment_status=PaymentStatus.PAID,
        )
        updates.order_backorders_cancel(order=order, reason="Found it elsewhere", by=None)
    first = RefundDue.objects.order_by("created_at", "pk").first()
    assert first is not None

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
    page.goto(f"{live_server.url}/refunds/")
    assert page.locator("#refunds tbody tr").count() == 2
    assert "2 refunds" in page.inner_text("#refund-totals")
    screenshot("refunds-1-owed")
    row = f"#refund-{first.pk}"
    page.fill(f"{row} input[name=reference]", "re_3NqK42")
    page.click(f"{row} button[type=submit]")
    page.wait_for_selector(f"{row} [data-status=refunded]")
    page.wait_for_function(
        "() => document.querySelector('#refund-totals').innerText.includes('1 refund')"
    )
    screenshot("refunds-2-marked")
    first.refresh_from_db()
    assert first.reference == "re_3NqK42" and first.refunded_by is not None

    require_checkers()
    documents: dict[str, str] = {}
    for width, height in ((1280, 860), (820, 1180)):
        page.set_viewport_size({"width": width, "height": height})
        for name, path in (
            ("list", "/refunds/"),
            ("refunded", "/refunds/?state=refunded"),
            ("order", f"/orders/{first.order.number}/"),
        ):
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
            page.goto(f"{live_server.url}/refunds/?state=all")
            screenshot("refunds-3-tablet")
    assert html_errors(documents) == []
    assert problems == []
