"""Promise history is stamped with the application's clock (`timezone.now()`),
like the orders, shipments and ledger rows written in the same change: the
demo shop and `simulate_year` move that clock, and the dashboard's "why
promises broke" orders the history against shipments and purchase order moves."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from notifications import updates
from orders.models import PromiseRevision

pytestmark = pytest.mark.django_db


def test_promise_history_is_stamped_with_the_application_clock(shop) -> None:
    # given: the clock set 40 days back (as the demo loader and the simulation do)
    then = timezone.now() - dt.timedelta(days=40)
    product = shop.product()

    # when: a backordered line gets its first promise, then a purchase order moves it
    with time_machine.travel(then, tick=False):
        order = shop.order(product, 3)
        po = shop.purchase(product, 5, days=12)
        updates.purchase_order_move_expected_date(
            purchase_order=po,
            new_date=timezone.localdate() + dt.timedelta(days=30),
            reason="late",
            by=shop.clerk,
        )

    # then: every history row carries that moment, not the database's wall clock
    stamps = list(
        PromiseRevision.objects.filter(line__order=order).values_list("created_at", flat=True)
    )
    assert len(stamps) >= 2
    assert all(abs(stamp - then) < dt.timedelta(seconds=1) for stamp in stamps)
    assert order.placed_at == then
