"""Placing an order promises its backordered lines without recomputing their
whole queues — at the end of a queue from the units waiting ahead, ahead of
others by walking only the lines behind that supply reaches — and the result is
always what a full recompute gives."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.models import StockMoveKind
from inventory.services import Move, stock_levels_lock, stock_moves_apply
from orders.models import OrderLine, PromiseRevision, Tier
from orders.promising import QueueEntry, Supply, promise_at_end, promise_queue
from orders.services import intake, purchasing
from orders.services.intake import LineRequest, order_place
from orders.services.priority import order_line_set_priority
from orders.services.promises import promises_refresh
from orders.services.recording import changes_recorded
from suppliers.services import PurchaseLineRequest

TODAY = dt.date(2030, 3, 1)


# --- the pure function --------------------------------------------------------

supplies = st.lists(
    st.builds(
        Supply,
        date=st.dates(TODAY - dt.timedelta(days=5), TODAY + dt.timedelta(days=60)),
        quantity=st.integers(0, 12),
        reference=st.sampled_from(["PO-1", "PO-2", "PO-3", "PO-4"]),
    ),
    max_size=5,
)


@given(
    available=st.integers(0, 10),
    supply=supplies,
    ahead=st.lists(st.integers(0, 6), max_size=15),
    quantity=st.integers(1, 8),
    handling=st.integers(0, 3),
    lead=st.integers(0, 40),
)
def test_the_promise_at_the_end_is_the_last_line_of_the_whole_walk(
    available: int,
    supply: list[Supply],
    ahead: list[int],
    quantity: int,
    handling: int,
    lead: int,
) -> None:
    queue = [QueueEntry(line_id=i + 1, quantity=q) for i, q in enumerate(ahead)]
    queue.append(QueueEntry(line_id=1000, quantity=quantity))
    whole = promise_queue(
        available_now=available,
        supply=supply,
        queue=queue,
        today=TODAY,
        handling_days=handling,
        estimate_lead_days=lead,
    )
    at_end = promise_at_end(
        available_now=available,
        supply=supply,
        waiting_ahead=sum(ahead),
        quantity=quantity,
        today=TODAY,
        handling_days=handling,
        estimate_lead_days=lead,
    )
    expected = whole.promises[1000]
    assert at_end is not None
    assert (at_end.promised_date, at_end.is_estimate, at_end.covered_by) == (
        expected.promised_date,
        expected.is_estimate,
        expected.covered_by,
    )


def test_nothing_waiting_gets_no_promise_and_negative_units_ahead_are_refused() -> None:
    kwargs: dict[str, Any] = {
        "available_now": 0,
        "supply": [],
        "today": TODAY,
        "handling_days": 1,
        "estimate_lead_days": 5,
    }
    assert promise_at_end(waiting_ahead=3, quantity=0, **kwargs) is None
    with pytest.raises(ValueError, match="waiting_ahead"):
        promise_at_end(waiting_ahead=-1, quantity=1, **kwargs)


# --- through order_place --------------------------------------------------------


@contextmanager
def recompute_calls() -> Iterator[list[list[tuple[int, int]]]]:
    """The queues order_place hands to the full recompute."""
    calls: list[list[tuple[int, int]]] = []
    original = intake.promises_recompute

    def spy(*, keys: Any, **kwargs: Any) -> Any:
        keys = list(keys)
        calls.append(keys)
        return original(keys=keys, **kwargs)

    intake.promises_recompute = spy
    try:
        yield calls
    finally:
        intake.promises_recompute = original


def stored_promises() -> list[tuple[Any, ...]]:
    return sorted(
        OrderLine.objects.values_list(
            "pk", "promised_date", "promise_is_estimate", "first_promised_date", "times_slipped"
        )
    )


def assert_as_a_full_recompute_gives(shop) -> None:
    before = stored_promises()
    changes = promises_refresh(
        keys={
            (pid, shop.warehouse.pk) for pid in OrderLine.objects.values_list("product", flat=True)
        },
        cause="check",
    )
    assert changes == []
    assert stored_promises() == before


def place(shop, customer, *lines: tuple[Any, int], placed_at: dt.datetime | None = None):
    return order_place(
        customer=customer,
        warehouse=shop.warehouse,
        lines=[LineRequest(product, quantity) for product, quantity in lines],
        placed_at=placed_at,
        by=shop.clerk,
    )


def purchase(shop, product, quantity: int, days: int) -> None:
    """A confirmed purchase order through the orders use case, which
    recomputes the promises it covers (`shop.purchase` does not)."""
    purchasing.purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, quantity)],
        expected_date=timezone.localdate() + dt.timedelta(days=days),
        by=shop.clerk,
        confirm=True,
    )


pytestmark = pytest.mark.django_db


def test_a_line_at_the_end_of_the_queue_is_promised_without_a_recompute(shop) -> None:
    product = shop.product(default_lead_time_days=20)
    shop.purchase(product, 5, days=6)
    standard = shop.customer(Tier.STANDARD)
    for _ in range(3):
        place(shop, standard, (product, 2))
    with recompute_calls() as calls, changes_recorded() as recorded:
        order = place(shop, standard, (product, 2))
    assert calls == [[]]
    line = order.lines.get()
    # 6 units ahead, 5 inbound: an estimate (the supplier's lead time + 1
    # handling day), not the purchase order's date
    assert (line.promised_date, line.promise_is_estimate) == (
        timezone.localdate() + dt.timedelta(days=shop.supplier.lead_time_days + 1),
        True,
    )
    assert line.first_promised_date == line.promised_date and line.times_slipped == 0
    assert [(c.line_id, c.is_first, c.new_date) for c in recorded.promises] == [
        (line.pk, True, line.promised_date)
    ]
    revision = PromiseRevision.objects.get(line=line)
    assert (revision.old_date, revision.new_date, revision.cause) == (
        None,
        line.promised_date,
        f"{order.number} placed",
    )
    assert_as_a_full_recompute_gives(shop)


def test_a_line_that_jumps_ahead_slips_the_lines_behind_without_a_full_recompute(shop) -> None:
    product = shop.product()
    shop.purchase(product, 4, days=6)
    waiting = place(shop, shop.customer(Tier.STANDARD), (product, 4)).lines.get()
    assert waiting.promise_is_estimate is False
    with recompute_calls() as calls, changes_recorded() as recorded:
        vip = place(shop, shop.customer(Tier.VIP), (product, 4)).lines.get()
    assert calls == [[]]
    waiting.refresh_from_db()
    assert (vip.promise_is_estimate, waiting.promise_is_estimate) == (False, True)
    assert waiting.times_slipped == 1
    assert sorted((c.line_id, c.is_first, c.days_moved > 0) for c in recorded.promises) == [
        (waiting.pk, False, True),
        (vip.pk, True, False),
    ]
    latest = PromiseRevision.objects.filter(line=waiting).first()
    assert latest is not None and latest.cause.endswith("placed")
    assert_as_a_full_recompute_gives(shop)


def test_one_order_can_join_one_queue_at_the_end_and_jump_another(shop) -> None:
    tail, jump = shop.product(), shop.product()
    shop.purchase(jump, 2, days=3)
    place(shop, shop.customer(Tier.VIP), (tail, 1))
    place(shop, shop.customer(Tier.PREFERRED), (tail, 1))
    place(shop, shop.customer(Tier.STANDARD), (jump, 1))
    with recompute_calls() as calls:
        order = place(shop, shop.customer(Tier.PREFERRED), (tail, 2), (jump, 2))
    # behind the VIP and PREFERRED lines of `tail` (placed earlier): at the
    # end; ahead of the STANDARD line of `jump`, which it pushes out of the
    # inbound purchase order
    assert calls == [[]]
    assert PromiseRevision.objects.filter(line__order=order).count() == 2
    assert (
        OrderLine.objects.get(product=jump, order__customer__tier=Tier.STANDARD).times_slipped == 1
    )
    assert_as_a_full_recompute_gives(shop)


def test_a_line_that_ties_or_takes_stock_others_wait_for_recomputes_the_queue(shop) -> None:
    product = shop.product()
    shop.purchase(product, 3, days=4)
    customer = shop.customer(Tier.STANDARD)
    lowered = place(shop, customer, (product, 2)).lines.get()
    order_line_set_priority(line=lowered, priority=-5, by=shop.clerk)
    with recompute_calls() as calls:
        place(shop, customer, (product, 2))  # ahead of the lowered line: a walk
    assert calls == [[]]
    placed_at = timezone.now() - dt.timedelta(hours=1)
    place(shop, customer, (product, 1), placed_at=placed_at)
    with recompute_calls() as calls:
        place(shop, customer, (product, 1), placed_at=placed_at)  # a tie
    assert calls == [[(product.pk, shop.warehouse.pk)]]
    assert_as_a_full_recompute_gives(shop)
    # units in stock while lines wait (receiving normally leaves none): the
    # new line takes them, so the promises of the lines ahead move
    with transaction.atomic():
        key = (product.pk, shop.warehouse.pk)
        level = stock_levels_lock(keys=[key])[key]
        stock_moves_apply(level=level, moves=[Move(StockMoveKind.RECEIPT, 1, "found")], by=None)
    with recompute_calls() as calls:
        order = place(shop, customer, (product, 3))
    assert calls == [[(product.pk, shop.warehouse.pk)]]
    assert order.lines.get().allocated == 1
    assert_as_a_full_recompute_gives(shop)


steps = st.lists(
    st.tuples(
        st.sampled_from(["order", "order", "order", "order", "priority", "receive", "purchase"]),
        st.integers(0, 2),  # product
        st.sampled_from([Tier.VIP, Tier.PREFERRED, Tier.STANDARD]),
        st.integers(1, 4),  # units
        st.one_of(st.none(), st.integers(-120, 0)),  # placed so many minutes ago (None: now)
        st.integers(-3, 3),  # priority
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=steps, stock=st.integers(0, 3), inbound=st.integers(0, 6))
def test_any_mix_of_orders_leaves_every_promise_as_a_full_recompute_gives(
    shop, steps, stock: int, inbound: int
) -> None:
    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            products = [shop.product(default_lead_time_days=15 + i) for i in range(3)]
            if stock:
                shop.receive(products[0], stock)
            if inbound:
                purchase(shop, products[1], inbound, days=5)
            customers = {tier: shop.customer(tier) for tier in Tier.values}
            now = timezone.now()
            for action, index, tier, units, minutes, priority in steps:
                product = products[index]
                if action == "order":
                    placed_at = None if minutes is None else now + dt.timedelta(minutes=minutes)
                    lines = [(product, units)]
                    if minutes is not None and units % 2:
                        lines.append((products[(index + 1) % 3], units))
                    order = place(shop, customers[tier], *lines, placed_at=placed_at)
                    for line in order.lines.all():
                        revisions = list(PromiseRevision.objects.filter(line=line))
                        if line.backordered:
                            assert line.promised_date is not None
                            assert revisions[-1].old_date is None
                        else:
                            assert revisions == []
                elif action == "priority":
                    line = (
                        OrderLine.objects.backordered()
                        .filter(product=product)
                        .order_by("pk")
                        .last()
                    )
                    if line is not None:
                        order_line_set_priority(line=line, priority=priority, by=shop.clerk)
                elif action == "receive":
                    shop.receive(product, units)
                else:
                    purchase(shop, product, units, days=3 + 4 * units)
                assert_as_a_full_recompute_gives(shop)
            raise Rollback
    except Rollback:
        pass
