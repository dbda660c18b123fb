"""Availability says what placing the order then gives (issue 12): for small
generated shops — some stock, a purchase order or none, a queue ahead — ask,
place the same line through the use case the API calls
(`notifications.updates.order_place`), and compare."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.keys import api_key_create
from inventory.models import BackorderPolicy, StockMoveKind
from inventory.services import Move, stock_levels_lock, stock_moves_apply
from notifications import updates
from orders.models import Channel, OrderLine, Tier
from orders.services.intake import LineRequest, order_place
from orders.services.priority import order_line_set_priority
from tests.conftest import db_snapshot

pytestmark = pytest.mark.django_db

TIERS = st.sampled_from([Tier.VIP, Tier.PREFERRED, Tier.STANDARD])
policies = st.one_of(
    st.tuples(st.sampled_from([BackorderPolicy.ALLOW, BackorderPolicy.DENY]), st.none()),
    st.tuples(st.just(BackorderPolicy.CAP), st.integers(0, 10)),
)
queue_ahead = st.lists(
    st.tuples(
        st.integers(1, 4),  # units
        TIERS,
        st.integers(1, 180),  # placed so many minutes ago
        st.integers(-2, 2),  # manual priority
    ),
    max_size=6,
)


class Rollback(Exception):
    pass


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    policy=policies,
    stock=st.integers(0, 6),
    purchase=st.one_of(st.none(), st.tuples(st.integers(1, 10), st.integers(-2, 30))),
    ahead=queue_ahead,
    found=st.integers(0, 2),
    quantity=st.integers(1, 8),
    tier=TIERS,
)
def test_availability_is_what_the_placed_line_then_gets(
    shop,
    policy: tuple[str, int | None],
    stock: int,
    purchase: tuple[int, int] | None,
    ahead: list[tuple[int, int, int, int]],
    found: int,
    quantity: int,
    tier: int,
) -> None:
    try:
        with transaction.atomic():
            _ask_place_compare(shop, policy, stock, purchase, ahead, found, quantity, tier)
            raise Rollback
    except Rollback:
        pass


def _ask_place_compare(
    shop: Any,
    policy: tuple[str, int | None],
    stock: int,
    purchase: tuple[int, int] | None,
    ahead: list[tuple[int, int, int, int]],
    found: int,
    quantity: int,
    tier: int,
) -> None:
    # given: a product with some stock, perhaps a purchase order, a queue ahead
    product = shop.product(
        sku="VASE", backorder_policy=policy[0], backorder_cap=policy[1], default_lead_time_days=12
    )
    if stock:
        shop.receive(product, stock)
    if purchase is not None:
        shop.purchase(product, purchase[0], days=purchase[1])
    now = timezone.now()
    for units, line_tier, minutes, priority in ahead:
        try:
            order = order_place(
                customer=shop.customer(line_tier),
                warehouse=shop.warehouse,
                lines=[LineRequest(product, units)],
                placed_at=now - dt.timedelta(minutes=minutes),
                by=shop.clerk,
            )
        except ValidationError:
            continue  # denied or over the cap: this one is not in the queue
        line = order.lines.get()
        if priority and line.backordered:
            order_line_set_priority(line=line, priority=priority, by=shop.clerk)
    if found:
        # units found in a count while lines wait: free stock the queue has not taken
        with transaction.atomic():
            key = (product.pk, shop.warehouse.pk)
            level = stock_levels_lock(keys=[key])[key]
            stock_moves_apply(
                level=level, moves=[Move(StockMoveKind.RECEIPT, found, "found")], by=None
            )
    secret = api_key_create(name="Shop", channel=Channel.WEB, by=None).key
    # when: ask, then place the same line
    response = Client().get(
        "/api/v1/availability",
        {"sku": "VASE", "quantity": quantity, "tier": tier, "warehouse": shop.warehouse.code},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 200, response.content
    asked = response.json()
    before = db_snapshot()
    try:
        order = updates.order_place(
            customer=shop.customer(tier),
            warehouse=shop.warehouse,
            lines=[LineRequest(product, quantity)],
            by=None,
            channel=Channel.WEB,
        )
    except ValidationError:
        # then: refused exactly when availability said it would not sell
        assert asked["sellable"] is False, asked
        assert db_snapshot() == before
        return
    # then
    assert asked["sellable"] is True, asked
    line = OrderLine.objects.get(order=order)
    assert line.allocated == min(asked["available"], quantity) == asked["in_stock"]
    assert line.backordered == asked["backordered"]
    if line.backordered:
        assert line.promised_date is not None
        assert (line.promised_date.isoformat(), line.promise_is_estimate) == (
            asked["promised_ship_date"],
            asked["promise_is_estimate"],
        )
    else:
        ships = timezone.localdate() + dt.timedelta(days=shop.warehouse.handling_days)
        assert (asked["promised_ship_date"], asked["promise_is_estimate"]) == (
            ships.isoformat(),
            False,
        )
