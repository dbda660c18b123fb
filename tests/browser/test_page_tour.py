"""Every staff page on the demo shop, in Chromium, at laptop and tablet width.

Each page is opened as the role whose work it is and must answer 200 with its
heading, run without a JavaScript or CSP error in the console, fit the
window's width, hide nothing in a sideways-scrolling box at either width, pass
axe-core with no critical or serious violation at both widths, and be valid
HTML for the Nu HTML checker (as is one email of each kind the demo sent; see
tests/browser/page_checks.py).
A screenshot per page and width goes to build/screenshots/tour-*.png; this is
the test to run to regenerate them:

    DATABASE_URL=postgres://… .venv/bin/pytest tests/browser/test_page_tour.py
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, WebhookDelivery, WebhookSubscription
from orders.models import OrderLine, SalesOrder
from orders.selectors.shipping import shipping_orders
from suppliers.models import OPEN_PO_STATUSES, PurchaseOrder
from tests.browser.page_checks import (
    axe_violations,
    html_errors,
    require_checkers,
    scroll_box_overflows,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": (1280, 860), "tablet": (820, 1180)}


@dataclass(frozen=True)
class Stop:
    name: str
    username: str
    path: str
    heading: str


def tour() -> list[Stop]:
    waiting = OrderLine.objects.backordered().select_related("order__customer", "product").first()
    assert waiting is not None, "the demo shop has backordered lines"
    po = PurchaseOrder.objects.filter(status__in=OPEN_PO_STATUSES).order_by("number").first()
    assert po is not None, "the demo shop has open purchase orders"
    message = Notification.objects.order_by("pk").first()
    assert message is not None, "the demo shop has sent messages"
    webhook_deliveries_seed(waiting.order)
    ready = shipping_orders().first()
    assert ready is not None, "the demo shop has orders ready to ship"
    return [
        Stop("dashboard", "purchasing", reverse("dashboard"), "Dashboard"),
        Stop("shop-events", "purchasing", reverse("shop-events"), "Shop events"),
        Stop("shop-deliveries", "service", reverse("shop-deliveries"), "Webhook deliveries"),
        Stop("queue", "service", reverse("queue"), "Backorder queue"),
        Stop("receiving", "warehouse", reverse("receiving"), "Receiving"),
        Stop(
            "receive",
            "warehouse",
            reverse("purchase-order-receive", args=[po.number]),
            f"Receive {po.number}",
        ),
        Stop("shipping", "warehouse", reverse("shipping"), "Ready to ship"),
        Stop("pick-list", "warehouse", reverse("shipping-pick-list"), "Pick list"),
        Stop(
            "packing-slip",
            "warehouse",
            reverse("shipping-packing-slip", args=[ready.number]),
            f"Packing slip {ready.number}",
        ),
        Stop("purchase-orders", "purchasing", reverse("purchase-orders"), "Purchase orders"),
        Stop(
            "purchase-order-new",
            "purchasing",
            reverse("purchase-order-new"),
            "New purchase order",
        ),
        Stop(
            "purchase-order",
            "purchasing",
            reverse("purchase-order", args=[po.number]),
            f"Purchase order {po.number}",
        ),
        Stop("product", "warehouse", reverse("product", args=[waiting.product.sku]), ""),
        Stop(
            "order",
            "service",
            reverse("order", args=[waiting.order.number]),
            f"Order {waiting.order.number}",
        ),
        Stop(
            "customer",
            "service",
            reverse("customer", args=[waiting.order.customer_id]),
            waiting.order.customer.name,
        ),
        Stop("order-new", "service", reverse("order-new"), "New order"),
        Stop("outbox", "service", reverse("outbox"), "Outbox"),
        Stop(
            "outbox-message",
            "service",
            reverse("outbox-message", args=[message.pk]),
            message.subject,
        ),
        Stop("policy", "purchasing", reverse("policy"), "Compensation policy"),
        Stop("delays", "service", reverse("delays"), "Delays"),
        Stop("shortfall", "purchasing", reverse("shortfall"), "Shortfall"),
        Stop("suppliers", "purchasing", reverse("suppliers"), "Suppliers"),
        Stop(
            "supplier", "purchasing", reverse("supplier", args=[po.supplier_id]), po.supplier.name
        ),
        Stop("products", "warehouse", reverse("products"), "Products"),
        Stop("orders", "service", reverse("orders"), "Orders"),
        Stop("customers", "service", reverse("customers"), "Customers"),
        Stop("search", "service", reverse("search") + "?q=an", "Search"),
        Stop("transfers", "warehouse", reverse("transfers"), "Transfers"),
        Stop("refunds", "service", reverse("refunds"), "Refunds"),
        Stop(
            "order-delivery",
            "service",
            reverse("order-delivery", args=[waiting.order.number]),
            f"Delivery of {waiting.order.number}",
        ),
        Stop(
            "delay-actions",
            "service",
            reverse("delay-customer-actions", args=[waiting.order.customer_id]),
            "Delays",
        ),
    ]


def webhook_deliveries_seed(order: SalesOrder) -> None:
    """A subscription with one delivery of each status, for the deliveries page."""
    subscription = WebhookSubscription.objects.create(
        url="https://storefront.example.com/webhooks/backorder-desk/events",
        secret="demo",
        channel=order.channel,
    )
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            subscription=subscription,
            event_id=f"tour-{status}",
            event_type=event_type,
            order=order,
            payload={},
            status=status,
            attempts=attempts,
            last_error=error,
            response_status=code,
            # not due: the embedded sweep on opening the page leaves it alone
            next_attempt_at=timezone.now() + dt.timedelta(hours=1),
        )
        for event_type, status, attempts, error, code in [
            ("order.backordered", "delivered", 1, "", 200),
            ("order.promise_changed", "pending", 2, "URLError: connection refused", None),
            ("order.shipped", "failed", 8, "DeliveryRefused: HTTP 502 Bad Gateway", 502),
        ]
    )


def log_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_every_page_reads_well_on_the_demo_shop(live_server, page, screenshot):
    require_checkers()
    call_command("load_demo", verbosity=0)
    problems: list[str] = []
    documents: dict[str, str] = {}
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type in {"error", "warning"}
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    current_user = None
    for stop in tour():
        if stop.username != current_user:
            log_in(page, live_server, stop.username)
            current_user = stop.username
        for width_name, (width, height) in VIEWPORTS.items():
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(f"{live_server.url}{stop.path}")
            assert response is not None and response.status == 200, (stop.name, response)
            page.wait_for_load_state("networkidle")
            heading = page.locator("main h1").first.inner_text()
            assert stop.heading in heading, (stop.name, heading)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{stop.name} is {overflow}px wider than a {width_name}"
            problems.extend(f"{stop.name} {width_name}: {v}" for v in axe_violations(page))
            problems.extend(f"{stop.name} {width_name}: {b}" for b in scroll_box_overflows(page))
            if width_name == "laptop":
                documents[f"page {stop.name}"] = response.text()
            screenshot(f"tour-{stop.name}-{width_name}")
    # one email of each kind, as the customer's mail program gets it
    for kind in Notification.objects.values_list("kind", flat=True).distinct():
        email = Notification.objects.filter(kind=kind).order_by("pk").first()
        assert email is not None
        documents[f"email {kind} ({email.language})"] = email.body_html
    problems.extend(html_errors(documents))
    assert not problems, "\n".join(problems)
