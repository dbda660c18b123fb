"""Every staff page on the demo data: server time and queries, as each role sees it.

Usage: DATABASE_URL=sqlite:////tmp/pages.sqlite3 python -m bench.pages [--repeat 15]
       [--only shortfall,suppliers]
Loads the demo shop into that database when it has no orders yet, then requests
each page through Django's test client (full page, and the htmx fragment where
the page has one) as the demo user whose work it is. Prints median and p95 of
the server time in milliseconds and the number of SQL queries per request.
Exits non-zero when a page does not answer 200: figures, not a timing test.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class PageCase:
    label: str
    username: str
    path: str
    htmx: bool = False


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def year_range() -> str:
    """The dashboard's longest range: the year up to today."""
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    first = today - dt.timedelta(days=365)
    return f"?period=custom&from={first.isoformat()}&to={today.isoformat()}"


def cases() -> list[PageCase]:
    """The pages, with real demo objects in the URLs that need one."""
    from django.urls import reverse

    from inventory.models import Product
    from orders.models import Customer, OrderLine
    from suppliers.models import OPEN_PO_STATUSES, PurchaseOrder, Supplier

    waiting = OrderLine.objects.backordered().select_related("order", "product").first()
    po = PurchaseOrder.objects.filter(status__in=OPEN_PO_STATUSES).order_by("number").first()
    product = waiting.product if waiting else Product.objects.order_by("sku").first()
    order = waiting.order if waiting else None
    customer = order.customer if order else Customer.objects.order_by("pk").first()

    found = [
        PageCase("dashboard", "purchasing", reverse("dashboard")),
        PageCase("dashboard (a year)", "purchasing", reverse("dashboard") + year_range()),
        PageCase("queue", "service", reverse("queue")),
        PageCase("queue (htmx, page 2)", "service", reverse("queue") + "?page=2", htmx=True),
        PageCase("receiving", "warehouse", reverse("receiving")),
        PageCase("shipping", "warehouse", reverse("shipping")),
        PageCase("purchase orders", "purchasing", reverse("purchase-orders")),
        PageCase("new purchase order", "purchasing", reverse("purchase-order-new")),
        PageCase("new order", "service", reverse("order-new")),
        PageCase("outbox", "service", reverse("outbox")),
        PageCase("policy", "purchasing", reverse("policy")),
        PageCase("delays", "service", reverse("delays")),
        PageCase("shortfall", "purchasing", reverse("shortfall")),
        PageCase(
            "shortfall (htmx, sorted)",
            "purchasing",
            reverse("shortfall") + "?sort=-free_elsewhere",
            htmx=True,
        ),
        PageCase("shortfall CSV", "purchasing", reverse("shortfall-export")),
        PageCase("suppliers", "purchasing", reverse("suppliers")),
        PageCase("products list", "warehouse", reverse("products")),
        PageCase(
            "products (htmx, page 2)", "warehouse", reverse("products") + "?page=2", htmx=True
        ),
        PageCase("orders list", "service", reverse("orders")),
        PageCase("orders (waiting)", "service", reverse("orders") + "?status=waiting"),
        PageCase("customers list", "service", reverse("customers")),
        PageCase("search (several)", "service", reverse("search") + "?q=an"),
        PageCase("transfers", "warehouse", reverse("transfers")),
    ]
    supplier = Supplier.objects.order_by("name").first()
    if supplier is not None:
        found.append(PageCase("supplier", "purchasing", reverse("supplier", args=[supplier.pk])))
    if po is not None:
        found.append(
            PageCase("purchase order", "purchasing", reverse("purchase-order", args=[po.number]))
        )
    if product is not None:
        found.append(PageCase("product", "warehouse", reverse("product", args=[product.sku])))
    if order is not None:
        found.append(PageCase("order", "service", reverse("order", args=[order.number])))
    if customer is not None:
        found.append(PageCase("customer", "service", reverse("customer", args=[customer.pk])))
    return found


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)  # one line per force_login
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders.models import SalesOrder

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--only", default="", help="comma-separated page labels (prefixes) to run, e.g. shortfall"
    )
    args = parser.parse_args()

    # No setup_test_environment(): its instrumented template rendering copies
    # every context for the test client and would be timed with the page.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", verbosity=0)
    if not SalesOrder.objects.exists():
        print("loading the demo shop …", flush=True)
        call_command("load_demo", verbosity=0)

    engine = connection.vendor
    print(f"{'page':28} {'role':11} {'median ms':>9} {'p95 ms':>7} {'queries':>7}")
    failures = 0
    clients: dict[str, Client] = {}
    only = [label.strip() for label in args.only.split(",") if label.strip()]
    for case in cases():
        if only and not any(case.label.startswith(label) for label in only):
            continue
        client = clients.get(case.username)
        if client is None:
            client = clients[case.username] = Client()
            client.force_login(User.objects.get(username=case.username))
        headers = {"HX-Request": "true"} if case.htmx else {}
        client.get(case.path, headers=headers)  # warm: templates, caches
        times: list[float] = []
        queries = 0
        status = 200
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(case.path, headers=headers)
                if response.streaming:  # a CSV export: the rows are made as it is read
                    b"".join(response.streaming_content)  # type: ignore[attr-defined]
                times.append((time.perf_counter() - started) * 1000)
            queries = len(captured.captured_queries)
            status = response.status_code
        if status != 200:
            failures += 1
        print(
            f"{case.label:28} {case.username:11} {statistics.median(times):9.1f} "
            f"{percentile(times, 0.95):7.1f} {queries:7d}"
            + ("" if status == 200 else f"  HTTP {status}!")
        )
    print(f"({engine}, {args.repeat} requests per page, test client, DEBUG off)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
