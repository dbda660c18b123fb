"""The simulated shop: warehouses, suppliers with distinct habits, a few
hundred products from the demo catalogue, customers in three tiers.

Names, prices and warehouses come from the demo loader's catalogue
(`orders.fixtures.demo_catalogue`); what is new here is each supplier's
*habit* — how late it really delivers against the date it quotes — which the
demo does not need but a year of measured promises does."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from inventory.models import BackorderPolicy, Product, Warehouse
from orders.fixtures.demo_catalogue import (
    DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    SUPPLIERS,
    WAREHOUSES,
)
from orders.models import Customer, Language, Tier
from suppliers.models import Supplier

WAREHOUSE_COUNTRIES = {"JKT": "ID", "SUB": "ID", "RTM": "NL"}
"""The country whose public holidays each demo warehouse keeps."""


@dataclass(frozen=True)
class Habit:
    """How a supplier really delivers: lateness in days against the date it
    quoted, drawn per purchase order."""

    name: str
    quoted_lead_days: int
    early: float  # share that arrives a day or two early
    on_time: float  # share that arrives on the quoted date
    late_days: tuple[int, int]  # the usual lateness range when late
    long_tail: float  # share of late orders that are very late (2-4x the range)
    silent: float  # share of late orders nobody warns about (the overdue sweep finds them)
    twice: float  # share of warned orders that are moved twice

    def lateness(self, rng: random.Random) -> int:
        roll = rng.random()
        if roll < self.early:
            return -rng.randint(1, 2)
        if roll < self.early + self.on_time:
            return 0
        low, high = self.late_days
        days = rng.randint(low, high)
        if rng.random() < self.long_tail:
            days *= rng.randint(2, 4)
        return days


HABITS = (
    Habit("reliable", 5, 0.05, 0.88, (1, 2), 0.0, 0.0, 0.0),
    Habit("a few days late", 10, 0.05, 0.35, (2, 5), 0.0, 0.05, 0.1),
    Habit("a few days late", 14, 0.05, 0.40, (2, 6), 0.05, 0.05, 0.15),
    Habit("erratic, long tail", 21, 0.1, 0.35, (1, 8), 0.25, 0.15, 0.3),
    Habit("erratic, long tail", 35, 0.05, 0.30, (3, 12), 0.2, 0.2, 0.3),
    Habit("quotes short, delivers long", 30, 0.0, 0.05, (10, 20), 0.05, 0.1, 0.2),
)
"""One habit per supplier of the demo catalogue, in its order."""


@dataclass
class SimSupplier:
    supplier: Supplier
    habit: Habit
    products: list[Product] = field(default_factory=list)


@dataclass
class Shop:
    warehouses: list[Warehouse]
    suppliers: list[SimSupplier]
    products: list[Product]
    popularity: list[float]
    stock_cover: dict[int, float]  # how many weeks of demand purchasing keeps per product
    supplier_of: dict[int, SimSupplier]
    customers: list[tuple[Customer, Warehouse]]


def shop_build(*, rng: random.Random, products: int = 300, customers: int = 800) -> Shop:
    """Create the shop's rows. Products cycle through the demo catalogue (a
    second "edition" of an item when more are asked than it lists)."""
    warehouses = [
        Warehouse.objects.create(code=code, name=name, handling_days=handling)
        for code, name, handling, _carrier in WAREHOUSES
    ]
    suppliers = [
        SimSupplier(
            Supplier.objects.create(
                name=spec.name,
                contact_email=spec.email,
                lead_time_days=habit.quoted_lead_days,
                notes=f"Simulated: {habit.name}.",
            ),
            habit,
        )
        for spec, habit in zip(SUPPLIERS, HABITS, strict=True)
    ]
    catalogue = [
        (index, f"{spec.prefix}-{code}", name, price, variants)
        for index, spec in enumerate(SUPPLIERS)
        for code, name, price, variants, _alternatives in spec.items
    ]
    rows: list[tuple[int, str, str, Decimal]] = []
    for edition in range(1, 10):
        for index, sku, name, price, variants in catalogue:
            for variant in variants.split("|") if variants else [""]:
                label, _at, variant_price = variant.partition("@")
                code, _space, variant_name = label.partition(" ")
                full_sku = (
                    sku + (f"-{code}" if code else "") + (f"-E{edition}" if edition > 1 else "")
                )
                full_name = f"{name}, {variant_name}" if variant_name else name
                if edition > 1:
                    full_name += f" (edition {edition})"
                rows.append((index, full_sku, full_name, Decimal(variant_price or price)))
        if len(rows) >= products:
            break
    created: list[Product] = []
    supplier_of: dict[int, SimSupplier] = {}
    for index, sku, name, unit_price in rows[:products]:
        sim_supplier = suppliers[index]
        roll = rng.random()
        product = Product.objects.create(
            sku=sku,
            name=name,
            price=unit_price,
            backorder_policy=BackorderPolicy.ALLOW if roll < 0.9 else BackorderPolicy.CAP,
            backorder_cap=None if roll < 0.9 else rng.choice((10, 20, 30)),
            default_lead_time_days=sim_supplier.habit.quoted_lead_days,
        )
        created.append(product)
        sim_supplier.products.append(product)
        supplier_of[product.pk] = sim_supplier
    ranks = list(range(len(created)))
    rng.shuffle(ranks)
    popularity = [1 / (rank + 1) ** 0.8 for rank in ranks]
    # Most products are kept in stock for a couple of weeks of demand; some are
    # run lean (they backorder often), a few are bought only when ordered.
    stock_cover = {
        product.pk: rng.choices((0.0, rng.uniform(0.5, 1.5), rng.uniform(1.5, 4)), (10, 45, 45))[0]
        for product in created
    }
    return Shop(
        warehouses=warehouses,
        suppliers=suppliers,
        products=created,
        popularity=popularity,
        stock_cover=stock_cover,
        supplier_of=supplier_of,
        customers=_customers_create(rng=rng, count=customers, warehouses=warehouses),
    )


def _customers_create(
    *, rng: random.Random, count: int, warehouses: list[Warehouse]
) -> list[tuple[Customer, Warehouse]]:
    by_code = {warehouse.code: warehouse for warehouse in warehouses}
    origins = (Language.INDONESIAN, Language.DUTCH, Language.ENGLISH)
    result = []
    for number in range(count):
        origin = rng.choices(origins, weights=(50, 30, 20))[0]
        first = rng.choice(FIRST_NAMES[origin])
        last = rng.choice(LAST_NAMES[origin])
        if origin == Language.INDONESIAN:
            home = rng.choices(("JKT", "SUB"), weights=(65, 35))[0]
        else:
            home = "RTM" if origin == Language.DUTCH or rng.random() < 0.5 else "JKT"
        customer = Customer.objects.create(
            name=f"{first} {last}",
            email=f"{first}.{last.replace(' ', '')}.{number}@{rng.choice(DOMAINS)}".lower(),
            language=origin,
            tier=rng.choices((Tier.STANDARD, Tier.PREFERRED, Tier.VIP), weights=(85, 12, 3))[0],
        )
        result.append((customer, by_code[home]))
    return result
