"""What every benchmark shares: figures, statistics, the table and the JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 < fraction ≤ 1) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Figure:
    """One measured figure: several samples, a target, maybe a baseline.

    `higher_is_better` figures are rates (lines/s, messages/s): their "p95" is
    the pessimistic tail, the rate 95 % of the samples reach (the 5th
    percentile). For times it is the 95th percentile.
    """

    key: str
    label: str
    unit: str
    samples: list[float]
    higher_is_better: bool = False
    target: float | None = None  # checked against p95 (times) or median (rates)
    target_on: str = "p95"
    baseline: float | None = None  # the baseline's median, same unit
    baseline_label: str = ""
    ratio_target: float | None = None  # times: baseline/figure ≥; floors: figure/baseline ≤
    ratio_kind: str = "speedup"  # "speedup" (baseline ÷ figure) or "of_floor" (figure ÷ baseline)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        return percentile(self.samples, 0.05 if self.higher_is_better else 0.95)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.samples or self.median == 0 or self.baseline == 0:
            return None
        if self.ratio_kind == "speedup":
            return self.baseline / self.median
        return self.median / self.baseline

    def checks(self) -> list[bool]:
        results = []
        if self.target is not None:
            value = self.p95 if self.target_on == "p95" else self.median
            results.append(value >= self.target if self.higher_is_better else value <= self.target)
        ratio = self.ratio
        if self.ratio_target is not None and ratio is not None:
            if self.ratio_kind == "speedup":
                results.append(ratio >= self.ratio_target)
            else:
                results.append(ratio <= self.ratio_target)
        return results

    @property
    def verdict(self) -> str:
        checks = self.checks()
        if not checks:
            return "-"
        return "pass" if all(checks) else "MISS"

    def target_text(self) -> str:
        parts = []
        if self.target is not None:
            op = "≥" if self.higher_is_better else "≤"
            parts.append(f"{self.target_on} {op} {fmt(self.target)} {self.unit}")
        if self.ratio_target is not None:
            if self.ratio_kind == "speedup":
                parts.append(f"≥ {self.ratio_target:g}× faster")
            else:
                parts.append(f"≤ {self.ratio_target:g}× floor")
        return ", ".join(parts) or "-"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(median=self.median, p95=self.p95, ratio=self.ratio, verdict=self.verdict)
        return data


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


@dataclass
class Problem:
    """Something that makes the run fail: an error, a duplicate, a loss, an oversell."""

    benchmark: str
    what: str


@dataclass
class Skip:
    benchmark: str
    why: str


@dataclass
class Context:
    """Handed to every benchmark: the scale, the repeat count, where to report."""

    scale: str
    repeat: int
    vendor: str
    redis_url: str | None
    database_url: str
    say: Callable[[str], None]
    figures: list[Figure] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return self.scale == "full"

    def add(self, figure: Figure) -> Figure:
        self.figures.append(figure)
        self.say(
            f"  {figure.label}: median {fmt(figure.median)} {figure.unit}, "
            f"p95 {fmt(figure.p95)} {figure.unit}"
            + (f", ratio {figure.ratio:.2f}" if figure.ratio is not None else "")
            + f" [{figure.verdict}]"
        )
        return figure

    def problem(self, benchmark: str, what: str) -> None:
        self.problems.append(Problem(benchmark, what))
        self.say(f"  PROBLEM ({benchmark}): {what}")

    def skip(self, benchmark: str, why: str) -> None:
        self.skips.append(Skip(benchmark, why))
        self.say(f"  skipped {benchmark}: {why}")


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as took:` … then `took[0]` is the seconds it took."""
    box: list[float] = []
    started = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - started)


def table(figures: list[Figure]) -> str:
    headers = ["figure", "median", "p95", "target", "baseline", "ratio", "result"]
    rows = []
    for f in figures:
        rows.append(
            [
                f.label,
                f"{fmt(f.median)} {f.unit}",
                f"{fmt(f.p95)} {f.unit}",
                f.target_text(),
                f"{fmt(f.baseline)} {f.unit}" if f.baseline is not None else "-",
                f"{f.ratio:.2f}×" if f.ratio is not None else "-",
                f.verdict,
            ]
        )
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for r in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def machine_load() -> dict[str, Any]:
    """The load average and the busiest other processes: timings taken while
    others run tests on a 2-core machine are noisy, and the report says so."""
    info: dict[str, Any] = {"cpus": os.cpu_count()}
    with suppress(OSError):
        info["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    return info


def write_json(path: str, payload: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(payload, out, indent=2, default=str)
        out.write("\n")


def today_stamp() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d")
