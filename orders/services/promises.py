"""Promises: every waiting line's ship date, recomputed from supply and the queue.

Reads the inputs of the pure promise engine (`orders.promising`) in batches,
writes only the lines whose promise changed, and keeps their history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from config.db import retry_on_conflict
from inventory.models import (
    Product,
    StockLevel,
    Transfer,
    TransferStatus,
    Warehouse,
    transfer_number,
)
from inventory.services import (
    stock_levels_lock,
)
from orders.models import (
    QUEUE_ORDER,
    OrderLine,
    PromiseRevision,
)
from orders.promising import Calibration, Promise, QueueEntry, Supply, promise_queue
from orders.services.calibration import promise_calibrations
from orders.services.recording import PromiseChange, promise_changes_record
from orders.services.touching import orders_of_lines_touch, touch_orders_returning_sql
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrderLine,
)


@dataclass
class _QueueInputs:
    """What the promise engine needs for one (product, warehouse) queue."""

    queue: list[tuple[Any, ...]] = field(default_factory=list)
    available: int = 0
    supply: list[Supply] = field(default_factory=list)
    handling_days: int = 0
    lead_days: int = 0
    estimate_supplier: int | None = None
    calibration: Calibration | None = None


def _promise_inputs(
    keys: Sequence[tuple[int, int]], today: dt.date | None = None
) -> dict[tuple[int, int], _QueueInputs]:
    """The inputs of many queues in six queries, however many queues: the
    whole-shop refresh was one round trip per query per queue (7,000 queues ×
    6 queries ≈ 100 s at a million lines)."""
    wanted = set(keys)
    product_ids = {p for p, _w in wanted}
    warehouse_ids = {w for _p, w in wanted}
    inputs: dict[tuple[int, int], _QueueInputs] = {}
    backordered = F("ordered") - F("allocated") - F("shipped") - F("cancelled")
    # One index range scan per queue (order_line_queue), already in queue order.
    queues = (
        OrderLine.objects.backordered()
        .filter(product_id__in=product_ids, warehouse_id__in=warehouse_ids)
        .order_by("product_id", "warehouse_id", *QUEUE_ORDER)
        .annotate(waiting=backordered)
        .values_list("product_id", "warehouse_id", *PROMISE_ROW)
    )
    for product_id, warehouse_id, *row in queues:
        key = (product_id, warehouse_id)
        if key in wanted:
            inputs.setdefault(key, _QueueInputs()).queue.append(tuple(row))
    if not inputs:
        return inputs
    for product_id, warehouse_id, on_hand, allocated in StockLevel.objects.filter(
        product_id__in=product_ids, warehouse_id__in=warehouse_ids
    ).values_list("product_id", "warehouse_id", "on_hand", "allocated"):
        if (product_id, warehouse_id) in inputs:
            inputs[(product_id, warehouse_id)].available = max(on_hand - allocated, 0)
    for key, supply in _open_supply(product_ids, warehouse_ids).items():
        if key in inputs:
            inputs[key].supply = supply
    handling = dict(
        Warehouse.objects.filter(pk__in=warehouse_ids).values_list("pk", "handling_days")
    )
    lead = {}
    last_supplier = {}
    for pk, supplier_lead, supplier_id, default in (
        Product.objects.filter(pk__in=product_ids)
        .annotate(supplier_lead=_last_supplier_lead(), supplier_id=_last_supplier())
        .values_list("pk", "supplier_lead", "supplier_id", "default_lead_time_days")
    ):
        lead[pk] = default if supplier_lead is None else supplier_lead
        last_supplier[pk] = supplier_id
    calibrations = promise_calibrations(
        warehouse_ids=warehouse_ids, today=today or timezone.localdate()
    )
    for (product_id, warehouse_id), found in inputs.items():
        found.handling_days = handling[warehouse_id]
        found.lead_days = lead[product_id]
        found.estimate_supplier = last_supplier[product_id]
        found.calibration = calibrations.get(warehouse_id)
    return inputs


def _open_supply(
    product_ids: Iterable[int], warehouse_ids: Iterable[int]
) -> dict[tuple[int, int], list[Supply]]:
    """Inbound supply by (product, warehouse): the outstanding units of open
    purchase order lines and the transfers in transit there (two queries)."""
    supply: dict[tuple[int, int], list[Supply]] = defaultdict(list)
    for (
        product_id,
        warehouse_id,
        expected,
        outstanding,
        number,
        supplier_id,
        revised,
    ) in PurchaseOrderLine.objects.filter(
        product_id__in=set(product_ids),
        purchase_order__warehouse_id__in=set(warehouse_ids),
        purchase_order__status__in=OPEN_PO_STATUSES,
        received__lt=F("ordered"),
    ).values_list(
        "product_id",
        "purchase_order__warehouse_id",
        "expected_date",
        F("ordered") - F("received"),
        "purchase_order__number",
        "purchase_order__supplier_id",
        Exists(ExpectedDateRevision.objects.filter(line_id=OuterRef("pk"))),
    ):
        supply[(product_id, warehouse_id)].append(
            Supply(
                date=expected,
                quantity=outstanding,
                reference=number,
                supplier=supplier_id,
                revised=revised,
            )
        )
    for transfer_id, product_id, warehouse_id, expected, quantity in Transfer.objects.filter(
        product_id__in=set(product_ids),
        to_warehouse_id__in=set(warehouse_ids),
        status=TransferStatus.IN_TRANSIT,
    ).values_list("pk", "product_id", "to_warehouse_id", "expected_date", "quantity"):
        supply[(product_id, warehouse_id)].append(
            Supply(
                date=expected,
                quantity=quantity,
                reference=transfer_number(transfer_id),
                in_transit=True,
            )
        )
    return supply


def _last_supplier_lead() -> Subquery:
    """For a Product queryset: the lead time of the supplier the product was
    last bought from (None if never bought; the product's default applies)."""
    return Subquery(
        PurchaseOrderLine.objects.filter(product_id=OuterRef("pk"))
        .order_by("-pk")
        .values("purchase_order__supplier__lead_time_days")[:1]
    )


def _last_supplier() -> Subquery:
    """For a Product queryset: the supplier it was last bought from (None if never)."""
    return Subquery(
        PurchaseOrderLine.objects.filter(product_id=OuterRef("pk"))
        .order_by("-pk")
        .values("purchase_order__supplier_id")[:1]
    )


@dataclass
class PromiseWrites:
    """Promise changes of many queues, written together: one UPDATE of the
    lines and one INSERT of their history."""

    updates: list[tuple[int, dt.date, bool, dt.date, int]] = field(default_factory=list)
    changes: list[PromiseChange] = field(default_factory=list)

    def flush(self, *, cause: str) -> None:
        if not self.updates:
            return
        lines_set_promises(self.updates)
        promise_revisions_insert(self.changes, cause=cause)
        self.updates, self.changes = [], []


PROMISE_BATCH_QUEUES = 1000


def promises_recompute(
    *, keys: Iterable[tuple[int, int]], cause: str, today: dt.date | None = None
) -> list[PromiseChange]:
    """Recompute the promised dates of the queue of each (product, warehouse).

    Runs inside the calling use case, whose stock levels are already locked
    (or locks them itself through `promises_refresh`). Feeds the pure engine
    (`orders.promising.promise_queue`) with the units available now, the open
    purchase order lines and the queue in queue order; writes only the lines
    whose promise changed, with a PromiseRevision each; counts a slip when a
    promise moves later. Returns the changes, for the caller to tell customers.

    Queues are read and written in batches of PROMISE_BATCH_QUEUES: a fixed
    number of queries per batch, not per queue.
    """
    today = today or timezone.localdate()
    changes: list[PromiseChange] = []
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), PROMISE_BATCH_QUEUES):
        batch = ordered[start : start + PROMISE_BATCH_QUEUES]
        inputs = _promise_inputs(batch, today)
        writes = PromiseWrites()
        for product_id, warehouse_id in batch:
            if (product_id, warehouse_id) not in inputs:
                continue
            changes += _promises_recompute_one(
                product_id=product_id,
                warehouse_id=warehouse_id,
                cause=cause,
                today=today,
                inputs=inputs[(product_id, warehouse_id)],
                writes=writes,
            )
        writes.flush(cause=cause)
    promise_changes_record(changes)
    return changes


def _promises_recompute_one(
    *,
    product_id: int,
    warehouse_id: int,
    cause: str,
    today: dt.date,
    inputs: _QueueInputs | None = None,
    writes: PromiseWrites | None = None,
) -> list[PromiseChange]:
    """One queue: its inputs read here unless given, its changes written here
    unless `writes` collects them for the caller to write."""
    if inputs is None:
        inputs = _promise_inputs([(product_id, warehouse_id)], today).get(
            (product_id, warehouse_id)
        )
        if inputs is None:
            return []
    queue = inputs.queue
    if not queue:
        return []
    result = promise_queue(
        available_now=inputs.available,
        supply=inputs.supply,
        queue=[QueueEntry(line_id=row[0], quantity=row[2]) for row in queue],
        today=today,
        handling_days=inputs.handling_days,
        estimate_lead_days=inputs.lead_days,
        calibration=inputs.calibration,
        estimate_supplier=inputs.estimate_supplier,
    )
    own_writes = writes is None
    collected = PromiseWrites() if writes is None else writes
    changes = promise_changes_of(queue, result.promises, collected)
    if own_writes:
        collected.flush(cause=cause)
    return changes


PROMISE_ROW = (
    "pk",
    "order_id",
    "waiting",
    "promised_date",
    "promise_is_estimate",
    "first_promised_date",
    "times_slipped",
)
"""The columns of a queue row as `promise_changes_of` reads them (annotate
`waiting` with the line's backordered units)."""


def promise_changes_of(
    rows: Iterable[tuple[Any, ...]], promises: Mapping[int, Promise], writes: PromiseWrites
) -> list[PromiseChange]:
    """Compare queue rows (pk, order id, waiting, promised date, estimate, first
    promised date, times slipped) with their new promises; collect the lines
    whose promise changed into `writes`, counting a slip when it moved later."""
    changes: list[PromiseChange] = []
    for pk, order_id, _waiting, old_date, old_estimate, first_date, slipped in rows:
        promise = promises.get(pk)
        if promise is None:
            continue
        new_date, new_estimate = promise.promised_date, promise.is_estimate
        if new_date == old_date and new_estimate == old_estimate:
            continue
        if old_date is not None and new_date > old_date:
            slipped += 1
        writes.updates.append((pk, new_date, new_estimate, first_date or new_date, slipped))
        changes.append(
            PromiseChange(
                line_id=pk,
                order_id=order_id,
                old_date=old_date,
                new_date=new_date,
                old_is_estimate=old_estimate,
                new_is_estimate=new_estimate,
                covered_by=promise.covered_by,
            )
        )
    writes.changes += changes
    return changes


_REVISION_COLUMNS = {
    "id",
    "line_id",
    "old_date",
    "new_date",
    "old_is_estimate",
    "new_is_estimate",
    "cause",
    "covered_by",
    "created_at",
}


def promise_revisions_insert(changes: Sequence[PromiseChange], *, cause: str) -> None:
    """One history row per change: INSERT … SELECT FROM unnest on PostgreSQL
    (bulk_create built 190,000 model objects for a whole-shop refresh), while
    the table has exactly the columns written here; bulk_create otherwise."""
    columns = {f.column for f in PromiseRevision._meta.concrete_fields}
    if connection.vendor == "postgresql" and columns == _REVISION_COLUMNS:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {PromiseRevision._meta.db_table} "  # noqa: S608 - table name from the model
                "(line_id, old_date, new_date, old_is_estimate, new_is_estimate, cause, "
                "covered_by, created_at) "
                "SELECT r.line_id, r.old_date, r.new_date, r.old_is_estimate, r.new_is_estimate, "
                "%s, r.covered_by, %s "
                "FROM unnest(%s::bigint[], %s::date[], %s::date[], %s::boolean[], "
                "%s::boolean[], %s::varchar[]) "
                "AS r(line_id, old_date, new_date, old_is_estimate, new_is_estimate, covered_by)",
                [
                    cause[:120],
                    # The application's clock, as every other timestamp of the
                    # same change (and the demo's and simulation's moved clock):
                    # statement_timestamp() stamped the database's wall clock.
                    timezone.now(),
                    [c.line_id for c in changes],
                    [c.old_date for c in changes],
                    [c.new_date for c in changes],
                    [c.old_is_estimate for c in changes],
                    [c.new_is_estimate for c in changes],
                    [c.covered_by or "" for c in changes],
                ],
            )
        return
    PromiseRevision.objects.bulk_create(
        (
            PromiseRevision(
                line_id=change.line_id,
                old_date=change.old_date,
                new_date=change.new_date,
                old_is_estimate=change.old_is_estimate,
                new_is_estimate=change.new_is_estimate,
                cause=cause[:120],
                covered_by=change.covered_by or "",
            )
            for change in changes
        ),
        batch_size=2000,
    )


def lines_set_promises(updates: Sequence[tuple[int, dt.date, bool, dt.date, int]]) -> None:
    """Write new promises to many lines, and stamp their orders as changed
    (`SalesOrder.updated_at`): one UPDATE … FROM unnest on PostgreSQL, the
    orders' stamp in the same statement."""
    if not updates:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        ids, dates, estimates, firsts, slips = (
            list(column) for column in zip(*updates, strict=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                touch_orders_returning_sql(
                    f"UPDATE {OrderLine._meta.db_table} AS line "  # noqa: S608 - table name from the model
                    "SET promised_date = p.promised_date, promise_is_estimate = p.is_estimate, "
                    "first_promised_date = p.first_date, times_slipped = p.slipped "
                    "FROM unnest(%s::bigint[], %s::date[], %s::boolean[], %s::date[], "
                    "%s::integer[]) AS p(id, promised_date, is_estimate, first_date, slipped) "
                    "WHERE line.id = p.id"
                ),
                [ids, dates, estimates, firsts, slips, now],
            )
        return
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {OrderLine._meta.db_table} SET promised_date = %s, "  # noqa: S608
            "promise_is_estimate = %s, first_promised_date = %s, times_slipped = %s WHERE id = %s",
            [
                (promised, estimate, first, slipped, pk)
                for pk, promised, estimate, first, slipped in updates
            ],
        )
    orders_of_lines_touch(line_ids=[update[0] for update in updates], now=now)


@retry_on_conflict()
@transaction.atomic
def promises_refresh(
    *, keys: Iterable[tuple[int, int]] | None = None, cause: str, today: dt.date | None = None
) -> list[PromiseChange]:
    """Lock the stock levels and recompute promises for `keys` (every product
    and warehouse with a queue when None): the daily sweep, the demo loader,
    `manage.py recompute_promises`."""
    if keys is None:
        keys = set(
            OrderLine.objects.backordered().values_list("product_id", "warehouse_id").distinct()
        )
    keys = sorted(set(keys))
    stock_levels_lock(keys=keys)
    return promises_recompute(keys=keys, cause=cause, today=today)
