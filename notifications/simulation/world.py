"""A shop run day by day through the use cases the pages and the API call.

Each day, on a clock the simulation moves (`time_machine`, the one clock seam:
every `timezone.now()` and `localdate()` in the services reads it):

06:00  the overdue sweep (`purchase_orders_sweep_overdue`)
08:00  suppliers warn of late deliveries (`purchase_order_move_expected_date`)
09:00  goods that arrive today are received (`purchase_order_receive`), on the
       warehouse's working days
10-20  orders come in (`order_place`), with weekly seasonality and a few spikes
12:00  customers who lost patience cancel what still waits (`order_line_cancel`)
13:00  purchasing raises purchase orders for what is short (`purchase_order_create`),
       14:00 confirms them (`purchase_order_confirm`)
16:00  the warehouse ships lines ready for their handling days (`shipment_create`)
and the outbox is delivered after each step (`notifications_sweep`).

Every random draw comes from a stream of its own seeded from the run's seed,
and no draw depends on a promised date: the same seed gives the same orders,
deliveries, revisions and cancellations whatever the promise engine says.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import time_machine
from django.core import mail
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import BackorderPolicy, StockLevel
from notifications import updates
from notifications.services import outbox
from notifications.simulation.shop import WAREHOUSE_COUNTRIES, Shop, SimSupplier, shop_build
from orders.calendars import working_days_for
from orders.models import OrderLine
from orders.promising import WorkingDays
from orders.services.intake import LineRequest
from suppliers.models import OPEN_PO_STATUSES, PurchaseOrder, PurchaseOrderLine
from suppliers.services import PurchaseLineRequest

START = dt.date(2026, 1, 5)  # a Monday
WEEKDAY_DEMAND = (1.15, 1.05, 1.0, 1.0, 1.1, 0.85, 0.75)
LINES_PER_ORDER = ((1, 2, 3), (60, 28, 12))
QUANTITIES = ((1, 2, 3, 4), (62, 24, 9, 5))


@dataclass
class Delivery:
    """What the supplier of one purchase order will really do."""

    arrival: dt.date
    warnings: list[tuple[dt.date, dt.date]] = field(default_factory=list)  # (on, new date)


@dataclass
class SimulationSize:
    products: int = 300
    customers: int = 800
    orders_per_day: float = 10.0


class ShopYear:
    def __init__(
        self,
        *,
        seed: int,
        days: int,
        size: SimulationSize | None = None,
        progress: Callable[[int], object] | None = None,
    ) -> None:
        self.seed = seed
        self.days = days
        self.size = size or SimulationSize()
        self.progress = progress
        self.demand = random.Random(f"{seed}:demand")
        self.suppliers_rng = random.Random(f"{seed}:suppliers")
        self.patience = random.Random(f"{seed}:patience")
        self.deliveries: dict[int, Delivery] = {}
        self.cancel_on: dict[dt.date, list[int]] = defaultdict(list)
        self.ready_since: dict[int, dt.date] = {}
        self.spikes: set[int] = set()
        self.tz = timezone.get_current_timezone()
        self.traveller: Any = None  # time_machine's Coordinates while running
        self.shop: Shop
        self.calendars: dict[int, WorkingDays] = {}
        self.daily_rate: dict[tuple[int, int], float] = {}
        self.tracking = 0

    # The clock ------------------------------------------------------------
    def at(self, day: dt.date, hour: int, minute: int = 0, second: int = 0) -> None:
        assert self.traveller is not None
        self.traveller.move_to(dt.datetime.combine(day, dt.time(hour, minute, second), self.tz))

    def deliver_outbox(self) -> None:
        outbox.notifications_sweep()

    # The run --------------------------------------------------------------
    def run(self) -> tuple[dt.date, dt.date]:
        """Build the shop on the first morning, play `days` days; return the
        first and last day played."""
        start = START
        with time_machine.travel(
            dt.datetime.combine(start, dt.time(5), self.tz), tick=False
        ) as traveller:
            self.traveller = traveller
            self.setup(start)
            for offset in range(self.days):
                self.play_day(start + dt.timedelta(days=offset), offset)
                if self.progress:
                    self.progress(1)
            self.traveller = None
        return start, start + dt.timedelta(days=self.days - 1)

    def setup(self, start: dt.date) -> None:
        rng = random.Random(f"{self.seed}:shop")
        self.shop = shop_build(rng=rng, products=self.size.products, customers=self.size.customers)
        self.calendars = {
            w.pk: working_days_for(code=w.code, around=start) for w in self.shop.warehouses
        }
        assert set(WAREHOUSE_COUNTRIES) == {w.code for w in self.shop.warehouses}
        # The expected demand per product and warehouse: what purchasing plans by.
        total = sum(self.shop.popularity)
        homes: dict[int, int] = defaultdict(int)
        for _customer, warehouse in self.shop.customers:
            homes[warehouse.pk] += 1
        mean_lines = sum(n * w for n, w in zip(*LINES_PER_ORDER, strict=True)) / 100
        mean_quantity = sum(q * w for q, w in zip(*QUANTITIES, strict=True)) / 100
        units_per_day = self.size.orders_per_day * mean_lines * mean_quantity
        for product, weight in zip(self.shop.products, self.shop.popularity, strict=True):
            for warehouse in self.shop.warehouses:
                share = homes[warehouse.pk] / len(self.shop.customers)
                self.daily_rate[(product.pk, warehouse.pk)] = units_per_day * weight / total * share
        # Opening stock: what purchasing would hold, counted in on the first morning.
        for product in self.shop.products:
            habit = self.shop.supplier_of[product.pk].habit
            for warehouse in self.shop.warehouses:
                units = math.ceil(
                    self.daily_rate[(product.pk, warehouse.pk)]
                    * (habit.quoted_lead_days + 7 * self.shop.stock_cover[product.pk])
                )
                if units:
                    updates.stock_adjust(
                        product=product,
                        warehouse=warehouse,
                        change=units,
                        reason="Opening stock count",
                        by=None,
                    )
        # A few sale days in the year: three times the orders for three days.
        for _spike in range(4):
            first = rng.randint(20, max(21, self.days - 5))
            self.spikes.update(range(first, first + 3))

    def play_day(self, today: dt.date, offset: int) -> None:
        self.at(today, 6)
        updates.purchase_orders_sweep_overdue()
        self.deliver_outbox()
        self.at(today, 8)
        self.supplier_warnings(today)
        self.deliver_outbox()
        self.at(today, 9)
        self.receive(today)
        self.deliver_outbox()
        self.place_orders(today, offset)
        self.at(today, 20, 30)
        self.cancellations(today)
        self.deliver_outbox()
        self.at(today, 21)
        if today.weekday() < 5:
            self.purchasing(today)
        self.deliver_outbox()
        self.at(today, 22)
        self.ship(today)
        self.at(today, 23, 30)
        self.deliver_outbox()
        mail.outbox = []

    # Demand ---------------------------------------------------------------
    def place_orders(self, today: dt.date, offset: int) -> None:
        rng = self.demand
        rate = self.size.orders_per_day * WEEKDAY_DEMAND[today.weekday()]
        rate *= 1 + 0.25 * math.sin(2 * math.pi * (offset - 60) / 365)
        if offset in self.spikes:
            rate *= 3
        count = _poisson(rng, rate)
        minutes = sorted(rng.randint(0, 599) for _ in range(count))
        customers = self.shop.customers
        weights = [5.0 if c.tier == 3 else 2.0 if c.tier == 2 else 1.0 for c, _w in customers]
        for index, minute in enumerate(minutes):
            customer, warehouse = rng.choices(customers, weights=weights)[0]
            lines: list[LineRequest] = []
            count_lines = rng.choices(*LINES_PER_ORDER)[0]
            chosen: set[int] = set()
            while len(chosen) < count_lines:
                chosen.add(rng.choices(range(len(self.shop.products)), self.shop.popularity)[0])
            for product_index in sorted(chosen):
                product = self.shop.products[product_index]
                lines.append(LineRequest(product, rng.choices(*QUANTITIES)[0]))
            patience = [
                self.patience.randint(3, 40) if self.patience.random() < 0.12 else 0
                for _line in lines
            ]
            self.at(today, 10 + minute // 60, minute % 60, index % 60)
            try:
                order = updates.order_place(
                    customer=customer, warehouse=warehouse, lines=lines, by=None
                )
            except Exception as error:  # a capped product refuses the order
                if type(error).__name__ != "ValidationError":
                    raise
                continue
            by_product = {line.product_id: line for line in order.lines.all()}
            for request, days in zip(lines, patience, strict=True):
                line = by_product[request.product.pk]
                if days and line.backordered:
                    self.cancel_on[today + dt.timedelta(days=days)].append(line.pk)
        self.deliver_outbox()

    def cancellations(self, today: dt.date) -> None:
        for line in OrderLine.objects.filter(pk__in=self.cancel_on.pop(today, [])).order_by("pk"):
            if line.backordered:
                updates.order_line_cancel(
                    line=line, reason="Customer no longer wants to wait", by=None
                )

    # Purchasing and suppliers ---------------------------------------------
    def purchasing(self, today: dt.date) -> None:
        """Raise a purchase order per supplier and warehouse for what the
        position (available + inbound - waiting) is short of."""
        available = {
            (p, w): on_hand - allocated
            for p, w, on_hand, allocated in StockLevel.objects.values_list(
                "product_id", "warehouse_id", "on_hand", "allocated"
            )
        }
        waiting = {
            (row["product_id"], row["warehouse_id"]): row["units"]
            for row in OrderLine.objects.backordered()
            .values("product_id", "warehouse_id")
            .annotate(units=Sum(F("ordered") - F("allocated") - F("shipped") - F("cancelled")))
        }
        inbound = {
            (row["product_id"], row["purchase_order__warehouse_id"]): row["units"]
            for row in PurchaseOrderLine.objects.filter(
                purchase_order__status__in=(*OPEN_PO_STATUSES, "draft")
            )
            .values("product_id", "purchase_order__warehouse_id")
            .annotate(units=Sum(F("ordered") - F("received")))
        }
        raised = []
        for sim_supplier in self.shop.suppliers:
            lead = sim_supplier.habit.quoted_lead_days
            for warehouse in self.shop.warehouses:
                lines = []
                for product in sim_supplier.products:
                    key = (product.pk, warehouse.pk)
                    rate = self.daily_rate[key]
                    cover = self.shop.stock_cover[product.pk]
                    position = available.get(key, 0) + inbound.get(key, 0) - waiting.get(key, 0)
                    reorder_point = rate * lead * min(cover, 1.0)
                    if position < 0 or (cover and position < reorder_point):
                        wanted = math.ceil(rate * (lead + 7 * cover) - position)
                        if product.backorder_policy == BackorderPolicy.CAP:
                            wanted = max(wanted, -position)
                        if wanted > 0:
                            lines.append(PurchaseLineRequest(product, wanted))
                if lines:
                    raised.append(self.raise_order(today, sim_supplier, warehouse.pk, lines))
        self.at(today, 21, 30)
        for purchase_order in raised:
            updates.purchase_order_confirm(purchase_order=purchase_order, by=None)

    def raise_order(
        self, today: dt.date, sim_supplier: SimSupplier, warehouse_id: int, lines: list
    ) -> PurchaseOrder:
        habit = sim_supplier.habit
        calendar = self.calendars[warehouse_id]
        expected = calendar.on_or_after(today + dt.timedelta(days=habit.quoted_lead_days))
        warehouse = next(w for w in self.shop.warehouses if w.pk == warehouse_id)
        purchase_order, _changes = updates.purchase_order_create(
            supplier=sim_supplier.supplier,
            warehouse=warehouse,
            lines=lines,
            expected_date=expected,
            by=None,
        )
        rng = self.suppliers_rng
        late = habit.lateness(rng)
        arrival = calendar.on_or_after(
            max(expected + dt.timedelta(days=late), today + dt.timedelta(days=1))
        )
        delivery = Delivery(arrival=arrival)
        silent = rng.random() < habit.silent
        twice = rng.random() < habit.twice
        notice = rng.randint(1, 4)
        first_notice = rng.randint(2, 6)
        if arrival > expected and not silent:
            # Suppliers warn late: a few days before the goods would have come.
            last_warning = max(
                min(arrival, expected) - dt.timedelta(days=notice), today + dt.timedelta(days=1)
            )
            if twice and (arrival - expected).days >= 4:
                halfway = expected + (arrival - expected) // 2
                first_on = max(
                    expected - dt.timedelta(days=first_notice), today + dt.timedelta(days=1)
                )
                delivery.warnings.append((first_on, halfway))
                last_warning = max(
                    min(halfway - dt.timedelta(days=notice), arrival - dt.timedelta(days=1)),
                    first_on + dt.timedelta(days=1),
                )
            delivery.warnings.append((last_warning, arrival))
        self.deliveries[purchase_order.pk] = delivery
        return purchase_order

    def supplier_warnings(self, today: dt.date) -> None:
        for po_pk, delivery in sorted(self.deliveries.items()):
            for on, new_date in delivery.warnings:
                if on != today:
                    continue
                purchase_order = PurchaseOrder.objects.get(pk=po_pk)
                if purchase_order.status not in OPEN_PO_STATUSES:
                    continue
                updates.purchase_order_move_expected_date(
                    purchase_order=purchase_order,
                    new_date=new_date,
                    reason="The supplier wrote: the shipment is delayed",
                    by=None,
                )

    def receive(self, today: dt.date) -> None:
        due = sorted(pk for pk, d in self.deliveries.items() if d.arrival <= today)
        for purchase_order in PurchaseOrder.objects.filter(pk__in=due).order_by("pk"):
            if not self.calendars[purchase_order.warehouse_id].is_working(today):
                continue
            quantities = {
                pk: ordered - received
                for pk, ordered, received in purchase_order.lines.values_list(
                    "pk", "ordered", "received"
                )
                if ordered > received
            }
            if quantities:
                updates.purchase_order_receive(
                    purchase_order=purchase_order, quantities=quantities, by=None
                )
            del self.deliveries[purchase_order.pk]

    # The warehouse ----------------------------------------------------------
    def ship(self, today: dt.date) -> None:
        """Lines complete (nothing left waiting) ship once the warehouse's
        handling days have passed since they became ready."""
        ready = (
            OrderLine.objects.ready_to_ship()
            .filter(ordered=F("allocated") + F("shipped") + F("cancelled"))
            .values_list("pk", "order_id", "warehouse_id", "allocated")
            .order_by("order_id", "pk")
        )
        handling = {w.pk: w.handling_days for w in self.shop.warehouses}
        by_order: dict[int, dict[int, int]] = defaultdict(dict)
        for pk, order_id, warehouse_id, allocated in ready:
            since = self.ready_since.setdefault(pk, today)
            calendar = self.calendars[warehouse_id]
            if (
                calendar.is_working(today)
                and calendar.between(since, today) >= handling[warehouse_id]
            ):
                by_order[order_id][pk] = allocated
        for quantities in by_order.values():
            self.tracking += 1
            from_order = OrderLine.objects.select_related("order").get(pk=next(iter(quantities)))
            updates.shipment_create(
                order=from_order.order,
                tracking_number=f"SIM{self.tracking:08d}",
                quantities=quantities,
                by=None,
            )
            for pk in quantities:
                self.ready_since.pop(pk, None)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; means here are small)."""
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
