"""What the cancellation, substitution and backorder emails say about money,
per payment state, in en/id/nl: a refund of what was really taken (paid or
partially refunded), "not charged" when nothing was taken (authorized, unpaid,
or already refunded in full)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from notifications import updates
from notifications.models import Notification, NotificationKind
from orders.models import PaymentStatus
from orders.services.intake import LineRequest
from tests.conftest import Shop
from tests.notifications.test_payment_truth import CONFIRM_PAID, NOT_CHARGED, REFUND

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "nl", "id"]


def cancelled_email(shop: Shop, *, language: str, **payment: object) -> Notification:
    order = updates.order_place(
        customer=shop.customer(language=language),
        warehouse=shop.warehouse,
        lines=[LineRequest(shop.product(price=Decimal("25.00")), 2)],  # none in stock
        by=shop.clerk,
        **payment,
    )
    updates.order_backorders_cancel(order=order, reason="Changed my mind", by=None)
    return Notification.objects.get(order=order, kind=NotificationKind.CANCELLED)


@pytest.mark.parametrize("language", LANGUAGES)
def test_partially_refunded_refunds_what_is_still_held(shop: Shop, language: str) -> None:
    email = cancelled_email(
        shop,
        language=language,
        payment_status=PaymentStatus.PARTIALLY_REFUNDED,
        amount_paid=Decimal("50.00"),
        amount_refunded=Decimal("20.00"),
    )
    for body in (email.body_text, email.body_html):
        assert REFUND[language] in body and re.search(r"30[.,]00", body)
        assert NOT_CHARGED[language] not in body


ALREADY_REFUNDED = {
    "en": "has already been refunded",
    "nl": "is al teruggestort",
    "id": "sudah dikembalikan",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_refunded_in_full_promises_nothing_more(shop: Shop, language: str) -> None:
    email = cancelled_email(
        shop,
        language=language,
        payment_status=PaymentStatus.REFUNDED,
        amount_paid=Decimal("50.00"),
        amount_refunded=Decimal("50.00"),
    )
    for body in (email.body_text, email.body_html):
        assert ALREADY_REFUNDED[language] in body
        assert NOT_CHARGED[language] not in body and REFUND[language] not in body


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_refund_is_in_the_orders_currency(shop: Shop, language: str) -> None:
    email = cancelled_email(
        shop, language=language, payment_status=PaymentStatus.PAID, currency="USD"
    )
    assert "USD" in email.body_text and "EUR" not in email.body_text


@pytest.mark.parametrize("language", LANGUAGES)
def test_partially_refunded_confirmation_says_already_paid(shop: Shop, language: str) -> None:
    order = updates.order_place(
        customer=shop.customer(language=language),
        warehouse=shop.warehouse,
        lines=[LineRequest(shop.product(price=Decimal("25.00")), 2)],
        by=shop.clerk,
        payment_status=PaymentStatus.PARTIALLY_REFUNDED,
        amount_paid=Decimal("50.00"),
        amount_refunded=Decimal("10.00"),
    )
    email = Notification.objects.get(order=order, kind=NotificationKind.BACKORDER_CONFIRMED)
    assert CONFIRM_PAID[language] in email.body_text


SUBSTITUTE_REFUND = {
    "en": "We will refund",
    "nl": "We betalen",
    "id": "Kami akan mengembalikan dana",
}
SUBSTITUTE_COVERED = {
    "en": "covers the alternative",
    "nl": "dekt het alternatief",
    "id": "sudah mencakup barang pengganti",
}
SUBSTITUTE_NOT_CHARGED = {
    "en": "You will not be charged for the item it replaces.",
    "nl": "Het vervangen artikel wordt u niet in rekening gebracht.",
    "id": "Anda tidak akan dikenai biaya untuk barang yang digantikan.",
}


def substituted_email(
    shop: Shop, *, language: str, payment_status: str, alternative_price: str
) -> Notification:
    original = shop.product(price=Decimal("40.00"))
    alternative = shop.product(price=Decimal(alternative_price))
    original.alternatives.add(alternative)
    shop.receive(alternative, 5)
    order = updates.order_place(
        customer=shop.customer(language=language),
        warehouse=shop.warehouse,
        lines=[LineRequest(original, 2)],
        by=shop.clerk,
        payment_status=payment_status,
    )
    _substitution, email = updates.order_line_substitute(
        line=order.lines.get(), product=alternative, by=shop.clerk
    )
    assert email is not None
    return email


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("payment_status", "alternative_price", "says"),
    [
        (PaymentStatus.PAID, "30.00", SUBSTITUTE_REFUND),  # 80.00 paid, 60.00 sent: 20.00 back
        (PaymentStatus.PAID, "40.00", SUBSTITUTE_COVERED),
        (PaymentStatus.AUTHORIZED, "30.00", SUBSTITUTE_NOT_CHARGED),
        (PaymentStatus.UNPAID, "30.00", SUBSTITUTE_NOT_CHARGED),
    ],
    ids=["paid-cheaper", "paid-same", "authorized", "unpaid"],
)
def test_the_substitution_email_speaks_of_money_as_it_is(
    shop: Shop, language: str, payment_status: str, alternative_price: str, says: dict[str, str]
) -> None:
    email = substituted_email(
        shop, language=language, payment_status=payment_status, alternative_price=alternative_price
    )
    others = [
        wording[language]
        for wording in (SUBSTITUTE_REFUND, SUBSTITUTE_COVERED, SUBSTITUTE_NOT_CHARGED)
        if wording is not says
    ]
    for body in (email.body_text, email.body_html):
        assert says[language] in body
        assert not any(other in body for other in others)
    if says is SUBSTITUTE_REFUND:
        assert re.search(r"20[.,]00", email.body_text)
