"""Payment truth from the shops' webhooks: Shopify's financial_status,
total_price, total_outstanding, currency and refund transactions, and
WooCommerce's status, date_paid, total, currency and refunds, become the
order's payment state and amounts; a cancellation then owes (and promises)
only what was really taken."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from api.models import InboundEvent, InboundStatus, ShopConnection
from notifications.models import Notification, NotificationKind
from orders.models import PaymentStatus, RefundDue, SalesOrder
from tests.api.conftest import order_body, post_order
from tests.api.test_hooks import deliver, fixture, shopify, shopify_order, woocommerce

__all__ = ["deliver", "shopify", "woocommerce"]  # the fixtures, shared with test_hooks

pytestmark = pytest.mark.django_db

REFUND = {
    "kind": "refund",
    "status": "success",
    "amount": "50.00",
    "currency": "EUR",
    "gateway": "bogus",
}


def money(order: SalesOrder) -> tuple[str, Decimal, Decimal, str]:
    return order.payment_status, order.amount_paid, order.amount_refunded, order.currency


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, (PaymentStatus.PAID, Decimal("388.00"), Decimal("0.00"), "EUR")),
        (
            {"financial_status": "authorized"},
            (PaymentStatus.AUTHORIZED, Decimal("0.00"), Decimal("0.00"), "EUR"),
        ),
        (
            {"financial_status": "pending", "currency": "IDR"},
            (PaymentStatus.UNPAID, Decimal("0.00"), Decimal("0.00"), "IDR"),
        ),
        (
            {"financial_status": "partially_paid", "total_outstanding": "199.00"},
            (PaymentStatus.PAID, Decimal("189.00"), Decimal("0.00"), "EUR"),
        ),
        (
            {
                "financial_status": "partially_refunded",
                "refunds": [{"id": 1, "transactions": [REFUND, {**REFUND, "status": "failure"}]}],
            },
            (PaymentStatus.PARTIALLY_REFUNDED, Decimal("388.00"), Decimal("50.00"), "EUR"),
        ),
        (
            {"financial_status": "refunded"},
            (PaymentStatus.REFUNDED, Decimal("388.00"), Decimal("388.00"), "EUR"),
        ),
    ],
)
def test_shopify_payment_is_mapped(
    shopify: ShopConnection, deliver: Any, changes: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    deliver(shopify, shopify_order(**changes))
    assert money(SalesOrder.objects.get()) == expected


def test_a_shopify_update_brings_the_payment_up_to_date(
    shopify: ShopConnection, deliver: Any
) -> None:
    deliver(shopify, shopify_order(financial_status="authorized"))
    deliver(
        shopify,
        shopify_order(financial_status="paid", updated_at="2026-12-01T09:00:00-05:00"),
        topic="orders/updated",
    )
    assert money(SalesOrder.objects.get()) == (
        PaymentStatus.PAID,
        Decimal("388.00"),
        Decimal("0.00"),
        "EUR",
    )
    assert "payment now paid" in InboundEvent.objects.order_by("-pk")[0].outcome


@pytest.mark.parametrize(
    "changes",
    [{"currency": "euro"}, {"total_price": "lots"}, {"total_price": "-5.00"}],
)
def test_an_unreadable_amount_or_currency_fails_the_event(
    shopify: ShopConnection, deliver: Any, changes: dict[str, Any]
) -> None:
    response = deliver(shopify, shopify_order(**changes))
    assert response.status_code == 200
    event = InboundEvent.objects.get()
    assert event.status == InboundStatus.FAILED and event.error
    assert not SalesOrder.objects.exists()


def cancel_in_shopify(deliver: Any, shopify: ShopConnection, **payment: Any) -> SalesOrder:
    deliver(shopify, shopify_order(**payment))
    deliver(
        shopify,
        shopify_order(
            **payment,
            cancelled_at="2026-12-01T09:00:00-05:00",
            cancel_reason="customer",
            updated_at="2026-12-01T09:00:00-05:00",
        ),
        topic="orders/cancelled",
    )
    return SalesOrder.objects.get()


def test_a_paid_shopify_order_cancelled_owes_what_was_taken_for_the_waiting_units(
    shopify: ShopConnection, deliver: Any
) -> None:
    order = cancel_in_shopify(deliver, shopify)
    # 388.00 taken; the lamp (199.00) stays: 189.00 of the chairs' 199.00 is owed back
    refund = RefundDue.objects.get(order=order)
    assert (refund.amount, refund.currency) == (Decimal("189.00"), "EUR")
    email = Notification.objects.get(order=order, kind=NotificationKind.CANCELLED)
    assert "We betalen EUR 189,00 terug" in email.body_text


def test_units_never_charged_are_not_promised_a_refund(
    shopify: ShopConnection, deliver: Any
) -> None:
    """The defect of issue 13: Shopify charged only what it could ship (the
    lamp, partially_paid); the chairs waiting on backorder were never charged.
    Their cancellation promised a refund of 199.00 all the same."""
    order = cancel_in_shopify(
        deliver, shopify, financial_status="partially_paid", total_outstanding="199.00"
    )
    email = Notification.objects.get(order=order, kind=NotificationKind.CANCELLED)
    assert "niet in rekening gebracht" in email.body_text  # Dutch: not charged
    assert "terug" not in email.body_text
    assert not RefundDue.objects.exists()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, (PaymentStatus.PAID, Decimal("408.00"), Decimal("0.00"), "EUR")),
        (
            {"status": "on-hold", "date_paid": None, "date_paid_gmt": None},
            (PaymentStatus.UNPAID, Decimal("0.00"), Decimal("0.00"), "EUR"),
        ),
        (
            {"refunds": [{"id": 726, "reason": "", "total": "-50.00"}]},
            (PaymentStatus.PARTIALLY_REFUNDED, Decimal("408.00"), Decimal("50.00"), "EUR"),
        ),
        (
            {"status": "refunded", "refunds": [{"id": 726, "reason": "", "total": "-408.00"}]},
            (PaymentStatus.REFUNDED, Decimal("408.00"), Decimal("408.00"), "EUR"),
        ),
        ({"currency": "USD"}, (PaymentStatus.PAID, Decimal("408.00"), Decimal("0.00"), "USD")),
    ],
)
def test_woocommerce_payment_is_mapped(
    woocommerce: ShopConnection, deliver: Any, changes: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    deliver(woocommerce, {**fixture("woocommerce/order_created.json"), **changes})
    assert money(SalesOrder.objects.get()) == expected


def test_the_api_takes_and_shows_the_payment(stocked: Any, api_key: Any) -> None:
    body = order_body(
        payment_status="partially_refunded",
        amount_paid="40.00",
        amount_refunded="10.00",
        currency="IDR",
    )
    response = post_order(api_key.key, body)
    assert response.status_code == 201, response.content
    shown = response.json()
    assert (
        shown["payment_status"],
        shown["amount_paid"],
        shown["amount_refunded"],
        shown["currency"],
    ) == ("partially_refunded", "40.00", "10.00", "IDR")


@pytest.mark.parametrize(
    "changes",
    [
        {"currency": "eur"},
        {"amount_paid": "-1"},
        {"amount_paid": "10.00", "amount_refunded": "20.00"},
        {"payment_status": "bartered"},
    ],
)
def test_the_api_refuses_impossible_payments_clearly(
    stocked: Any, api_key: Any, changes: dict[str, Any]
) -> None:
    response = post_order(api_key.key, order_body(**changes))
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not SalesOrder.objects.exists()


def test_a_refund_made_in_shopify_settles_the_refund_owed_here(
    shopify: ShopConnection, deliver: Any
) -> None:
    from notifications import updates
    from notifications.models import WebhookDelivery, WebhookEventType, WebhookSubscription

    deliver(shopify, shopify_order())
    order = SalesOrder.objects.get()
    WebhookSubscription.objects.create(url="https://shop.example/h", secret="k", channel="web")
    updates.order_backorders_cancel(order=order, reason="Too slow", by=None)
    refund = RefundDue.objects.get()
    assert refund.amount == Decimal("189.00")
    # customer service refunds it in the Shopify admin; Shopify sends the update
    deliver(
        shopify,
        shopify_order(
            financial_status="partially_refunded",
            refunds=[{"id": 1, "transactions": [{**REFUND, "amount": "189.00"}]}],
            updated_at="2026-12-01T09:00:00-05:00",
        ),
        topic="orders/updated",
    )
    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.is_refunded, refund.reference, refund.refunded_by) == (
        True,
        "Shopify refund",
        None,
    )
    # the money is counted once: the shop's figure
    assert (order.payment_status, order.amount_refunded) == (
        PaymentStatus.PARTIALLY_REFUNDED,
        Decimal("189.00"),
    )
    assert WebhookDelivery.objects.filter(event_type=WebhookEventType.REFUND_RECORDED).count() == 1
    # a replay of the same update settles nothing more
    deliver(
        shopify,
        shopify_order(
            financial_status="partially_refunded",
            refunds=[{"id": 1, "transactions": [{**REFUND, "amount": "189.00"}]}],
            updated_at="2026-12-01T09:00:00-05:00",
        ),
        topic="orders/updated",
    )
    assert WebhookDelivery.objects.filter(event_type=WebhookEventType.REFUND_RECORDED).count() == 1
