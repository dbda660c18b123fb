"""Every URL in the project, walked: anonymous → login, each role → allowed or 403.

The expectations are `desk.access.ACCESS`, the one role table the views check
too (DESIGN.md's role table, URL by URL). A new URL that is not in it fails
`test_every_url_is_in_the_role_table`, and a view that does not check its own
entry fails `test_every_staff_view_checks_its_own_entry`, so no page ships
without a decision about who may use it, and the table cannot drift from the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.roles import Role
from desk.access import ACCESS

# Not staff pages: Django's own login/logout/password views, the admin (its own
# staff check), the customers' signed links (the link is the credential), and the
# storefront API (its own API keys and scopes: tests/api/test_keys.py), and the
# shop platforms' webhooks (signed deliveries: tests/api/test_hooks.py).
PUBLIC_OR_ADMIN = {"customer-link"}
PUBLIC_PREFIXES = ("accounts/", "admin/", "api/", "hooks/")


def _named_patterns(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith(PUBLIC_PREFIXES):
                continue
            yield from _named_patterns(pattern.url_patterns, route)
        elif pattern.name and pattern.name not in PUBLIC_OR_ADMIN:
            yield pattern.name, pattern


def staff_url_names() -> list[str]:
    return sorted({name for name, _pattern in _named_patterns(get_resolver().url_patterns)})


def test_every_url_is_in_the_role_table() -> None:
    missing = [name for name in staff_url_names() if name not in ACCESS]
    assert missing == [], (
        f"add these URLs to desk.access.ACCESS with the roles that may use them: {missing}"
    )
    stale = sorted(set(ACCESS) - set(staff_url_names()))
    assert stale == [], f"desk.access.ACCESS names URLs that do not exist: {stale}"


def test_every_staff_view_checks_its_own_entry() -> None:
    patterns = dict(_named_patterns(get_resolver().url_patterns))
    unchecked = {
        name: getattr(pattern.callback, "access_url_name", None)
        for name, pattern in patterns.items()
        if getattr(pattern.callback, "access_url_name", None) != name
    }
    assert unchecked == {}, (
        f"decorate these views with desk.roles.role_required_for(<their url name>): {unchecked}"
    )


ARGUMENTS = {
    "number": "SO-0000001",
    "sku": "SKU-1",
    "id": 1,
    "customer_id": 1,
    "supplier_id": 1,
    "notification_id": 1,
    "event_id": 1,
    "delivery_id": 1,
    "line_id": 1,
    "job_id": 1,
    "token": "x",
    "transfer_id": 1,
    "refund_id": 1,
}


def _url(name: str) -> str:
    """The URL with placeholder arguments: role checks run before any lookup,
    so a forbidden role gets 403 even for a record that does not exist."""
    pattern = dict(_named_patterns(get_resolver().url_patterns))[name]
    kwargs: dict[str, Any] = {key: ARGUMENTS[key] for key in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


def _checks() -> list[tuple[str, str]]:
    """(url name, method) for every method a URL's entry gives roles."""
    return [
        (name, method)
        for name in staff_url_names()
        for method, roles in (("GET", ACCESS[name].get), ("POST", ACCESS[name].post))
        if roles
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), _checks())
def test_anonymous_is_sent_to_login(name: str, method: str) -> None:
    response = getattr(Client(), method.lower())(_url(name))
    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("login")), name


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), _checks())
@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_table_says(
    client_as: Any, name: str, method: str, role: Role
) -> None:
    allowed = ACCESS[name].roles_for(method)
    response = getattr(client_as(role), method.lower())(_url(name))
    if role in allowed:
        # Allowed: the view runs (a placeholder record may be missing → 404,
        # an empty POST may be refused → 200/400 with a message, a redirect).
        assert response.status_code != 403, f"{role} should be allowed to {method} {name}"
        assert response.status_code < 500, f"{method} {name} answered {response.status_code}"
    else:
        assert response.status_code == 403, f"{role} should get 403 on {method} {name}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method"), _checks())
def test_a_user_without_a_role_gets_403(make_user: Any, name: str, method: str) -> None:
    client = Client()
    client.force_login(make_user())
    assert getattr(client, method.lower())(_url(name)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", staff_url_names())
def test_a_superuser_may_use_everything(client_as: Any, name: str) -> None:
    client = client_as(superuser=True)
    for method, roles in (("GET", ACCESS[name].get), ("POST", ACCESS[name].post)):
        if roles:
            response = getattr(client, method.lower())(_url(name))
            assert response.status_code != 403 and response.status_code < 500, (method, name)


def test_the_order_page_follows_designs_role_table() -> None:
    """DESIGN.md: purchasing views /orders/<number>/ (it sets priority on /queue/);
    customer service does everything there."""
    W, CS, P = Role.WAREHOUSE, Role.CUSTOMER_SERVICE, Role.PURCHASING
    assert ACCESS["order"].get == {W, CS, P}
    assert ACCESS["order-line-priority"].post == {CS}
    assert ACCESS["order-line-cancel"].post == {CS}
    assert ACCESS["queue-line-priority"].post == {CS, P}
