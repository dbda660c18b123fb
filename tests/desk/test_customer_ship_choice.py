"""The customer's ship choice (issue 16): the backorder confirmation's signed
links "ship what is ready" and "wait for everything" set the order's ship
preference, which the shipping desk takes as its default."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications import updates
from notifications.models import Notification
from notifications.services.rendering import customer_links_inert
from orders.models import Language, SalesOrder, ShipPreference
from orders.services.intake import LineRequest
from tests.conftest import Shop
from tests.notifications.test_updates import place

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]


def link_path(kind: str) -> str:
    url = Notification.objects.get(kind="backorder_confirmed").context[kind]
    return url.split("127.0.0.1:8000", 1)[1]


@pytest.mark.parametrize(
    ("kind", "preference", "button", "done"),
    [
        ("wait_all_url", ShipPreference.HOLD, b"Wait for everything", b"everything together"),
        ("ship_ready_url", ShipPreference.SHIP_READY, b"Ship what is ready", b"what is ready"),
    ],
)
def test_the_customer_chooses_how_the_order_ships(
    shop: Shop, unchanged, kind: str, preference: str, button: bytes, done: bytes
) -> None:
    order = place(shop, shop.product(name="Hammock"), 2)
    path = link_path(kind)
    client = Client()

    with unchanged():  # a mail scanner opening the link changes nothing
        page = client.get(path)
    answer = client.post(path)

    assert page.status_code == 200 and button in page.content
    assert answer.status_code == 200 and done in answer.content
    assert SalesOrder.objects.get(pk=order.pk).ship_preference == preference
    with unchanged():
        assert client.post(path).status_code == 400  # once


def test_the_email_offers_the_choice_in_the_customers_language(shop: Shop) -> None:
    place(shop, shop.product(name="Hangmat"), 2, language=Language.DUTCH)

    message = Notification.objects.get(kind="backorder_confirmed")

    assert "Verstuur wat klaar is" in message.body_text and "Wacht op alles" in message.body_text
    assert message.context["ship_ready_url"] in message.body_html
    inert = customer_links_inert(message.body_text)
    assert "[customer's wait-for-everything link]" in inert
    assert message.context["wait_all_url"] not in inert


def test_the_link_page_speaks_the_customers_language(shop: Shop) -> None:
    place(shop, shop.product(), 1, language=Language.DUTCH)

    page = Client().get(link_path("wait_all_url")).content.decode()

    assert '<html lang="nl">' in page


def test_the_desk_defaults_to_the_customers_choice(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    lamp = shop.product(sku="LAMP-1")
    chair = shop.product(sku="CHAIR-1")
    shop.receive(lamp, 1)
    order = updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(lamp, 1), LineRequest(chair, 1)],
        by=shop.clerk,
    )
    Client().post(link_path("wait_all_url"))

    html = client_as(Role.WAREHOUSE).get(reverse("shipping")).content.decode()

    assert order.number in html and "held until complete" in html
    assert 'value="hold" checked' in html
