"""The dashboard page: roles, the refresh fragment, a fixed query count, and
charts that can be read without colour. The KPIs themselves:
tests/notifications/test_dashboard.py."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications import updates
from orders.models import OrderLine
from orders.services.receiving import purchase_order_receive
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
