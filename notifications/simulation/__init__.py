"""A simulated year of the shop, to measure how many promises are kept.

`simulate` plays a believable shop day by day through `notifications.updates`
(world.py, on the shop of shop.py) and reads the figures back from the
outbox, the ledger and the promise history (figures.py). `manage.py
simulate_year` runs it on a fresh database."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.test.utils import override_settings

from notifications.models import CompensationPolicy
from notifications.simulation.figures import YearFigures, year_figures
from notifications.simulation.world import ShopYear, SimulationSize

__all__ = ["SimulationSize", "YearFigures", "simulate"]


def simulate(
    *,
    seed: int,
    days: int,
    engine: str,
    size: SimulationSize | None = None,
    progress: Callable[[int], object] | None = None,
    confidence: int | None = None,
) -> YearFigures:
    """Play `days` days of the shop with the promise engine `engine` on the
    current (empty) database and measure them. Messages go to the in-memory
    mail box: the outbox rows are what is measured. `confidence` (percent)
    is set on the compensation policy first: the calibrated engine's margin."""
    started, cpu_started = time.perf_counter(), time.process_time()
    with override_settings(
        PROMISE_ENGINE=engine, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
    ):
        policy = CompensationPolicy.current()
        if confidence is not None:
            policy.promise_confidence_percent = confidence
            policy.full_clean()
            policy.save()
        year = ShopYear(seed=seed, days=days, size=size, progress=progress)
        first_day, last_day = year.run()
        figures = year_figures(engine=engine, seed=seed, first_day=first_day, last_day=last_day)
    figures.confidence_pct = policy.promise_confidence_percent if engine == "calibrated" else None
    figures.wall_s = round(time.perf_counter() - started, 1)
    figures.cpu_s = round(time.process_time() - cpu_started, 1)
    return figures
