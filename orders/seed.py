"""A proportionate shop of about N order lines, for benchmarks.

`manage.py seed --order-lines 1000000` builds products, warehouses, suppliers,
customers, 90 days of orders (about a fifth of the lines backordered), open
purchase orders for what is short, and stock levels with a ledger that agree
with the lines, so `manage.py check_stock` is clean afterwards.

Speed matters more than realism in the small: every number is computed in
Python first and written in bulk (PostgreSQL: COPY; elsewhere bulk_create), no
save(), no signals, no history rows. Random but reproducible per `seed`.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from inventory.models import (
    BackorderPolicy,
    Product,
    StockLevel,
    StockMove,
    StockMoveKind,
    Warehouse,
)
from orders.models import (
    Cancellation,
    Channel,
    Customer,
    Language,
    OrderLine,
    SalesOrder,
    Shipment,
    ShipmentLine,
    Tier,
)
from suppliers.models import (
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
)

SEED_REFERENCE = "seed"
HISTORY_DAYS = 90
BACKORDERED_SHARE = 0.2
# Lines older than this have usually shipped; younger ones wait in "ready to ship".
SHIPPING_DAYS = 2.0
BATCH_SIZE = 5_000
ORDERS_PER_CHUNK = 20_000
PO_MAX_LINES = 40

WAREHOUSES = (
    ("AMS", "Amsterdam", 1, 0.5),
    ("RTM", "Rotterdam", 2, 0.3),
    ("JKT", "Jakarta", 2, 0.2),
)
FIRST_NAMES = {
    Language.ENGLISH: ("Oliver", "Amelia", "Harry", "Isla", "Jack", "Grace", "Noah", "Emily"),
    Language.INDONESIAN: ("Budi", "Siti", "Agus", "Dewi", "Putri", "Rizky", "Ayu", "Wayan"),
    Language.DUTCH: ("Daan", "Emma", "Sem", "Julia", "Lucas", "Sophie", "Bram", "Tess"),
}
LAST_NAMES = {
    Language.ENGLISH: ("Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Clarke"),
    Language.INDONESIAN: ("Santoso", "Wijaya", "Saputra", "Hidayat", "Lestari", "Kusuma"),
    Language.DUTCH: ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser"),
}
ADJECTIVES = ("Classic", "Compact", "Deluxe", "Eco", "Pro", "Mini", "Heavy-duty", "Smart", "Travel")
NOUNS = (
    "Kettle",
    "Desk Lamp",
    "Backpack",
    "Coffee Grinder",
    "Office Chair",
    "Rain Jacket",
    "Blender",
    "Headphones",
    "Water Bottle",
    "Bike Light",
    "Toaster",
    "Yoga Mat",
)
SUPPLIER_SUFFIXES = ("Trading", "Industries", "Supply Co.", "B.V.", "Manufacturing", "Imports")


class SeedRefused(Exception):
    """Seeding would be unsafe here (production, or a database with orders)."""


@dataclass
class SeedCounts:
    products: int = 0
    warehouses: int = 0
    suppliers: int = 0
    customers: int = 0
    orders: int = 0
    order_lines: int = 0
    backordered_lines: int = 0
    shipments: int = 0
    shipment_lines: int = 0
    cancellations: int = 0
    purchase_orders: int = 0
    purchase_order_lines: int = 0
    stock_levels: int = 0
    stock_moves: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.products:,} products, {self.warehouses} warehouses, {self.suppliers:,} "
            f"suppliers, {self.customers:,} customers, {self.orders:,} orders, "
            f"{self.order_lines:,} order lines ({self.backordered_lines:,} backordered), "
            f"{self.shipments:,} shipments, {self.cancellations:,} cancellations, "
            f"{self.purchase_orders:,} purchase orders with {self.purchase_order_lines:,} lines, "
            f"{self.stock_levels:,} stock levels, {self.stock_moves:,} ledger moves"
        )


def seed_shop(
    *,
    order_lines: int,
    seed: int = 1,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SeedCounts:
    """Create a consistent shop of about `order_lines` order lines, in one transaction.

    Refused in production (DEMO_DATA_ALLOWED False), and when orders exist
    unless `force`.
    """
    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise SeedRefused(
            "Seeding benchmark data is refused: DEMO_DATA_ALLOWED is False (production settings)."
        )
    if order_lines < 1:
        raise SeedRefused("--order-lines must be at least 1.")
    existing = SalesOrder.objects.count()
    if existing and not force:
        raise SeedRefused(
            f"The database already has {existing:,} orders; seed a fresh database "
            "(or pass --force to add a seeded shop next to them)."
        )
    started = time.monotonic()
    with transaction.atomic():
        counts = _Seeder(
            order_lines=order_lines, seed=seed, progress=progress or (lambda _message: None)
        ).run()
    counts.seconds = time.monotonic() - started
    return counts


class _Writer:
    """Bulk inserts of plain tuples: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self) -> None:
        self.copy = connection.vendor == "postgresql"

    @staticmethod
    def next_id(model: type[models.Model]) -> int:
        return int(model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1

    def write(
        self, model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        if self.copy:
            return self._copy(model, fields, rows)
        written = 0
        batch: list[models.Model] = []
        for row in rows:
            batch.append(model(**dict(zip(fields, row, strict=True))))
            if len(batch) >= BATCH_SIZE:
                model._default_manager.bulk_create(batch, batch_size=BATCH_SIZE)
                written += len(batch)
                batch = []
        if batch:
            model._default_manager.bulk_create(batch, batch_size=BATCH_SIZE)
            written += len(batch)
        return written

    @staticmethod
    def _copy(
        model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        # COPY skips Django's defaults: columns we do not set get their model
        # default here (other features keep adding fields with defaults).
        given = [model._meta.get_field(name) for name in fields]
        extra = [f for f in model._meta.concrete_fields if f not in given and not f.primary_key]
        now = timezone.now()
        extra_values = tuple(
            f.get_db_prep_save(
                now
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
                else f.get_default(),
                connection,
            )
            for f in extra
        )
        quote = connection.ops.quote_name
        columns = ", ".join(
            quote(str(f.column))  # type: ignore[union-attr]
            for f in [*given, *extra]
        )
        statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        written = 0
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row + extra_values)
                written += 1
        return written

    def finish(self, touched: Sequence[type[models.Model]]) -> None:
        """Move the id sequences past the ids we chose, and refresh planner statistics."""
        if not self.copy:
            return
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), list(touched)):
                cursor.execute(sql)
            for model in touched:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@dataclass
class _PairTotals:
    allocated: int = 0
    shipped: int = 0
    backordered: int = 0


@dataclass
class _Catalogue:
    product_ids: list[int] = field(default_factory=list)
    prices: dict[int, Decimal] = field(default_factory=dict)
    policies: dict[int, str] = field(default_factory=dict)
    supplier_of: dict[int, int] = field(default_factory=dict)
    popularity: list[float] = field(default_factory=list)
    cumulative_popularity: list[float] = field(default_factory=list)
    warehouse_ids: list[int] = field(default_factory=list)
    warehouse_shares: list[float] = field(default_factory=list)
    cumulative_warehouse_share: list[float] = field(default_factory=list)
    customer_ids: list[int] = field(default_factory=list)
    customer_tiers: list[int] = field(default_factory=list)


class _Seeder:
    def __init__(self, *, order_lines: int, seed: int, progress: Callable[[str], None]) -> None:
        self.target = order_lines
        self.rng = random.Random(seed)
        self.say = progress
        self.writer = _Writer()
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.counts = SeedCounts()
        self.catalogue = _Catalogue()
        self.totals: defaultdict[tuple[int, int], _PairTotals] = defaultdict(_PairTotals)
        self.short: dict[tuple[int, int], float] = {}
        self.supplier_ids: list[int] = []
        self.supplier_lead_times: dict[int, int] = {}
        self.started = time.monotonic()

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    def run(self) -> SeedCounts:
        n = self.target
        self._warehouses()
        self._suppliers(max(5, round(n / 2000)))
        self._products(max(20, round(n / 200)))
        self._customers(max(10, round(n / 10)))
        self.say(
            f"Catalogue: {self.counts.products:,} products, {self.counts.suppliers:,} suppliers, "
            f"{self.counts.customers:,} customers ({self.elapsed()})"
        )
        self.short = self._short_pairs()
        self._orders(self.short)
        self._stock()
        self._purchase_orders()
        self.writer.finish(
            [
                Product,
                Supplier,
                Customer,
                SalesOrder,
                OrderLine,
                Shipment,
                ShipmentLine,
                Cancellation,
                PurchaseOrder,
                PurchaseOrderLine,
                ExpectedDateRevision,
                StockLevel,
                StockMove,
            ]
        )
        return self.counts

    # The catalogue ------------------------------------------------------------

    def _warehouses(self) -> None:
        shares = []
        for code, name, handling_days, share in WAREHOUSES:
            warehouse, _created = Warehouse.objects.get_or_create(
                code=code, defaults={"name": name, "handling_days": handling_days}
            )
            self.catalogue.warehouse_ids.append(warehouse.pk)
            shares.append(share)
        self.catalogue.warehouse_shares = shares
        self.catalogue.cumulative_warehouse_share = list(accumulate(shares))
        self.counts.warehouses = len(WAREHOUSES)

    def _suppliers(self, count: int) -> None:
        rng = self.rng
        first = self.writer.next_id(Supplier)
        self.supplier_ids = list(range(first, first + count))
        self.supplier_lead_times = {pk: rng.randint(7, 42) for pk in self.supplier_ids}
        self.counts.suppliers = self.writer.write(
            Supplier,
            ("id", "name", "contact_email", "lead_time_days", "active", "notes"),
            (
                (
                    pk,
                    f"Supplier S{pk:04d} {rng.choice(SUPPLIER_SUFFIXES)}",
                    f"orders@supplier-s{pk:04d}.example.com",
                    self.supplier_lead_times[pk],
                    True,
                    "",
                )
                for pk in self.supplier_ids
            ),
        )

    def _products(self, count: int) -> None:
        rng, cat = self.rng, self.catalogue
        first = self.writer.next_id(Product)
        cat.product_ids = list(range(first, first + count))
        rows = []
        for pk in cat.product_ids:
            price = Decimal(rng.randint(199, 49_999)).scaleb(-2)
            roll = rng.random()
            policy = (
                BackorderPolicy.DENY
                if roll < 0.08
                else BackorderPolicy.CAP
                if roll < 0.18
                else BackorderPolicy.ALLOW
            )
            supplier = rng.choice(self.supplier_ids)
            cat.prices[pk] = price
            cat.policies[pk] = policy
            cat.supplier_of[pk] = supplier
            rows.append(
                (
                    pk,
                    f"SKU-{pk:06d}",
                    f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {pk}",
                    price,
                    True,
                    policy,
                    # The real cap is set once the backorders are known.
                    0 if policy == BackorderPolicy.CAP else None,
                    self.supplier_lead_times[supplier],
                    self.now - dt.timedelta(days=HISTORY_DAYS + 30),
                )
            )
        self.counts.products = self.writer.write(
            Product,
            (
                "id",
                "sku",
                "name",
                "price",
                "active",
                "backorder_policy",
                "backorder_cap",
                "default_lead_time_days",
                "created_at",
            ),
            rows,
        )
        # A long tail: a few products sell a lot, most sell a little.
        popularity = [1 / (rank + 1) ** 0.7 for rank in range(count)]
        rng.shuffle(popularity)
        cat.popularity = popularity
        cat.cumulative_popularity = list(accumulate(popularity))

    def _customers(self, count: int) -> None:
        rng, cat = self.rng, self.catalogue
        first = self.writer.next_id(Customer)
        cat.customer_ids = list(range(first, first + count))
        rows = []
        for pk in cat.customer_ids:
            language = rng.choices(
                (Language.ENGLISH, Language.INDONESIAN, Language.DUTCH), (50, 30, 20)
            )[0]
            tier = rng.choices((Tier.VIP, Tier.PREFERRED, Tier.STANDARD), (5, 20, 75))[0]
            cat.customer_tiers.append(int(tier))
            name = f"{rng.choice(FIRST_NAMES[language])} {rng.choice(LAST_NAMES[language])}"
            rows.append(
                (
                    pk,
                    name,
                    f"seed.customer{pk}@example.com",
                    language,
                    int(tier),
                    rng.random() < 0.05,
                    self.now - dt.timedelta(days=HISTORY_DAYS + rng.randint(1, 700)),
                )
            )
        self.counts.customers = self.writer.write(
            Customer,
            ("id", "name", "email", "language", "tier", "email_opt_out", "created_at"),
            rows,
        )

    # Orders -------------------------------------------------------------------

    def _short_pairs(self) -> dict[tuple[int, int], float]:
        """(product, warehouse) pairs that ran out, each with the age in days
        after which its lines are backordered, sized so that about a fifth of
        all lines end up backordered."""
        rng, cat = self.rng, self.catalogue
        total_popularity = sum(cat.popularity)
        total_share = sum(cat.warehouse_shares)
        candidates = [
            (
                product,
                warehouse,
                cat.popularity[i] / total_popularity * cat.warehouse_shares[j] / total_share,
            )
            for i, product in enumerate(cat.product_ids)
            for j, warehouse in enumerate(cat.warehouse_ids)
            if cat.policies[product] != BackorderPolicy.DENY
        ]
        rng.shuffle(candidates)
        goal = BACKORDERED_SHARE * self.target
        expected = 0.0
        short: dict[tuple[int, int], float] = {}
        for product, warehouse, share in candidates:
            cutoff_days = rng.uniform(8, 60)
            lines = self.target * share * cutoff_days / HISTORY_DAYS
            if expected + lines > goal * 1.03:
                continue
            short[(product, warehouse)] = cutoff_days
            expected += lines
            if expected >= goal * 0.97:
                break
        return short

    def _orders(self, short: dict[tuple[int, int], float]) -> None:
        rng, cat = self.rng, self.catalogue
        sizes: list[int] = []
        planned = 0
        while planned < self.target:
            size = min(rng.choices((1, 2, 3, 4), (45, 30, 15, 10))[0], self.target - planned)
            sizes.append(size)
            planned += size
        # Placed oldest first, so that in a pair that ran out, the earlier
        # lines got the stock and the later ones wait.
        ages = sorted((rng.uniform(0, HISTORY_DAYS) for _ in sizes), reverse=True)
        self.say(f"Orders: {len(sizes):,} orders with {planned:,} lines to write")

        order_id = self.writer.next_id(SalesOrder)
        line_id = self.writer.next_id(OrderLine)
        shipment_id = self.writer.next_id(Shipment)
        first_order_id = order_id
        part_shipped: set[tuple[int, int]] = set()
        channels = (Channel.WEB, Channel.MARKETPLACE, Channel.API, Channel.PHONE)
        quantities = (1, 2, 3, 4, 5, 6, 10)
        quantity_weights = list(accumulate((50, 22, 10, 6, 4, 4, 4)))
        n_products = len(cat.product_ids)
        n_customers = len(cat.customer_ids)

        orders: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        shipments: list[tuple[Any, ...]] = []
        shipment_lines: list[tuple[Any, ...]] = []
        cancellations: list[tuple[Any, ...]] = []
        for size, age in zip(sizes, ages, strict=True):
            placed_at = self.now - dt.timedelta(days=age)
            customer_index = rng.randrange(n_customers)
            tier = cat.customer_tiers[customer_index]
            warehouse = rng.choices(cat.warehouse_ids, cum_weights=cat.cumulative_warehouse_share)[
                0
            ]
            channel = rng.choices(channels, (70, 15, 10, 5))[0]
            external = f"EXT-{order_id}" if channel in (Channel.API, Channel.MARKETPLACE) else ""
            orders.append(
                (
                    order_id,
                    f"SO-S{order_id:07d}",
                    cat.customer_ids[customer_index],
                    channel,
                    warehouse,
                    placed_at,
                    external,
                )
            )
            products: set[int] = set()
            while len(products) < min(size, n_products):
                products.update(
                    rng.choices(
                        cat.product_ids,
                        cum_weights=cat.cumulative_popularity,
                        k=size - len(products),
                    )
                )
            shipped_at = min(placed_at + dt.timedelta(hours=rng.uniform(6, 40)), self.now)
            order_ships = False
            for product in sorted(products):
                pair = (product, warehouse)
                ordered = rng.choices(quantities, cum_weights=quantity_weights)[0]
                allocated = shipped = cancelled = 0
                priority = 0
                cutoff = short.get(pair)
                if cutoff is not None and age < cutoff:
                    # Ran out: the first line after that took the last units.
                    if pair not in part_shipped and ordered > 1:
                        part_shipped.add(pair)
                        part = rng.randint(1, ordered - 1)
                        if age > SHIPPING_DAYS:
                            shipped = part
                        else:
                            allocated = part
                    if rng.random() < 0.01:
                        priority = rng.randint(1, 3)
                elif age > SHIPPING_DAYS and rng.random() < 0.015:
                    cancelled = ordered
                elif age > SHIPPING_DAYS and rng.random() < 0.96:
                    shipped = ordered
                else:
                    allocated = ordered
                price = cat.prices[product]
                lines.append(
                    (
                        line_id,
                        order_id,
                        product,
                        warehouse,
                        tier,
                        placed_at,
                        price,
                        ordered,
                        allocated,
                        shipped,
                        cancelled,
                        priority,
                    )
                )
                totals = self.totals[pair]
                totals.allocated += allocated
                totals.shipped += shipped
                backordered = ordered - allocated - shipped - cancelled
                if backordered:
                    totals.backordered += backordered
                    self.counts.backordered_lines += 1
                if shipped:
                    order_ships = True
                    shipment_lines.append((shipment_id, line_id, shipped))
                if cancelled:
                    cancellations.append(
                        (
                            line_id,
                            cancelled,
                            price * cancelled,
                            "Customer cancelled (seed)",
                            placed_at + dt.timedelta(hours=2),
                        )
                    )
                line_id += 1
            if order_ships:
                shipments.append((shipment_id, order_id, f"TRK{shipment_id:010d}", shipped_at))
                shipment_id += 1
            order_id += 1
            if len(orders) >= ORDERS_PER_CHUNK:
                self._write_orders(orders, lines, shipments, shipment_lines, cancellations)
                self.say(
                    f"  {order_id - first_order_id:,} / {len(sizes):,} orders, "
                    f"{self.counts.order_lines:,} lines ({self.elapsed()})"
                )
                orders, lines, shipments, shipment_lines, cancellations = [], [], [], [], []
        self._write_orders(orders, lines, shipments, shipment_lines, cancellations)
        self.say(
            f"  {self.counts.orders:,} orders, {self.counts.order_lines:,} lines "
            f"({self.counts.backordered_lines:,} backordered) ({self.elapsed()})"
        )

    def _write_orders(
        self,
        orders: list[tuple[Any, ...]],
        lines: list[tuple[Any, ...]],
        shipments: list[tuple[Any, ...]],
        shipment_lines: list[tuple[Any, ...]],
        cancellations: list[tuple[Any, ...]],
    ) -> None:
        write = self.writer.write
        self.counts.orders += write(
            SalesOrder,
            (
                "id",
                "number",
                "customer_id",
                "channel",
                "warehouse_id",
                "placed_at",
                "external_reference",
            ),
            orders,
        )
        self.counts.order_lines += write(
            OrderLine,
            (
                "id",
                "order_id",
                "product_id",
                "warehouse_id",
                "customer_tier",
                "placed_at",
                "unit_price",
                "ordered",
                "allocated",
                "shipped",
                "cancelled",
                "priority",
            ),
            lines,
        )
        self.counts.shipments += write(
            Shipment, ("id", "order_id", "tracking_number", "shipped_at"), shipments
        )
        self.counts.shipment_lines += write(
            ShipmentLine, ("shipment_id", "order_line_id", "quantity"), shipment_lines
        )
        self.counts.cancellations += write(
            Cancellation,
            ("order_line_id", "quantity", "refund_due", "reason", "cancelled_at"),
            cancellations,
        )

    # Stock --------------------------------------------------------------------

    def _stock(self) -> None:
        """Stock levels, and a ledger of one receipt, one allocation and one
        shipment move per product and warehouse that sums to them."""
        rng, cat = self.rng, self.catalogue
        levels = []
        moves = []
        received_at = self.now - dt.timedelta(days=HISTORY_DAYS + 1)
        for product in cat.product_ids:
            for warehouse in cat.warehouse_ids:
                pair = (product, warehouse)
                totals = self.totals.get(pair, _PairTotals())
                if pair in self.short:
                    spare = 0  # the queue would have taken any free unit
                elif cat.policies[product] == BackorderPolicy.DENY:
                    spare = rng.randint(20, 200)
                else:
                    spare = rng.randint(0, 40)
                on_hand = totals.allocated + spare
                levels.append((product, warehouse, on_hand, totals.allocated, self.now))
                receipt = on_hand + totals.shipped
                claimed = totals.allocated + totals.shipped
                for kind, quantity, on_hand_change, allocated_change, when in (
                    (StockMoveKind.RECEIPT, receipt, receipt, 0, received_at),
                    (StockMoveKind.ALLOCATION, claimed, 0, claimed, received_at),
                    (
                        StockMoveKind.SHIPMENT,
                        totals.shipped,
                        -totals.shipped,
                        -totals.shipped,
                        self.now,
                    ),
                ):
                    if quantity:
                        moves.append(
                            (
                                product,
                                warehouse,
                                kind,
                                quantity,
                                on_hand_change,
                                allocated_change,
                                SEED_REFERENCE,
                                "Opening balance (seed)",
                                when,
                            )
                        )
        self.counts.stock_levels = self.writer.write(
            StockLevel, ("product_id", "warehouse_id", "on_hand", "allocated", "updated_at"), levels
        )
        self.counts.stock_moves = self.writer.write(
            StockMove,
            (
                "product_id",
                "warehouse_id",
                "kind",
                "quantity",
                "on_hand_change",
                "allocated_change",
                "reference",
                "note",
                "created_at",
            ),
            moves,
        )
        backordered_by_product: defaultdict[int, int] = defaultdict(int)
        for (product, _warehouse), totals in self.totals.items():
            backordered_by_product[product] += totals.backordered
        capped = [
            Product(
                pk=product, backorder_cap=backordered_by_product[product] + rng.randint(10, 100)
            )
            for product in cat.product_ids
            if cat.policies[product] == BackorderPolicy.CAP
        ]
        Product.objects.bulk_update(capped, ["backorder_cap"], batch_size=1_000)
        self.say(
            f"Stock: {self.counts.stock_levels:,} levels, {self.counts.stock_moves:,} ledger moves "
            f"({self.elapsed()})"
        )

    # Purchase orders ----------------------------------------------------------

    def _purchase_orders(self) -> None:
        """Open purchase orders for what is backordered (some already late),
        and one received purchase order per supplier and warehouse from before."""
        rng, cat = self.rng, self.catalogue
        short_by_group: defaultdict[tuple[int, int], list[int]] = defaultdict(list)
        for product, warehouse in sorted(self.short):
            if self.totals[(product, warehouse)].backordered:
                short_by_group[(cat.supplier_of[product], warehouse)].append(product)
        products_by_supplier: defaultdict[int, list[int]] = defaultdict(list)
        for product in cat.product_ids:
            products_by_supplier[cat.supplier_of[product]].append(product)

        po_id = self.writer.next_id(PurchaseOrder)
        line_id = self.writer.next_id(PurchaseOrderLine)
        orders: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        revisions: list[tuple[Any, ...]] = []

        def purchase_order(
            supplier: int, warehouse: int, status: str, expected: dt.date, ordered_days_ago: int
        ) -> int:
            nonlocal po_id
            ordered_at = self.now - dt.timedelta(days=ordered_days_ago)
            orders.append(
                (
                    po_id,
                    f"PO-S{po_id:05d}",
                    supplier,
                    warehouse,
                    status,
                    expected,
                    "",
                    ordered_at,
                    ordered_at,
                )
            )
            po_id += 1
            return po_id - 1

        # History: received in full, so the supplier pages have a track record.
        for supplier in self.supplier_ids:
            for warehouse in cat.warehouse_ids:
                products = products_by_supplier[supplier]
                if not products:
                    continue
                days_ago = rng.randint(30, HISTORY_DAYS)
                expected = self.today - dt.timedelta(days=days_ago - rng.randint(-3, 7))
                po = purchase_order(
                    supplier, warehouse, PurchaseOrderStatus.RECEIVED, expected, days_ago + 14
                )
                for product in rng.sample(products, min(len(products), PO_MAX_LINES)):
                    quantity = rng.randint(20, 200)
                    lines.append((line_id, po, product, quantity, quantity, expected))
                    line_id += 1

        # Open: every backordered pair is on order, most in full, some only in
        # part (the shortfall purchasing sees); about one in six is already late.
        for (supplier, warehouse), products in sorted(short_by_group.items()):
            for start in range(0, len(products), PO_MAX_LINES):
                if rng.random() < 0.15:
                    expected = self.today - dt.timedelta(days=rng.randint(1, 14))
                else:
                    expected = self.today + dt.timedelta(days=rng.randint(3, 35))
                lead_time = self.supplier_lead_times[supplier]
                po = purchase_order(
                    supplier, warehouse, PurchaseOrderStatus.ORDERED, expected, lead_time
                )
                moved = expected < self.today or rng.random() < 0.2
                for product in products[start : start + PO_MAX_LINES]:
                    backordered = self.totals[(product, warehouse)].backordered
                    if rng.random() < 0.8:
                        quantity = backordered + rng.randint(0, 24)
                    else:
                        quantity = max(1, backordered // 2)
                    lines.append((line_id, po, product, quantity, 0, expected))
                    if moved:
                        old_date = expected - dt.timedelta(days=rng.randint(5, 21))
                        revisions.append(
                            (
                                line_id,
                                old_date,
                                expected,
                                "Supplier moved the date (seed)",
                                ExpectedDateRevision.Cause.MANUAL,
                                self.now - dt.timedelta(days=rng.randint(1, 10)),
                            )
                        )
                    line_id += 1

        write = self.writer.write
        self.counts.purchase_orders = write(
            PurchaseOrder,
            (
                "id",
                "number",
                "supplier_id",
                "warehouse_id",
                "status",
                "expected_date",
                "notes",
                "created_at",
                "ordered_at",
            ),
            orders,
        )
        self.counts.purchase_order_lines = write(
            PurchaseOrderLine,
            ("id", "purchase_order_id", "product_id", "ordered", "received", "expected_date"),
            lines,
        )
        write(
            ExpectedDateRevision,
            ("line_id", "old_date", "new_date", "reason", "cause", "changed_at"),
            revisions,
        )
        self.say(
            f"Purchase orders: {self.counts.purchase_orders:,} with "
            f"{self.counts.purchase_order_lines:,} lines ({self.elapsed()})"
        )
