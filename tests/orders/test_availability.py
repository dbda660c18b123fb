"""The availability selector answers what intake then does, ties included."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orders.models import OrderLine, Tier
from orders.selectors.availability import line_availabilities
from orders.services.intake import LineRequest, order_place

pytestmark = pytest.mark.django_db


def test_a_line_tying_with_a_waiting_one_queues_behind_it(shop) -> None:
    # given: 4 inbound, 3 waiting for a line placed at `at`
    product = shop.product()
    shop.purchase(product, 4, days=5)
    at = timezone.now() - dt.timedelta(minutes=5)
    shop.order(product, 3, customer=shop.customer(Tier.STANDARD), placed_at=at)
    # when: 2 more asked for and placed at the very same time and tier
    [asked] = line_availabilities(
        warehouse=shop.warehouse, lines=[(product, 2)], tier=Tier.STANDARD, placed_at=at
    )
    order = order_place(
        customer=shop.customer(Tier.STANDARD),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, 2)],
        placed_at=at,
        by=shop.clerk,
    )
    # then: the new line is behind the tie (a higher id), beyond the 4 inbound
    line = OrderLine.objects.get(order=order)
    assert (asked.promised_date, asked.promise_is_estimate) == (
        line.promised_date,
        line.promise_is_estimate,
    )
    assert asked.promise_is_estimate is True
    [covered] = line_availabilities(
        warehouse=shop.warehouse, lines=[(product, 1)], tier=Tier.VIP, placed_at=at
    )
    assert covered.promise_is_estimate is False  # a VIP goes ahead of both
