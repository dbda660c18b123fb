"""Backorder Desk benchmarks: `python -m bench [--scale small|full] [--only B1,B3] [--repeat N]`.

B1 the queue page, B2 receiving, B3 promises, B4 email delivery through real
Celery workers, B5 order intake under concurrency, B6 the same over the
storefront API (gunicorn, HTTP clients, idempotent replays), B7 a cart's
availability through the API (in-process), B8 shop webhooks into gunicorn,
B9 a CSV import of 10,000 products (check and apply).
Prints a table (median, p95, target, baseline, ratio, pass/miss) and writes
bench/results/<date>-<scale>.json. See README.md, "Performance".

The exit code is non-zero only for errors, duplicate or lost messages and
oversold stock — never for a missed timing target.

Scales: small (about 20,000 order lines; a few minutes) runs on PostgreSQL
and Redis when DATABASE_URL / REDIS_URL are set and otherwise on SQLite,
skipping what needs the servers (and saying so); full (about 1,000,000
order lines, 200,000 backordered, 5,000 products) needs PostgreSQL.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

from bench.common import Context, machine_load, table, today_stamp, write_json
from bench.database import prepare, target_for

SCALES = {"small": 20_000, "full": 1_000_000}
BENCHMARKS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9")
RESULTS = Path(__file__).resolve().parent / "results"


def busy_neighbours() -> list[str]:
    """Other test runs and workers on the machine (they make timings noisy)."""
    mine = {os.getpid(), os.getppid()}
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) in mine:
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if ("pytest" in cmd or "playwright" in cmd) and "bench" not in cmd:
            found.append(cmd.strip()[:120])
    return found


def redis_url_for_bench(scale: str) -> str | None:
    """Redis for B4: BENCH_REDIS_URL, else REDIS_URL's server on database 13
    (a database of its own, so nobody else's purge or worker touches the
    bench's queue), else the local server at full scale."""
    explicit = os.environ.get("BENCH_REDIS_URL", "").strip()
    if explicit:
        return explicit
    base = os.environ.get("REDIS_URL", "").strip()
    if not base and scale == "full":
        base = "redis://127.0.0.1:6379/0"
    if not base:
        return None
    server, _sep, _db = base.rpartition("/")
    return f"{server}/13" if server.count("/") >= 2 else f"{base.rstrip('/')}/13"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated, e.g. B1,B3")
    parser.add_argument(
        "--repeat", type=int, default=None, help="measurements per figure (default 3; B1 ×5)"
    )
    parser.add_argument(
        "--lines", type=int, default=None, help="order lines to seed (default: by scale)"
    )
    parser.add_argument(
        "--proposed-indexes",
        action="store_true",
        help="build the indexes bench/database.py proposes on this run's copy (PostgreSQL)",
    )
    parser.add_argument("--no-json", action="store_true", help="print only, write no results file")
    args = parser.parse_args(argv)
    only = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {', '.join(BENCHMARKS)}")
    repeat = max(1, args.repeat or 3)

    def say(message: str) -> None:
        print(message, flush=True)

    started = time.monotonic()
    target = target_for(args.scale, args.lines or SCALES[args.scale])
    if args.scale == "full" and not target.postgres:
        say("full scale needs PostgreSQL: set DATABASE_URL=postgres://… (or BENCH_DATABASE_URL)")
        return 2
    neighbours_before = busy_neighbours()
    say(
        f"== Backorder Desk benchmarks, {args.scale} scale "
        f"({target.order_lines:,} order lines) on {target.url}"
    )
    try:
        prepared = prepare(target, say=say, proposed_indexes=args.proposed_indexes)
    except (subprocess.CalledProcessError, OSError, Exception) as error:
        say(f"could not prepare the benchmark database: {error}")
        return 2
    say(f"database ready in {prepared:.1f} s")

    redis_url = redis_url_for_bench(args.scale)
    os.environ["DATABASE_URL"] = target.url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The benchmarks publish to their own Redis database (B4 sets it up);
    # everything else runs its Celery tasks in-process, as the embedded mode.
    os.environ.pop("REDIS_URL", None)
    os.environ["EMAIL_URL"] = "locmem://"
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    logging.getLogger("axes").setLevel(logging.WARNING)
    from django.db import connection

    ctx = Context(
        scale=args.scale,
        repeat=repeat,
        vendor=connection.vendor,
        redis_url=redis_url,
        database_url=target.url,
        say=say,
    )
    from bench import (
        api_intake,
        availability,
        delivery,
        imports,
        intake,
        promises,
        queue_page,
        receiving,
        webhooks,
    )

    runners = {
        "B1": queue_page.run,
        "B2": receiving.run,
        "B3": promises.run,
        "B4": delivery.run,
        "B5": intake.run,
        "B6": api_intake.run,
        "B7": availability.run,
        "B8": webhooks.run,
        "B9": imports.run,
    }
    loads: dict[str, dict[str, object]] = {}
    for name in only:
        say(f"-- {name}")
        loads[name] = {"before": machine_load()}
        began = time.monotonic()
        try:
            runners[name](ctx)
        except Exception as error:
            traceback.print_exc()
            ctx.problem(name, f"error: {type(error).__name__}: {error}")
        loads[name].update(after=machine_load(), seconds=round(time.monotonic() - began, 1))

    if {"B2", "B5", "B6", "B8"} & set(only):
        say("-- stock consistency (orders.checks)")
        from orders.checks import stock_problems

        problems = stock_problems()
        for stock_problem in problems[:20]:
            ctx.problem("stock", stock_problem)
        say(f"  {len(problems)} stock problems")

    elapsed = time.monotonic() - started
    neighbours = sorted(set(neighbours_before) | set(busy_neighbours()))
    say("")
    say(
        f"Backorder Desk benchmarks, {args.scale} scale, {connection.vendor}, "
        f"{target.order_lines:,} order lines seeded, {elapsed:.0f} s"
    )
    say(table(ctx.figures))
    say("p95 of a rate (/s) is the rate 95 % of the samples reach (the slow tail).")
    for skip in ctx.skips:
        say(f"skipped {skip.benchmark}: {skip.why}")
    for note in ctx.notes:
        say(f"note: {note}")
    if neighbours:
        say(
            f"NOISY: {len(neighbours)} other test processes ran on this "
            f"{os.cpu_count()}-core machine during the run; rerun quiet for final figures."
        )
    for problem in ctx.problems:
        say(f"PROBLEM {problem.benchmark}: {problem.what}")

    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        suffix = "" if set(only) == set(BENCHMARKS) else "-" + "-".join(only)
        if args.proposed_indexes:
            suffix += "-proposed-indexes"
        path = RESULTS / f"{today_stamp()}-{args.scale}{suffix}.json"
        write_json(
            str(path),
            {
                "scale": args.scale,
                "order_lines_seeded": target.order_lines,
                "database": connection.vendor,
                "started": time.strftime(
                    "%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - elapsed)
                ),
                "seconds": round(elapsed, 1),
                "prepare_seconds": round(prepared, 1),
                "only": only,
                "repeat": repeat,
                "proposed_indexes": args.proposed_indexes,
                "figures": [f.as_json() for f in ctx.figures],
                "skipped": [s.__dict__ for s in ctx.skips],
                "notes": ctx.notes,
                "problems": [p.__dict__ for p in ctx.problems],
                "load": loads,
                "other_test_processes": neighbours,
            },
        )
        say(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 1 if ctx.problems else 0


if __name__ == "__main__":
    sys.exit(main())
