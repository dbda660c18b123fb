"""Money owed back: due only for what the shop really took, written with the
cancellation, marked refunded once (reference, who, when), announced to the
storefront as refund.due / refund.recorded."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from notifications import updates
from notifications.models import WebhookDelivery, WebhookEventType, WebhookSubscription
from orders.models import Cancellation, PaymentStatus, RefundDue, SalesOrder
from orders.services.cancelling import order_backorders_cancel, order_cancel, order_line_cancel
from orders.services.intake import LineRequest, order_place
from orders.services.refunds import AlreadyRefunded, refund_due_mark_refunded
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def paid_order(
    shop: Shop, *, in_stock: int = 1, quantity: int = 3, **payment: object
) -> SalesOrder:
    product = shop.product(price=Decimal("25.00"))
    if in_stock:
        shop.receive(product, in_stock)
    return order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, quantity)],
        by=shop.clerk,
        **{"payment_status": PaymentStatus.PAID, **payment},  # type: ignore[arg-type]
    )


def test_a_paid_order_takes_its_total_when_the_shop_does_not_say(shop: Shop) -> None:
    order = paid_order(shop)
    assert (order.amount_paid, order.amount_refunded, order.currency) == (
        Decimal("75.00"),
        Decimal("0.00"),
        "EUR",
    )


def test_cancelling_paid_units_owes_their_price(shop: Shop) -> None:
    order = paid_order(shop)
    cancellations = order_backorders_cancel(order=order, reason="Changed my mind", by=shop.clerk)
    refund = RefundDue.objects.get(order=order)
    assert (refund.amount, refund.currency, refund.reason) == (
        Decimal("50.00"),
        "EUR",
        "Changed my mind",
    )
    line = order.lines.get()
    assert refund.units == [{"line_id": line.pk, "sku": line.product.sku, "quantity": 2}]
    assert cancellations[0].refund_due == Decimal("50.00")
    assert not refund.is_refunded


@pytest.mark.parametrize("status", [PaymentStatus.UNPAID, PaymentStatus.AUTHORIZED])
def test_nothing_is_owed_when_nothing_was_taken(shop: Shop, status: str) -> None:
    order = paid_order(shop, payment_status=status)
    [cancellation] = order_backorders_cancel(order=order, reason="Too slow", by=shop.clerk)
    assert cancellation.refund_due == 0
    assert not RefundDue.objects.exists()


def test_money_taken_for_what_stays_is_not_owed_back(shop: Shop) -> None:
    # the shop charged only the unit it had (25.00 of 75.00): the two waiting were never charged
    order = paid_order(shop, amount_paid=Decimal("25.00"))
    [cancellation] = order_backorders_cancel(order=order, reason="Too slow", by=shop.clerk)
    assert Cancellation.objects.get(pk=cancellation.pk).refund_due == 0
    assert not RefundDue.objects.exists()


def test_a_second_cancellation_owes_only_what_is_still_held(shop: Shop) -> None:
    order = paid_order(shop, in_stock=0, quantity=4, amount_paid=Decimal("80.00"))
    line = order.lines.get()
    order_line_cancel(line=line, quantity=2, reason="first", by=shop.clerk)
    order_line_cancel(line=line, quantity=2, reason="second", by=shop.clerk)
    # 80.00 held for 100.00 of units: what is held pays for the units that stay
    # first, so the first 2 units get back only 80 − 50 = 30.00, the last 2 the 50.00 left
    assert list(RefundDue.objects.order_by("pk").values_list("amount", flat=True)) == [
        Decimal("30.00"),
        Decimal("50.00"),
    ]


def test_what_the_shop_refunded_is_not_owed_again(shop: Shop) -> None:
    order = paid_order(
        shop,
        in_stock=0,
        payment_status=PaymentStatus.PARTIALLY_REFUNDED,
        amount_paid=Decimal("75.00"),
        amount_refunded=Decimal("75.00"),
    )
    order_cancel(order=order, reason="Refunded in the shop already", by=shop.clerk)
    assert not RefundDue.objects.exists()


def test_marking_refunded_records_who_when_and_counts_it_on_the_order(shop: Shop) -> None:
    order = paid_order(shop)
    order_backorders_cancel(order=order, reason="Changed my mind", by=shop.clerk)
    refund = RefundDue.objects.get()
    marked = refund_due_mark_refunded(refund_id=refund.pk, reference=" re_123 ", by=shop.clerk)
    assert (marked.reference, marked.refunded_by, marked.is_refunded) == (
        "re_123",
        shop.clerk,
        True,
    )
    order.refresh_from_db()
    assert (order.amount_refunded, order.payment_status) == (
        Decimal("50.00"),
        PaymentStatus.PARTIALLY_REFUNDED,
    )


def test_marking_twice_is_refused_and_changes_nothing(shop: Shop) -> None:
    order = paid_order(shop)
    order_backorders_cancel(order=order, reason="Changed my mind", by=shop.clerk)
    refund = RefundDue.objects.get()
    refund_due_mark_refunded(refund_id=refund.pk, reference="re_1", by=shop.clerk)
    with pytest.raises(AlreadyRefunded, match="already marked refunded"):
        refund_due_mark_refunded(refund_id=refund.pk, reference="re_2", by=None)
    refund.refresh_from_db()
    order.refresh_from_db()
    assert (refund.reference, refund.refunded_by, order.amount_refunded) == (
        "re_1",
        shop.clerk,
        Decimal("50.00"),
    )


@pytest.mark.parametrize("reference", ["", "   ", "x" * 101])
def test_a_reference_is_required_and_bounded(shop: Shop, reference: str) -> None:
    order = paid_order(shop)
    order_backorders_cancel(order=order, reason="Changed my mind", by=shop.clerk)
    refund = RefundDue.objects.get()
    with pytest.raises(ValidationError) as error:
        refund_due_mark_refunded(refund_id=refund.pk, reference=reference, by=shop.clerk)
    assert "reference" in error.value.message_dict
    refund.refresh_from_db()
    assert not refund.is_refunded


def test_the_database_refuses_impossible_money(shop: Shop) -> None:
    order = paid_order(shop)
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesOrder.objects.filter(pk=order.pk).update(amount_refunded=Decimal("100.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        SalesOrder.objects.filter(pk=order.pk).update(currency="eur")
    with pytest.raises(IntegrityError), transaction.atomic():
        RefundDue.objects.create(
            order=order, amount=Decimal("1.00"), currency="EUR", reason="x", reference="re"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RefundDue.objects.create(order=order, amount=Decimal("0.00"), currency="EUR", reason="x")


def test_the_storefront_hears_refund_due_then_refund_recorded(shop: Shop) -> None:
    order = paid_order(shop)
    WebhookSubscription.objects.create(
        url="https://shop.example/hooks", secret="k", channel=order.channel
    )
    updates.order_backorders_cancel(order=order, reason="Changed my mind", by=None)
    refund = RefundDue.objects.get()
    due = WebhookDelivery.objects.get(event_type=WebhookEventType.REFUND_DUE)
    assert due.event_id == f"refund-due-{refund.pk}"
    assert due.payload["refund"]["amount"] == "50.00"
    assert due.payload["refund"]["currency"] == "EUR"
    assert due.payload["order"]["number"] == order.number
    updates.refund_mark_refunded(refund_id=refund.pk, reference="re_9", by=shop.clerk)
    recorded = WebhookDelivery.objects.get(event_type=WebhookEventType.REFUND_RECORDED)
    assert recorded.payload["refund"]["reference"] == "re_9"
    cancelled = WebhookDelivery.objects.get(event_type=WebhookEventType.CANCELLED)
    assert cancelled.payload["lines"][0]["refund_due"] == "50.00"


@pytest.mark.django_db(transaction=True)
def test_two_clerks_marking_at_once_record_one_refund(shop: Shop) -> None:
    order = paid_order(shop)
    order_backorders_cancel(order=order, reason="Changed my mind", by=shop.clerk)
    refund = RefundDue.objects.get()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def mark(reference: str) -> None:
        barrier.wait()
        try:
            refund_due_mark_refunded(refund_id=refund.pk, reference=reference, by=None)
            outcomes.append("marked")
        except AlreadyRefunded:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=mark, args=(f"re_{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already", "marked"]
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("50.00")


def test_the_admin_shows_refunds_and_the_orders_payment_read_only(
    shop: Shop, client_as: Any
) -> None:
    order = paid_order(shop)
    order_backorders_cancel(order=order, reason="Changed my mind", by=shop.clerk)
    admin = client_as(superuser=True)
    listing = admin.get("/admin/orders/refunddue/")
    assert listing.status_code == 200 and order.number in listing.content.decode()
    change = admin.get(f"/admin/orders/salesorder/{order.pk}/change/").content.decode()
    assert "75.00" in change and 'name="amount_paid"' not in change
