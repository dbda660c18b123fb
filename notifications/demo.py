"""The demo shop with its messages: the orders demo played through the use
cases that tell customers, so the outbox, the delays page and the dashboard
show the emails six weeks of backorders would have sent.

The messages are history: each is marked sent a minute after it was written,
inside the loading transaction, so loading the demo never emails anybody.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from notifications import updates
from notifications.models import Notification, NotificationStatus
from orders.fixtures.demo import DemoShopSummary
from orders.fixtures.demo import demo_shop_load as orders_demo_shop_load
from orders.fixtures.demo_floor import DemoUseCases
from orders.services.recording import PromiseChange
from suppliers.models import PurchaseOrder


def _purchase_order_confirm(**kwargs: Any) -> tuple[PurchaseOrder, list[PromiseChange]]:
    """The demo plays (purchase order, promise changes), as orders' use case returns them."""
    outcome = updates.purchase_order_confirm(**kwargs)
    return outcome.purchase_order, outcome.changes


TELLING_CUSTOMERS = DemoUseCases(
    order_place=updates.order_place,
    order_cancel=updates.order_cancel,
    order_line_cancel=updates.order_line_cancel,
    order_line_set_priority=updates.order_line_set_priority,
    promises_refresh=updates.promises_refresh,
    purchase_order_confirm=_purchase_order_confirm,
    purchase_order_move_expected_date=updates.purchase_order_move_expected_date,
    purchase_order_receive=updates.purchase_order_receive,
    shipment_create=updates.shipment_create,
    stock_adjust=updates.stock_adjust,
    transfer_ship=updates.transfer_ship,
    transfer_receive=updates.transfer_receive,
)


@transaction.atomic
def demo_shop_load(*, users: list[User] | None = None) -> DemoShopSummary:
    summary = orders_demo_shop_load(users=users, use_cases=TELLING_CUSTOMERS)
    if summary.created:
        demo_messages_delivered()
    return summary


def demo_messages_delivered() -> int:
    """Mark the demo's messages that were due sent, a minute after they were
    due; one still held to combine updates stays pending, as it would be."""
    due = Coalesce("not_before", "created_at")
    return (
        Notification.objects.filter(status=NotificationStatus.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))
        .update(
            status=NotificationStatus.SENT,
            attempts=1,
            sent_at=due + dt.timedelta(minutes=1),
            dispatched_at=due,
        )
    )
