"""Smoke: every demo role logs in through a real browser and sees its navigation."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED_NAV = {
    "warehouse": {"Desk"},
    "service": {"Desk"},
    "purchasing": {"Desk"},
    "admin": {"Desk", "Admin"},
}


@pytest.mark.parametrize("username", ["warehouse", "service", "purchasing", "admin"])
def test_demo_user_logs_in_and_sees_their_navigation(live_server, page, screenshot, username):
    call_command("load_demo", "--users-only")
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.inner_text("[data-testid=current-user]") == username
    labels = set(page.locator(".mainnav a").all_inner_texts())
    assert EXPECTED_NAV[username] <= labels
    if username != "admin":
        assert "Admin" not in labels
    assert os.path.exists(screenshot(f"smoke-desk-{username}"))
