"""Where the benchmarks run: a seeded template database, cloned fresh for every run.

On PostgreSQL a scale has two databases on the server of DATABASE_URL (or
BENCH_DATABASE_URL, which names the working database itself):

- `<name>_seed`: the seeded shop (`manage.py seed`, then every promise
  computed), built once. Its database comment records what it holds
  (order lines, seed, migrations); a later run reuses it when that matches,
  so reruns do not reseed for minutes. New migrations are applied to it.
- `<name>`: a copy of the seed made for every run (CREATE DATABASE …
  TEMPLATE, a file copy: seconds), so every run starts from the same rows
  whatever the previous run wrote.

Without PostgreSQL (small scale only) the benchmarks that can run on SQLite
use a file under build/, rebuilt when its size does not match.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SEED_VERSION = 1  # bump when the seeding recipe below changes
DEFAULT_PG_SERVER = "postgres://postgres@127.0.0.1:5432"

# Indexes the benchmarks showed are needed and no migration adds yet.
# `python -m bench --proposed-indexes` builds them on the run's copy only
# (never on the seed, where a later migration of the same name would clash);
# IF NOT EXISTS makes this a no-op once the migration exists.
PROPOSED_INDEXES: list[str] = [
    # B1's order_line_queue_global is migration orders 0005.
    # B7: the availability's queue-tail sum reads every waiting line's heap page
    # (~230 a product for the most waited-for); with the quantities in the index
    # it can be an index-only scan — as long as the visibility map says the pages
    # are all-visible, which every promise refresh undoes until the next vacuum.
    "CREATE INDEX IF NOT EXISTS order_line_queue_covering ON orders_orderline "
    "(product_id, warehouse_id, priority DESC, customer_tier, placed_at, id) "
    "INCLUDE (ordered, allocated, shipped, cancelled) "
    "WHERE ordered > allocated + shipped + cancelled",
]


@dataclass(frozen=True)
class Target:
    scale: str
    order_lines: int
    url: str  # the working database

    @property
    def postgres(self) -> bool:
        return self.url.startswith(("postgres://", "postgresql://"))

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    @property
    def seed_name(self) -> str:
        return f"{self.name}_seed"

    def url_for(self, database: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


def target_for(scale: str, order_lines: int) -> Target:
    """The working database for a scale, from BENCH_DATABASE_URL or DATABASE_URL.

    Full scale is PostgreSQL only: without either variable it uses the
    development server (127.0.0.1:5432, user postgres).
    """
    explicit = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if explicit:
        return Target(scale, order_lines, explicit)
    base = os.environ.get("DATABASE_URL", "").strip()
    if base.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(base)
        server = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    elif scale == "full":
        server = DEFAULT_PG_SERVER
    else:
        path = ROOT / "build" / f"bench-{scale}.sqlite3"
        return Target(scale, order_lines, f"sqlite:///{path}")
    return Target(scale, order_lines, f"{server}/backorder_desk_bench_{scale}")


def _admin_connection(target: Target):
    import psycopg

    parts = urlsplit(target.url_for("postgres"))
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


def _manage(url: str, *args: str, quiet: bool = False) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    env["DEBUG"] = "false"
    env.pop("REDIS_URL", None)  # seeding publishes nothing
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def _migration_names() -> str:
    """A short fingerprint of the migration files in the work tree."""
    import hashlib

    names = sorted(
        str(path.relative_to(ROOT)) for path in ROOT.glob("*/migrations/0*.py") if path.is_file()
    )
    return hashlib.sha1("\n".join(names).encode()).hexdigest()[:12]  # noqa: S324 - a fingerprint


def _seed_label(target: Target) -> str:
    return f"backorder-desk bench seed v{SEED_VERSION}: order_lines={target.order_lines} seed=1"


def _full_label(target: Target) -> str:
    """The seed's label: what was seeded and under which migrations."""
    return f"{_seed_label(target)} migrations={_migration_names()}"


PROMISE_ALL = (
    "from orders.services.promises import promises_refresh; "
    "changes = promises_refresh(cause='bench seed'); "
    "print(f'promised {len(changes):,} backordered lines')"
)


def prepare(target: Target, *, say=print, proposed_indexes: bool = False) -> float:
    """Make the working database ready (seed once, clone every run); returns seconds."""
    started = time.monotonic()
    if not target.postgres:
        return _prepare_sqlite(target, say=say, started=started)
    with _admin_connection(target) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [target.seed_name],
        ).fetchone()
        label = (row[0] or "") if row else None
        # A seed made under other migrations is made again, not migrated: a
        # migration can change how rows are stored (orders 0006 set the order
        # line table's fillfactor, which only rows written afterwards follow).
        fresh = label is not None and label == _full_label(target)
        if not fresh:
            say(
                f"seeding {target.seed_name} with about {target.order_lines:,} order lines "
                f"(once; later runs reuse it) …"
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{target.seed_name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{target.seed_name}"')
    seed_url = target.url_for(target.seed_name)
    if not fresh:
        _manage(seed_url, "migrate", "--noinput", "-v0")
        _manage(seed_url, "seed", "--order-lines", str(target.order_lines))
        _manage(seed_url, "shell", "-c", PROMISE_ALL)
    with _admin_connection(target) as admin:
        if not fresh:
            with _connect(target, target.seed_name) as seed:
                seed.execute("VACUUM ANALYZE")
        admin.execute(f"COMMENT ON DATABASE \"{target.seed_name}\" IS '{_full_label(target)}'")
        admin.execute(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')
        admin.execute(
            f'CREATE DATABASE "{target.name}" TEMPLATE "{target.seed_name}" STRATEGY FILE_COPY'
        )
    if proposed_indexes:
        with _connect(target, target.name) as work:
            for statement in PROPOSED_INDEXES:
                say(f"proposed index: {statement}")
                work.execute(statement)
            work.execute("ANALYZE orders_orderline")
    return time.monotonic() - started


def _connect(target: Target, database: str):
    import psycopg

    parts = urlsplit(target.url_for(database))
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=database,
        autocommit=True,
    )


def _prepare_sqlite(target: Target, *, say, started: float) -> float:
    import shutil

    path = Path(urlsplit(target.url).path)
    seed = path.with_name(f"{path.stem}_seed{path.suffix}")
    marker = seed.with_suffix(".seeded")
    label = _full_label(target)
    if not (seed.exists() and marker.exists() and marker.read_text() == label):
        say(f"seeding {seed} with about {target.order_lines:,} order lines …")
        seed.parent.mkdir(parents=True, exist_ok=True)
        for stale in (seed, marker, Path(f"{seed}-wal"), Path(f"{seed}-shm")):
            stale.unlink(missing_ok=True)
        seed_url = f"sqlite:///{seed}"
        _manage(seed_url, "migrate", "--noinput", "-v0")
        _manage(seed_url, "seed", "--order-lines", str(target.order_lines))
        _manage(seed_url, "shell", "-c", PROMISE_ALL)
        marker.write_text(label)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(seed, path)
    return time.monotonic() - started
