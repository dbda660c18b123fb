"""Swapping a line's backordered remainder to an alternative product
(orders.services.order_line_substitute), and the email that tells the customer
(notifications.updates.order_line_substitute)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from inventory.models import BackorderPolicy, Product, StockMove, StockMoveKind
from notifications import updates
from notifications.models import Notification, NotificationKind
from orders.checks import stock_problems
from orders.models import Cancellation, OrderLine, PromiseRevision, Status
from orders.services.intake import LineRequest
from orders.services.substitutes import order_line_substitute
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def line_of(order) -> OrderLine:
    return order.lines.get()


def swap_pair(shop: Shop, *, in_stock: int = 5, **alternative: object) -> tuple[Product, Product]:
    """A product out of stock (on a purchase order) and an alternative with `in_stock` units."""
    original = shop.product(name="Rattan chair, natural", price=Decimal("40.00"))
    substitute = shop.product(name="Rattan chair, black", price=Decimal("42.00"), **alternative)
    original.alternatives.add(substitute)
    shop.purchase(original, 20, days=30)
    if in_stock:
        shop.receive(substitute, in_stock)
    return original, substitute


def test_substitute_cancels_the_remainder_and_adds_an_allocated_line(shop: Shop) -> None:
    original, substitute = swap_pair(shop)
    line = line_of(shop.order(original, 3))
    # when
    result = order_line_substitute(line=line, product=substitute, by=shop.clerk)
    # then the old line's remainder is cancelled, with the refund and the reason
    line.refresh_from_db()
    assert (line.cancelled, line.backordered, line.status) == (3, 0, Status.CANCELLED)
    cancellation = Cancellation.objects.get(order_line=line)
    assert cancellation == result.cancellation
    assert cancellation.reason == f"Substituted with {substitute.sku}"
    # an unpaid order: nothing was taken, so nothing is due back
    assert cancellation.refund_due == Decimal("0.00")
    assert cancellation.cancelled_by == shop.clerk
    # and a new line on the same order takes the alternative from stock
    new = OrderLine.objects.get(substitute_for=line)
    assert new == result.line
    assert (new.order_id, new.product, new.ordered, new.allocated) == (
        line.order_id,
        substitute,
        3,
        3,
    )
    assert new.unit_price == Decimal("42.00")
    assert new.status == Status.READY_TO_SHIP
    assert list(line.substitutes.all()) == [new]
    level = shop.level(substitute)
    assert (level.on_hand, level.allocated) == (5, 3)
    move = StockMove.objects.filter(product=substitute, kind=StockMoveKind.ALLOCATION).get()
    assert (move.quantity, move.reference, move.created_by) == (3, new.reference, shop.clerk)
    assert new.history.first().history_user == shop.clerk
    assert stock_problems() == []


def test_what_stock_does_not_cover_waits_with_a_promise(shop: Shop) -> None:
    original, substitute = swap_pair(shop, in_stock=1)
    line = line_of(shop.order(original, 3))
    result = order_line_substitute(line=line, product=substitute, by=shop.clerk)
    new = result.line
    assert (new.allocated, new.backordered) == (1, 2)
    assert (result.allocated, result.backordered) == (1, 2)
    # the rest waits in the alternative's queue with a first promise (an estimate:
    # no purchase order covers it)
    assert new.promised_date is not None and new.promise_is_estimate
    assert new.first_promised_date == new.promised_date and new.times_slipped == 0
    assert PromiseRevision.objects.filter(line=new).count() == 1
    assert stock_problems() == []


def test_units_already_allocated_stay_on_the_old_line(shop: Shop) -> None:
    original, substitute = swap_pair(shop)
    shop.receive(original, 1)
    line = line_of(shop.order(original, 3))
    assert (line.allocated, line.backordered) == (1, 2)
    result = order_line_substitute(line=line, product=substitute, by=shop.clerk)
    line.refresh_from_db()
    assert (line.allocated, line.cancelled, line.status) == (1, 2, Status.READY_TO_SHIP)
    assert result.line.ordered == 2
    assert stock_problems() == []


def test_the_old_queue_moves_up_for_the_next_customer(shop: Shop) -> None:
    original, substitute = swap_pair(shop)
    po = shop.purchase(original, 2, days=5)  # the first two units come sooner
    first = line_of(shop.order(original, 2))
    second = line_of(shop.order(original, 2))
    second.refresh_from_db()
    later_date = second.promised_date
    order_line_substitute(line=first, product=substitute, by=shop.clerk)
    second.refresh_from_db()
    assert second.promised_date is not None and later_date is not None
    assert second.promised_date < later_date
    latest = PromiseRevision.objects.filter(line=second).first()
    assert latest is not None and latest.covered_by == po.number


@pytest.mark.parametrize(
    ("alternative", "message"),
    [
        ({"active": False}, "no longer sold"),
        ({"backorder_policy": BackorderPolicy.DENY}, "not sold on backorder"),
        (
            {"backorder_policy": BackorderPolicy.CAP, "backorder_cap": 1},
            r"1 more may be backordered \(cap 1\)",
        ),
    ],
)
def test_an_alternative_that_cannot_take_the_units_is_refused(
    shop: Shop, unchanged, alternative: dict[str, object], message: str
) -> None:
    original, substitute = swap_pair(shop, in_stock=0, **alternative)
    line = line_of(shop.order(original, 2))
    with unchanged(), pytest.raises(ValidationError, match=message) as error:
        order_line_substitute(line=line, product=substitute, by=shop.clerk)
    assert "product" in error.value.message_dict


def test_only_the_products_alternatives_are_accepted(shop: Shop, unchanged) -> None:
    original, _substitute = swap_pair(shop)
    stranger = shop.product()
    line = line_of(shop.order(original, 2))
    with unchanged(), pytest.raises(ValidationError, match="is not an alternative of"):
        order_line_substitute(line=line, product=stranger, by=shop.clerk)
    with unchanged(), pytest.raises(ValidationError, match="is not an alternative of"):
        order_line_substitute(line=line, product=original, by=shop.clerk)


def test_alternatives_are_one_way(shop: Shop, unchanged) -> None:
    original, substitute = swap_pair(shop)
    shop.purchase(substitute, 5)
    line = line_of(shop.order(substitute, 7))  # 5 in stock, 2 wait
    with unchanged(), pytest.raises(ValidationError, match="is not an alternative of"):
        order_line_substitute(line=line, product=original, by=shop.clerk)


def test_a_second_substitute_of_the_same_line_changes_nothing(shop: Shop, unchanged) -> None:
    original, substitute = swap_pair(shop)
    line = line_of(shop.order(original, 2))
    order_line_substitute(line=line, product=substitute, by=shop.clerk)
    with unchanged(), pytest.raises(ValidationError, match="Nothing on this line is waiting"):
        order_line_substitute(line=line, product=substitute, by=shop.clerk)
    assert OrderLine.objects.filter(substitute_for=line).count() == 1


# --- the customer-facing wrapper: one email -----------------------------------------


def test_the_customer_gets_one_email_naming_both_products(shop: Shop) -> None:
    original, substitute = swap_pair(shop, in_stock=1)
    order = updates.order_place(
        customer=shop.customer(name="Ayu Lestari"),
        warehouse=shop.warehouse,
        lines=[LineRequest(original, 3)],
        by=shop.clerk,
    )
    before = set(Notification.objects.values_list("pk", flat=True))
    substitution, notification = updates.order_line_substitute(
        line=line_of(order), product=substitute, by=shop.clerk
    )
    written = Notification.objects.exclude(pk__in=before)
    assert list(written) == [notification]
    assert notification is not None
    assert notification.kind == NotificationKind.SUBSTITUTED
    assert notification.order == order
    assert "we replaced Rattan chair, natural" in notification.subject
    assert "Rattan chair, black" in notification.body_text
    assert "Instead of Rattan chair, natural" in notification.body_text
    assert "ships by" in notification.body_text  # 2 of the 3 still wait
    assert notification.dedup_key == f"substituted:{substitution.line.pk}"


def test_an_opted_out_customer_is_still_told_of_the_swap(shop: Shop) -> None:
    # A swap changes what they will receive: like a cancellation, it is not an
    # optional update, so it reaches a customer who opted out of those.
    original, substitute = swap_pair(shop)
    order = shop.order(original, 2, customer=shop.customer(email_opt_out=True))
    substitution, notification = updates.order_line_substitute(
        line=line_of(order), product=substitute, by=shop.clerk
    )
    assert substitution.line.allocated == 2
    assert notification is not None
    assert notification.kind == NotificationKind.SUBSTITUTED
    assert notification.customer == order.customer
