"""The calibrated promise engine: each supplier's record, the confidence asked,
the warehouse's working days (orders.promising)."""

from __future__ import annotations

import math
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from orders.promising import (
    Calibration,
    Promise,
    QueueEntry,
    Supply,
    WorkingDays,
    promise_queue,
    supplier_lateness,
)

TODAY = date(2026, 3, 16)  # a Monday
NL_2026 = frozenset({date(2026, 4, 3), date(2026, 4, 6), date(2026, 4, 27), date(2026, 5, 5)})
SUPPLIERS = (1, 2, 3, None)

supplies = st.lists(
    st.builds(
        Supply,
        date=st.integers(-5, 60).map(lambda n: TODAY + timedelta(days=n)),
        quantity=st.integers(0, 8),
        reference=st.sampled_from(["PO-1", "PO-2", "PO-3", "PO-4", "PO-5"]),
        supplier=st.sampled_from(SUPPLIERS),
    ),
    max_size=6,
)
queues = st.lists(st.integers(0, 6), max_size=12).map(
    lambda quantities: [QueueEntry(line_id=i + 1, quantity=q) for i, q in enumerate(quantities)]
)
calibrations = st.builds(
    Calibration,
    lateness_days=st.dictionaries(st.sampled_from((1, 2, 3)), st.integers(0, 20)),
    shop_lateness_days=st.integers(0, 10),
    working_days=st.sampled_from(
        [WorkingDays(), WorkingDays(holidays=NL_2026), WorkingDays(weekend=frozenset({6}))]
    ),
)


def run(
    supply: list[Supply],
    queue: list[QueueEntry],
    *,
    calibration: Calibration | None = None,
    available: int = 0,
    handling: int = 1,
    lead: int = 14,
    supplier: int | None = None,
) -> dict[int, Promise]:
    return promise_queue(
        available_now=available,
        supply=supply,
        queue=queue,
        today=TODAY,
        handling_days=handling,
        estimate_lead_days=lead,
        calibration=calibration,
        estimate_supplier=supplier,
    ).promises


@given(
    supply=supplies,
    queue=queues,
    calibration=calibrations,
    available=st.integers(0, 5),
    handling=st.integers(0, 3),
    supplier=st.sampled_from(SUPPLIERS),
)
def test_calibrated_promises_never_decrease_along_the_queue(
    supply: list[Supply],
    queue: list[QueueEntry],
    calibration: Calibration,
    available: int,
    handling: int,
    supplier: int | None,
) -> None:
    promises = run(
        supply,
        queue,
        calibration=calibration,
        available=available,
        handling=handling,
        supplier=supplier,
    )
    dates = [promises[entry.line_id].promised_date for entry in queue if entry.quantity]

    assert dates == sorted(dates)


@given(
    supply=supplies,
    queue=queues,
    calibration=calibrations,
    available=st.integers(0, 5),
    handling=st.integers(0, 3),
    supplier=st.sampled_from(SUPPLIERS),
)
def test_a_calibrated_promise_is_never_earlier_than_the_naive_one(
    supply: list[Supply],
    queue: list[QueueEntry],
    calibration: Calibration,
    available: int,
    handling: int,
    supplier: int | None,
) -> None:
    naive = run(supply, queue, available=available, handling=handling)
    calibrated = run(
        supply,
        queue,
        calibration=calibration,
        available=available,
        handling=handling,
        supplier=supplier,
    )

    assert calibrated.keys() == naive.keys()
    for line_id, promise in calibrated.items():
        assert promise.promised_date >= naive[line_id].promised_date
        assert promise.is_estimate == naive[line_id].is_estimate


@given(supply=supplies, queue=queues, calibration=calibrations, handling=st.integers(0, 3))
def test_calibrated_promises_fall_on_working_days_only(
    supply: list[Supply], queue: list[QueueEntry], calibration: Calibration, handling: int
) -> None:
    promises = run(supply, queue, calibration=calibration, available=2, handling=handling)

    for promise in promises.values():
        assert calibration.working_days.is_working(promise.promised_date)


@given(
    shop=st.lists(st.integers(-3, 40), min_size=1, max_size=40),
    confidence=st.sampled_from([0.5, 0.8, 0.9, 0.95]),
)
def test_a_supplier_with_no_history_gets_the_shop_wide_record(
    shop: list[int], confidence: float
) -> None:
    ordered = sorted(shop)
    quantile = ordered[max(math.ceil(confidence * len(ordered)) - 1, 0)]

    assert supplier_lateness(own=[], shop=shop, confidence=confidence) == max(quantile, 0)
    calibration = Calibration(
        lateness_days={7: 30}, shop_lateness_days=max(quantile, 0), working_days=WorkingDays()
    )
    assert calibration.lateness_of(8) == calibration.lateness_of(None) == max(quantile, 0)


def test_a_supplier_with_a_long_record_is_judged_by_its_own() -> None:
    own = [10] * 95 + [0] * 5
    shop = [0] * 1000

    assert supplier_lateness(own=own, shop=shop, confidence=0.9) == 10
    # One late delivery weighs 1/6 against the shop's on-time record: the 80 %
    # promise rests on the shop's; three weigh 3/8, and it rests on the supplier's.
    assert supplier_lateness(own=[10], shop=shop, confidence=0.8) == 0
    assert supplier_lateness(own=[10, 10, 10], shop=shop, confidence=0.8) == 10
    assert supplier_lateness(own=[], shop=[], confidence=0.9) == 0


def test_handling_counts_working_days_and_skips_holidays() -> None:
    # Goods due Thursday 2 April 2026; Good Friday and Easter Monday are Dutch holidays.
    calibration = Calibration(
        lateness_days={}, shop_lateness_days=0, working_days=WorkingDays(holidays=NL_2026)
    )
    supply = [Supply(date(2026, 4, 2), 5, "PO-1", supplier=1)]
    queue = [QueueEntry(line_id=1, quantity=2)]

    assert run(supply, queue)[1].promised_date == date(2026, 4, 3)  # Good Friday
    assert run(supply, queue, calibration=calibration)[1].promised_date == date(2026, 4, 7)


def test_supply_is_handed_out_in_the_order_it_is_now_expected() -> None:
    # A slow supplier's earlier date arrives after a reliable supplier's later one.
    calibration = Calibration(
        lateness_days={1: 10, 2: 0}, shop_lateness_days=0, working_days=WorkingDays()
    )
    supply = [
        Supply(TODAY + timedelta(days=3), 2, "PO-SLOW", supplier=1),
        Supply(TODAY + timedelta(days=7), 2, "PO-FAST", supplier=2),
    ]
    queue = [QueueEntry(line_id=1, quantity=2), QueueEntry(line_id=2, quantity=2)]

    promises = run(supply, queue, calibration=calibration)

    assert promises[1].covered_by == "PO-FAST"
    assert promises[2].covered_by == "PO-SLOW"
    assert promises[2].promised_date == date(2026, 3, 31)  # 19 + 10: Sunday; Monday, +1 working day


def test_a_date_the_supplier_already_moved_needs_only_the_revised_margin() -> None:
    calibration = Calibration(
        lateness_days={1: 9},
        shop_lateness_days=0,
        working_days=WorkingDays(),
        revised_lateness_days={1: 1},
    )
    due = TODAY + timedelta(days=10)  # Thursday 26 March
    queue = [QueueEntry(line_id=1, quantity=1)]

    quoted = run([Supply(due, 1, "PO-1", supplier=1)], queue, calibration=calibration)
    revised = run(
        [Supply(due, 1, "PO-1", supplier=1, revised=True)], queue, calibration=calibration
    )

    assert quoted[1].promised_date == date(2026, 4, 7)  # 26 + 9: Saturday; Monday, +1
    assert revised[1].promised_date == date(2026, 3, 30)  # 26 + 1: Friday; +1: Monday


@given(
    supply=supplies,
    queue=queues,
    calibration=calibrations,
    offset=st.integers(0, 20),
    handling=st.integers(0, 3),
    lead=st.integers(0, 30),
    supplier=st.sampled_from(SUPPLIERS),
)
def test_on_any_day_of_the_week_promises_keep_the_three_properties(
    supply: list[Supply],
    queue: list[QueueEntry],
    calibration: Calibration,
    offset: int,
    handling: int,
    lead: int,
    supplier: int | None,
) -> None:
    # Weekends and Easter included: the estimate's purchase order waits for a working day.
    today = TODAY + timedelta(days=offset)
    arguments = {
        "available_now": 1,
        "supply": supply,
        "queue": queue,
        "today": today,
        "handling_days": handling,
        "estimate_lead_days": lead,
    }
    naive = promise_queue(**arguments).promises  # type: ignore[arg-type]
    calibrated = promise_queue(
        **arguments,  # type: ignore[arg-type]
        calibration=calibration,
        estimate_supplier=supplier,
    ).promises
    dates = [calibrated[entry.line_id].promised_date for entry in queue if entry.quantity]

    assert dates == sorted(dates)
    for line_id, promise in calibrated.items():
        assert calibration.working_days.is_working(promise.promised_date)
        assert promise.promised_date >= naive[line_id].promised_date
        if promise.is_estimate:
            raised = calibration.working_days.on_or_after(today)
            assert promise.promised_date >= raised + timedelta(days=lead)


def test_an_estimate_counts_the_lead_time_from_the_next_working_day() -> None:
    # Ordered on Saturday 21 March: purchasing raises the order on Monday the
    # 23rd, 10 days' lead: Thursday 2 April, one handling day: Friday the 3rd.
    saturday = date(2026, 3, 21)
    calibration = Calibration(lateness_days={}, shop_lateness_days=0, working_days=WorkingDays())
    promise = promise_queue(
        available_now=0,
        supply=[],
        queue=[QueueEntry(line_id=1, quantity=1)],
        today=saturday,
        handling_days=1,
        estimate_lead_days=10,
        calibration=calibration,
    ).promises[1]

    assert promise.is_estimate
    assert promise.promised_date == date(2026, 4, 3)
    # The naive engine counts from the Saturday: Tuesday 31 March + 1 day.
    naive = promise_queue(
        available_now=0,
        supply=[],
        queue=[QueueEntry(line_id=1, quantity=1)],
        today=saturday,
        handling_days=1,
        estimate_lead_days=10,
    ).promises[1]
    assert naive.promised_date == date(2026, 4, 1)
