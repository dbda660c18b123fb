"""Customers' links in staff hands (issue 18, #2): every staff view of an email
shows the signed links inert, and the link page refuses a signed-in staff member.

A purchasing user once copied the cancel link from /outbox/<id>/ and cancelled a
customer's backorder "as the customer". The stored message stays as sent.
"""

from __future__ import annotations

import html as html_lib
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications.models import Notification
from notifications.services.rendering import customer_links_inert
from orders.links import customer_link_token
from orders.models import CustomerChoice
from tests.conftest import Shop
from tests.notifications.test_updates import place

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]

HX = {"HX-Request": "true"}
STAFF_NOTICE = (
    "You are signed in as staff: this link is the customer&#x27;s; ask them to use it, "
    "or act from the order page."
)


@pytest.fixture
def confirmation(shop: Shop) -> Notification:
    """The backorder confirmation, with the customer's keep-waiting and cancel links."""
    place(shop, shop.product(name="Hammock"), 2)
    return Notification.objects.get(kind="backorder_confirmed")


def tokens(message: Notification) -> list[str]:
    """The tokens of the message's links (the part that acts as the customer)."""
    return [
        urlsplit(message.context[key]).path.split("/")[2]
        for key in ("cancel_url", "keep_waiting_url")
    ]


def assert_inert(page: str, message: Notification) -> None:
    text = html_lib.unescape(html_lib.unescape(page))  # the HTML body is escaped into srcdoc
    for token in tokens(message):
        assert token not in text
    assert reverse("customer-link", args=["x"]).removesuffix("x/") not in text
    assert "[customer's cancel link]" in text
    assert "[customer's keep-waiting link]" in text


# --- the outbox's message page and its fragment --------------------------------------


@pytest.mark.parametrize("role", [Role.PURCHASING, Role.CUSTOMER_SERVICE])
@pytest.mark.parametrize("headers", [{}, HX], ids=["page", "fragment"])
def test_the_message_page_shows_the_customers_links_inert(
    client_as: Callable[..., Client], confirmation: Notification, role: Role, headers: dict
) -> None:
    response = client_as(role).get(
        reverse("outbox-message", args=[confirmation.pk]), headers=headers
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert_inert(page, confirmation)
    assert "shown inert: only the customer may use them" in html_lib.unescape(page)
    # the message itself is what the customer got, links and all
    confirmation.refresh_from_db()
    assert confirmation.context["cancel_url"] in confirmation.body_text
    assert confirmation.context["cancel_url"] in confirmation.body_html


def test_a_superuser_sees_them_inert_in_the_admin_too(
    client_as: Callable[..., Client], confirmation: Notification
) -> None:
    response = client_as(superuser=True).get(
        reverse("admin:notifications_notification_change", args=[confirmation.pk])
    )

    assert response.status_code == 200
    assert_inert(response.content.decode(), confirmation)


def test_a_message_without_links_is_shown_as_it_is(
    client_as: Callable[..., Client], shop: Shop
) -> None:
    message = Notification.objects.create(
        customer=shop.customer(),
        kind="shipped",
        language="en",
        to_email="a@example.com",
        subject="Shipped",
        body_text="See https://example.com/c/catalogue/ for more.\n",
        body_html='<p><a href="https://example.com/track/1">Track it</a></p>',
        dedup_key="test:no-links",
    )

    page = client_as(Role.CUSTOMER_SERVICE).get(reverse("outbox-message", args=[message.pk]))

    text = html_lib.unescape(html_lib.unescape(page.content.decode()))
    assert "https://example.com/c/catalogue/" in text
    assert '<a href="https://example.com/track/1">Track it</a>' in text
    assert "shown inert" not in text


def test_links_are_made_inert_whatever_site_url_they_were_sent_from(shop: Shop) -> None:
    order = shop.order(shop.product(), 1)
    cancel = customer_link_token(order=order, action="cancel")
    other = "https://old-desk.example.com/shop" + reverse("customer-link", args=[cancel])
    unsigned = "http://127.0.0.1:8000" + reverse("customer-link", args=["a:b:c"])
    text = f"Cancel: {other}\nOr: {unsigned}\n"
    html = f'<p><a style="x" href="{other}" >Cancel the items</a> or {unsigned}</p>'

    assert customer_links_inert(text) == (
        "Cancel: [customer's cancel link]\nOr: [customer's link]\n"
    )
    assert customer_links_inert(html, html=True) == (
        '<p><a style="x"  title="[customer&#x27;s cancel link]">Cancel the items '
        "<span>[customer&#x27;s cancel link]</span></a> or [customer&#x27;s link]</p>"
    )


# --- the customer link page with a staff session -----------------------------------


def link_path(message: Notification, key: str) -> str:
    return urlsplit(message.context[key]).path


@pytest.mark.parametrize("role", [Role.PURCHASING, Role.CUSTOMER_SERVICE, None])
def test_a_signed_in_staff_member_cannot_use_a_customers_link(
    client_as: Callable[..., Client], confirmation: Notification, role: Role | None, unchanged
) -> None:
    client = client_as(role) if role else client_as(superuser=True)
    order = confirmation.order
    assert order is not None

    with unchanged():
        for key in ("cancel_url", "keep_waiting_url"):
            posted = client.post(link_path(confirmation, key))
            assert posted.status_code == 403
            assert STAFF_NOTICE in posted.content.decode()
            assert "are cancelled" not in posted.content.decode()

    assert not CustomerChoice.objects.exists()
    assert order.lines.get().cancelled == 0
    assert not Notification.objects.filter(kind="cancelled").exists()


def test_a_staff_member_opening_a_link_sees_the_notice_and_no_button(
    client_as: Callable[..., Client], confirmation: Notification, unchanged
) -> None:
    with unchanged():
        page = client_as(Role.PURCHASING).get(link_path(confirmation, "cancel_url"))

    section = page.content.decode().split('class="card narrow customer-link">')[1]
    section = section.split("</section>")[0]
    assert page.status_code == 200
    assert STAFF_NOTICE in section
    assert "Cancel the waiting items" not in section and "<form" not in section
    assert confirmation.order is not None
    assert f'href="{reverse("order", args=[confirmation.order.number])}"' in section


def test_a_staff_post_with_a_broken_link_is_refused_too(
    client_as: Callable[..., Client], unchanged
) -> None:
    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(reverse("customer-link", args=["x"]))

    assert response.status_code == 403
    assert STAFF_NOTICE in response.content.decode()


def test_the_customer_still_uses_the_link(confirmation: Notification) -> None:
    response = Client().post(link_path(confirmation, "cancel_url"))

    assert response.status_code == 200
    assert b"are cancelled" in response.content
