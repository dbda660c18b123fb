"""The customer link page /c/<token>/: confirm, then act once; a tampered link."""

from __future__ import annotations

import pytest
from django.test import Client

from notifications.models import Notification
from tests.notifications.test_updates import place

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]


def test_customer_cancel_link_confirms_then_cancels_once(shop, unchanged) -> None:
    product = shop.product(name="Hammock")
    order = place(shop, product, 2)
    url = Notification.objects.get(kind="backorder_confirmed").context["cancel_url"]
    path = url.split("127.0.0.1:8000", 1)[1]
    client = Client()
    # a mail scanner opening the link changes nothing
    with unchanged():
        page = client.get(path)
    assert page.status_code == 200
    assert b"Cancel the waiting items" in page.content
    done = client.post(path)
    assert done.status_code == 200
    assert b"are cancelled" in done.content
    assert order.lines.get().cancelled == 2
    assert Notification.objects.filter(kind="cancelled", order=order).count() == 1
    # replayed
    with unchanged():
        again = client.post(path)
    assert again.status_code == 400
    assert b"already been used" in again.content


def test_tampered_link_page_says_so_and_changes_nothing(shop, unchanged) -> None:
    place(shop, shop.product(), 1)
    url = Notification.objects.get(kind="backorder_confirmed").context["keep_waiting_url"]
    path = url.split("127.0.0.1:8000", 1)[1]
    with unchanged():
        response = Client().post(path.rstrip("/")[:-4] + "abcd/")
    assert response.status_code == 400
    assert b"not valid" in response.content
