"""The staff shell: login, roles, navigation, security headers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from config.roles import Role

pytestmark = pytest.mark.django_db


def test_role_groups_exist_from_the_data_migration() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= {r.value for r in Role}


def test_anonymous_user_is_sent_to_login() -> None:
    response = Client().get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=/")


def test_login_page_renders_with_csp_and_no_inline_script() -> None:
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    body = response.content.decode()
    assert "<script>" not in body  # every script has a src
    assert "htmx-2.0.11.min.js" in body


def test_login_with_the_right_password_lands_on_the_desk(make_user) -> None:
    make_user(Role.WAREHOUSE, username="wendy")
    client = Client()
    response = client.post(
        reverse("login"), {"username": "wendy", "password": "secret-pass-123"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("home")
    assert b"Warehouse" in response.content


def test_wrong_password_shows_a_message_and_no_session(make_user) -> None:
    make_user(username="wendy")
    client = Client()
    response = client.post(reverse("login"), {"username": "wendy", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_ten_failures_lock_the_username_for_that_address(make_user) -> None:
    make_user(username="wendy")
    client = Client()
    for _ in range(10):
        client.post(reverse("login"), {"username": "wendy", "password": "wrong"})
    # given the lock, even the right password is refused
    response = client.post(reverse("login"), {"username": "wendy", "password": "secret-pass-123"})
    assert response.status_code == 429
    assert b"locked for 15 minutes" in response.content
    assert "_auth_user_id" not in client.session


def test_nine_failures_do_not_lock(make_user) -> None:
    make_user(username="wendy")
    client = Client()
    for _ in range(9):
        client.post(reverse("login"), {"username": "wendy", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "wendy", "password": "secret-pass-123"})
    assert response.status_code == 302


def test_logout_needs_post_and_ends_the_session(client_as) -> None:
    client = client_as(Role.WAREHOUSE)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_user_without_a_role_gets_403(make_user) -> None:
    client = Client()
    client.force_login(make_user())
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert b"not open to your role" in response.content


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_desk_and_role_name(client_as, role: Role) -> None:
    response = client_as(role).get(reverse("home"))
    assert response.status_code == 200
    assert f'data-role="{role.value}"'.encode() in response.content


def test_superuser_sees_the_admin_link(client_as) -> None:
    response = client_as(superuser=True).get(reverse("home"))
    assert reverse("admin:index").encode() in response.content


def test_csrf_token_is_sent_in_hx_headers_on_body(client_as) -> None:
    response = client_as(Role.PURCHASING).get(reverse("home"))
    assert b'hx-headers=\'{"X-CSRFToken": "' in response.content
