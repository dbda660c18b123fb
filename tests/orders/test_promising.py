"""The promise engine: examples, properties, and a unit-by-unit reference model."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from random import Random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.promising import (
    STOCK_REFERENCE,
    Promise,
    PromiseResult,
    QueueEntry,
    Supply,
    promise_queue,
)

TODAY = date(2025, 6, 2)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def promise(
    *,
    available_now: int = 0,
    supply: Sequence[Supply] = (),
    queue: Sequence[QueueEntry] = (),
    handling_days: int = 1,
    estimate_lead_days: int = 14,
) -> PromiseResult:
    return promise_queue(
        available_now=available_now,
        supply=supply,
        queue=queue,
        today=TODAY,
        handling_days=handling_days,
        estimate_lead_days=estimate_lead_days,
    )


# --- examples -----------------------------------------------------------------


def test_an_empty_queue_gets_no_promises_and_no_shortfall() -> None:
    result = promise(available_now=5, supply=[Supply(days(3), 10, "PO-1")])

    assert result == PromiseResult(promises={}, shortfall=0)


def test_lines_covered_by_stock_now_ship_after_handling() -> None:
    result = promise(
        available_now=10,
        supply=[Supply(days(3), 10, "PO-1")],
        queue=[QueueEntry(1, 4), QueueEntry(2, 6)],
        handling_days=2,
    )

    assert result.promises == {
        1: Promise(1, days(2), False, STOCK_REFERENCE),
        2: Promise(2, days(2), False, STOCK_REFERENCE),
    }
    assert result.shortfall == 0


def test_a_line_split_across_stock_and_two_purchase_orders_gets_the_later_date() -> None:
    # given supply listed out of date order
    supply = [Supply(days(20), 5, "PO-B"), Supply(days(10), 3, "PO-A")]

    # when a 7-unit line takes 2 from stock, 3 from PO-A and 2 from PO-B
    result = promise(available_now=2, supply=supply, queue=[QueueEntry(1, 7)], handling_days=1)

    # then
    assert result.promises == {1: Promise(1, days(21), False, "PO-B")}
    assert result.shortfall == 0


def test_a_line_completed_by_the_last_unit_of_a_source_is_covered_by_that_source() -> None:
    result = promise(
        available_now=3,
        supply=[Supply(days(5), 4, "PO-1"), Supply(days(9), 4, "PO-2")],
        queue=[QueueEntry(1, 3), QueueEntry(2, 4), QueueEntry(3, 1)],
        handling_days=0,
    )

    assert result.promises == {
        1: Promise(1, TODAY, False, STOCK_REFERENCE),
        2: Promise(2, days(5), False, "PO-1"),
        3: Promise(3, days(9), False, "PO-2"),
    }


def test_uncovered_lines_get_estimates_and_count_toward_the_shortfall() -> None:
    result = promise(
        available_now=2,
        supply=[Supply(days(5), 3, "PO-1")],
        queue=[QueueEntry(1, 4), QueueEntry(2, 3), QueueEntry(3, 6)],
        handling_days=1,
        estimate_lead_days=14,
    )

    assert result.promises == {
        1: Promise(1, days(6), False, "PO-1"),
        # one unit of PO-1 left, two short
        2: Promise(2, days(15), True, None),
        3: Promise(3, days(15), True, None),
    }
    assert result.shortfall == 2 + 6


def test_with_no_supply_at_all_every_line_is_an_estimate() -> None:
    result = promise(queue=[QueueEntry(1, 1), QueueEntry(2, 2)], estimate_lead_days=7)

    assert result.promises == {
        1: Promise(1, days(8), True, None),
        2: Promise(2, days(8), True, None),
    }
    assert result.shortfall == 3


def test_an_estimate_is_never_earlier_than_the_last_purchase_order_ahead_of_it() -> None:
    # PO-1 arrives after the supplier's usual lead time: a new order might
    # arrive sooner, but its units would go to line 1 first.
    result = promise(
        supply=[Supply(days(40), 2, "PO-1")],
        queue=[QueueEntry(1, 2), QueueEntry(2, 1)],
        handling_days=1,
        estimate_lead_days=14,
    )

    assert result.promises == {
        1: Promise(1, days(41), False, "PO-1"),
        2: Promise(2, days(41), True, None),
    }
    assert result.shortfall == 1


def test_an_overdue_expected_date_promises_today_plus_handling() -> None:
    result = promise(
        supply=[Supply(days(-5), 2, "PO-LATE")],
        queue=[QueueEntry(1, 2)],
        handling_days=3,
    )

    assert result.promises == {1: Promise(1, days(3), False, "PO-LATE")}


def test_zero_quantity_lines_get_no_promise_and_zero_quantity_supply_is_ignored() -> None:
    result = promise(
        available_now=1,
        supply=[Supply(days(1), 0, "PO-EMPTY"), Supply(days(4), 2, "PO-2")],
        queue=[QueueEntry(1, 1), QueueEntry(2, 0), QueueEntry(3, 2), QueueEntry(4, 0)],
        handling_days=0,
    )

    assert result.promises == {
        1: Promise(1, TODAY, False, STOCK_REFERENCE),
        3: Promise(3, days(4), False, "PO-2"),
    }
    assert result.shortfall == 0


def test_ties_in_supply_dates_are_broken_by_reference() -> None:
    supply = [Supply(days(7), 2, "PO-B"), Supply(days(7), 2, "PO-A")]

    result = promise(supply=supply, queue=[QueueEntry(1, 2), QueueEntry(2, 2)], handling_days=0)

    assert result.promises == {
        1: Promise(1, days(7), False, "PO-A"),
        2: Promise(2, days(7), False, "PO-B"),
    }
    assert promise(supply=supply[::-1], queue=[QueueEntry(1, 2), QueueEntry(2, 2)]) == promise(
        supply=supply, queue=[QueueEntry(1, 2), QueueEntry(2, 2)]
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"available_now": -1}, "available_now must not be negative"),
        ({"supply": [Supply(TODAY, -2, "PO-1")]}, "supply 'PO-1' quantity must not be negative"),
        ({"queue": [QueueEntry(1, 1), QueueEntry(7, -1)]}, "queue line 7 quantity must not be"),
        ({"handling_days": -1}, "handling_days must not be negative"),
        ({"estimate_lead_days": -3}, "estimate_lead_days must not be negative"),
        ({"queue": [QueueEntry(1, 1), QueueEntry(1, 2)]}, "queue line 1 appears more than once"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        promise(**arguments)


def test_a_queue_of_twenty_thousand_lines_is_promised() -> None:
    supply = [Supply(days(i % 60), 50, f"PO-{i:03d}") for i in range(200)]
    queue = [QueueEntry(line_id, 1 + line_id % 3) for line_id in range(20_000)]

    result = promise(available_now=500, supply=supply, queue=queue)

    assert len(result.promises) == 20_000
    assert result.shortfall == sum(entry.quantity for entry in queue) - 500 - 200 * 50


# --- a reference model: hand out supply one unit at a time --------------------


def reference_promise_queue(
    *,
    available_now: int,
    supply: Sequence[Supply],
    queue: Sequence[QueueEntry],
    today: date,
    handling_days: int,
    estimate_lead_days: int,
) -> PromiseResult:
    """Slow and obviously right: expand supply into units and deal them out."""
    units: list[tuple[date, str]] = [(today, STOCK_REFERENCE)] * available_now
    for row in sorted(supply, key=lambda row: (row.date, row.reference)):
        units += [(max(row.date, today), row.reference)] * row.quantity
    handling = timedelta(days=handling_days)
    estimated_date = max([today + timedelta(days=estimate_lead_days)] + [d for d, _ in units])

    promises: dict[int, Promise] = {}
    shortfall = 0
    position = 0
    for entry in queue:
        if entry.quantity == 0:
            continue
        dealt = units[position : position + entry.quantity]
        position += entry.quantity
        if len(dealt) == entry.quantity:
            last_date, last_reference = dealt[-1]
            promises[entry.line_id] = Promise(
                entry.line_id, last_date + handling, False, last_reference
            )
        else:
            shortfall += entry.quantity - len(dealt)
            promises[entry.line_id] = Promise(entry.line_id, estimated_date + handling, True, None)
    return PromiseResult(promises=promises, shortfall=shortfall)


# --- properties ---------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    available_now: int
    supply: list[Supply]
    queue: list[QueueEntry]
    today: date
    handling_days: int
    estimate_lead_days: int

    def run(self) -> PromiseResult:
        return promise_queue(
            available_now=self.available_now,
            supply=self.supply,
            queue=self.queue,
            today=self.today,
            handling_days=self.handling_days,
            estimate_lead_days=self.estimate_lead_days,
        )

    def reference(self) -> PromiseResult:
        return reference_promise_queue(
            available_now=self.available_now,
            supply=self.supply,
            queue=self.queue,
            today=self.today,
            handling_days=self.handling_days,
            estimate_lead_days=self.estimate_lead_days,
        )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    today = draw(st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)))
    supply = draw(
        st.lists(
            st.builds(
                Supply,
                date=st.integers(-20, 90).map(lambda n: today + timedelta(days=n)),
                quantity=st.integers(0, 15),
                # few references and dates, so ties happen
                reference=st.sampled_from(["PO-1", "PO-2", "PO-3", "PO-4"]),
            ),
            max_size=8,
        )
    )
    quantities = draw(st.lists(st.integers(0, 12), max_size=25))
    line_ids = draw(st.permutations(range(1, len(quantities) + 1)))
    return Scenario(
        available_now=draw(st.integers(0, 30)),
        supply=supply,
        queue=[QueueEntry(line_id, q) for line_id, q in zip(line_ids, quantities, strict=True)],
        today=today,
        handling_days=draw(st.integers(0, 5)),
        estimate_lead_days=draw(st.integers(0, 60)),
    )


@given(scenarios())
def test_promised_dates_never_decrease_along_the_queue(scenario: Scenario) -> None:
    result = scenario.run()

    in_queue_order = [result.promises[e.line_id] for e in scenario.queue if e.quantity]
    dates = [p.promised_date for p in in_queue_order]
    assert dates == sorted(dates)
    estimates = [p.is_estimate for p in in_queue_order]
    assert estimates == sorted(estimates), "estimates come after every covered line"
    assert all(p.promised_date >= scenario.today for p in in_queue_order)


@given(scenarios())
def test_promises_due_by_any_date_never_exceed_the_supply_arrived_by_then(
    scenario: Scenario,
) -> None:
    result = scenario.run()

    handling = timedelta(days=scenario.handling_days)
    quantity = {e.line_id: e.quantity for e in scenario.queue}
    covered = [p for p in result.promises.values() if not p.is_estimate]
    supply_dates = [max(row.date, scenario.today) for row in scenario.supply]
    for d in {scenario.today, *supply_dates, *(p.promised_date - handling for p in covered)}:
        promised_by_d = sum(quantity[p.line_id] for p in covered if p.promised_date - handling <= d)
        arrived_by_d = scenario.available_now + sum(
            row.quantity for row in scenario.supply if max(row.date, scenario.today) <= d
        )
        assert promised_by_d <= arrived_by_d, d


@given(scenarios())
def test_the_engine_agrees_with_dealing_out_units_one_by_one(scenario: Scenario) -> None:
    assert scenario.run() == scenario.reference()


@given(scenarios())
def test_shortfall_is_demand_not_covered_by_stock_and_supply(scenario: Scenario) -> None:
    demand = sum(e.quantity for e in scenario.queue)
    supply = scenario.available_now + sum(row.quantity for row in scenario.supply)

    result = scenario.run()

    assert result.shortfall == max(0, demand - supply)
    assert set(result.promises) == {e.line_id for e in scenario.queue if e.quantity}


@given(scenarios(), st.randoms(use_true_random=False))
def test_the_order_supply_is_listed_in_does_not_matter(scenario: Scenario, random: Random) -> None:
    shuffled = list(scenario.supply)
    random.shuffle(shuffled)

    assert (
        promise_queue(
            available_now=scenario.available_now,
            supply=shuffled,
            queue=scenario.queue,
            today=scenario.today,
            handling_days=scenario.handling_days,
            estimate_lead_days=scenario.estimate_lead_days,
        )
        == scenario.run()
    )
