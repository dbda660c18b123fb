"""Demo users and a believable demo shop.

Only for the embedded and development modes: refused when settings say
DEMO_DATA_ALLOWED is False (production).

The shop is not inserted as rows: it is *played* through the services over
the last weeks, on a simulated clock, so stock levels, the ledger, the queue,
history and every timestamp agree with each other exactly as if a warehouse
team, a purchasing desk and customer service had been at work. Everything is
drawn from `random.Random(2026)`, so the same day gives the same shop.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any
from unittest import mock

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from config.roles import Role
from inventory.models import BackorderPolicy, Product, StockLevel, Warehouse
from orders.models import Channel, Customer, Language, OrderLine, SalesOrder, Shipment, Tier
from orders.services.allocation import stock_adjust
from orders.services.cancelling import order_cancel, order_line_cancel
from orders.services.intake import LineRequest, order_place
from orders.services.priority import order_line_set_priority
from orders.services.promises import promises_refresh
from orders.services.purchasing import purchase_order_confirm, purchase_order_move_expected_date
from orders.services.receiving import purchase_order_receive
from orders.services.shipping import shipment_create
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)
from suppliers.services import PurchaseLineRequest, purchase_order_create


@dataclass(frozen=True)
class DemoUseCases:
    """The use cases the demo plays: the orders app's own by default. The
    notifications app passes its wrappers, which also write the messages the
    customers were sent along the way."""

    order_place: Callable[..., Any] = order_place
    order_cancel: Callable[..., Any] = order_cancel
    order_line_cancel: Callable[..., Any] = order_line_cancel
    order_line_set_priority: Callable[..., Any] = order_line_set_priority
    promises_refresh: Callable[..., Any] = promises_refresh
    purchase_order_confirm: Callable[..., Any] = purchase_order_confirm
    purchase_order_move_expected_date: Callable[..., Any] = purchase_order_move_expected_date
    purchase_order_receive: Callable[..., Any] = purchase_order_receive
    shipment_create: Callable[..., Any] = shipment_create
    stock_adjust: Callable[..., Any] = stock_adjust


DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo password, refused in production
DEMO_SEED = 2026


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    roles: tuple[Role, ...]
    superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("warehouse", "Wendy", (Role.WAREHOUSE,)),
    DemoUser("service", "Sam", (Role.CUSTOMER_SERVICE,)),
    DemoUser("purchasing", "Pat", (Role.PURCHASING,)),
    DemoUser("admin", "Alex", (), superuser=True),
)


def ensure_demo_allowed() -> None:
    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise ImproperlyConfigured("Demo data and demo users are never loaded in production.")


@transaction.atomic
def demo_users_load() -> list[User]:
    """Create or reset the four demo users; safe to run any number of times."""
    ensure_demo_allowed()
    users = []
    for spec in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=spec.username)
        user.first_name = spec.first_name
        user.email = f"{spec.username}@backorder-desk.test"
        user.is_staff = spec.superuser
        user.is_superuser = spec.superuser
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=r.value)[0] for r in spec.roles])
        users.append(user)
    return users


# --- the shop's summary ----------------------------------------------------


@dataclass(frozen=True)
class DemoShopSummary:
    created: bool
    products: int
    customers: int
    orders: int
    backordered_lines: int
    ready_to_ship_lines: int
    shipments: int
    open_purchase_orders: int
    overdue_purchase_orders: int
    date_revisions: int

    @classmethod
    def count(cls, *, created: bool) -> DemoShopSummary:
        today = timezone.localdate()
        open_pos = PurchaseOrder.objects.filter(status__in=OPEN_PO_STATUSES)
        overdue = open_pos.filter(
            Exists(
                PurchaseOrderLine.objects.filter(
                    purchase_order=OuterRef("pk"),
                    expected_date__lt=today,
                    received__lt=F("ordered"),
                )
            )
        )
        return cls(
            created=created,
            products=Product.objects.count(),
            customers=Customer.objects.count(),
            orders=SalesOrder.objects.count(),
            backordered_lines=OrderLine.objects.backordered().count(),
            ready_to_ship_lines=OrderLine.objects.ready_to_ship().count(),
            shipments=Shipment.objects.count(),
            open_purchase_orders=open_pos.count(),
            overdue_purchase_orders=overdue.count(),
            date_revisions=ExpectedDateRevision.objects.count(),
        )


# --- the catalogue -----------------------------------------------------------


@dataclass(frozen=True)
class _SupplierSpec:
    name: str
    email: str
    lead_time_days: int
    notes: str
    on_time: float  # share of purchase orders that arrive on the expected date
    silent: float  # share that slip without anyone moving the date (they go overdue)
    slip_days: tuple[int, int]
    partial: float  # share delivered in two parts
    prefix: str
    # code, name, price, variants "CODE Label" separated by "|" (optional
    # "@price" after a label), whether the variants are alternatives of each other
    items: tuple[tuple[str, str, str, str, bool], ...]


SUPPLIERS: tuple[_SupplierSpec, ...] = (
    _SupplierSpec(
        "Westland Garden Wholesale",
        "orders@westland-garden.example.com",
        5,
        "Ships from Naaldwijk and Surabaya stockists. Very reliable.",
        0.94,
        0.02,
        (2, 4),
        0.05,
        "GD",
        (
            (
                "TPL",
                "Terracotta Planter",
                "9.90",
                "D20 Ø20 cm@9.90|D30 Ø30 cm@16.50|D40 Ø40 cm@27.00|D50 Ø50 cm@42.00",
                True,
            ),
            (
                "GPL",
                "Glazed Planter Ø35 cm",
                "34.00",
                "BLU Cobalt Blue|GRN Jade Green|CRM Cream",
                True,
            ),
            (
                "SWP",
                "Self-Watering Pot",
                "12.90",
                "S Small@12.90|M Medium@18.90|L Large@26.90",
                False,
            ),
            ("HOS25", "Garden Hose 25 m", "29.95", "", False),
            ("HOS15", "Garden Hose 15 m", "21.95", "", False),
            ("HRC", "Hose Reel Cart", "54.00", "", False),
            ("TRW", "Stainless Hand Trowel", "14.50", "", False),
            ("SEC", "Bypass Pruning Secateurs", "24.90", "", False),
            ("WCN", "Watering Can 9 L", "27.50", "GAL Galvanised|GRN Green", True),
            ("RBK", "Raised Bed Kit 120×60 cm", "89.00", "", False),
            ("CMB", "Compost Bin 300 L", "59.00", "", False),
            ("BFD", "Hanging Bird Feeder", "17.90", "", False),
            ("KNL", "Foam Garden Kneeler", "11.50", "", False),
            ("GLV", "Leather Gardening Gloves", "13.90", "S Size S|M Size M|L Size L", False),
            ("SST", "Seed Starter Tray, 24 cells", "8.90", "", False),
            ("TRL", "Wooden Trellis 180 cm", "32.00", "", False),
            ("RBR", "Rain Barrel 200 L", "74.00", "", False),
            ("HPW", "Wall Herb Planter", "28.00", "", False),
            ("FPT", "Corten Steel Fire Pit", "149.00", "", False),
            ("BRM", "Coco Fibre Garden Broom", "19.90", "", False),
            ("PST", "Bamboo Plant Stand", "39.00", "", False),
            ("DRP", "Drip Irrigation Kit", "44.00", "", False),
            ("SPR", "Oscillating Lawn Sprinkler", "22.50", "", False),
        ),
    ),
    _SupplierSpec(
        "Kasongan Ceramics",
        "sales@kasongan-ceramics.example.org",
        10,
        "Handmade stoneware from Yogyakarta; sometimes ships in two batches.",
        0.75,
        0.05,
        (3, 8),
        0.18,
        "KT",
        (
            (
                "DPL27",
                "Stoneware Dinner Plate 27 cm",
                "14.50",
                "SND Sand|SEA Sea Green|CHR Charcoal|SPK Speckled White",
                True,
            ),
            (
                "SPL20",
                "Stoneware Side Plate 20 cm",
                "10.50",
                "SND Sand|SEA Sea Green|CHR Charcoal|SPK Speckled White",
                False,
            ),
            ("PBW", "Stoneware Pasta Bowl", "13.90", "SND Sand|SEA Sea Green|CHR Charcoal", False),
            (
                "MUG35",
                "Handthrown Mug 350 ml",
                "11.90",
                "SND Sand|SEA Sea Green|CHR Charcoal|RST Rust",
                True,
            ),
            ("ESP", "Espresso Cup & Saucer", "9.50", "SPK Speckled White|CHR Charcoal", False),
            ("PLT40", "Oval Serving Platter 40 cm", "32.00", "SND Sand|SPK Speckled White", False),
            (
                "CIC24",
                "Cast Iron Casserole 24 cm",
                "89.00",
                "RED Cherry Red|SAG Sage|BLK Black",
                True,
            ),
            ("CRF", "Glass Carafe 1 L", "19.50", "", False),
            ("TMB", "Tumbler Glass, set of 4", "18.00", "CLR Clear|SMK Smoke", False),
            ("CUT", "Bamboo Cutting Board", "16.90", "S Small@16.90|L Large@27.90", False),
            ("MRT", "Granite Mortar and Pestle", "24.50", "", False),
            ("TPT", "Ceramic Teapot 1 L", "36.00", "SND Sand|CHR Charcoal", True),
            ("OWB", "Olive Wood Serving Board", "29.00", "", False),
            ("SPM", "Salt & Pepper Mills, pair", "34.90", "", False),
            ("BTD", "Ceramic Butter Dish", "15.90", "", False),
        ),
    ),
    _SupplierSpec(
        "Bandung Textile Works",
        "export@bandung-textile.example.com",
        14,
        "Linen and batik from West Java.",
        0.7,
        0.06,
        (3, 10),
        0.1,
        "TX",
        (
            (
                "CUS45",
                "Linen Cushion Cover 45×45",
                "19.90",
                "SAG Sage|TER Terracotta|OAT Oat|IND Indigo|CHR Charcoal",
                True,
            ),
            (
                "BTK50",
                "Batik Cushion Cover 50×50",
                "24.90",
                "PAR Parang|KAW Kawung|MGM Mega Mendung",
                True,
            ),
            ("OCU50", "Outdoor Cushion 50×50", "29.90", "OCH Ochre|NAV Navy|STN Stone", True),
            ("THR", "Waffle Throw Blanket", "49.00", "OAT Oat|SLT Slate|RST Rust", True),
            ("TBL", "Linen Tablecloth 150×250", "59.00", "NAT Natural|WHT White|SAG Sage", False),
            ("NAP", "Linen Napkins, set of 4", "24.00", "NAT Natural|WHT White|SAG Sage", False),
            ("JUT", "Jute Rug 160×230", "119.00", "NAT Natural|BLC Bleached", True),
            ("TWL", "Cotton Bath Towel", "17.50", "WHT White|SND Sand|FOR Forest", False),
            ("APR", "Linen Apron", "22.00", "NAT Natural|CHR Charcoal", False),
            ("PIC", "Woven Picnic Blanket", "39.00", "RCK Red Check|BST Blue Stripe", True),
            ("PLM", "Seagrass Placemats, set of 4", "21.00", "NAT Natural|BLK Black", False),
            ("CRT", "Sheer Linen Curtain 140×260", "45.00", "WHT White|OAT Oat", False),
            ("FLC", "Floor Cushion 70×70", "54.00", "RST Rust|IND Indigo", True),
        ),
    ),
    _SupplierSpec(
        "Nordkap Outdoor Supply",
        "b2b@nordkap-outdoor.example.net",
        21,
        "Camping gear, consolidated via Hamburg.",
        0.6,
        0.08,
        (4, 12),
        0.12,
        "CP",
        (
            ("TNT2", "Dome Tent, 2-person", "129.00", "", False),
            ("TNT4", "Dome Tent, 4-person", "189.00", "", False),
            ("TNT6", "Family Tent, 6-person", "329.00", "", False),
            ("SLB3", "Three-Season Sleeping Bag", "79.00", "REG Regular|LNG Long@85.00", True),
            ("MAT", "Self-Inflating Sleeping Mat", "59.00", "", False),
            ("HAM", "Parachute Hammock", "34.90", "FOR Forest|SKY Sky|SUN Sunset", True),
            ("CCH", "Folding Camping Chair", "39.00", "OLV Olive|NAV Navy", True),
            ("COL35", "Cool Box 35 L", "64.00", "", False),
            ("COL50", "Cool Box 50 L", "84.00", "", False),
            ("ENM", "Enamel Camping Mug", "9.90", "WHT White|GRN Green|BLU Blue", True),
            ("STV", "Single-Burner Camping Stove", "44.00", "", False),
            ("CKS", "Titanium Cook Set", "69.00", "", False),
            ("HDL", "Headlamp 300 lm", "29.00", "", False),
            ("DPK25", "Daypack 25 L", "74.00", "BLK Black|MOS Moss|RST Rust", True),
            ("TRK", "Trekking Poles, pair", "49.00", "", False),
            ("DRY", "Dry Bag 20 L", "19.90", "YEL Yellow|BLU Blue", True),
            ("WFB", "Water Filter Bottle", "39.00", "", False),
            ("PBP", "Picnic Backpack for 4", "79.00", "", False),
            ("CTR", "Roll-up Camping Table", "54.00", "", False),
            ("MQN", "Travel Mosquito Net", "24.00", "", False),
            ("INB", "Insulated Bottle 750 ml", "27.00", "BLK Black|SND Sand|TEA Teal", True),
        ),
    ),
    _SupplierSpec(
        "Jepara Teak Furniture",
        "info@jepara-teak.example.com",
        35,
        "Solid teak made to order in Central Java; dates often slip.",
        0.5,
        0.2,
        (7, 21),
        0.15,
        "OF",
        (
            ("BEN150", "Teak Garden Bench 150 cm", "349.00", "", False),
            ("BEN180", "Teak Garden Bench 180 cm", "429.00", "", False),
            ("FCH", "Teak Folding Chair", "119.00", "", False),
            ("DTB200", "Teak Dining Table 200×100", "1290.00", "", False),
            ("DTR120", "Round Teak Dining Table Ø120", "890.00", "", False),
            ("RLC", "Rattan Lounge Chair", "289.00", "NAT Natural|BLK Black", True),
            ("RST", "Rattan Side Table", "99.00", "NAT Natural|BLK Black", True),
            ("LNG", "Teak Steamer Lounger", "549.00", "", False),
            (
                "BIS",
                "Aluminium Bistro Set",
                "239.00",
                "SAG Sage|ANT Anthracite|TER Terracotta",
                True,
            ),
            ("EGG", "Hanging Egg Chair", "379.00", "NAT Natural|GRY Grey", True),
            ("BST", "Teak Bar Stool", "159.00", "", False),
            ("SOF", "Outdoor Sofa, 3-seat", "1190.00", "STN Stone|CHR Charcoal", True),
            ("PAR", "Tilting Parasol 3 m", "199.00", "ECR Ecru|TAU Taupe|OLV Olive", True),
            ("PBS", "Parasol Base 40 kg", "79.00", "", False),
            ("CVB", "Furniture Cover, Bench", "39.00", "", False),
            ("CVL", "Furniture Cover, Lounge Set", "69.00", "", False),
            ("OIL", "Teak Oil 1 L", "19.90", "", False),
            ("DAY", "Rope Daybed", "990.00", "", False),
            ("CTB", "Teak Coffee Table", "269.00", "", False),
            ("BAL", "Folding Balcony Table", "89.00", "SAG Sage|ANT Anthracite", True),
            ("ORG", "Outdoor Rug 200×290", "149.00", "SND Sand|NAV Navy", True),
        ),
    ),
    _SupplierSpec(
        "Brightway Lighting Co.",
        "export@brightway-lighting.example.net",
        45,
        "Ships by sea from Shenzhen; vessels are often rolled to a later sailing.",
        0.45,
        0.2,
        (10, 28),
        0.1,
        "LT",
        (
            ("SSL10", "Solar String Lights 10 m", "29.90", "WW Warm White|MC Multicolour", True),
            ("SPL4", "Solar Path Lights, set of 4", "34.90", "BLK Black|COP Copper", True),
            ("RPL", "Rattan Pendant Lamp", "69.00", "D40 Ø40 cm@69.00|D60 Ø60 cm@99.00", True),
            ("BTL", "Bamboo Table Lamp", "59.00", "", False),
            ("HUR", "Hurricane Lantern", "24.90", "S Small@24.90|L Large@34.90", True),
            ("LCL", "LED Camping Lantern", "32.00", "", False),
            ("OWL", "Outdoor Wall Light", "54.00", "BLK Black|GRA Graphite", True),
            ("RTL", "Rechargeable Table Lamp", "79.00", "SND Sand|OLV Olive|BLK Black", True),
            ("GGP", "Glass Globe Pendant", "89.00", "CLR Clear|AMB Amber", True),
            ("FLL", "Floor Lamp with Linen Shade", "149.00", "", False),
            ("CLB", "Brass Candle Lantern", "44.00", "", False),
            ("FST", "Festoon Light Set 20 m", "64.00", "", False),
            ("MSF", "Motion Sensor Floodlight", "49.00", "", False),
            ("SLB", "Smart LED Bulb E27, 2-pack", "24.00", "", False),
            (
                "PLS",
                "Paper Lantern Shade",
                "14.90",
                "D30 Ø30 cm@14.90|D45 Ø45 cm@19.90|D60 Ø60 cm@26.90",
                True,
            ),
            ("SLR", "Rattan Solar Lantern", "39.00", "NAT Natural|BLK Black", True),
            ("WSB", "Brass Wall Sconce", "74.00", "", False),
            ("SBL", "Battery String Lights 5 m", "14.90", "", False),
        ),
    ),
)

WAREHOUSES = (
    # code, name, handling days, carrier prefix for tracking numbers
    ("JKT", "Jakarta (Cakung)", 1, "CGK"),
    ("SUB", "Surabaya (Rungkut)", 1, "SUB"),
    ("RTM", "Rotterdam (Waalhaven)", 2, "3SBDK"),
)

FIRST_NAMES = {
    Language.INDONESIAN: [
        "Budi",
        "Siti",
        "Agus",
        "Dewi",
        "Rina",
        "Andi",
        "Putri",
        "Eko",
        "Wulan",
        "Hendra",
        "Ayu",
        "Bayu",
        "Indah",
        "Rizky",
        "Fitri",
        "Dimas",
        "Sari",
        "Yusuf",
        "Nurul",
        "Arif",
        "Maya",
        "Taufik",
        "Ratna",
        "Fajar",
        "Intan",
        "Galih",
        "Yuni",
        "Reza",
    ],
    Language.DUTCH: [
        "Jan",
        "Sanne",
        "Daan",
        "Emma",
        "Lars",
        "Fleur",
        "Bram",
        "Lotte",
        "Sem",
        "Anouk",
        "Thijs",
        "Iris",
        "Ruben",
        "Eva",
        "Jesse",
        "Noor",
        "Stijn",
        "Julia",
        "Tim",
        "Femke",
        "Bas",
        "Merel",
        "Joost",
        "Roos",
        "Maarten",
        "Ilse",
    ],
    Language.ENGLISH: [
        "Oliver",
        "Amelia",
        "Harry",
        "Isla",
        "Jack",
        "Ava",
        "George",
        "Mia",
        "Noah",
        "Grace",
        "Leo",
        "Sophie",
        "Oscar",
        "Chloe",
        "James",
        "Ella",
        "William",
        "Lily",
        "Henry",
        "Ruby",
        "Thomas",
        "Freya",
        "Daniel",
        "Hannah",
    ],
}
LAST_NAMES = {
    Language.INDONESIAN: [
        "Santoso",
        "Wijaya",
        "Saputra",
        "Rahmawati",
        "Lestari",
        "Hidayat",
        "Kusuma",
        "Pratama",
        "Setiawan",
        "Nugroho",
        "Susanto",
        "Halim",
        "Gunawan",
        "Siregar",
        "Nasution",
        "Purnomo",
        "Hakim",
        "Wibowo",
        "Utami",
        "Permana",
        "Sembiring",
        "Tanjung",
        "Simanjuntak",
        "Harahap",
    ],
    Language.DUTCH: [
        "de Vries",
        "Jansen",
        "de Jong",
        "Bakker",
        "Visser",
        "Smit",
        "Meijer",
        "van Dijk",
        "Mulder",
        "de Boer",
        "Bos",
        "Vos",
        "Peters",
        "Hendriks",
        "van Leeuwen",
        "Dekker",
        "Brouwer",
        "de Wit",
        "Dijkstra",
        "Smits",
        "van den Berg",
        "Kok",
        "Jacobs",
        "Vermeulen",
    ],
    Language.ENGLISH: [
        "Smith",
        "Clarke",
        "Hughes",
        "Walker",
        "Wright",
        "Turner",
        "Hill",
        "Evans",
        "Harris",
        "Lewis",
        "Morgan",
        "Baker",
        "Carter",
        "Mitchell",
        "Bennett",
        "Cooper",
        "Ward",
        "Foster",
        "Reid",
        "Graham",
        "Murray",
        "Palmer",
        "Shaw",
        "Price",
    ],
}
# Businesses that buy often and are served first.
BUSINESS_CUSTOMERS = (
    ("Hotel Sawah Indah", Language.INDONESIAN, "JKT"),
    ("Ubud Retreat Villas", Language.ENGLISH, "SUB"),
    ("Glamping Bukit Hijau", Language.INDONESIAN, "SUB"),
    ("Surabaya Design Studio", Language.INDONESIAN, "SUB"),
    ("B&B Het Oude Veer", Language.DUTCH, "RTM"),
    ("Restaurant De Linde", Language.DUTCH, "RTM"),
    ("Camping De Vlinder", Language.DUTCH, "RTM"),
    ("Kemang Co-Living", Language.ENGLISH, "JKT"),
)
DOMAINS = ("example.com", "example.org", "example.net")

DATE_MOVE_REASONS = (
    "Supplier reported a port delay",
    "Container rolled to the next vessel",
    "Raw material shortage at the factory",
    "Factory closed for the public holidays",
    "Quality check failed; the batch is being remade",
    "Supplier short of packaging; shipping a week later",
)
CANCEL_ORDER_REASONS = (
    "Customer changed their mind",
    "Customer found it elsewhere",
    "Duplicate order placed by mistake",
    "Customer moving house; will order again later",
)
CANCEL_LINE_REASONS = (
    "Customer does not want to wait for the new date",
    "Customer took an item from the showroom instead",
    "Customer needed it for an event that has passed",
)

ORDERS = 625  # a few are refused by the storefront (nothing left that may be sold)
ORDER_DAYS = 42  # orders are spread over the last six weeks
REVIEW_DAYS = (-38, -31, -24, -17, -10, -3)  # purchasing's weekly replenishment run


# --- the simulated clock -----------------------------------------------------


class _Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@contextmanager
def _simulated_clock(start: dt.datetime) -> Iterator[_Clock]:
    """Make `timezone.now()` return the simulated time, so auto_now_add
    fields, history rows and the services' own timestamps tell the same story
    as the orders' placed_at."""
    clock = _Clock(start)
    with mock.patch.object(timezone, "now", clock):
        yield clock


# --- building the shop -------------------------------------------------------


@dataclass
class _PlannedOrder:
    placed_at: dt.datetime
    customer: Customer
    warehouse: Warehouse
    lines: list[tuple[Product, int]]
    channel: str
    reference: str
    ships_partly: bool


@dataclass(order=True)
class _Event:
    when: dt.datetime
    seq: int
    action: Callable[[], None] = field(compare=False)


class _DemoShop:
    def __init__(
        self, *, rng: random.Random, users: dict[str, User], clock: _Clock, use: DemoUseCases
    ) -> None:
        self.rng = rng
        self.use = use
        self.warehouse_user = users["warehouse"]
        self.service_user = users["service"]
        self.purchasing_user = users["purchasing"]
        self.clock = clock
        self.today = timezone.localdate(clock.now)
        self.tz = timezone.get_current_timezone()
        self.events: list[_Event] = []
        self.seq = itertools.count()
        self.warehouses: list[Warehouse] = []
        self.carriers: dict[int, str] = {}
        self.suppliers: list[tuple[Supplier, _SupplierSpec, list[Product]]] = []
        self.products: list[Product] = []
        self.popularity: list[float] = []
        self.customers: list[tuple[Customer, Warehouse]] = []
        self.neglected: set[int] = set()  # products purchasing is not reordering (yet)
        self.ready_since: dict[int, dt.date] = {}
        self.partial_orders: set[int] = set()
        self.refused_orders = 0
        self.overdue_wanted = 4  # purchase orders that are late without a new date

    # time helpers

    def at(self, day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
        date = self.today + dt.timedelta(days=day)
        return dt.datetime.combine(date, dt.time(hour, minute, second), tzinfo=self.tz)

    def on(self, date: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=self.tz)

    def schedule(self, when: dt.datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, _Event(max(when, self.clock.now), next(self.seq), action))

    def run(self) -> None:
        while self.events:
            event = heapq.heappop(self.events)
            self.clock.now = event.when
            event.action()

    # the plan

    def build(self) -> None:
        self.clock.now = self.at(-100, 8)
        self.create_warehouses()
        self.create_suppliers_and_products()
        self.create_customers()
        plan = self.plan_orders()
        self.schedule_opening_stock(plan)
        for planned in plan:
            self.schedule(planned.placed_at, partial(self.place, planned))
        for day in REVIEW_DAYS:
            for index, (supplier, spec, products) in enumerate(self.suppliers):
                self.schedule(
                    self.at(day, 10, 5 * index), partial(self.review, supplier, spec, products)
                )
        # The warehouse is a couple of days behind: the last days' ready orders
        # are still on the ready-to-ship list.
        for day in range(-ORDER_DAYS, -2):
            if self.at(day, 0).weekday() != 6:  # the warehouse rests on Sundays
                self.schedule(self.at(day, 15), self.ship_ready)
        self.schedule_customer_service()
        self.schedule_stock_counts()
        self.run()

    def create_warehouses(self) -> None:
        for code, name, handling_days, carrier in WAREHOUSES:
            warehouse = Warehouse.objects.create(code=code, name=name, handling_days=handling_days)
            self.warehouses.append(warehouse)
            self.carriers[warehouse.pk] = carrier

    def create_suppliers_and_products(self) -> None:
        rng = self.rng
        products: list[Product] = []
        owner: list[int] = []
        alternative_groups: list[list[int]] = []
        for index, spec in enumerate(SUPPLIERS):
            for code, name, price, variants, alternatives in spec.items:
                group = []
                for variant in variants.split("|") if variants else [""]:
                    label, variant_price = variant, price
                    if "@" in variant:
                        label, variant_price = variant.split("@")
                    variant_code, _space, variant_name = label.partition(" ")
                    sku = f"{spec.prefix}-{code}" + (f"-{variant_code}" if variant_code else "")
                    product_name = f"{name}, {variant_name}" if variant_name else name
                    roll = rng.random()
                    policy = BackorderPolicy.ALLOW
                    cap = None
                    if roll < 0.08:
                        policy = BackorderPolicy.DENY
                    elif roll < 0.2:
                        policy = BackorderPolicy.CAP
                        cap = rng.choice((6, 8, 10, 12, 15, 20, 25))
                    group.append(len(products))
                    owner.append(index)
                    products.append(
                        Product(
                            sku=sku,
                            name=product_name,
                            price=Decimal(variant_price),
                            backorder_policy=policy,
                            backorder_cap=cap,
                            default_lead_time_days=spec.lead_time_days,
                        )
                    )
                if alternatives and len(group) > 1:
                    alternative_groups.append(group)
        # One product in the catalogue is no longer sold: it stays for history.
        products[-1].active = False
        created = bulk_create_with_history(
            products, Product, default_user=self.purchasing_user, default_change_reason="Demo"
        )
        self.products = [p for p in created if p.active]
        for group in alternative_groups:
            for i in group:
                created[i].alternatives.set([created[j] for j in group if j != i])
        by_supplier: dict[int, list[Product]] = defaultdict(list)
        for product, index in zip(created, owner, strict=True):
            if product.active:
                by_supplier[index].append(product)
        for index, spec in enumerate(SUPPLIERS):
            supplier = Supplier.objects.create(
                name=spec.name,
                contact_email=spec.email,
                lead_time_days=spec.lead_time_days,
                notes=spec.notes,
            )
            self.suppliers.append((supplier, spec, by_supplier[index]))
        # A long tail: a few products sell a lot, most sell now and then.
        ranks = list(range(len(self.products)))
        rng.shuffle(ranks)
        self.popularity = [1 / (rank + 1) ** 0.75 for rank in ranks]
        self.neglected = {p.pk for p in self.products if rng.random() < 0.2}

    def create_customers(self) -> None:
        rng = self.rng
        customers: list[Customer] = []
        homes: list[str] = []
        seen: set[str] = set()

        def email_for(local: str) -> str:
            for n in itertools.count(1):
                candidate = f"{local}{'' if n == 1 else n}@{rng.choice(DOMAINS)}"
                if candidate not in seen:
                    seen.add(candidate)
                    return candidate
            raise AssertionError("unreachable")

        for name, language, home in BUSINESS_CUSTOMERS:
            local = "".join(c for c in name.lower().replace(" ", ".") if c.isalnum() or c == ".")
            customers.append(
                Customer(
                    name=name,
                    email=email_for(local),
                    language=language,
                    tier=Tier.VIP,
                )
            )
            homes.append(home)
        origins = (Language.INDONESIAN, Language.DUTCH, Language.ENGLISH)
        while len(customers) < 500:
            origin = rng.choices(origins, weights=(45, 30, 25))[0]
            first = rng.choice(FIRST_NAMES[origin])
            last = rng.choice(LAST_NAMES[origin])
            language = origin
            if origin != Language.ENGLISH and rng.random() < 0.15:
                language = Language.ENGLISH
            if origin == Language.DUTCH or (origin == Language.ENGLISH and rng.random() < 0.5):
                home = "RTM"
            else:
                home = rng.choices(("JKT", "SUB"), weights=(65, 35))[0]
            tier = rng.choices((Tier.STANDARD, Tier.PREFERRED, Tier.VIP), weights=(85, 12, 3))[0]
            local = f"{first}.{last.replace(' ', '')}".lower()
            customers.append(
                Customer(
                    name=f"{first} {last}",
                    email=email_for(local),
                    language=language,
                    tier=tier,
                    email_opt_out=rng.random() < 0.04,
                )
            )
            homes.append(home)
        created = bulk_create_with_history(
            customers, Customer, default_user=self.service_user, default_change_reason="Demo"
        )
        by_code = {w.code: w for w in self.warehouses}
        self.customers = [
            (customer, by_code[home]) for customer, home in zip(created, homes, strict=True)
        ]

    def plan_orders(self) -> list[_PlannedOrder]:
        rng = self.rng
        # Regulars and businesses order more often than the long tail of customers.
        weights = [
            8.0 if c.tier == Tier.VIP else 3.0 if c.tier == Tier.PREFERRED else 1.0
            for c, _w in self.customers
        ]
        plan = []
        used: set[dt.datetime] = set()
        for number in range(ORDERS):
            customer, warehouse = rng.choices(self.customers, weights=weights)[0]
            day = -rng.randint(1, ORDER_DAYS)
            hour = rng.choices(
                range(7, 23), weights=(1, 2, 3, 4, 4, 4, 5, 4, 4, 4, 5, 6, 7, 6, 4, 2)
            )[0]
            placed_at = self.at(day, hour, rng.randint(0, 59), rng.randint(0, 59))
            while placed_at in used:
                placed_at += dt.timedelta(seconds=1)
            used.add(placed_at)
            count = rng.choices((1, 2, 3, 4), weights=(40, 30, 18, 12))[0]
            chosen: list[Product] = []
            while len(chosen) < count:
                product = rng.choices(self.products, weights=self.popularity)[0]
                if product not in chosen:
                    chosen.append(product)
            lines = [(product, self.quantity(product, customer)) for product in chosen]
            channel = rng.choices(
                (Channel.WEB, Channel.MARKETPLACE, Channel.PHONE, Channel.API),
                weights=(68, 17, 10, 5),
            )[0]
            reference = ""
            if channel == Channel.MARKETPLACE:
                reference = f"MP-{rng.randint(10_000_000, 99_999_999)}-{number}"
            elif channel == Channel.API:
                reference = f"SHOP-{20_000 + number}"
            plan.append(
                _PlannedOrder(
                    placed_at=placed_at,
                    customer=customer,
                    warehouse=warehouse,
                    lines=lines,
                    channel=channel,
                    reference=reference,
                    ships_partly=count > 1 and rng.random() < 0.35,
                )
            )
        plan.sort(key=lambda planned: planned.placed_at)
        return plan

    def quantity(self, product: Product, customer: Customer) -> int:
        rng = self.rng
        if product.price >= 300:
            quantity = rng.choices((1, 2), weights=(92, 8))[0]
        elif product.price >= 50:
            quantity = rng.choices((1, 2, 3), weights=(80, 15, 5))[0]
        else:
            quantity = rng.choices((1, 2, 3, 4, 6), weights=(58, 22, 8, 7, 5))[0]
        if customer.tier == Tier.VIP and product.price < 300 and rng.random() < 0.5:
            quantity *= rng.choice((2, 3, 4))  # a hotel furnishes several rooms
        return quantity

    # purchasing

    def schedule_opening_stock(self, plan: list[_PlannedOrder]) -> None:
        """Purchase orders raised months ago and received before the first
        order: roughly a third to a half of what the next weeks will sell."""
        rng = self.rng
        demand: dict[tuple[int, int], int] = defaultdict(int)
        for planned in plan:
            for product, quantity in planned.lines:
                demand[(product.pk, planned.warehouse.pk)] += quantity
        cover = {}
        for product in self.products:
            if product.backorder_policy == BackorderPolicy.DENY:
                cover[product.pk] = rng.uniform(1.1, 1.6)
            else:
                cover[product.pk] = rng.choices(
                    (0.0, rng.uniform(0.05, 0.35), rng.uniform(0.35, 0.75)), weights=(12, 63, 25)
                )[0]
        arrival = -ORDER_DAYS - 6
        for index, (supplier, spec, products) in enumerate(self.suppliers):
            for warehouse in self.warehouses:
                lines = []
                for product in products:
                    wanted = demand.get((product.pk, warehouse.pk), 0)
                    units = round(wanted * cover[product.pk]) + rng.choice((0, 0, 1, 2, 3))
                    if units > 0:
                        lines.append(PurchaseLineRequest(product, units))
                expected = self.today + dt.timedelta(days=arrival + rng.randint(-2, 2))
                created = self.on(expected - dt.timedelta(days=spec.lead_time_days), 9, index)
                self.schedule(
                    created,
                    partial(
                        self.raise_purchase_order,
                        supplier,
                        spec,
                        warehouse,
                        lines,
                        expected,
                        note="Opening stock for the season",
                        reliable=True,
                    ),
                )

    def review(self, supplier: Supplier, spec: _SupplierSpec, products: list[Product]) -> None:
        """Purchasing's weekly run: order what the queue is short of, not yet
        covered by open purchase orders, plus a little stock for new orders."""
        rng = self.rng
        ids = [p.pk for p in products]
        waiting = {
            (row["product_id"], row["warehouse_id"]): row["units"]
            for row in OrderLine.objects.backordered()
            .filter(product_id__in=ids)
            .values("product_id", "warehouse_id")
            .annotate(units=Sum(F("ordered") - F("allocated") - F("shipped") - F("cancelled")))
        }
        inbound = {
            (row["product_id"], row["purchase_order__warehouse_id"]): row["units"]
            for row in PurchaseOrderLine.objects.filter(
                product_id__in=ids, purchase_order__status__in=OPEN_PO_STATUSES
            )
            .values("product_id", "purchase_order__warehouse_id")
            .annotate(units=Sum(F("ordered") - F("received")))
        }
        expected = timezone.localdate(self.clock.now) + dt.timedelta(days=spec.lead_time_days)
        for warehouse in self.warehouses:
            lines = []
            for product in products:
                short = waiting.get((product.pk, warehouse.pk), 0)
                short -= inbound.get((product.pk, warehouse.pk), 0)
                if short <= 0 or product.pk in self.neglected or rng.random() < 0.3:
                    continue
                if rng.random() < 0.15:
                    units = max(1, short // 2)  # the supplier can only allocate part
                else:
                    units = short + rng.choice((0, 1, 2, 2, 4, 6))
                lines.append(PurchaseLineRequest(product, units))
            if lines:
                self.raise_purchase_order(supplier, spec, warehouse, lines, expected)

    def raise_purchase_order(
        self,
        supplier: Supplier,
        spec: _SupplierSpec,
        warehouse: Warehouse,
        lines: list[PurchaseLineRequest],
        expected: dt.date,
        *,
        note: str = "",
        reliable: bool = False,
    ) -> None:
        """Create and confirm a purchase order, then decide (from the
        supplier's track record) when it really arrives, and schedule the
        date move and the receipts that fall before today."""
        if not lines:
            return
        rng = self.rng
        draft = purchase_order_create(
            supplier=supplier,
            warehouse=warehouse,
            lines=lines,
            expected_date=expected,
            by=self.purchasing_user,
            notes=note,
        )
        # Confirmed through orders' use case, so the queue's promises count it.
        order, _changes = self.use.purchase_order_confirm(
            purchase_order=draft, by=self.purchasing_user
        )
        roll = rng.random()
        slip = dt.timedelta(days=rng.randint(*spec.slip_days))
        yesterday = self.today - dt.timedelta(days=1)
        due_lately = self.today - dt.timedelta(days=9) <= expected < self.today
        if reliable:
            arrival = expected
        elif due_lately and self.overdue_wanted and rng.random() < 0.6:
            # Should have arrived in the last days; the supplier has gone quiet.
            self.overdue_wanted -= 1
            arrival = self.today + dt.timedelta(days=rng.randint(1, 10))
        elif roll < spec.on_time:
            arrival = expected
        elif roll < spec.on_time + spec.silent:
            # Slips without word from the supplier: overdue once the date passes.
            arrival = expected + slip
        else:
            arrival = expected + slip
            # Far-away suppliers warn earlier: a vessel is rolled weeks ahead.
            notice = dt.timedelta(days=rng.randint(2, max(6, spec.lead_time_days // 2)))
            told = max(expected - notice, timezone.localdate(self.clock.now))
            if told <= yesterday:
                reason = rng.choice(DATE_MOVE_REASONS)
                self.schedule(
                    self.on(told, 11, rng.randint(0, 59)),
                    lambda: self.move(order, arrival, reason),
                )
        if arrival > yesterday:
            return
        if rng.random() < spec.partial and not reliable:
            balance = arrival + dt.timedelta(days=rng.randint(5, 14))
            self.schedule(
                self.on(arrival, 9, rng.randint(0, 59)),
                lambda: self.receive(order, part=0.6, balance=balance),
            )
        else:
            self.schedule(self.on(arrival, 9, rng.randint(0, 59)), lambda: self.receive(order))

    def move(self, order: PurchaseOrder, new_date: dt.date, reason: str) -> None:
        order.refresh_from_db(fields=["status"])
        if not order.is_open:
            return  # everything arrived after all
        self.use.purchase_order_move_expected_date(
            purchase_order=order, new_date=new_date, reason=reason, by=self.purchasing_user
        )

    def receive(
        self, order: PurchaseOrder, *, part: float = 1.0, balance: dt.date | None = None
    ) -> None:
        quantities = {}
        for line in order.lines.order_by("pk"):
            if line.outstanding:
                quantities[line.pk] = max(1, int(line.outstanding * part))
        if not quantities:
            return
        self.use.purchase_order_receive(
            purchase_order=order, quantities=quantities, by=self.warehouse_user
        )
        if balance is None or part >= 1:
            return
        # The balance follows in a second delivery; purchasing records the new date.
        self.schedule(
            self.clock.now + dt.timedelta(hours=3),
            lambda: self.move(order, balance, "Balance of the order follows in a second shipment"),
        )
        if balance < self.today:
            self.schedule(self.on(balance, 9, self.rng.randint(0, 59)), lambda: self.receive(order))

    # the storefront

    def place(self, planned: _PlannedOrder) -> None:
        lines = [LineRequest(product, quantity) for product, quantity in planned.lines]
        by = self.service_user if planned.channel == Channel.PHONE else None
        for attempt in (
            lines,
            [r for r in lines if r.product.backorder_policy == BackorderPolicy.ALLOW],
        ):
            if not attempt:
                break
            try:
                order = self.use.order_place(
                    customer=planned.customer,
                    warehouse=planned.warehouse,
                    lines=attempt,
                    by=by,
                    channel=planned.channel,
                    placed_at=planned.placed_at,
                    external_reference=planned.reference,
                )
            except ValidationError:
                # The storefront would not have offered what cannot be sold
                # on backorder: the customer buys the rest.
                continue
            if planned.ships_partly:
                self.partial_orders.add(order.pk)
            return
        self.refused_orders += 1

    # the warehouse

    def ship_ready(self) -> None:
        """The afternoon run: orders complete for `handling_days` ship; customers
        who asked for a partial delivery get what is there after a week."""
        today = timezone.localdate(self.clock.now)
        allocated = OrderLine.objects.filter(order=OuterRef("pk"), allocated__gt=0)
        waiting = OrderLine.objects.backordered().filter(order=OuterRef("pk"))
        for warehouse in self.warehouses:
            with_units = SalesOrder.objects.filter(Exists(allocated), warehouse=warehouse)
            complete = list(with_units.exclude(Exists(waiting)).order_by("pk"))
            for order in complete:
                since = self.ready_since.setdefault(order.pk, today)
                if (today - since).days >= warehouse.handling_days:
                    self.ship(order, warehouse)
            week_ago = self.clock.now - dt.timedelta(days=7)
            partly = with_units.filter(
                Exists(waiting), pk__in=self.partial_orders, placed_at__lte=week_ago
            ).order_by("pk")
            for order in partly:
                self.ship(order, warehouse)

    def ship(self, order: SalesOrder, warehouse: Warehouse) -> None:
        tracking = f"{self.carriers[warehouse.pk]}{self.rng.randint(10**9, 10**10 - 1)}"
        shipment = self.use.shipment_create(
            order=order, tracking_number=tracking, by=self.warehouse_user
        )
        # shipped_at's default was bound before the clock was simulated.
        Shipment.objects.filter(pk=shipment.pk).update(shipped_at=self.clock.now)
        Shipment.history.filter(id=shipment.pk).update(shipped_at=self.clock.now)
        self.ready_since.pop(order.pk, None)

    def schedule_stock_counts(self) -> None:
        rng = self.rng
        for day in sorted(rng.sample(range(-ORDER_DAYS + 2, -1), 6)):
            self.schedule(self.at(day, 7, rng.randint(0, 50)), self.stock_count)

    def stock_count(self) -> None:
        """A cycle count: now and then a damaged unit, now and then one found."""
        rng = self.rng
        levels = list(
            StockLevel.objects.filter(on_hand__gt=F("allocated"))
            .select_related("product", "warehouse")
            .order_by("pk")
        )
        if not levels:
            return
        level = rng.choice(levels)
        if rng.random() < 0.6:
            change, reason = -1, "Damaged in the warehouse during the cycle count"
        else:
            change, reason = rng.randint(1, 3), "Found during the cycle count"
        self.use.stock_adjust(
            product=level.product,
            warehouse=level.warehouse,
            change=change,
            reason=reason,
            by=self.warehouse_user,
        )

    # customer service

    def schedule_customer_service(self) -> None:
        rng = self.rng
        for action, count in (
            (self.cancel_order, 10),
            (self.cancel_line, 14),
            (self.prioritise_line, 22),
        ):
            for _n in range(count):
                day = -rng.randint(1, ORDER_DAYS - 7)
                self.schedule(self.at(day, rng.randint(9, 17), rng.randint(0, 59)), action)

    def waiting_lines(self, *, older_than_days: int) -> list[OrderLine]:
        cutoff = self.clock.now - dt.timedelta(days=older_than_days)
        return list(
            OrderLine.objects.backordered()
            .filter(placed_at__lte=cutoff, shipped=0)
            .select_related("order")
            .order_by("pk")
        )

    def cancel_order(self) -> None:
        lines = self.waiting_lines(older_than_days=3)
        if lines:
            order = self.rng.choice(lines).order
            self.use.order_cancel(
                order=order, reason=self.rng.choice(CANCEL_ORDER_REASONS), by=self.service_user
            )

    def cancel_line(self) -> None:
        lines = self.waiting_lines(older_than_days=10)
        if lines:
            line = self.rng.choice(lines)
            self.use.order_line_cancel(
                line=line, reason=self.rng.choice(CANCEL_LINE_REASONS), by=self.service_user
            )

    def prioritise_line(self) -> None:
        lines = [line for line in self.waiting_lines(older_than_days=2) if line.priority == 0]
        if lines:
            line = self.rng.choice(lines)
            priority = self.rng.choice((5, 10, 10, 20, 50))
            self.use.order_line_set_priority(line=line, priority=priority, by=self.service_user)


def demo_shop_load(
    *, users: list[User] | None = None, use_cases: DemoUseCases | None = None
) -> DemoShopSummary:
    """Play six weeks of a homeware and outdoor shop through the services.

    Skipped (returning the current counts with `created=False`) when the
    database already has products, so running it twice never duplicates.
    """
    ensure_demo_allowed()
    if Product.objects.exists():
        return DemoShopSummary.count(created=False)
    by_name = {user.username: user for user in (users or demo_users_load())}
    use = use_cases or DemoUseCases()
    with transaction.atomic():
        with _simulated_clock(timezone.now()) as clock:
            _DemoShop(rng=random.Random(DEMO_SEED), users=by_name, clock=clock, use=use).build()
        # This morning's check: promises that passed while nobody looked get a new date.
        stale = set(
            OrderLine.objects.backordered()
            .filter(promised_date__lt=timezone.localdate())
            .values_list("product_id", "warehouse_id")
        )
        if stale:
            use.promises_refresh(keys=stale, cause="Daily check: promised date passed")
    return DemoShopSummary.count(created=True)
