"""Accounts: login lockouts behind a reverse proxy, and the password reset throttle."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from config.proxies import client_address

PROXY = "10.0.0.2"  # the reverse proxy: every request's connection comes from it
ATTACKER = "203.0.113.66"
ALICE = "198.51.100.7"


def _address(*, remote: str, forwarded: str | None = None) -> str:
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers))


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_trusted_proxies_the_connection_is_the_client() -> None:
    assert _address(remote=PROXY, forwarded=ATTACKER) == PROXY
    assert _address(remote=PROXY, forwarded=ALICE) == PROXY
    assert _address(remote=ALICE) == ALICE


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_client_is_the_address_it_appended() -> None:
    assert _address(remote=PROXY, forwarded=ALICE) == ALICE
    # what the client wrote itself stands left of what the proxy appended
    assert _address(remote=PROXY, forwarded=f"{ALICE}, {ATTACKER}") == ATTACKER
    assert _address(remote=PROXY, forwarded="2001:db8::1") == "2001:db8::1"
    # not through the proxy, or a header that is no address: the connection
    assert _address(remote=ALICE) == ALICE
    assert _address(remote=PROXY, forwarded="not-an-address") == PROXY


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_the_client_is_second_from_the_right() -> None:
    assert _address(remote=PROXY, forwarded=f"1.2.3.4, {ALICE}, 10.0.0.9") == ALICE
    assert _address(remote=PROXY, forwarded="10.0.0.9") == PROXY


def _login(*, forwarded: str, username: str, password: str) -> int:
    client = Client(REMOTE_ADDR=PROXY, headers={"X-Forwarded-For": forwarded})
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code


def _attacker_locks_alice_out(alice: User) -> None:
    for _ in range(9):
        assert _login(forwarded=ATTACKER, username=alice.username, password="guess") == 200
    # the tenth failure locks the pair (username, address) for 15 minutes
    assert _login(forwarded=ATTACKER, username=alice.username, password="guess") == 429


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_trusted_proxies_everyone_behind_the_proxy_shares_one_lockout(
    make_user: Callable[..., User],
) -> None:
    # given the app behind a proxy it was not told about
    alice = make_user()
    # when an attacker fails ten times as alice
    _attacker_locks_alice_out(alice)
    # then alice, behind the same proxy, is locked out too: one address for both
    assert _login(forwarded=ALICE, username=alice.username, password="secret-pass-123") == 429


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_a_trusted_proxy_one_clients_lockout_leaves_the_other(
    make_user: Callable[..., User],
) -> None:
    alice = make_user()
    _attacker_locks_alice_out(alice)
    # the attacker stays locked out, whatever it writes into the header itself
    forged = f"{ALICE}, {ATTACKER}"
    assert _login(forwarded=forged, username=alice.username, password="secret-pass-123") == 429
    # alice, from her own address through the same proxy, logs in
    assert _login(forwarded=ALICE, username=alice.username, password="secret-pass-123") == 302
