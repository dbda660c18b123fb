"""Stamping orders as changed (SalesOrder.updated_at), for the writes that
bypass `save()`: the bulk UPDATEs of promises and allocations, and line saves
limited to `update_fields`. The storefront's poll for changes
(GET /api/v1/orders?updated_since=) reads the stamp.

Each stamp is written in the transaction of the change it records; the order
rows are updated in primary-key order, after the stock levels and lines the
use case locked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from orders.models import OrderLine, SalesOrder

# Keeps each statement under SQLite's limit of bound parameters.
TOUCH_BATCH = 5000


def orders_touch(*, order_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Stamp these orders as changed now."""
    ids = sorted(set(order_ids))
    now = now or timezone.now()
    for start in range(0, len(ids), TOUCH_BATCH):
        SalesOrder.objects.filter(pk__in=ids[start : start + TOUCH_BATCH]).update(updated_at=now)


def orders_of_lines_touch(*, line_ids: Iterable[int], now: dt.datetime | None = None) -> None:
    """Stamp the orders of these lines as changed now (one query per batch)."""
    ids = sorted(set(line_ids))
    now = now or timezone.now()
    for start in range(0, len(ids), TOUCH_BATCH):
        orders = OrderLine.objects.filter(pk__in=ids[start : start + TOUCH_BATCH]).values(
            "order_id"
        )
        SalesOrder.objects.filter(pk__in=orders).update(updated_at=now)


def touch_orders_returning_sql(update_sql: str) -> str:
    """PostgreSQL: an `UPDATE <order line table> AS line … ` statement that also
    stamps the orders of the lines it changed, in the same statement (its last
    parameter is the stamp)."""
    return (
        f"WITH changed AS ({update_sql} RETURNING line.order_id) "  # noqa: S608 - SQL of this app
        f"UPDATE {SalesOrder._meta.db_table} SET updated_at = %s "
        "WHERE id IN (SELECT order_id FROM changed)"
    )
