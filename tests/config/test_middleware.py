"""Cache-Control: staff pages and customer link pages are never stored by a cache."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.cache import get_max_age

from config.roles import Role
from orders.links import customer_link_token
from tests.factories import OrderLineFactory

pytestmark = pytest.mark.django_db


def _directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}


@pytest.mark.parametrize(
    ("path", "htmx"),
    [
        ("/", False),
        ("/queue/", False),
        ("/queue/", True),  # a fragment is as private as its page
        ("/dashboard/", False),
        ("/outbox/", False),
        ("/admin/", False),
        ("/no-such-page/", False),  # a 404 too
    ],
)
def test_every_response_to_a_logged_in_user_is_private_no_store(
    client_as: Callable[..., Client], path: str, htmx: bool
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE, superuser=True)
    response = client.get(path, headers={"HX-Request": "true"} if htmx else {})
    assert {"private", "no-store"} <= _directives(response), (path, response.status_code)


def test_a_forbidden_page_is_private_no_store(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.WAREHOUSE).get("/outbox/")
    assert response.status_code == 403
    assert {"private", "no-store"} <= _directives(response)


def test_customer_link_pages_are_private_no_store() -> None:
    line = OrderLineFactory.create()
    token = customer_link_token(order=line.order, action="keep_waiting")
    url = reverse("customer-link", args=[token])
    # the page with the customer's order, and its refusal of a broken link
    for response in (Client().get(url), Client().get(reverse("customer-link", args=["x"]))):
        assert response.status_code in {200, 400}
        assert {"private", "no-store"} <= _directives(response)
        assert "public" not in _directives(response)


def test_anonymous_pages_and_static_files_keep_their_own_caching(
    client_as: Callable[..., Client],
) -> None:
    # anonymous: left as the view made it (the login page is never_cache by Django)
    for path in ("/", reverse("password_reset")):
        response = Client().get(path)
        assert response.status_code in {200, 302}
        assert "no-store" not in _directives(response), path
    # static files, even to a logged-in user: whitenoise answers before any view
    static = client_as(Role.WAREHOUSE).get("/static/css/app.css")
    assert static.status_code == 200
    assert "no-store" not in _directives(static)
    assert get_max_age(static) is not None
