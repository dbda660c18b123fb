"""Shared fixtures, and the rule for tests that need real services.

A test marked `postgres`, `redis` or `browser` skips with the reason when that
service is not there, and fails instead when CI=true: CI always has them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from celery._state import _set_task_join_will_block  # type: ignore[attr-defined]  # not in celery-types
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client
from django.utils import timezone

from config.roles import Role
from inventory.models import Product, StockLevel, Warehouse
from notifications import updates
from orders.models import Customer, OrderLine, SalesOrder, Tier
from orders.services.intake import LineRequest, order_place
from orders.services.receiving import ReceiptResult, purchase_order_receive
from suppliers.models import PurchaseOrder, Supplier
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.factories import (
    CustomerFactory,
    OrderLineFactory,
    ProductFactory,
    SalesOrderFactory,
    SupplierFactory,
    WarehouseFactory,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOT_DIR = Path(os.environ.get("SCREENSHOT_DIR", settings.BASE_DIR / "build" / "screenshots"))


def missing(reason: str) -> None:
    """Skip a test that needs an absent service, or fail it in CI."""
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}", pytrace=False)
    pytest.skip(reason)


def redis_available() -> bool:
    if not settings.REDIS_URL:
        return False
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing(
            "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/backorder_desk"
        )
    if item.get_closest_marker("redis") and not redis_available():
        missing("needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0 with a server running")
    if item.get_closest_marker("browser") and not shutil.which(CHROMIUM):
        missing(f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    """A user holding the given roles (`superuser=True` for an admin)."""
    counter = iter(range(1, 1_000_000))

    def make(*roles: Role, superuser: bool = False, username: str | None = None) -> User:
        name = username or f"user{next(counter)}"
        user = User.objects.create_user(
            username=name, password="secret-pass-123", is_staff=superuser, is_superuser=superuser
        )
        # get_or_create: transactional tests flush the groups the migration made
        user.groups.set([Group.objects.get_or_create(name=r.value)[0] for r in roles])
        return user

    return make


@pytest.fixture(autouse=True)
def celery_join_allowed() -> None:
    """Celery keeps "a task is running here, do not block on results" in one
    process-wide flag that each eager task sets and then restores. Two eager
    tasks at once in a live server's threads (browser tests) can restore it in
    the wrong order and leave it set, and a later test's `result.get()` then
    fails as if it ran inside a task. Every test starts with it clear."""
    _set_task_join_will_block(False)


@pytest.fixture
def client_as(make_user: Callable[..., User]) -> Callable[..., Client]:
    """A test client logged in as a fresh user with the given roles."""

    def login(*roles: Role, superuser: bool = False) -> Client:
        client = Client()
        client.force_login(make_user(*roles, superuser=superuser))
        return client

    return login


@pytest.fixture
def celery_worker_process(request: pytest.FixtureRequest):
    """A real `celery -A config worker` on Redis, publishing from this process.

    The worker uses the test database (tests using it need `transaction=True`
    so their rows are committed and visible to it). Eager mode is turned off
    for the test and restored afterwards.
    """
    import subprocess
    import sys
    import time

    from config.celery import app as celery_app

    if not redis_available():
        missing("needs Redis for a real Celery worker")
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "REDIS_URL": settings.REDIS_URL,
    }
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    celery_app.control.purge()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if celery_app.control.ping(timeout=0.5):
            break
        if worker.poll() is not None:
            pytest.fail(f"the Celery worker exited with {worker.returncode}")
    else:
        worker.kill()
        pytest.fail("the Celery worker did not answer a ping within 30 s")
    yield worker
    celery_app.conf.task_always_eager = previous
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()


# --- a small shop, built through the services (orders, notifications, desk) ---------


@dataclass
class Shop:
    warehouse: Warehouse
    supplier: Supplier
    clerk: User

    def product(self, **fields: object) -> Product:
        return ProductFactory.create(**fields)

    def customer(self, tier: int = Tier.STANDARD, **fields: object) -> Customer:
        return CustomerFactory.create(tier=tier, **fields)

    def order(
        self,
        product: Product,
        quantity: int,
        *,
        customer: Customer | None = None,
        placed_at: dt.datetime | None = None,
        payment_status: str = "unpaid",
    ) -> SalesOrder:
        return order_place(
            customer=customer or self.customer(),
            warehouse=self.warehouse,
            lines=[LineRequest(product, quantity)],
            placed_at=placed_at,
            by=self.clerk,
            payment_status=payment_status,
        )

    def purchase(self, product: Product, quantity: int, days: int = 10) -> PurchaseOrder:
        return purchase_order_create(
            supplier=self.supplier,
            warehouse=self.warehouse,
            lines=[PurchaseLineRequest(product, quantity)],
            expected_date=timezone.localdate() + dt.timedelta(days=days),
            by=self.clerk,
            confirm=True,
        )

    def receive(self, product: Product, quantity: int) -> ReceiptResult:
        po = self.purchase(product, quantity)
        line = po.lines.get()
        return purchase_order_receive(
            purchase_order=po, quantities={line.pk: quantity}, by=self.clerk
        )

    def level(self, product: Product) -> StockLevel:
        return StockLevel.objects.get(product=product, warehouse=self.warehouse)


@pytest.fixture
def shop(make_user: Callable[..., User]) -> Shop:
    return Shop(
        warehouse=WarehouseFactory.create(code="MAIN"),
        supplier=SupplierFactory.create(),
        clerk=make_user(username="clerk"),
    )


def db_snapshot() -> dict[str, object]:
    """Everything a refused use case must leave untouched."""
    from inventory.models import StockMove
    from orders.models import Cancellation, OrderLine, Shipment, ShipmentLine
    from suppliers.models import ExpectedDateRevision, PurchaseOrderLine

    return {
        "levels": sorted(StockLevel.objects.values_list("pk", "on_hand", "allocated")),
        "moves": StockMove.objects.count(),
        "orders": SalesOrder.objects.count(),
        "lines": sorted(
            OrderLine.objects.values_list(
                "pk", "ordered", "allocated", "shipped", "cancelled", "priority"
            )
        ),
        "shipments": (Shipment.objects.count(), ShipmentLine.objects.count()),
        "cancellations": Cancellation.objects.count(),
        "po": sorted(PurchaseOrder.objects.values_list("pk", "status", "expected_date")),
        "po_lines": sorted(
            PurchaseOrderLine.objects.values_list("pk", "received", "expected_date")
        ),
        "revisions": ExpectedDateRevision.objects.count(),
    }


@pytest.fixture
def unchanged() -> Callable[[], object]:
    """`with unchanged(): …` asserts the block changes nothing in the database."""
    from contextlib import contextmanager

    @contextmanager
    def check():
        before = db_snapshot()
        yield
        assert db_snapshot() == before

    return check


# --- the bulk job tests' queue (notifications and desk) ------------------------


def place_lines(shop: Shop, customer, *products, quantity: int = 2) -> list[OrderLine]:
    """One order of `customer` for `products`; its lines, oldest first."""
    order = updates.order_place(
        customer=customer,
        warehouse=shop.warehouse,
        lines=[LineRequest(product, quantity) for product in products],
        by=shop.clerk,
    )
    return list(order.lines.order_by("pk"))


@pytest.fixture
def queue(shop: Shop) -> dict[str, list[OrderLine]]:
    """Waiting lines of four customers over three products.

    Ann has three lines in two orders, Ben two in one order, Cai one, and
    Dee (opted out of update emails) one.
    """
    lamp, chair, desk = (shop.product(sku=sku) for sku in ("LAMP", "CHAIR", "DESK"))
    for product in (lamp, chair, desk):
        shop.purchase(product, 50, days=9)
    ann, ben, cai = (shop.customer(name=name) for name in ("Ann", "Ben", "Cai"))
    dee = shop.customer(name="Dee", email_opt_out=True)
    return {
        "ann": place_lines(shop, ann, lamp, chair) + place_lines(shop, ann, desk),
        "ben": place_lines(shop, ben, lamp, desk),
        "cai": place_lines(shop, cai, chair),
        "dee": place_lines(shop, dee, lamp),
    }


# --- delayed customers (the delays selector and the desk's pages) --------------------


def delayed_line(
    customer: Customer,
    *,
    first: int,
    promised: int,
    slipped: int = 0,
    sku: str | None = None,
    **fields: object,
) -> OrderLine:
    """A backordered line first promised `first` days from today, now `promised`."""
    today = timezone.localdate()
    product = ProductFactory.create(**({"sku": sku} if sku else {}))
    return OrderLineFactory.create(
        order=SalesOrderFactory.create(customer=customer),
        product=product,
        first_promised_date=today + dt.timedelta(days=first),
        promised_date=today + dt.timedelta(days=promised),
        times_slipped=slipped,
        **fields,
    )


@pytest.fixture
def delays() -> dict[str, Customer]:
    """Four delayed customers and two who are not.

    Days late = max(promised, today) − first promised:
    bea 20 (passed 3 days ago), ada 15, dan 2 with 3 slips, cal 2 with 1 slip.
    """
    people = {
        name: CustomerFactory.create(name=f"{name.title()} Example", email=f"{name}@example.com")
        for name in ("ada", "bea", "cal", "dan", "eve", "fay")
    }
    delayed_line(people["ada"], first=-10, promised=5, slipped=2, sku="ADA-1")
    delayed_line(people["bea"], first=-20, promised=-3, sku="BEA-1")
    delayed_line(people["cal"], first=2, promised=4, slipped=1, sku="CAL-1")
    delayed_line(people["dan"], first=2, promised=4, slipped=3, sku="DAN-1")
    delayed_line(people["dan"], first=3, promised=3, sku="DAN-2")  # on time: not shown
    delayed_line(people["eve"], first=5, promised=5, sku="EVE-1")  # on its first promise
    # fay slipped, but everything she waited for is allocated now
    delayed_line(people["fay"], first=-9, promised=9, slipped=2, allocated=3, sku="FAY-1")
    return people


@pytest.fixture
def run_on_commit_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run inside one rolled-back transaction, so nothing commits: run the
    after-commit publish at once (the eager task then sends through the locmem
    backend). Real commits are covered by the delivery tests. Use it with
    `pytest.mark.usefixtures("run_on_commit_at_once")`."""
    monkeypatch.setattr(
        "notifications.services.outbox.transaction.on_commit",
        lambda func, using=None, robust=False: func(),
    )
