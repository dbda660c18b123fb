"""What the cancellation email says about money follows the order's payment
status as the shop reports it: paid → a refund; authorized or unpaid → not charged."""

from __future__ import annotations

import re

import pytest

from notifications import updates
from notifications.models import Notification, NotificationKind
from notifications.services.rendering import notification_render
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


CONFIRM_PAID = {
    "en": "You have already paid for these items",
    "nl": "U hebt deze artikelen al betaald",
    "id": "Anda sudah membayar barang-barang ini",
}
CONFIRM_NOT_CHARGED = {
    "en": "You will not be charged for these items until they ship.",
    "nl": "Deze artikelen worden pas in rekening gebracht wanneer ze worden verzonden.",
    "id": "Anda tidak akan dikenai biaya untuk barang-barang ini sampai barang dikirim.",
}


@pytest.mark.parametrize("language", ["en", "nl", "id"])
@pytest.mark.parametrize(
    ("payment_status", "paid"),
    [(PaymentStatus.PAID, True), (PaymentStatus.AUTHORIZED, False), (PaymentStatus.UNPAID, False)],
)
def test_the_backorder_confirmation_speaks_of_money_as_it_is(
    shop: Shop, language: str, payment_status: str, paid: bool
) -> None:
    order = updates.order_place(
        customer=shop.customer(language=language),
        warehouse=shop.warehouse,
        lines=[LineRequest(shop.product(), 1)],
        by=shop.clerk,
        payment_status=payment_status,
    )
    email = Notification.objects.get(order=order, kind=NotificationKind.BACKORDER_CONFIRMED)
    for body in (email.body_text, email.body_html):
        assert (CONFIRM_PAID[language] in body) is paid
        assert (CONFIRM_NOT_CHARGED[language] in body) is not paid


@pytest.mark.parametrize(
    ("money", "says"),
    [
        ({"charged": True, "partly_charged": True}, "You have already paid for these items"),
        ({"charged": False, "partly_charged": True}, "Your place in the queue is kept."),
        ({"charged": False, "partly_charged": False}, "you will not be charged for these items"),
    ],
    ids=["all-paid", "some-paid", "none-paid"],
)
def test_where_you_stand_speaks_of_money_for_every_order_it_names(
    shop: Shop, money: dict[str, bool], says: str
) -> None:
    customer = shop.customer()
    _subject, text, html = notification_render(
        kind=NotificationKind.PROMISE_UPDATE,
        customer=customer,
        order=None,
        context={"lines": [], "order_numbers": ["SO-1", "SO-2"], **money},
    )
    for body in (text, html):
        assert says in body
    if money["partly_charged"] and not money["charged"]:
        assert "charged" not in text and "paid" not in text.split("--")[0]
