from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from api.keys import api_key_authenticate, api_keys_revoke
from api.models import ApiKey, Scope
from tests.api.conftest import post_order

pytestmark = pytest.mark.django_db


def get_order(key: str | None, authorization: str | None = None):
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return Client().get("/api/v1/orders/SO-0000001", headers=headers)


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body


def test_a_missing_key_is_401_with_a_bearer_challenge() -> None:
    response = get_order(None)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer bd_nothere_xyz", "Bearer ", "Basic dXNlcjpwYXNz", "bd_", "Bearer bd_"],
)
def test_a_wrong_key_is_401(api_key, authorization: str) -> None:
    assert_problem(get_order(None, authorization), 401)


def test_a_key_with_a_changed_secret_is_401(api_key) -> None:
    tampered = api_key.key[:-2] + ("AA" if not api_key.key.endswith("AA") else "BB")
    assert_problem(get_order(tampered), 401)


def test_a_revoked_key_is_401(api_key) -> None:
    assert get_order(api_key.key).status_code == 404  # valid: no such order
    assert api_keys_revoke(api_keys=[api_key.api_key]) == 1
    assert_problem(get_order(api_key.key), 401)


def test_a_key_without_the_scope_is_403(new_key) -> None:
    reader = new_key(scopes=[Scope.AVAILABILITY_READ])
    body = assert_problem(get_order(reader.key), 403)
    assert "orders:read" in body["detail"]
    assert_problem(post_order(reader.key, {}), 403)


def test_only_a_hash_of_the_key_is_stored_and_use_is_recorded(api_key) -> None:
    row = ApiKey.objects.get()
    assert api_key.key not in (row.secret_hash, row.prefix)
    assert api_key.key.startswith(f"bd_{row.prefix}_")
    assert row.last_used_at is None
    assert api_key_authenticate(key=api_key.key) == row
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_api_key_create_prints_the_key_once_on_its_last_line() -> None:
    out = StringIO()
    call_command(
        "api_key_create",
        "--name",
        "Web shop",
        "--channel",
        "web",
        "--scopes",
        "orders:write,orders:read",
        stdout=out,
    )
    key = out.getvalue().strip().splitlines()[-1]
    row = api_key_authenticate(key=key)
    assert row is not None
    assert row.scope_set == {"orders:write", "orders:read"}
    assert row.channel == "web"


def test_api_key_create_refuses_an_unknown_scope() -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Unknown scopes"):
        call_command("api_key_create", "--name", "x", "--channel", "web", "--scopes", "orders:all")
    assert not ApiKey.objects.exists()
