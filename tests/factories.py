"""factory_boy factories. Raw rows only: tests that need consistent stock build
it through the services (`order_place`, `purchase_order_receive`, …)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from inventory.models import BackorderPolicy, Product, Warehouse
from orders.models import Customer, Language, OrderLine, SalesOrder, Tier
from suppliers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus, Supplier


class WarehouseFactory(factory.django.DjangoModelFactory[Warehouse]):
    class Meta:
        model = Warehouse
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"WH{n}")
    name = factory.LazyAttribute(lambda o: f"Warehouse {o.code}")
    handling_days = 1


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    price = Decimal("19.90")
    backorder_policy = BackorderPolicy.ALLOW


class SupplierFactory(factory.django.DjangoModelFactory[Supplier]):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")
    contact_email = factory.Sequence(lambda n: f"supplier{n}@example.com")
    lead_time_days = 14


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    language = Language.ENGLISH
    tier = Tier.STANDARD


class PurchaseOrderFactory(factory.django.DjangoModelFactory[PurchaseOrder]):
    class Meta:
        model = PurchaseOrder

    number = factory.Sequence(lambda n: f"PO-F{n:05d}")
    supplier = factory.SubFactory(SupplierFactory)
    warehouse = factory.SubFactory(WarehouseFactory)
    status = PurchaseOrderStatus.ORDERED
    expected_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=10))


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory[PurchaseOrderLine]):
    class Meta:
        model = PurchaseOrderLine

    purchase_order = factory.SubFactory(PurchaseOrderFactory)
    product = factory.SubFactory(ProductFactory)
    ordered = 10
    expected_date = factory.LazyAttribute(lambda o: o.purchase_order.expected_date)


class SalesOrderFactory(factory.django.DjangoModelFactory[SalesOrder]):
    """A bare order row; it does not touch stock."""

    class Meta:
        model = SalesOrder

    number = factory.Sequence(lambda n: f"SO-F{n:06d}")
    customer = factory.SubFactory(CustomerFactory)
    warehouse = factory.SubFactory(WarehouseFactory)


class OrderLineFactory(factory.django.DjangoModelFactory[OrderLine]):
    """A bare backordered line; it does not touch stock."""

    class Meta:
        model = OrderLine

    order = factory.SubFactory(SalesOrderFactory)
    product = factory.SubFactory(ProductFactory)
    warehouse = factory.LazyAttribute(lambda o: o.order.warehouse)
    customer_tier = factory.LazyAttribute(lambda o: o.order.customer.tier)
    placed_at = factory.LazyAttribute(lambda o: o.order.placed_at)
    unit_price = factory.LazyAttribute(lambda o: o.product.price)
    ordered = 3
