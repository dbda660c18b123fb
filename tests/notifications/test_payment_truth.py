"""What the cancellation email says about money follows the order's payment
status as the shop reports it: paid → a refund; authorized or unpaid → not charged."""

from __future__ import annotations

import re

import pytest

from notifications import updates
from notifications.models import Notification, NotificationKind
from orders.models import PaymentStatus
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

AMOUNT = re.compile(r"50[.,]00")  # 2 × 25.00, in the language's decimal mark
REFUND = {
    "en": "We will refund",
    "nl": "We betalen",
    "id": "Kami akan mengembalikan dana",
}
NOT_CHARGED = {
    "en": "You have not been charged for these items.",
    "nl": "Deze artikelen zijn u niet in rekening gebracht.",
    "id": "Anda tidak dikenai biaya untuk barang-barang ini.",
}


def cancelled_email(shop: Shop, *, payment_status: str, language: str) -> Notification:
    product = shop.product(price="25.00")  # none in stock: all on backorder
    order = updates.order_place(
        customer=shop.customer(language=language),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, 2)],
        by=shop.clerk,
        payment_status=payment_status,
    )
    updates.order_backorders_cancel(order=order, reason="Changed my mind", by=None)
    return Notification.objects.get(order=order, kind=NotificationKind.CANCELLED)


@pytest.mark.parametrize("language", ["en", "nl", "id"])
def test_a_paid_order_is_promised_its_refund(shop: Shop, language: str) -> None:
    email = cancelled_email(shop, payment_status=PaymentStatus.PAID, language=language)
    for body in (email.body_text, email.body_html):
        assert REFUND[language] in body and AMOUNT.search(body)
        assert NOT_CHARGED[language] not in body


@pytest.mark.parametrize("payment_status", [PaymentStatus.AUTHORIZED, PaymentStatus.UNPAID])
@pytest.mark.parametrize("language", ["en", "nl", "id"])
def test_an_unpaid_or_authorized_order_was_not_charged(
    shop: Shop, language: str, payment_status: str
) -> None:
    email = cancelled_email(shop, payment_status=payment_status, language=language)
    for body in (email.body_text, email.body_html):
        assert NOT_CHARGED[language] in body
        assert REFUND[language] not in body and not AMOUNT.search(body)
