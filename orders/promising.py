"""The promise engine: when will each backordered line ship?

A pure function of plain values — no models, no database, no clock — so that
allocation, the queue page, "what if this expected date moves" previews and the
storefront API all get the same answer for the same inputs, and so that it can
be tested exhaustively (see tests/orders/test_promising.py).

The algorithm
-------------
Think of supply and demand as two cumulative curves over the same units.

* Supply, in the order the units will be handed out: first the units available
  now (dated today, reference ``"stock"``), then the inbound purchase order
  lines sorted by expected date, ties broken by reference so the answer never
  depends on the order the caller happened to fetch rows in.
* Demand: the backordered units of each line, in queue order (the caller sorts
  the queue; the engine never reorders it, because queue order is the one rule
  allocation, the queue page and the engine must share).

A line is *completed* by the supply unit at which cumulative supply first
reaches cumulative demand up to and including that line. Its promised date is
that unit's date plus the warehouse's handling days. An overdue expected date
(before today) counts as today: goods that are late may still arrive, but a
promise in the past is no promise.

A line that supply does not fully cover gets an *estimate* instead:
``today + estimate_lead_days + handling_days`` — the time a purchase order
raised today would take — flagged ``is_estimate``. Its uncovered units, and all
units of every line after it, are the *shortfall* purchasing has to buy.

One refinement keeps promises in queue order: an estimate is never earlier than
the latest inbound supply date (plus handling). If the last open purchase order
arrives after the supplier's typical lead time, a new purchase order might land
sooner — but receiving allocates in queue order, so those units would go to the
lines ahead first; a line further back cannot ship before them.

Why it is fast
--------------
Both curves are walked once, side by side, with two cursors: every step either
completes a line or exhausts a supply row, so the walk is
O(len(queue) + len(supply)) after sorting the supply, O(len(supply) log
len(supply)). Each supply row's promised date is computed once, not per line.
Once supply runs out, every remaining line gets the same estimate.

Promised dates never decrease along the queue: the completing supply row only
moves forward in date order, clamping to today preserves that order, and
estimates are never earlier than the last supply date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

STOCK_REFERENCE = "stock"
"""The ``covered_by`` of a line completed by the units available now."""


@dataclass(frozen=True, slots=True)
class WorkingDays:
    """The days a warehouse ships: not on its weekend, not on its public holidays."""

    weekend: frozenset[int] = frozenset({5, 6})
    """Weekday numbers (Monday 0) the warehouse is closed."""
    holidays: frozenset[dt.date] = frozenset()

    def is_working(self, day: dt.date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` if the warehouse works then, else its next working day."""
        if len(self.weekend) >= 7:
            return day
        while not self.is_working(day):
            day += dt.timedelta(days=1)
        return day

    def add(self, day: dt.date, working_days: int) -> dt.date:
        """The working day `working_days` working days after `day` (taken as
        its own next working day first): goods arriving on a Saturday are
        handled from Monday."""
        day = self.on_or_after(day)
        for _step in range(working_days):
            day = self.on_or_after(day + dt.timedelta(days=1))
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (0 if end ≤ start)."""
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_working(day)
        return count


def supplier_lateness(
    *, own: Sequence[int], shop: Sequence[int], confidence: float, prior_deliveries: int = 5
) -> int:
    """Days late a supplier delivers with `confidence` (0.9: nine deliveries in
    ten arrive no later), from its own record (`own`: receipt minus the date
    expected, one per delivery and date given) shrunk toward the shop-wide
    record (`shop`): the two are mixed with weights n : `prior_deliveries`, so
    a supplier with few deliveries is judged mostly by the shop's, one with
    none exactly by the shop's. Never negative (an early delivery promises
    nothing earlier than the date given); 0 with no record at all."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    weighted: list[tuple[int, float]] = []
    own_weight = len(own) / (len(own) + prior_deliveries) if shop else 1.0
    if own:
        weighted += [(days, own_weight / len(own)) for days in own]
    if shop:
        weighted += [(days, (1 - own_weight) / len(shop)) for days in shop]
    if not weighted:
        return 0
    weighted.sort()
    total = sum(weight for _days, weight in weighted)
    reached = 0.0
    for days, weight in weighted:
        reached += weight
        if reached >= confidence * total - 1e-9:
            return max(days, 0)
    return max(weighted[-1][0], 0)


@dataclass(frozen=True, slots=True)
class Calibration:
    """What the calibrated engine adds to the naive one for one warehouse: each
    supplier's lateness at the policy's confidence (`supplier_lateness`), the
    shop-wide lateness for a supplier with no record, and the warehouse's
    working days (handling counts working days; a promise falls on one)."""

    lateness_days: Mapping[int, int]
    shop_lateness_days: int
    working_days: WorkingDays
    revised_lateness_days: Mapping[int, int] = field(default_factory=dict)
    """Lateness against a date the supplier has already moved (late notice is
    usually right: a revised date needs less margin than a quoted one)."""
    shop_revised_lateness_days: int = 0

    def lateness_of(self, supplier: int | None, *, revised: bool = False) -> int:
        if revised:
            if supplier is None:
                return self.shop_revised_lateness_days
            return self.revised_lateness_days.get(supplier, self.shop_revised_lateness_days)
        if supplier is None:
            return self.shop_lateness_days
        return self.lateness_days.get(supplier, self.shop_lateness_days)


@dataclass(frozen=True, slots=True)
class Supply:
    """Inbound units: the outstanding quantity of an open purchase order line,
    or a transfer in transit from another warehouse."""

    date: dt.date
    quantity: int
    reference: str
    supplier: int | None = None
    """Who delivers it (a supplier id), for the calibrated engine's record."""
    revised: bool = False
    """The date is one the supplier (or the overdue sweep) moved it to."""
    in_transit: bool = False
    """Units moving from another of the shop's warehouses (a transfer): they
    arrive when the route says, no supplier's record applies."""


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """The backordered units of one order line, at its place in the queue."""

    line_id: int
    quantity: int


# Not frozen: a frozen dataclass sets every field through object.__setattr__,
# which makes building 20,000 promises about three times slower. Treat it as
# a value anyway.
@dataclass(slots=True)
class Promise:
    """When one backordered line will ship, and what it waits for."""

    line_id: int
    promised_date: dt.date
    is_estimate: bool
    covered_by: str | None
    """The supply that completes the line: a purchase order reference,
    ``"stock"`` for the units available now, ``None`` for an estimate."""


@dataclass(frozen=True, slots=True)
class PromiseResult:
    promises: dict[int, Promise]
    """One promise per line with backordered units, keyed by line id."""
    shortfall: int
    """Backordered units that neither stock now nor inbound supply covers."""


def promise_queue(
    *,
    available_now: int,
    supply: Sequence[Supply],
    queue: Sequence[QueueEntry],
    today: dt.date,
    handling_days: int,
    estimate_lead_days: int,
    calibration: Calibration | None = None,
    estimate_supplier: int | None = None,
) -> PromiseResult:
    """Promise a ship date to every backordered line of one product in one warehouse.

    `available_now` is on hand minus allocated; `supply` the open purchase order
    lines' outstanding quantities and expected dates, in any order; `queue` the
    backordered lines already in queue order. Lines with nothing backordered
    get no promise and zero-quantity supply is ignored. Negative quantities or
    day counts, and a line id with backordered units queued twice, raise
    ValueError.

    With a `calibration` (the calibrated engine), each supply row is expected
    as late as its supplier's record says (`estimate_supplier`'s record for
    the estimate, on top of the lead time), handling counts the warehouse's
    working days, and supply is handed out in the order it is then expected.
    """
    if available_now < 0:
        raise ValueError(f"available_now must not be negative, got {available_now}")
    if handling_days < 0:
        raise ValueError(f"handling_days must not be negative, got {handling_days}")
    if estimate_lead_days < 0:
        raise ValueError(f"estimate_lead_days must not be negative, got {estimate_lead_days}")
    for row in supply:
        if row.quantity < 0:
            raise ValueError(
                f"supply {row.reference!r} quantity must not be negative, got {row.quantity}"
            )

    if calibration is not None:
        return _promise_queue_calibrated(
            available_now=available_now,
            supply=supply,
            queue=queue,
            today=today,
            handling_days=handling_days,
            estimate_lead_days=estimate_lead_days,
            calibration=calibration,
            estimate_supplier=estimate_supplier,
        )
    handling = dt.timedelta(days=handling_days)
    # Each source: (units, promised date for a line it completes, reference).
    sources: list[tuple[int, dt.date, str]] = []
    if available_now:
        sources.append((available_now, today + handling, STOCK_REFERENCE))
    latest_supply_date = today
    for row in sorted(supply, key=lambda row: (row.date, row.reference)):
        if row.quantity:
            supply_date = max(row.date, today)
            latest_supply_date = max(latest_supply_date, supply_date)
            sources.append((row.quantity, supply_date + handling, row.reference))

    estimated_date = (
        max(today + dt.timedelta(days=estimate_lead_days), latest_supply_date) + handling
    )
    return _walk(sources=sources, queue=queue, today=today, estimated_date=estimated_date)


def _promise_queue_calibrated(
    *,
    available_now: int,
    supply: Sequence[Supply],
    queue: Sequence[QueueEntry],
    today: dt.date,
    handling_days: int,
    estimate_lead_days: int,
    calibration: Calibration,
    estimate_supplier: int | None,
) -> PromiseResult:
    """`promise_queue` with each supplier's record and the warehouse's working
    days. Each supply date only moves later than the naive engine's (lateness
    is never negative, working days never fewer than calendar days), so the
    n-th unit — and the line it completes — is never promised earlier."""
    working = calibration.working_days
    sources: list[tuple[int, dt.date, str]] = []
    if available_now:
        sources.append((available_now, working.add(today, handling_days), STOCK_REFERENCE))
    latest_arrival = today
    arriving: list[tuple[dt.date, str, int]] = []
    for row in supply:
        if row.quantity:
            late = (
                0 if row.in_transit else calibration.lateness_of(row.supplier, revised=row.revised)
            )
            arrival = max(row.date, today) + dt.timedelta(days=late)
            latest_arrival = max(latest_arrival, arrival)
            arriving.append((working.add(arrival, handling_days), row.reference, row.quantity))
    # Receiving hands units out in the order they arrive: sort by the date expected now.
    for promised, reference, quantity in sorted(arriving):
        sources.append((quantity, promised, reference))
    # A purchase order for the shortfall is raised on the warehouse's next
    # working day (nobody buys on a Sunday: a line ordered then would be
    # promised a day or two early), is expected on a working day, then as late
    # as the supplier's record says.
    raised = working.on_or_after(today)
    quoted = working.on_or_after(raised + dt.timedelta(days=estimate_lead_days))
    margin = dt.timedelta(days=calibration.lateness_of(estimate_supplier))
    estimated_date = working.add(max(quoted + margin, latest_arrival), handling_days)
    return _walk(sources=sources, queue=queue, today=today, estimated_date=estimated_date)


def _walk(
    *,
    sources: list[tuple[int, dt.date, str]],
    queue: Sequence[QueueEntry],
    today: dt.date,
    estimated_date: dt.date,
) -> PromiseResult:
    """Walk the queue against the sources (units, promised date, reference) in
    the order they are handed out."""
    promises: dict[int, Promise] = {}
    shortfall = 0
    source_count = len(sources)
    source_index = 0
    if sources:
        remaining, source_date, source_reference = sources[0]
    else:
        remaining, source_date, source_reference = 0, today, STOCK_REFERENCE
    supply_left = bool(sources)

    for entry in queue:
        line_id = entry.line_id
        needed = entry.quantity
        if needed < 0:
            raise ValueError(f"queue line {line_id} quantity must not be negative, got {needed}")
        if needed == 0:
            continue
        if line_id in promises:
            raise ValueError(f"queue line {line_id} appears more than once")

        if supply_left:
            # Take whole sources until the current one has enough for the rest.
            while needed > remaining:
                needed -= remaining
                source_index += 1
                if source_index == source_count:
                    supply_left = False
                    break
                remaining, source_date, source_reference = sources[source_index]
            if supply_left:
                remaining -= needed
                promises[line_id] = Promise(line_id, source_date, False, source_reference)
                continue

        shortfall += needed
        promises[line_id] = Promise(line_id, estimated_date, True, None)

    return PromiseResult(promises=promises, shortfall=shortfall)


def promise_at_end(
    *,
    available_now: int,
    supply: Sequence[Supply],
    waiting_ahead: int,
    quantity: int,
    today: dt.date,
    handling_days: int,
    estimate_lead_days: int,
    calibration: Calibration | None = None,
    estimate_supplier: int | None = None,
) -> Promise | None:
    """The promise of a line that joins the *end* of a queue.

    `waiting_ahead` is the total of the backordered units of every line ahead
    of it. A line's promise depends only on the cumulative demand up to and
    including it, not on how the units ahead are split into lines, so this is
    `promise_queue` over a two-entry queue: exactly the promise the whole
    queue's walk would give the last line, in O(len(supply)) instead of
    O(len(queue)). The lines ahead keep their promises: a line added behind
    them takes nothing they would get. None when `quantity` is zero.
    """
    if waiting_ahead < 0:
        raise ValueError(f"waiting_ahead must not be negative, got {waiting_ahead}")
    last = -1
    result = promise_queue(
        available_now=available_now,
        supply=supply,
        queue=[
            QueueEntry(line_id=0, quantity=waiting_ahead),
            QueueEntry(line_id=last, quantity=quantity),
        ],
        today=today,
        handling_days=handling_days,
        estimate_lead_days=estimate_lead_days,
        calibration=calibration,
        estimate_supplier=estimate_supplier,
    )
    return result.promises.get(last)
