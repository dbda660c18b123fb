"""Accounts: login lockouts behind a reverse proxy, and the password reset throttle."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from django.urls import resolve, reverse

from desk import accounts
from desk.proxies import client_address

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


# Password reset


@pytest.fixture(autouse=True)
def empty_cache(settings) -> Iterator[None]:
    # The tests' in-process cache: throttle counts start at zero. Never a Redis
    # cache, where clear() would flush the Celery broker's database too.
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    cache.clear()
    yield
    cache.clear()


def _reset(email: str, *, remote: str = ALICE, forwarded: str | None = None) -> str:
    """Ask for a reset mail; the page the requester is sent to."""
    headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
    client = Client(REMOTE_ADDR=remote, headers=headers)
    response = client.post(reverse("password_reset"), {"email": email})
    assert response.status_code == 302
    return str(response["Location"])


def _account(make_user: Callable[..., User], email: str) -> User:
    user = make_user()
    user.email = email
    user.save()
    return user


def test_password_reset_is_routed_to_the_throttled_view() -> None:
    match = resolve(reverse("password_reset"))
    assert match.func.__module__ == "desk.accounts"
    assert Client().get(reverse("password_reset")).status_code == 200


@pytest.mark.django_db
def test_password_reset_sends_at_most_three_mails_an_hour_to_one_address(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    _account(make_user, "alice@example.com")
    done = reverse("password_reset_done")
    # five requests from five addresses, the address spelled as people do
    spellings = [
        "alice@example.com",
        "Alice@Example.com",
        " alice@example.com",
        "ALICE@EXAMPLE.COM",
    ]
    pages = [
        _reset(email, remote=f"192.0.2.{n}")
        for n, email in enumerate([*spellings, "alice@example.com"])
    ]
    # then all five see the same page, and three mails went out
    assert pages == [done] * 5
    assert len(mail.outbox) == 3
    assert {tuple(message.to) for message in mail.outbox} == {("alice@example.com",)}
    # an hour later the address may ask again
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + accounts.WINDOW_SECONDS + 1)
    assert _reset("alice@example.com", remote="192.0.2.99") == done
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_a_throttled_address_looks_like_one_without_an_account(
    make_user: Callable[..., User],
) -> None:
    _account(make_user, "alice@example.com")
    for _ in range(accounts.MAILS_PER_ADDRESS):
        _reset("alice@example.com")
    throttled = Client(REMOTE_ADDR=ALICE).post(
        reverse("password_reset"), {"email": "alice@example.com"}, follow=True
    )
    unknown = Client(REMOTE_ADDR=ALICE).post(
        reverse("password_reset"), {"email": "nobody@example.com"}, follow=True
    )
    assert throttled.redirect_chain == unknown.redirect_chain
    assert throttled.content == unknown.content
    assert len(mail.outbox) == accounts.MAILS_PER_ADDRESS


@pytest.mark.django_db
def test_password_reset_is_throttled_per_client_address(
    make_user: Callable[..., User],
) -> None:
    limit = accounts.RESETS_PER_CLIENT
    for n in range(limit + 2):
        _account(make_user, f"staff{n}@example.com")
    # one client asking for a different address each time
    for n in range(limit + 1):
        assert _reset(f"staff{n}@example.com", remote=ATTACKER) == reverse("password_reset_done")
    assert len(mail.outbox) == limit
    # another client is not held back by it
    _reset(f"staff{limit + 1}@example.com", remote=ALICE)
    assert len(mail.outbox) == limit + 1


@pytest.mark.django_db
@override_settings(TRUSTED_PROXY_COUNT=1)
def test_password_reset_throttle_tells_clients_behind_a_trusted_proxy_apart(
    make_user: Callable[..., User],
) -> None:
    limit = accounts.RESETS_PER_CLIENT
    for n in range(limit + 2):
        _account(make_user, f"staff{n}@example.com")
    for n in range(limit + 1):
        # what the attacker writes into the header itself does not make it someone else
        _reset(f"staff{n}@example.com", remote=PROXY, forwarded=f"192.0.2.{n}, {ATTACKER}")
    assert len(mail.outbox) == limit
    _reset(f"staff{limit + 1}@example.com", remote=PROXY, forwarded=ALICE)
    assert len(mail.outbox) == limit + 1


@pytest.mark.redis
@pytest.mark.django_db
def test_password_reset_throttle_counts_in_redis(make_user: Callable[..., User], settings) -> None:
    # given the cache production uses with REDIS_URL, under a prefix of this test alone
    redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": settings.REDIS_URL,
        "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }
    _account(make_user, "alice@example.com")
    with override_settings(CACHES={"default": redis_cache}):
        redis = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        try:
            for n in range(accounts.MAILS_PER_ADDRESS + 2):
                _reset("alice@example.com", remote=f"192.0.2.{n}")
            ttl = redis.ttl(cache.make_key("password-reset:client:192.0.2.0"))
        finally:
            keys = list(redis.scan_iter(match=f"{redis_cache['KEY_PREFIX']}:*"))
            if keys:
                redis.delete(*keys)
    # then the counts were kept in Redis, for the window, and the limit held
    assert len(keys) == 1 + accounts.MAILS_PER_ADDRESS + 2  # one address, five clients
    assert 0 < ttl <= accounts.WINDOW_SECONDS
    assert len(mail.outbox) == accounts.MAILS_PER_ADDRESS
