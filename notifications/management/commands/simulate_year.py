"""`manage.py simulate_year`: a year of the shop on a fresh database, measured."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from tqdm import tqdm

from config.celery import app as celery_app
from notifications.simulation import SimulationSize, simulate

TABLE = (
    ("lines_backordered", "backordered lines"),
    ("kept_first_pct", "% shipped by first promise"),
    ("kept_latest_pct", "% shipped by latest promise"),
    ("emails_per_waiting_line", "emails per waiting line"),
    ("median_abs_error_days", "median |first promise - actual| (days)"),
    ("p90_abs_error_days", "p90 |first promise - actual| (days)"),
    ("mean_promised_wait_days", "mean promised wait (days)"),
    ("mean_actual_wait_days", "mean actual wait (days)"),
    ("apologies", "apologies"),
    ("discounts", "discounts"),
    ("confidence_pct", "promise confidence (%)"),
    ("check_stock_clean", "check_stock clean"),
    ("wall_s", "wall time (s)"),
    ("cpu_s", "CPU time (s)"),
)


class Command(BaseCommand):
    help = (
        "Run a simulated year of a believable shop through the real use cases on a fresh "
        "database (SQLite in build/ unless DATABASE_URL is set: then a fresh test_<name> "
        "database), and print how many promises were kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--engine", choices=("naive", "calibrated"), default="calibrated")
        parser.add_argument(
            "--confidence",
            type=int,
            default=None,
            help="The policy's promise confidence in percent (50-99) for the run; "
            "the policy's default (80) otherwise.",
        )
        parser.add_argument("--json", dest="json_path", default="", help="Write the figures here.")
        parser.add_argument("--products", type=int, default=SimulationSize.products)
        parser.add_argument("--orders-per-day", type=float, default=SimulationSize.orders_per_day)

    def handle(self, *args: Any, **options: Any) -> None:
        days, seed, engine = options["days"], options["seed"], options["engine"]
        if options["confidence"] is not None and not 50 <= options["confidence"] <= 99:
            raise CommandError("--confidence must be between 50 and 99 (percent).")
        old_name = connection.settings_dict["NAME"]
        if connection.vendor == "sqlite":
            suffix = f"-{options['confidence']}" if options["confidence"] is not None else ""
            path = (
                Path(settings.BASE_DIR) / "build" / f"simulate_year-{seed}-{engine}{suffix}.sqlite3"
            )
            path.parent.mkdir(exist_ok=True)
            connection.settings_dict.setdefault("TEST", {})["NAME"] = str(path)
        self.stderr.write("Creating a fresh database…")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous = OFF")
        # Messages are delivered in-process, whatever broker the settings name.
        celery_app.conf.task_always_eager = True
        logging.getLogger("celery").setLevel(logging.WARNING)
        try:
            with tqdm(total=days, unit="day", desc=f"seed {seed} {engine}") as bar:
                # The simulation moves time.time(); the bar keeps real time.
                bar._time = time.perf_counter  # type: ignore[attr-defined]
                bar.start_t = bar.last_print_t = time.perf_counter()
                figures = simulate(
                    seed=seed,
                    days=days,
                    engine=engine,
                    size=SimulationSize(
                        products=options["products"], orders_per_day=options["orders_per_day"]
                    ),
                    progress=bar.update,
                    confidence=options["confidence"],
                )
        finally:
            if connection.vendor != "sqlite":
                connection.creation.destroy_test_db(old_name, verbosity=0)
        result = figures.as_json()
        width = max(len(label) for _key, label in TABLE)
        self.stdout.write(f"simulate_year seed {seed}, {days} days, engine {engine}")
        for key, label in TABLE:
            self.stdout.write(f"  {label:<{width}}  {result[key]}")
        self.stdout.write(f"  {'first promises broken by':<{width}}  {result['broken_first_by']}")
        if options["json_path"]:
            target = Path(options["json_path"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(result, indent=2, default=str) + "\n")
