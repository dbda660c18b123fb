"""The slip story end to end: what customers are told when supply moves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from notifications import updates
from notifications.models import CompensationPolicy, DiscountCode, Notification
from notifications.services.outbox import notifications_sweep
from orders.models import Tier
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def place(shop: Shop, product, quantity: int, payment_status: str = "unpaid", **customer):
    return updates.order_place(
        customer=shop.customer(**customer),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, quantity)],
        by=shop.clerk,
        payment_status=payment_status,
    )


def flush_window() -> int:
    """Close every combine window now and let the sweep send what is due."""
    Notification.objects.filter(not_before__isnull=False).update(
        not_before=timezone.now() - dt.timedelta(seconds=1)
    )
    return notifications_sweep()


def mails_to(email: str) -> list[mail.EmailMessage]:
    return [message for message in mail.outbox if email in message.to]


@pytest.fixture
def slipping(shop: Shop):
    """Three customers waiting on one purchase order due in 6 days."""
    product = shop.product(name="Rattan lounge chair")
    po = shop.purchase(product, 10, days=6)
    orders = [place(shop, product, 2) for _ in range(3)]
    mail.outbox.clear()
    return po, orders


def test_placing_a_backorder_confirms_the_date_with_the_customers_links(shop) -> None:
    product = shop.product(name="Teak bench")
    shop.purchase(product, 5, days=6)
    order = place(shop, product, 2)
    message = Notification.objects.get(kind="backorder_confirmed")
    assert message.order == order
    assert "Teak bench" in message.body_text
    assert days(7).strftime("%-d %B %Y") in message.body_text
    assert "/c/" in message.context["cancel_url"] and "/c/" in message.context["keep_waiting_url"]
    assert [m.subject for m in mails_to(order.customer.email)] == [message.subject]


def test_a_two_day_slip_sends_each_customer_exactly_one_apology(shop, slipping) -> None:
    po, orders = slipping
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(8), reason="port delay", by=shop.clerk
    )
    assert flush_window() == 3
    for order in orders:
        received = mails_to(order.customer.email)
        assert len(received) == 1
        assert "SORRY-" not in received[0].body
        assert days(9).strftime("%-d %B %Y") in received[0].body
        assert days(7).strftime("%-d %B %Y") in received[0].body  # was
    assert set(
        Notification.objects.filter(kind="promise_later").values_list("status", flat=True)
    ) == {"sent"}
    assert not DiscountCode.objects.exists()


def test_a_ten_day_slip_sends_an_apology_with_a_discount(shop, slipping) -> None:
    po, orders = slipping
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(16), reason="factory fire", by=shop.clerk
    )
    flush_window()
    for order in orders:
        (received,) = mails_to(order.customer.email)
        code = DiscountCode.objects.get(order=order)
        assert code.code in received.body
        assert code.percent == CompensationPolicy.current().discount_percent
        assert code.issued_by is None  # the system, under the policy


def test_three_moves_within_the_window_make_one_email(shop, slipping) -> None:
    po, orders = slipping
    for new in (days(8), days(9), days(11)):
        updates.purchase_order_move_expected_date(
            purchase_order=po, new_date=new, reason="again", by=shop.clerk
        )
    assert Notification.objects.filter(kind__startswith="promise").count() == 3  # one per order
    assert mail.outbox == []  # nothing before the window closes
    flush_window()
    for order in orders:
        (received,) = mails_to(order.customer.email)
        assert days(12).strftime("%-d %B %Y") in received.body  # the latest date
        assert days(7).strftime("%-d %B %Y") in received.body  # what they were told


def test_a_date_that_moves_back_within_the_window_sends_nothing(shop, slipping) -> None:
    po, _orders = slipping
    original = po.expected_date
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(9), reason="late", by=shop.clerk
    )
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=original, reason="on time after all", by=shop.clerk
    )
    assert not Notification.objects.filter(kind__startswith="promise").exists()
    assert flush_window() == 0


def test_a_customer_who_opted_out_gets_no_apology(shop) -> None:
    product = shop.product()
    po = shop.purchase(product, 5, days=6)
    quiet = place(shop, product, 1, email_opt_out=True)
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(20), reason="late", by=shop.clerk
    )
    flush_window()
    assert not Notification.objects.filter(order=quiet, kind__startswith="promise").exists()
    assert not DiscountCode.objects.exists()


def test_an_order_with_a_discount_gets_no_second_one(shop, slipping) -> None:
    po, orders = slipping
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(16), reason="first slip", by=shop.clerk
    )
    flush_window()
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(30), reason="second slip", by=shop.clerk
    )
    flush_window()
    for order in orders:
        assert DiscountCode.objects.filter(order=order).count() == 1
        kinds = list(
            Notification.objects.filter(order=order, kind__startswith="promise")
            .order_by("pk")
            .values_list("kind", flat=True)
        )
        assert kinds == ["promise_later_discount", "promise_later"]


def test_a_vip_jumping_the_queue_slips_and_tells_the_others(shop) -> None:
    product = shop.product()
    shop.purchase(product, 2, days=5)
    waiting = place(shop, product, 2)
    mail.outbox.clear()
    place(shop, product, 2, tier=Tier.VIP)
    # pushed from the purchase order to an estimate 9 days later: apology and discount
    message = Notification.objects.get(order=waiting, kind__startswith="promise_later")
    assert message.kind == "promise_later_discount"


def test_good_news_when_a_date_moves_earlier_if_the_policy_says_so(shop, slipping) -> None:
    po, _orders = slipping
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(3), reason="early ship", by=shop.clerk
    )
    assert Notification.objects.filter(kind="promise_earlier").count() == 3
    policy = CompensationPolicy.current()
    policy.send_good_news = False
    policy.save()
    Notification.objects.all().delete()
    updates.purchase_order_move_expected_date(
        purchase_order=po, new_date=days(2), reason="earlier still", by=shop.clerk
    )
    assert not Notification.objects.exists()


def test_receiving_tells_customers_their_order_is_ready(shop, slipping) -> None:
    po, orders = slipping
    line = po.lines.get()
    updates.purchase_order_receive(purchase_order=po, quantities={line.pk: 4}, by=shop.clerk)
    ready = Notification.objects.filter(kind="ready_to_ship")
    assert sorted(ready.values_list("order_id", flat=True)) == sorted(o.pk for o in orders[:2])
    assert len(mails_to(orders[0].customer.email)) == 1
    assert mails_to(orders[2].customer.email) == []


def test_shipping_and_cancelling_send_their_confirmations(shop) -> None:
    product = shop.product()
    shop.receive(product, 1)
    order = place(shop, product, 3, payment_status="paid")
    updates.shipment_create(order=order, tracking_number="JNE-123", by=shop.clerk)
    shipped = Notification.objects.get(kind="shipped")
    assert "JNE-123" in shipped.body_text
    updates.order_cancel(order=order, reason="customer changed mind", by=shop.clerk)
    cancelled = Notification.objects.get(kind="cancelled")
    assert cancelled.context["refund_due"] == str(product.price * 2)


def test_the_overdue_sweep_tells_customers_once(shop) -> None:
    from django.core.management import call_command

    from notifications.tasks import sweep_overdue_purchase_orders

    product = shop.product()
    po = shop.purchase(product, 5, days=1)
    order = place(shop, product, 1)
    po.lines.update(expected_date=days(-3))
    assert sweep_overdue_purchase_orders.delay().get() == 1
    call_command("sweep_overdue")  # on demand, the same day: nothing more to move
    flush_window()
    apologies = Notification.objects.filter(order=order, kind__startswith="promise_later")
    assert apologies.count() == 1
