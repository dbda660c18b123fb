"""B1: the backorder queue page, as customer service sees it, against the admin.

Server time of `/queue/` through Django's test client (the whole middleware
stack, the template, no network): the full page and the htmx fragment, the
first page and a deep one, unfiltered and with two filters (a warehouse and a
product search). Queries are counted in one extra request per case, and again
with a page size of 10 and 100 to show the count does not grow with the page.

Baseline: the Django admin changelist of order lines filtered to backordered
(the same rows), first page, deep page and with the same two filters, as a
superuser.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.common import Context, Figure

DEEP_PAGE = 200  # 50 lines a page: the 10,001st line onwards


@dataclass(frozen=True)
class Case:
    key: str
    label: str
    query: dict[str, str]
    htmx: bool
    target_ms: float
    admin_query: dict[str, str]


def _users():
    from django.contrib.auth.models import Group, User

    service, _ = User.objects.get_or_create(username="bench-service")
    service.groups.set([Group.objects.get_or_create(name="customer_service")[0]])
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return service, admin


def _time(client, path: str, query: dict[str, str], htmx: bool, repeat: int) -> list[float]:
    headers = {"HX-Request": "true"} if htmx else {}
    for _ in range(2):  # warm: templates, plans, caches
        client.get(path, query, headers=headers)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, query, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}?{query} answered HTTP {response.status_code}")
    return samples


def _queries(client, path: str, query: dict[str, str], htmx: bool) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as captured:
        client.get(path, query, headers=headers)
    return len(captured.captured_queries)


def run(ctx: Context) -> None:
    from django.test import Client

    from desk import queue as views
    from inventory.models import Product, Warehouse
    from orders.models import OrderLine

    service, admin = _users()
    # The admin lists 100 rows a page by default; compare the same 50 rows.
    from django.contrib import admin as django_admin

    line_admin = django_admin.site._registry[OrderLine]
    line_admin.list_per_page = views.QUEUE_PAGE_SIZE  # type: ignore[misc]
    queue_client, admin_client = Client(), Client()
    queue_client.force_login(service)
    admin_client.force_login(admin)

    warehouse = (
        Warehouse.objects.filter(code="AMS").first() or Warehouse.objects.order_by("pk").first()
    )
    # A product word that matches about a twelfth of the catalogue (seed names).
    word = "Kettle" if Product.objects.filter(name__icontains="Kettle").exists() else "e"
    waiting = OrderLine.objects.backordered().count()
    deep = min(DEEP_PAGE, max(1, waiting // views.QUEUE_PAGE_SIZE))
    filters = {"warehouse": warehouse.code, "product": word} if warehouse else {"product": word}
    admin_filters = {"status": "backordered", "q": word}
    if warehouse:
        admin_filters["warehouse__id__exact"] = str(warehouse.pk)
    ctx.notes.append(
        f"B1: {waiting:,} backordered lines; deep page = page {deep}; "
        f"two filters = warehouse {filters.get('warehouse', '-')} + product “{word}”"
    )
    cases = [
        Case("B1.page1", "B1 queue full page, page 1", {}, False, 150, {"status": "backordered"}),
        Case(
            "B1.deep",
            f"B1 queue full page, page {deep}",
            {"page": str(deep)},
            False,
            150,
            {"status": "backordered", "p": str(deep)},
        ),
        Case("B1.filtered", "B1 queue full page, 2 filters", filters, False, 150, admin_filters),
        Case(
            "B1.fragment",
            "B1 queue fragment (htmx), page 2",
            {"page": "2"},
            True,
            80,
            {"status": "backordered", "p": "2"},
        ),
        Case(
            "B1.fragment_deep",
            f"B1 queue fragment (htmx), page {deep}",
            {"page": str(deep)},
            True,
            80,
            {"status": "backordered", "p": str(deep)},
        ),
        Case(
            "B1.fragment_filtered",
            "B1 queue fragment (htmx), 2 filters",
            filters,
            True,
            80,
            admin_filters,
        ),
    ]
    repeat = max(5, ctx.repeat * 5)
    queue_path, admin_path = "/queue/", "/admin/orders/orderline/"
    query_counts: dict[str, int] = {}
    for case in cases:
        samples = _time(queue_client, queue_path, case.query, case.htmx, repeat)
        admin_samples = _time(admin_client, admin_path, case.admin_query, False, repeat)
        queries = _queries(queue_client, queue_path, case.query, case.htmx)
        admin_queries = _queries(admin_client, admin_path, case.admin_query, False)
        query_counts[case.key] = queries
        baseline = Figure(
            key=case.key + ".admin",
            label="",
            unit="ms",
            samples=admin_samples,
        )
        ctx.add(
            Figure(
                key=case.key,
                label=f"{case.label} ({queries} queries)",
                unit="ms",
                samples=samples,
                target=case.target_ms,
                baseline=baseline.median,
                baseline_label=f"admin changelist ({admin_queries} queries)",
                ratio_target=2.0,
                extra={
                    "queries": queries,
                    "admin_queries": admin_queries,
                    "admin_p95_ms": baseline.p95,
                    "query": case.query,
                    "admin_query": case.admin_query,
                },
            )
        )
    # Queries constant in page size: the same request with 10 and 100 lines a page.
    sizes = {}
    original = views.QUEUE_PAGE_SIZE
    try:
        for size in (10, 100):
            views.QUEUE_PAGE_SIZE = size
            sizes[size] = _queries(queue_client, queue_path, {"page": "2"}, True)
    finally:
        views.QUEUE_PAGE_SIZE = original
    constant = len(set(sizes.values())) == 1
    ctx.notes.append(
        f"B1 queries by page size (fragment, page 2): 10 lines → {sizes[10]}, "
        f"100 lines → {sizes[100]}: {'constant' if constant else 'NOT constant'}"
    )
    if not constant:
        ctx.notes.append("B1 MISS: the number of queries grows with the page size")
