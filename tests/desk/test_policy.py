"""The compensation policy page: roles, the fragment, saving, refusals, queries."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications.models import CompensationPolicy
from tests.desk.test_outbox import HX, VIEWERS, assert_login_redirect, make_client

pytestmark = pytest.mark.django_db

# --- role matrix ---------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), VIEWERS)
def test_policy_page_and_fragment_roles(
    client_as: Callable[..., Client], who: str, expected: int
) -> None:
    client = make_client(client_as, who)

    for headers in ({}, HX):
        response = client.get(reverse("policy"), headers=headers)
        if who == "anonymous":
            assert_login_redirect(response)
        else:
            assert response.status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("warehouse", 403),
        ("customer_service", 403),
        ("purchasing", 302),
        ("superuser", 302),
    ],
)
def test_policy_post_roles(client_as: Callable[..., Client], who: str, expected: int) -> None:
    before = CompensationPolicy.current()
    client = make_client(client_as, who)

    response = client.post(reverse("policy"), policy_data(discount_percent="12.5"))

    if who == "anonymous":
        assert_login_redirect(response)
    else:
        assert response.status_code == expected
    after = CompensationPolicy.objects.get()
    if expected == 302 and who != "anonymous":
        assert after.discount_percent == Decimal("12.5")
    else:
        assert after.discount_percent == before.discount_percent


# --- policy ----------------------------------------------------------------------


def policy_data(**changes: str) -> dict[str, str]:
    data = {
        "apology_after_days": "1",
        "discount_after_days": "7",
        "discount_after_slips": "3",
        "discount_percent": "10",
        "one_discount_per_order": "on",
        "combine_window_minutes": "30",
        "send_good_news": "on",
        "discount_valid_days": "60",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def policy_values() -> dict[str, Any]:
    return dict(CompensationPolicy.objects.values().get())


def test_policy_page_for_customer_service_is_read_only(client_as: Callable[..., Client]) -> None:
    CompensationPolicy.current()

    html = client_as(Role.CUSTOMER_SERVICE).get(reverse("policy")).content.decode()

    assert 'name="discount_percent"' in html
    assert html.count(" disabled") >= 8
    assert "Save policy" not in html
    assert "purchasing changes it" in html


def test_policy_page_for_purchasing_is_editable(client_as: Callable[..., Client]) -> None:
    html = client_as(Role.PURCHASING).get(reverse("policy")).content.decode()

    assert "Save policy" in html
    assert " disabled" not in html
    assert 'hx-post="/policy/"' in html
    assert "apology email" in html  # help texts


def test_policy_save_by_purchasing_changes_the_row_and_records_the_user(
    client_as: Callable[..., Client], make_user: Callable[..., Any]
) -> None:
    # given
    CompensationPolicy.current()
    manager = make_user(Role.PURCHASING, username="buyer")
    client = Client()
    client.force_login(manager)
    data = policy_data(discount_percent="12.5", combine_window_minutes="45", send_good_news="")

    # when
    response = client.post(reverse("policy"), data, follow=True)

    # then
    assert response.redirect_chain == [(reverse("policy"), 302)]
    assert "The compensation policy is saved." in response.content.decode()
    policy = CompensationPolicy.objects.get()
    assert policy.discount_percent == Decimal("12.5")
    assert policy.combine_window_minutes == 45
    assert policy.send_good_news is False
    latest = policy.history.latest()
    assert latest.history_user == manager


def test_policy_htmx_save_returns_the_fragment_and_event(
    client_as: Callable[..., Client],
) -> None:
    CompensationPolicy.current()
    client = client_as(Role.PURCHASING)

    response = client.post(reverse("policy"), policy_data(discount_valid_days="90"), headers=HX)

    assert response.status_code == 200
    assert "policySaved" in response["HX-Trigger"]
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section class="card policy-card" id="policy-form"')
    assert "The compensation policy is saved." in html
    assert CompensationPolicy.objects.get().discount_valid_days == 90


def test_policy_second_identical_post_is_harmless(client_as: Callable[..., Client]) -> None:
    CompensationPolicy.current()
    client = client_as(Role.PURCHASING)
    data = policy_data(discount_percent="15")

    first = client.post(reverse("policy"), data, headers=HX)
    history_after_first = CompensationPolicy.history.count()
    values_after_first = policy_values()
    second = client.post(reverse("policy"), data, headers=HX)

    assert first.status_code == second.status_code == 200
    assert "policySaved" in second["HX-Trigger"]
    assert "Nothing changed" in second.content.decode()
    assert policy_values() == values_after_first
    assert CompensationPolicy.history.count() == history_after_first


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("discount_percent", "150", "Enter a percentage above 0 and at most 100."),
        ("discount_percent", "0", "Enter a percentage above 0 and at most 100."),
        ("discount_percent", "ten", "Enter a number"),
        ("apology_after_days", "-2", "Enter a number of days from 0 to 365."),
        ("discount_after_days", "-1", "Enter a number of days from 1 to 365."),
        ("discount_valid_days", "-5", "Enter a number of days from 1 to 3650."),
        ("combine_window_minutes", "1441", "from 0 to 1440"),
        ("combine_window_minutes", "abc", "Enter a whole number."),
        ("discount_after_slips", "", "This field is required."),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "htmx"])
def test_policy_invalid_input_shows_the_message_and_changes_nothing(
    client_as: Callable[..., Client],
    field: str,
    value: str,
    message: str,
    headers: dict[str, str],
) -> None:
    CompensationPolicy.current()
    before = policy_values()
    history_before = CompensationPolicy.history.count()
    data = policy_data()
    data[field] = value

    response = client_as(Role.PURCHASING).post(reverse("policy"), data, headers=headers)

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert message in html
    assert "Nothing was saved" in html
    # the message sits beside its field
    field_html = html[html.index(f'name="{field}"') :]
    assert field_html.index(message) < field_html.index("</div>")
    assert policy_values() == before
    assert CompensationPolicy.history.count() == history_before


def test_policy_post_by_customer_service_is_forbidden_and_changes_nothing(
    client_as: Callable[..., Client],
) -> None:
    CompensationPolicy.current()
    before = policy_values()

    response = client_as(Role.CUSTOMER_SERVICE).post(
        reverse("policy"), policy_data(discount_percent="50"), headers=HX
    )

    assert response.status_code == 403
    assert policy_values() == before


def test_policy_query_count(
    client_as: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    client = client_as(Role.PURCHASING)
    client.get(reverse("policy"))

    with django_assert_max_num_queries(5):
        response = client.get(reverse("policy"))

    assert response.status_code == 200
