"""Bulk and row actions on the backorder queue in a real browser, a screenshot
per step (build/screenshots/flow-bulk-*.png).

Customer service ticks lines on /queue/, sets their priority, watches the
progress bar finish and the table reload; cancels one line's remainder from
its row. With PostgreSQL and Redis a second flow runs the job on a real
Celery worker, so the bar is seen polling before it reaches "done".
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Warehouse
from notifications import updates
from notifications.models import BulkJob, BulkJobStatus, Notification, NotificationKind
from orders.models import OrderLine
from orders.services.intake import LineRequest
from suppliers.services import PurchaseLineRequest
from tests.browser.test_flows import log_in
from tests.factories import CustomerFactory, ProductFactory, SupplierFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = ".table-container tbody tr:not(:has(td.empty))"
CUSTOMERS = (
    "Ayu Lestari",
    "Mia Carter",
    "Budi Halim",
    "Sanne de Vries",
    "Rizky Pratama",
    "Tom Jansen",
)


@pytest.fixture
def waiting_queue() -> list[OrderLine]:
    """Six customers waiting for two products, promised from one purchase order."""
    call_command("load_demo", "--users-only")
    warehouse = Warehouse.objects.create(code="JKT", name="Jakarta")
    floodlight = ProductFactory.create(sku="LT-MSF", name="Motion Sensor Floodlight")
    kettle = ProductFactory.create(sku="KT-GLS", name="Glass Kettle 1.7 l")
    updates.purchase_order_create(
        supplier=SupplierFactory.create(name="Brightway Lighting"),
        warehouse=warehouse,
        lines=[PurchaseLineRequest(floodlight, 8), PurchaseLineRequest(kettle, 8)],
        expected_date=timezone.localdate() + dt.timedelta(days=6),
        by=None,
        confirm=True,
    )
    lines = []
    for number, name in enumerate(CUSTOMERS):
        order = updates.order_place(
            customer=CustomerFactory.create(name=name),
            warehouse=warehouse,
            lines=[LineRequest(floodlight if number % 2 else kettle, 2)],
            by=None,
        )
        lines.append(order.lines.get())
    return lines


def row_of(page, line: OrderLine):
    return page.locator(f"#line-row-{line.pk}")


def test_service_reprioritises_selected_lines_and_cancels_one(
    live_server, page, screenshot, waiting_queue
) -> None:
    lines = waiting_queue
    log_in(page, live_server, "service")
    page.goto(f"{live_server.url}/queue/")
    assert page.locator(ROWS).count() == 6
    screenshot("flow-bulk-1-queue")

    # tick the last two customers' lines and move them to the front
    last_two = lines[-2:]
    for line in last_two:
        row_of(page, line).locator("input[name=lines]").check()
    page.fill("#queue-bulk-priority", "30")
    screenshot("flow-bulk-2-selected")
    page.click("#queue-bulk button[value=reprioritise]")

    # the progress bar shows, reaches the total, and the table reloads
    page.wait_for_selector("#queue-job[data-status=done]")
    progress = page.locator("#queue-job progress")
    assert progress.get_attribute("value") == progress.get_attribute("max") == "2"
    assert "2 of 2 lines processed" in page.inner_text("#queue-job")
    assert "2 lines moved to priority 30." in page.inner_text("#queue-job")
    page.wait_for_function(
        "() => document.querySelectorAll('input[name=lines]:checked').length === 0"
    )
    for line in last_two:
        assert row_of(page, line).locator("td.num").first.inner_text() == "1"
        assert "Priority 30" in row_of(page, line).inner_text()
    screenshot("flow-bulk-3-done")
    assert all(
        priority == 30
        for priority in OrderLine.objects.filter(pk__in=[line.pk for line in last_two]).values_list(
            "priority", flat=True
        )
    )

    # cancel the first line's remainder from its row: open, say why, confirm
    first = row_of(page, lines[0])
    first.locator("summary", has_text="Cancel remainder").click()
    first.locator("input[name=reason]").fill("Customer phoned: bought elsewhere")
    screenshot("flow-bulk-4-cancel-confirm")
    first.locator("button", has_text="Cancel 2 units").click()
    page.wait_for_selector("#queue-notice .message-success")
    assert page.locator(ROWS).count() == 5
    assert "refund due" in page.inner_text("#queue-notice")
    screenshot("flow-bulk-5-cancelled")
    assert Notification.objects.filter(kind=NotificationKind.CANCELLED).count() == 1


@pytest.mark.postgres
@pytest.mark.redis
def test_service_emails_a_whole_page_through_a_real_worker(
    live_server, page, screenshot, waiting_queue, celery_worker_process
) -> None:
    log_in(page, live_server, "service")
    page.goto(f"{live_server.url}/queue/")

    # select the whole page with the header box (the server ticks every row)
    page.check("#queue-select-page")
    page.wait_for_function(
        "() => document.querySelectorAll('input[name=lines]:checked').length === 6"
    )
    screenshot("flow-bulk-6-select-page")
    page.click("#queue-bulk button[value=notify]")

    # the bar appears while the worker runs the job, polls, and stops at done
    page.wait_for_selector("#queue-job progress")
    screenshot("flow-bulk-7-progress")
    page.wait_for_selector("#queue-job[data-status=done]", timeout=30_000)
    assert "6 of 6 lines processed" in page.inner_text("#queue-job")
    assert "6 customers emailed." in page.inner_text("#queue-job")
    page.wait_for_function(
        "() => document.querySelectorAll('input[name=lines]:checked').length === 0"
    )
    screenshot("flow-bulk-8-emailed")
    job = BulkJob.objects.get()
    assert (job.status, job.done, job.total) == (BulkJobStatus.DONE, 6, 6)
    assert Notification.objects.filter(kind=NotificationKind.PROMISE_UPDATE).count() == 6
