"""Customer links: valid, tampered, expired, replayed."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core import signing
from django.test import override_settings

from orders.links import LinkError, customer_link_read, customer_link_token
from orders.models import CustomerChoice, OrderLine
from orders.services.choices import order_customer_choose

pytestmark = pytest.mark.django_db


def test_keep_waiting_is_recorded_once(shop) -> None:
    order = shop.order(shop.product(), 2)
    link = customer_link_read(customer_link_token(order=order, action="keep_waiting"))
    result = order_customer_choose(link=link)
    assert result.choice == "keep_waiting" and result.cancellations == []
    assert CustomerChoice.objects.get().order == order
    with pytest.raises(LinkError, match="already been used"):
        order_customer_choose(link=link)
    assert CustomerChoice.objects.count() == 1


def test_cancel_link_cancels_only_the_backordered_units(shop, unchanged) -> None:
    product = shop.product(price=Decimal("10.00"))
    shop.receive(product, 1)
    order = shop.order(product, 3)
    waiting = shop.order(product, 1).lines.get()
    link = customer_link_read(customer_link_token(order=order, action="cancel"))
    result = order_customer_choose(link=link)
    line = order.lines.get()
    assert (line.cancelled, line.allocated, line.backordered) == (2, 1, 0)
    assert result.refund_due == Decimal("20.00")
    waiting.refresh_from_db()
    assert waiting.allocated == 0  # the allocated unit stays with the order that had it
    # replayed: refused, nothing changes
    with unchanged(), pytest.raises(LinkError, match="already been used"):
        order_customer_choose(link=link)


def test_cancel_link_for_an_order_with_nothing_waiting_changes_nothing(shop, unchanged) -> None:
    product = shop.product()
    shop.receive(product, 2)
    order = shop.order(product, 2)
    link = customer_link_read(customer_link_token(order=order, action="cancel"))
    with unchanged(), pytest.raises(LinkError, match="is waiting any more"):
        order_customer_choose(link=link)
    assert not CustomerChoice.objects.exists()


def test_tampered_link_is_refused(shop) -> None:
    order = shop.order(shop.product(), 1)
    token = customer_link_token(order=order, action="cancel")
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    with pytest.raises(LinkError, match="not valid"):
        customer_link_read(tampered)
    forged = signing.dumps({"o": order.pk, "a": "cancel", "i": "x"}, salt="another-salt")
    with pytest.raises(LinkError, match="not valid"):
        customer_link_read(forged)


def test_expired_link_is_refused(shop, monkeypatch) -> None:
    order = shop.order(shop.product(), 1)
    token = customer_link_token(order=order, action="cancel")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + dt.timedelta(days=31).total_seconds())
    with pytest.raises(LinkError, match="expired"):
        customer_link_read(token)
    with override_settings(CUSTOMER_LINK_MAX_AGE_DAYS=60):
        assert customer_link_read(token).order_id == order.pk
    assert OrderLine.objects.get().cancelled == 0
