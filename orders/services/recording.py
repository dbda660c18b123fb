"""What a use case did that customers feel: allocations and promise changes.

The use cases below record into whatever `changes_recorded()` blocks are open
(a context variable), so the layer above (notifications) can tell every customer
affected without each use case returning what it did to others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Allocation:
    """Units a queue line received from one allocation run."""

    line_id: int
    order_number: str
    quantity: int
    ready_to_ship: bool


@dataclass(frozen=True)
class PromiseChange:
    """A line whose promised ship date changed in one recompute."""

    line_id: int
    order_id: int
    old_date: dt.date | None
    new_date: dt.date
    old_is_estimate: bool
    new_is_estimate: bool
    covered_by: str | None

    @property
    def is_first(self) -> bool:
        return self.old_date is None

    @property
    def days_moved(self) -> int:
        """Positive when the promise moved later (a slip), negative when earlier."""
        return 0 if self.old_date is None else (self.new_date - self.old_date).days


@dataclass
class RecordedChanges:
    """What the use cases inside `changes_recorded()` did that customers feel."""

    promises: list[PromiseChange] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    # Ids of the orders placed, shipments made and cancellations recorded: the
    # shop's storefront hears of these (notifications' outbound webhooks).
    orders_placed: list[int] = field(default_factory=list)
    shipments: list[int] = field(default_factory=list)
    cancellations: list[int] = field(default_factory=list)
    # Refunds owed (RefundDue written) and refunds marked paid back.
    refunds_due: list[int] = field(default_factory=list)
    refunds_recorded: list[int] = field(default_factory=list)


_recorders: ContextVar[tuple[RecordedChanges, ...]] = ContextVar("change_recorders", default=())


@contextmanager
def changes_recorded() -> Iterator[RecordedChanges]:
    """Collect every promise change and allocation the use cases inside the block make.

    The layer above (notifications) wraps a use case in this, inside its own
    transaction, to tell each customer whose date moved or whose order became
    ready — without every use case having to return what it did to others.
    """
    recorded = RecordedChanges()
    token = _recorders.set((*_recorders.get(), recorded))
    try:
        yield recorded
    finally:
        _recorders.reset(token)


@contextmanager
def promise_changes_recorded() -> Iterator[list[PromiseChange]]:
    """The promise changes only (see `changes_recorded`)."""
    with changes_recorded() as recorded:
        yield recorded.promises


def allocations_record(allocations: Sequence[Allocation]) -> None:
    """Tell every open `changes_recorded()` block of these allocations."""
    for recorder in _recorders.get():
        recorder.allocations.extend(allocations)


def promise_changes_record(changes: Sequence[PromiseChange]) -> None:
    """Tell every open `changes_recorded()` block of these promise changes."""
    for recorder in _recorders.get():
        recorder.promises.extend(changes)


def order_placed_record(order_id: int) -> None:
    """Tell every open `changes_recorded()` block an order was placed."""
    for recorder in _recorders.get():
        recorder.orders_placed.append(order_id)


def shipment_record(shipment_id: int) -> None:
    """Tell every open `changes_recorded()` block a shipment was made."""
    for recorder in _recorders.get():
        recorder.shipments.append(shipment_id)


def cancellation_record(cancellation_id: int) -> None:
    """Tell every open `changes_recorded()` block units were cancelled."""
    for recorder in _recorders.get():
        recorder.cancellations.append(cancellation_id)


def refund_due_record(refund_id: int) -> None:
    """Tell every open `changes_recorded()` block money is owed back."""
    for recorder in _recorders.get():
        recorder.refunds_due.append(refund_id)


def refund_recorded_record(refund_id: int) -> None:
    """Tell every open `changes_recorded()` block a refund was paid back."""
    for recorder in _recorders.get():
        recorder.refunds_recorded.append(refund_id)
