"""The dashboard page: roles, the refresh fragment, a fixed query count, and
charts that can be read without colour. The KPIs themselves:
tests/notifications/test_dashboard.py."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications import updates
from orders.models import OrderLine, Shipment, ShipmentLine
from orders.services.receiving import purchase_order_receive
from tests.factories import OrderLineFactory, SalesOrderFactory
from tests.notifications.test_dashboard import build_lines, days_ago, waiting_line

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


VIEWERS = [
    ("anonymous", 302),
    ("nobody", 403),
    ("warehouse", 200),
    ("customer_service", 200),
    ("purchasing", 200),
    ("superuser", 200),
]


def make_client(client_as: Callable[..., Client], who: str) -> Client:
    if who == "anonymous":
        return Client()
    if who == "superuser":
        return client_as(superuser=True)
    if who == "nobody":
        return client_as()
    return client_as(Role(who))


# --- roles and the fragment ----------------------------------------------------------


@pytest.mark.parametrize(("who", "status"), VIEWERS)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_every_role_views_the_dashboard_and_others_are_refused(
    client_as: Callable[..., Client], who: str, status: int, headers: dict[str, str]
) -> None:
    response = make_client(client_as, who).get(reverse("dashboard"), headers=headers)

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("login"))


def test_refresh_answers_with_the_kpi_grid_only(client_as: Callable[..., Client]) -> None:
    client = client_as(Role.WAREHOUSE)

    page = client.get(reverse("dashboard")).content.decode()
    fragment = client.get(reverse("dashboard"), headers=HX).content.decode()

    assert 'hx-get="/dashboard/"' in page and 'hx-target="#kpis"' in page
    assert "<html" in page and '<div id="kpis"' in page
    assert fragment.lstrip().startswith('<div id="kpis"')
    assert "<html" not in fragment and "Refresh" not in fragment


def test_the_dashboard_is_in_every_roles_navigation(client_as: Callable[..., Client]) -> None:
    for role in Role:
        page = client_as(role).get(reverse("home")).content.decode()
        assert 'href="/dashboard/"' in page


def test_an_empty_shop_says_what_to_do(client_as: Callable[..., Client]) -> None:
    page = client_as(Role.PURCHASING).get(reverse("dashboard")).content.decode()

    assert "No order line is waiting for units" in page
    assert "No order line had its first shipment in these 90 days" in page
    assert "No line with a promised date shipped in these 90 days" in page
    assert "No promise broke in the range" in page
    assert "No expected date moved later in the range" in page
    assert "No purchase order line is fully received yet" in page
    assert "Nothing issued in these 90 days" in page
    assert "<svg" not in page


# --- the page: fixed queries, readable charts --------------------------------------


def page_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    return len(queries)


def test_the_page_runs_the_same_queries_for_10_or_300_lines(
    client_as: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    build_lines(10)
    small = page_queries(client)
    build_lines(290)
    assert OrderLine.objects.count() == 300

    with django_assert_max_num_queries(small):
        response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    assert small <= 12  # session, user, roles and nine aggregate queries


def test_charts_have_titles_labels_and_values(client_as: Callable[..., Client], shop) -> None:
    # given: waiting lines in two age buckets, a slip and a received line
    waiting_line(placed=days_ago(1), ordered=3)
    waiting_line(placed=days_ago(20), ordered=2)
    po = shop.purchase(shop.product(), 2, days=10)
    updates.purchase_order_move_expected_date(
        purchase_order=po,
        new_date=timezone.localdate() + dt.timedelta(days=14),
        reason="late",
        by=shop.clerk,
    )
    purchase_order_receive(purchase_order=po, quantities={po.lines.get().pk: 2}, by=shop.clerk)

    page = client_as(Role.WAREHOUSE).get(reverse("dashboard")).content.decode()

    # then: every chart names itself and prints its labels and values as text
    assert page.count("<svg") == 3
    assert '<title id="age-chart-title">Waiting lines by age</title>' in page
    assert '<title id="slips-chart-title">' in page and '<title id="on-time-chart-title">' in page
    for label in ("0–7 d", "8–14 d", "15–30 d", "31–60 d", "&gt; 60 d"):
        assert f">{label}</text>" in page
    values = re.findall(r'<text class="chart-value"[^>]*>([^<]+)</text>', page)
    assert values[:5] == ["1", "0", "1", "0", "0"]
    assert "<title>0–7 d: 1 lines, 3 units waiting</title>" in page
    assert f">{shop.supplier.name}</text>" in page and ">100%</text>" in page


def test_chart_coordinates_stay_numbers_in_dutch(client_as: Callable[..., Client]) -> None:
    waiting_line(placed=days_ago(1), ordered=3)
    waiting_line(placed=days_ago(2), ordered=1)
    waiting_line(placed=days_ago(9), ordered=1)

    page = (
        client_as(Role.WAREHOUSE)
        .get(reverse("dashboard"), headers={"Accept-Language": "nl"})
        .content.decode()
    )

    coordinates = re.findall(r' (?:x|y|width|height)="([^"]+)"', page)
    assert coordinates and all(re.fullmatch(r"-?\d+(\.\d+)?", c) for c in coordinates)


# --- the date range, the links to the lines counted, a fixed query count (issue 16) ----


def shipped_line(
    *,
    days_ago_shipped: int,
    first_promise: dt.date | None,
    latest: dt.date | None = None,
    ships: tuple[int, ...] = (1,),
    number: str = "",
) -> OrderLine:
    """A line with a promise (or none) shipped in `ships` parts, the last
    `days_ago_shipped` days ago (earlier parts a day apart before it)."""
    order = SalesOrderFactory.create(**({"number": number} if number else {}))
    line = OrderLineFactory.create(
        order=order,
        ordered=sum(ships),
        shipped=sum(ships),
        first_promised_date=first_promise,
        promised_date=latest or first_promise,
    )
    for index, quantity in enumerate(ships):
        when = days_ago(days_ago_shipped + len(ships) - 1 - index)
        shipment = Shipment.objects.create(order=order, tracking_number="T", shipped_at=when)
        ShipmentLine.objects.create(shipment=shipment, order_line=line, quantity=quantity)
    return line


def orders_listed(client: Client, link: str) -> set[str]:
    page = client.get(html.unescape(link)).content.decode()
    return set(re.findall(r'href="/orders/(SO-[\w-]+)/"', page))


def test_each_figure_links_to_the_orders_of_the_lines_it_counts(
    client_as: Callable[..., Client],
) -> None:
    today = timezone.localdate()
    client = client_as(Role.PURCHASING)
    # given: kept, late by the first date but kept by the latest, late by both, in two parts
    shipped_line(days_ago_shipped=2, first_promise=today, number="SO-KEPT")
    shipped_line(
        days_ago_shipped=1,
        first_promise=today - dt.timedelta(days=5),
        latest=today,
        number="SO-LATE1",
    )
    shipped_line(
        days_ago_shipped=1,
        first_promise=today - dt.timedelta(days=5),
        ships=(1, 1),
        number="SO-LATE2",
    )
    shipped_line(days_ago_shipped=20, first_promise=None, number="SO-OLD")  # outside 7 days

    page = client.get(reverse("dashboard"), {"period": "7"}).content.decode()

    def link(data_kpi: str) -> str:
        found = re.search(rf'<a href="([^"]+)"[^>]*data-kpi="{data_kpi}"', page)
        assert found, data_kpi
        return found[1]

    first = (today - dt.timedelta(days=6)).isoformat()
    assert f"shipped_from={first}&amp;shipped_to={today.isoformat()}" in link("promised-shipped")
    assert orders_listed(client, link("promised-shipped")) == {"SO-KEPT", "SO-LATE1", "SO-LATE2"}
    assert orders_listed(client, link("late-first")) == {"SO-LATE1", "SO-LATE2"}
    assert orders_listed(client, link("late-latest")) == {"SO-LATE2"}
    assert orders_listed(client, link("fill-shipped")) == {"SO-KEPT", "SO-LATE1", "SO-LATE2"}
    assert orders_listed(client, link("fill-split")) == {"SO-LATE2"}
    assert orders_listed(client, link("fill-complete")) == {"SO-KEPT", "SO-LATE1"}
    # the figures beside the links
    assert re.search(r'data-kpi="late-first">2</a>', page)
    assert re.search(r'data-kpi="fill-split">1</a>', page)
    # why: neither moved past its first date nor was ready in time: overdue without notice
    reason = re.search(r'data-reason="overdue_untold"><a href="([^"]+)">2</a>', page)
    assert reason, page
    assert orders_listed(client, reason[1]) == {"SO-LATE1", "SO-LATE2"}
    assert "lines shipped complete in their first shipment ÷ lines shipped" in page


@pytest.mark.parametrize(
    ("query", "days"),
    [
        ({"period": "7"}, 7),
        ({"period": "30"}, 30),
        ({}, 90),
        ({"period": "custom", "from": "2026-01-01", "to": "2026-01-31"}, 31),
        ({"from": "2026-02-01", "to": "2026-02-01"}, 1),  # dates alone: a custom range
    ],
)
def test_the_range_chosen_is_the_range_shown(
    client_as: Callable[..., Client], query: dict[str, str], days: int
) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC), tick=False):
        response = client_as(Role.WAREHOUSE).get(reverse("dashboard"), query)

    page = response.content.decode()
    assert response.status_code == 200
    assert f"({days} days)" in page
    assert 'role="alert"' not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "custom", "from": "2026-03-10", "to": "2026-03-01"}, "ends before it starts"),
        ({"period": "custom", "from": "2025-01-01", "to": "2026-03-01"}, "a year (366 days)"),
        (
            {"period": "custom", "from": "2026-06-01", "to": "2026-07-01"},
            "cannot end in the future",
        ),
        ({"period": "custom", "from": "2026-06-01"}, "Enter both dates"),
        ({"from": "yesterday", "to": "2026-06-01"}, "Enter a valid date"),
        ({"period": "365"}, "Select a valid choice"),
        ({"from": "99999-01-01", "to": "2026-06-01"}, "Enter a valid date"),
    ],
)
def test_a_bad_range_says_why_and_shows_the_last_90_days(
    client_as: Callable[..., Client], query: dict[str, str], message: str
) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC), tick=False):
        response = client_as(Role.WAREHOUSE).get(reverse("dashboard"), query)

    page = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert 'role="alert"' in page and message in page
    assert "Showing the last 90 days instead." in page
    assert "from 18 Mar 2026 to 15 Jun 2026 (90 days)" in page


def test_the_page_runs_the_same_queries_for_a_week_or_a_year(
    client_as: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    today = timezone.localdate()
    for days in range(0, 360, 9):
        shipped_line(days_ago_shipped=days, first_promise=today - dt.timedelta(days=days + 1))
    week = page_queries(client)

    for query in (
        {"period": "90"},
        {"from": (today - dt.timedelta(days=365)).isoformat(), "to": today.isoformat()},
    ):
        with django_assert_max_num_queries(week):
            response = client.get(reverse("dashboard"), query)
        assert response.status_code == 200
    assert week <= 13  # session, user, roles; seven KPI queries; accuracy 2, fill rate 1


def test_the_orders_list_filters_by_shipment_and_broken_promise(
    client_as: Callable[..., Client],
) -> None:
    today = timezone.localdate()
    client = client_as(Role.CUSTOMER_SERVICE)
    shipped_line(days_ago_shipped=3, first_promise=today, number="SO-RECENT")
    shipped_line(days_ago_shipped=40, first_promise=today - dt.timedelta(days=45), number="SO-OLD")
    recent = (today - dt.timedelta(days=10)).isoformat()

    assert orders_listed(client, f"/orders/?shipped_from={recent}") == {"SO-RECENT"}
    assert orders_listed(client, f"/orders/?shipped_to={recent}") == {"SO-OLD"}
    assert orders_listed(client, "/orders/?shipped=late_first") == {"SO-OLD"}
    assert orders_listed(client, "/orders/?broke=overdue_untold") == {"SO-OLD"}
    assert orders_listed(client, f"/orders/?broke=overdue_untold&shipped_from={recent}") == set()
    bad = client.get("/orders/", {"shipped": "nonsense", "shipped_from": "31-02-2026"})
    assert bad.status_code == 200
    assert "Select a valid choice" in bad.content.decode()


def test_promises_by_supplier_link_to_the_lines_resting_on_its_purchase_orders(
    client_as: Callable[..., Client], shop
) -> None:
    # given: one line promised from a purchase order, one from an estimate (no PO)
    start = timezone.now() - dt.timedelta(days=20)
    covered, estimated = shop.product(), shop.product()
    with time_machine.travel(start, tick=False):
        po = shop.purchase(covered, 1, days=3)
        on_po = shop.order(covered, 1)
        on_estimate = shop.order(estimated, 1)
    with time_machine.travel(start + dt.timedelta(days=4), tick=False):
        updates.purchase_order_receive(
            purchase_order=po, quantities={po.lines.get().pk: 1}, by=shop.clerk
        )
        shop.receive(estimated, 1)
        for order in (on_po, on_estimate):
            updates.shipment_create(order=order, tracking_number=f"T-{order.pk}", by=shop.clerk)
    client = client_as(Role.PURCHASING)

    page = client.get(reverse("dashboard")).content.decode()

    links = dict(re.findall(r'<a href="([^"]+)" data-supplier="(\w+)">1</a>', page))
    by_supplier = {supplier: href for href, supplier in links.items()}
    assert set(by_supplier) == {str(shop.supplier.pk), "none"}
    assert orders_listed(client, by_supplier[str(shop.supplier.pk)]) == {on_po.number}
    assert orders_listed(client, by_supplier["none"]) == {on_estimate.number}
    assert client.get("/orders/", {"rested_on": "12abc"}).status_code == 200
