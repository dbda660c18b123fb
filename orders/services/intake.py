"""Placing orders: each line takes what is free now, the rest is backordered
(if the product's policy allows) and promised from the units waiting ahead of it.

Every use case is one transaction; stock levels are locked first, in primary-key
order, then the queue lines they fill. A deadlock or serialization failure re-runs
the whole use case a few times (`retry_on_conflict`); it never reaches a person as a 500."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from config.roles import acting_user
from inventory.models import BackorderPolicy, Product, StockLevel, StockMoveKind, Warehouse
from inventory.services import (
    Move,
    require_positive_quantity,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.limits import shop_currency
from orders.models import (
    MONEY_TAKEN,
    Channel,
    Customer,
    OrderLine,
    PaymentStatus,
    SalesOrder,
)
from orders.promising import Calibration, Promise, QueueEntry, Supply, promise_queue
from orders.selectors.availability import (
    NEW_LINE_PRIORITY,
    backordered_units,
    queue_tails,
    tail_promise,
)
from orders.services.payments import payment_amounts_check
from orders.services.promises import (
    PROMISE_ROW,
    PromiseWrites,
    lines_set_promises,
    promise_changes_of,
    promise_revisions_insert,
    promises_recompute,
)
from orders.services.recording import PromiseChange, order_placed_record, promise_changes_record


@dataclass(frozen=True)
class LineRequest:
    product: Product
    quantity: int
    unit_price: Decimal | None = None
    """What the shop charged per unit; the product's price when not given."""


@retry_on_conflict()
@transaction.atomic
def order_place(
    *,
    customer: Customer,
    warehouse: Warehouse,
    lines: Sequence[LineRequest],
    by: User | None,
    channel: str = Channel.WEB,
    placed_at: dt.datetime | None = None,
    external_reference: str = "",
    payment_status: str = PaymentStatus.UNPAID,
    amount_paid: Decimal | None = None,
    amount_refunded: Decimal | None = None,
    currency: str | None = None,
) -> SalesOrder:
    """Place an order: each line takes what is available now, the rest waits on
    backorder if the product's policy allows it.

    A line that cannot be sold (inactive product, bad quantity, backorder
    denied or over the cap) refuses the whole order with a reason per line;
    nothing is saved.
    """
    if not lines:
        raise ValidationError({"lines": _("An order needs at least one line.")})
    errors: list[str] = []
    for request in lines:
        try:
            require_positive_quantity(request.quantity)
        except ValidationError:
            errors.append(
                _("%(sku)s: enter a whole number of units above zero.")
                % {"sku": request.product.sku}
            )
        if not request.product.active:
            errors.append(
                _("%(sku)s is no longer sold (inactive product).") % {"sku": request.product.sku}
            )
    if len({request.product.pk for request in lines}) != len(lines):
        errors.append(_("Each product may appear only once; combine the quantities."))
    if errors:
        raise ValidationError({"lines": errors})
    payment_amounts_check(
        payment_status=payment_status,
        amount_paid=amount_paid,
        amount_refunded=amount_refunded,
        currency=currency,
    )
    if amount_paid is None:
        # Paid, and the shop did not say how much: the whole order.
        amount_paid = (
            sum(
                (
                    Decimal(str(r.product.price if r.unit_price is None else r.unit_price))
                    * r.quantity
                    for r in lines
                ),
                Decimal("0.00"),
            )
            if payment_status in MONEY_TAKEN
            else Decimal("0.00")
        )

    external_reference = (external_reference or "").strip()
    if (
        external_reference
        and SalesOrder.objects.filter(
            channel=channel, external_reference=external_reference
        ).exists()
    ):
        raise ValidationError(
            {"external_reference": _("An order with this storefront reference already exists.")}
        )

    levels = stock_levels_lock(keys=[(request.product.pk, warehouse.pk) for request in lines])
    capped = [r.product.pk for r in lines if r.product.backorder_policy == BackorderPolicy.CAP]
    waiting = backordered_units(product_ids=capped)
    plan: list[tuple[LineRequest, int]] = []
    for request in lines:
        product = request.product
        level = levels[(product.pk, warehouse.pk)]
        take = min(max(level.available, 0), request.quantity)
        short = request.quantity - take
        if short and product.backorder_policy == BackorderPolicy.DENY:
            errors.append(
                _("%(sku)s: only %(available)d in stock and this product is not sold on backorder.")
                % {"sku": product.sku, "available": take}
            )
        elif short and product.backorder_policy == BackorderPolicy.CAP:
            room = max((product.backorder_cap or 0) - waiting.get(product.pk, 0), 0)
            if short > room:
                errors.append(
                    _(
                        "%(sku)s: only %(available)d in stock and %(room)d more may be backordered "
                        "(cap %(cap)d)."
                    )
                    % {
                        "sku": product.sku,
                        "available": take,
                        "room": room,
                        "cap": product.backorder_cap or 0,
                    }
                )
        plan.append((request, take))
    if errors:
        raise ValidationError({"lines": errors})

    placed = placed_at or timezone.now()
    order = SalesOrder(
        customer=customer,
        warehouse=warehouse,
        channel=channel,
        placed_at=placed,
        external_reference=external_reference,
        payment_status=payment_status,
        amount_paid=amount_paid,
        amount_refunded=amount_refunded or Decimal("0.00"),
        currency=currency or shop_currency(),
        created_by=acting_user(by),
    )
    _sales_order_insert(order, placed=placed)
    # A backordered line is promised here, from the units waiting ahead of it,
    # and written with that promise; the lines ahead of it keep theirs, and
    # only the lines behind it that supply reaches are walked again
    # (`_new_line_promises`). Anything else recomputes its whole queue.
    today = timezone.localdate()
    joining = _new_line_promises(
        plan=plan,
        levels=levels,
        warehouse_id=warehouse.pk,
        tier=customer.tier,
        placed_at=placed,
        today=today,
    )
    created = OrderLine.objects.bulk_create(
        _new_line(
            order=order,
            request=request,
            take=take,
            customer=customer,
            placed_at=placed,
            joining=joining.get(request.product.pk),
        )
        for request, take in plan
    )
    for line, (request, take) in zip(created, plan, strict=True):
        if take:
            stock_moves_apply(
                level=levels[(request.product.pk, warehouse.pk)],
                moves=[Move(StockMoveKind.ALLOCATION, take, f"{order.number}/{line.pk}")],
                by=by,
            )
    cause = f"{order.number} placed"
    writes = PromiseWrites()
    for line in created:
        joined = joining.get(line.product_id)
        if joined is None:
            continue
        writes.changes.append(
            PromiseChange(
                line_id=line.pk,
                order_id=order.pk,
                old_date=None,
                new_date=joined.promise.promised_date,
                old_is_estimate=False,
                new_is_estimate=joined.promise.is_estimate,
                covered_by=joined.promise.covered_by,
            )
        )
        if joined.behind:
            _promises_behind_new_line(
                line=line, joined=joined, priority=0, today=today, writes=writes
            )
    changes = writes.changes
    if writes.updates:
        lines_set_promises(writes.updates)
    if changes:
        promise_revisions_insert(changes, cause=cause)
        promise_changes_record(changes)
    queued = [
        (line.product_id, warehouse.pk)
        for line in created
        if line.backordered and line.product_id not in joining
    ]
    promises_recompute(keys=queued, cause=cause)
    order_placed_record(order.pk)
    return order


def _sales_order_insert(order: SalesOrder, *, placed: dt.datetime) -> None:
    """Insert an order numbered after its id. On PostgreSQL the id is taken
    from the sequence first, so the row goes in once with its number (one
    INSERT and one history row, not an INSERT and an UPDATE with two)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [SalesOrder._meta.db_table]
            )
            (order.pk,) = cursor.fetchone()
        order.number = f"SO-{order.pk:07d}"
        order.save(force_insert=True)
        return
    order.number = f"SO-TMP-{placed.timestamp()}-{order.customer_id}"
    order.save(force_insert=True)
    order.number = f"SO-{order.pk:07d}"
    order.save(update_fields=["number"])


def _new_line(
    *,
    order: SalesOrder,
    request: LineRequest,
    take: int,
    customer: Customer,
    placed_at: dt.datetime,
    joining: _Joining | None,
) -> OrderLine:
    line = OrderLine(
        order=order,
        product=request.product,
        warehouse=order.warehouse,
        customer_tier=customer.tier,
        placed_at=placed_at,
        unit_price=request.product.price if request.unit_price is None else request.unit_price,
        ordered=request.quantity,
        allocated=take,
    )
    if joining is not None:
        line.promised_date = line.first_promised_date = joining.promise.promised_date
        line.promise_is_estimate = joining.promise.is_estimate
    return line


@dataclass(frozen=True)
class _Joining:
    """A new backordered line promised without recomputing its whole queue,
    with the inputs that promise came from."""

    promise: Promise
    quantity: int
    waiting_ahead: int
    behind: bool
    """Some lines wait behind it (it jumped ahead of them)."""
    available: int
    supply: list[Supply]
    handling_days: int
    lead_days: int
    estimate_supplier: int | None = None
    calibration: Calibration | None = None


def _new_line_promises(
    *,
    plan: Sequence[tuple[LineRequest, int]],
    levels: Mapping[tuple[int, int], StockLevel],
    warehouse_id: int,
    tier: int,
    placed_at: dt.datetime,
    today: dt.date,
) -> dict[int, _Joining]:
    """Promises for the backordered lines of an order being placed, by product
    id, where the whole queue need not be recomputed (one query).

    A line's promise depends only on the units waiting ahead of it
    (`promise_at_end`), and a line added to a queue changes no promise ahead of
    it, so the new line (priority 0, the customer's tier, placed now) is
    promised from the sum of the units strictly ahead of it in QUEUE_ORDER.
    Lines behind it, if it jumped ahead of some, are walked afterwards
    (`_promises_behind_new_line`). Two cases take the full recompute instead: a
    waiting line that ties with the new one on priority, tier and time (the
    order would rest on ids), and a line that took units from stock while
    others waited (which receiving normally leaves no room for): the promises
    ahead were made from units that are gone.
    """
    short = {
        request.product.pk: (request.quantity - take, take)
        for request, take in plan
        if request.quantity > take
    }
    if not short:
        return {}
    tails = queue_tails(
        product_ids=list(short),
        warehouse_id=warehouse_id,
        priority=NEW_LINE_PRIORITY,
        tier=tier,
        placed_at=placed_at,
    )
    joining_ids = [
        product_id
        for product_id, tail in tails.items()
        if not tail.tie
        and (short[product_id][1] == 0 or (tail.waiting_ahead == 0 and not tail.behind))
    ]
    if not joining_ids:
        return {}
    joining: dict[int, _Joining] = {}
    for product_id in joining_ids:
        quantity, take = short[product_id]
        tail = tails[product_id]
        available = max(levels[(product_id, warehouse_id)].available - take, 0)
        product_supply = tail.supply
        promise = tail_promise(tail=tail, available=available, quantity=quantity, today=today)
        if promise is not None:
            joining[product_id] = _Joining(
                promise=promise,
                quantity=quantity,
                waiting_ahead=tail.waiting_ahead,
                behind=tail.behind,
                available=available,
                supply=product_supply,
                handling_days=tail.handling_days,
                lead_days=tail.lead_days,
                estimate_supplier=tail.estimate_supplier,
                calibration=tail.calibration,
            )
    return joining


def _ahead_of(*, priority: int, tier: int, placed_at: dt.datetime) -> Q:
    """Queue lines strictly ahead of a line with this priority, tier and time."""
    return (
        Q(priority__gt=priority)
        | Q(priority=priority, customer_tier__lt=tier)
        | Q(priority=priority, customer_tier=tier, placed_at__lt=placed_at)
    )


def _behind(*, priority: int, tier: int, placed_at: dt.datetime) -> Q:
    """Queue lines strictly behind a line with this priority, tier and time."""
    return (
        Q(priority__lt=priority)
        | Q(priority=priority, customer_tier__gt=tier)
        | Q(priority=priority, customer_tier=tier, placed_at__gt=placed_at)
    )


BEHIND_BATCH = 500


def _promises_behind_new_line(
    *, line: OrderLine, joined: _Joining, priority: int, today: dt.date, writes: PromiseWrites
) -> None:
    """Recompute the promises of the lines behind a new line that jumped ahead
    of them, as far as supply reaches.

    A line's promise depends only on the units waiting up to and including it.
    A line behind waits for `joined.quantity` more units than before; one that
    supply did not cover before (the units up to it exceed the units available
    and inbound) was an estimate and stays the same estimate, and so does every
    line after it. So the walk reads the lines behind in queue order only until
    the units up to them exceed supply: the whole queue's walk restricted to
    the lines whose promise can change.
    """
    supply_total = joined.available + sum(row.quantity for row in joined.supply)
    waiting = joined.waiting_ahead
    if waiting >= supply_total:
        return
    behind = (
        OrderLine.objects.backordered()
        .filter(product_id=line.product_id, warehouse_id=line.warehouse_id)
        .filter(_behind(priority=priority, tier=line.customer_tier, placed_at=line.placed_at))
        .in_queue_order()
        .annotate(waiting=F("ordered") - F("allocated") - F("shipped") - F("cancelled"))
        .values_list(*PROMISE_ROW)
    )
    rows: list[tuple[Any, ...]] = []
    offset = 0
    # Each line waits for at least one unit: the units supply has left after
    # the lines ahead reach at most that many lines behind (+1 to see past).
    batch = min(BEHIND_BATCH, supply_total - waiting + 1)
    while waiting <= supply_total:
        chunk = list(behind[offset : offset + batch])
        for row in chunk:
            waiting += row[2]
            if waiting > supply_total:
                break
            rows.append(row)
        if len(chunk) < batch:
            break
        offset += batch
    if not rows:
        return
    result = promise_queue(
        available_now=joined.available,
        supply=joined.supply,
        queue=[
            QueueEntry(line_id=0, quantity=joined.waiting_ahead),
            QueueEntry(line_id=-1, quantity=joined.quantity),
            *(QueueEntry(line_id=row[0], quantity=row[2]) for row in rows),
        ],
        today=today,
        handling_days=joined.handling_days,
        estimate_lead_days=joined.lead_days,
        calibration=joined.calibration,
        estimate_supplier=joined.estimate_supplier,
    )
    promise_changes_of(rows, result.promises, writes)
