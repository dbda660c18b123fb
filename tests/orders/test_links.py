"""Customer links: valid, tampered, expired, replayed, dated ahead, or not what the app signs."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.core import signing
from django.test import override_settings

from orders.links import (
    SALT,
    CustomerLink,
    LinkError,
    customer_link_read,
    customer_link_token,
)
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
    order = shop.order(product, 3, payment_status="paid")
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


def _signed(payload: object) -> str:
    """A token signed with the app's key and salt, as anyone holding the key could."""
    return signing.dumps(payload, salt=SALT, compress=True)


@pytest.mark.parametrize(
    "payload",
    [
        {"o": 1, "a": "refund_me_twice", "i": "A" * 16},  # unknown action
        {"o": 1, "a": ["cancel"], "i": "A" * 16},
        {"o": 0, "a": "cancel", "i": "A" * 16},  # not a positive id
        {"o": -5, "a": "cancel", "i": "A" * 16},
        {"o": 2**63, "a": "cancel", "i": "A" * 16},  # past a 64-bit signed integer
        {"o": 10**30, "a": "cancel", "i": "A" * 16},
        {"o": "1", "a": "cancel", "i": "A" * 16},  # ids are integers, not strings
        {"o": 1.0, "a": "cancel", "i": "A" * 16},
        {"o": True, "a": "cancel", "i": "A" * 16},
        {"o": 1, "a": "cancel", "i": "x"},  # link id of the wrong shape
        {"o": 1, "a": "cancel", "i": "A" * 17},
        {"o": 1, "a": "cancel", "i": "A" * 15 + "/"},
        {"o": 1, "a": "cancel", "i": "A" * 10_000},
        {"o": 1, "a": "cancel", "i": 1234567890123456},
        {"o": 1, "a": "cancel"},  # missing key
        {"o": 1, "a": "cancel", "i": "A" * 16, "extra": 1},
        [1, "cancel", "A" * 16],  # not an object
    ],
)
def test_signed_payload_that_the_app_never_makes_is_refused(payload: object) -> None:
    with pytest.raises(LinkError, match="not valid"):
        customer_link_read(_signed(payload))


def test_signed_payload_of_the_expected_shape_is_read() -> None:
    link = customer_link_read(
        _signed({"o": 2**63 - 1, "a": "keep_waiting", "i": "aZ09_-" + "b" * 10})
    )
    assert link == CustomerLink(
        order_id=2**63 - 1, action="keep_waiting", link_id="aZ09_-bbbbbbbbbb"
    )


def test_link_dated_in_the_future_is_refused(shop, monkeypatch) -> None:
    order = shop.order(shop.product(), 1)
    real_time = time.time
    # signed by a clock an hour ahead: max_age alone would accept it for 30 days and an hour
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)
    token = customer_link_token(order=order, action="cancel")
    monkeypatch.setattr(time, "time", real_time)
    with pytest.raises(LinkError, match="not valid"):
        customer_link_read(token)


def test_link_dated_within_the_clock_skew_is_read(shop, monkeypatch) -> None:
    order = shop.order(shop.product(), 1)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 60)
    token = customer_link_token(order=order, action="cancel")
    monkeypatch.setattr(time, "time", real_time)
    assert customer_link_read(token).order_id == order.pk
