"""Every URL in the project, walked: anonymous → login, each role → allowed or 403.

The table below is DESIGN.md's role table, URL by URL. A new URL that is not
in it fails `test_every_url_is_in_the_role_table`, so no page ships without a
decision about who may open it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from config.roles import Role

W, CS, P = Role.WAREHOUSE, Role.CUSTOMER_SERVICE, Role.PURCHASING
ALL = frozenset({W, CS, P})

# url name → (HTTP method the check uses, roles allowed). Superusers may do everything.
ROLE_TABLE: dict[str, tuple[str, frozenset[Role]]] = {
    "home": ("GET", ALL),
    "dashboard": ("GET", ALL),
    "queue": ("GET", ALL),
    "queue-export": ("GET", ALL),
    "receiving": ("GET", frozenset({W, P})),
    "purchase-order-receive": ("GET", frozenset({W})),
    "purchase-order-receive-submit": ("POST", frozenset({W})),
    "purchase-orders": ("GET", ALL),
    "purchase-order-new": ("GET", frozenset({P})),
    "purchase-order": ("GET", ALL),
    "purchase-order-move-preview": ("POST", frozenset({P})),
    "purchase-order-move": ("POST", frozenset({P})),
    "purchase-order-confirm": ("POST", frozenset({P})),
    "purchase-order-cancel-preview": ("GET", frozenset({P})),
    "purchase-order-cancel": ("POST", frozenset({P})),
    "shipping": ("GET", frozenset({W})),
    "order-ship": ("POST", frozenset({W})),
    "product": ("GET", ALL),
    "product-adjust": ("POST", frozenset({W})),
    "order": ("GET", ALL),
    "order-messages": ("GET", ALL),
    "order-line-cancel": ("POST", frozenset({CS})),
    "order-line-priority": ("POST", frozenset({CS, P})),
    "customer": ("GET", ALL),
    "customer-messages": ("GET", ALL),
    "outbox": ("GET", frozenset({CS, P})),
    "outbox-message": ("GET", frozenset({CS, P})),
    "outbox-message-resend": ("POST", frozenset({CS})),
    "policy": ("GET", frozenset({CS, P})),
    "delays": ("GET", frozenset({CS, P})),
    "delay-customer-note": ("POST", frozenset({CS})),
    "delay-discount": ("POST", frozenset({CS})),
    "delay-order-note": ("POST", frozenset({CS})),
    "delay-line-substitute": ("POST", frozenset({CS})),
    "delay-line-cancel": ("POST", frozenset({CS})),
    "queue-line-priority": ("POST", frozenset({CS, P})),
    "queue-line-cancel": ("POST", frozenset({CS})),
    "queue-jobs": ("POST", frozenset({CS, P})),
    "queue-job": ("GET", frozenset({CS, P})),
}

# Not staff pages: Django's own login/logout/password views, the admin (its own
# staff check), the customers' signed links (the link is the credential), and the
# storefront API (its own API keys and scopes: tests/api/test_keys.py).
PUBLIC_OR_ADMIN = {"customer-link"}
PUBLIC_PREFIXES = ("accounts/", "admin/", "api/")


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
    missing = [name for name in staff_url_names() if name not in ROLE_TABLE]
    assert missing == [], (
        f"add these URLs to ROLE_TABLE with the roles that may use them: {missing}"
    )


ARGUMENTS = {
    "number": "SO-0000001",
    "sku": "SKU-1",
    "id": 1,
    "customer_id": 1,
    "notification_id": 1,
    "line_id": 1,
    "job_id": 1,
    "token": "x",
}


def _url(name: str) -> str:
    """The URL with placeholder arguments: role checks run before any lookup,
    so a forbidden role gets 403 even for a record that does not exist."""
    pattern = dict(_named_patterns(get_resolver().url_patterns))[name]
    kwargs: dict[str, Any] = {key: ARGUMENTS[key] for key in pattern.pattern.converters}
    return reverse(name, kwargs=kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("name", staff_url_names())
def test_anonymous_is_sent_to_login(name: str) -> None:
    method, _roles = ROLE_TABLE.get(name, ("GET", ALL))
    response = getattr(Client(), method.lower())(_url(name))
    assert response.status_code == 302, name
    assert response["Location"].startswith(reverse("login")), name


@pytest.mark.django_db
@pytest.mark.parametrize("name", staff_url_names())
@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_table_says(client_as: Any, name: str, role: Role) -> None:
    method, allowed = ROLE_TABLE[name]
    response = getattr(client_as(role), method.lower())(_url(name))
    if role in allowed:
        # Allowed: the view runs (a placeholder record may be missing → 404,
        # an empty POST may be refused → 200/400 with a message, a redirect).
        assert response.status_code != 403, f"{role} should be allowed on {name}"
        assert response.status_code < 500, f"{name} answered {response.status_code}"
    else:
        assert response.status_code == 403, f"{role} should get 403 on {name}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", staff_url_names())
def test_a_user_without_a_role_gets_403(make_user: Any, name: str) -> None:
    method, _roles = ROLE_TABLE[name]
    client = Client()
    client.force_login(make_user())
    assert getattr(client, method.lower())(_url(name)).status_code == 403
