"""The shop's payment status on an order: recorded with history and the poll's stamp."""

from __future__ import annotations

import pytest

from orders.models import PaymentStatus, SalesOrder
from orders.services.payments import order_payment_status_set
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def test_a_new_status_is_saved_with_its_author_and_stamps_the_order(shop: Shop) -> None:
    order = shop.order(shop.product(), 1)
    before = SalesOrder.objects.get(pk=order.pk).updated_at
    assert order_payment_status_set(order=order, payment_status=PaymentStatus.PAID, by=shop.clerk)
    saved = SalesOrder.objects.get(pk=order.pk)
    assert saved.payment_status == PaymentStatus.PAID
    assert saved.updated_at > before
    latest = saved.history.first()
    assert latest is not None and latest.history_user == shop.clerk


def test_the_same_status_changes_nothing(shop: Shop) -> None:
    order = shop.order(shop.product(), 1)
    history = order.history.count()
    assert not order_payment_status_set(order=order, payment_status=PaymentStatus.UNPAID, by=None)
    assert order.history.count() == history


def test_an_unknown_status_is_refused(shop: Shop) -> None:
    order = shop.order(shop.product(), 1)
    with pytest.raises(ValueError, match="Unknown payment status"):
        order_payment_status_set(order=order, payment_status="bartered", by=None)
