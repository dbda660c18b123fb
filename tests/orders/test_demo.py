from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from api.keys import api_key_authenticate
from inventory.models import BackorderPolicy, Product, StockMove, Warehouse
from orders.checks import stock_problems
from orders.models import (
    Cancellation,
    Customer,
    OrderLine,
    RefundDue,
    SalesOrder,
    Shipment,
    Tier,
)
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    Supplier,
)

pytestmark = pytest.mark.django_db


def load_demo(*args: str) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def shop_counts() -> dict[str, int]:
    return {
        "products": Product.objects.count(),
        "customers": Customer.objects.count(),
        "orders": SalesOrder.objects.count(),
        "lines": OrderLine.objects.count(),
        "purchase_orders": PurchaseOrder.objects.count(),
        "moves": StockMove.objects.count(),
        "shipments": Shipment.objects.count(),
        "users": User.objects.count(),
    }


def test_load_demo_users_only_creates_the_four_users_and_is_safe_twice() -> None:
    load_demo("--users-only")
    output = load_demo("--users-only")
    users = {u.username: u for u in User.objects.all()}
    assert set(users) == {"warehouse", "service", "purchasing", "admin"}
    assert users["admin"].is_superuser
    assert list(users["warehouse"].groups.values_list("name", flat=True)) == ["warehouse"]
    assert list(users["service"].groups.values_list("name", flat=True)) == ["customer_service"]
    assert users["purchasing"].check_password("demo")
    assert "Demo users ready" in output
    assert not Product.objects.exists()
    assert not Customer.objects.exists()
    assert not SalesOrder.objects.exists()
    assert not PurchaseOrder.objects.exists()


def test_load_demo_builds_a_consistent_shop_once() -> None:
    # when
    first = load_demo()
    # then: a believable shop
    assert "Demo shop loaded" in first
    assert Warehouse.objects.count() == 3
    assert set(Warehouse.objects.values_list("handling_days", flat=True)) <= {1, 2}
    assert Supplier.objects.count() == 6
    leads = sorted(Supplier.objects.values_list("lead_time_days", flat=True))
    assert leads[0] >= 5 and leads[-1] <= 45 and len(set(leads)) == 6
    assert Product.objects.count() >= 150
    policies = set(Product.objects.values_list("backorder_policy", flat=True))
    assert policies == {BackorderPolicy.ALLOW, BackorderPolicy.DENY, BackorderPolicy.CAP}
    assert Product.objects.filter(alternatives__isnull=False).exists()
    assert Customer.objects.count() >= 400
    domains = {
        email.rsplit("@", 1)[1] for email in Customer.objects.values_list("email", flat=True)
    }
    assert domains <= {"example.com", "example.org", "example.net"}
    assert set(Customer.objects.values_list("language", flat=True)) == {"en", "id", "nl"}
    assert set(Customer.objects.values_list("tier", flat=True)) == set(Tier.values)
    assert Customer.objects.filter(email_opt_out=True).exists()

    assert SalesOrder.objects.count() >= 500
    assert OrderLine.objects.backordered().count() >= 300
    assert OrderLine.objects.ready_to_ship().exists()
    assert OrderLine.objects.exclude(priority=0).exists()
    assert Shipment.objects.exclude(tracking_number="").count() >= 100
    assert Cancellation.objects.exists()
    # paid orders among the cancelled ones: the refunds worklist has work
    assert RefundDue.objects.open().count() >= 10
    assert "refunds owed" in first
    placed = SalesOrder.objects.values_list("placed_at", flat=True)
    assert (timezone.now() - min(placed)).days >= 35

    today = timezone.localdate()
    open_lines = PurchaseOrderLine.objects.filter(
        purchase_order__status__in=OPEN_PO_STATUSES, received__lt=F("ordered")
    )
    assert PurchaseOrder.objects.filter(status__in=OPEN_PO_STATUSES).count() >= 10
    assert open_lines.filter(expected_date__lt=today).exists(), "some are overdue"
    assert open_lines.filter(expected_date__gt=today).exists()
    assert ExpectedDateRevision.objects.filter(
        line__purchase_order__status__in=OPEN_PO_STATUSES, new_date__gt=F("old_date")
    ).exists(), "some open purchase orders were moved later"
    # every action has its demo author
    warehouse = User.objects.get(username="warehouse")
    assert set(Shipment.objects.values_list("shipped_by", flat=True)) == {warehouse.pk}
    assert set(PurchaseOrder.objects.values_list("created_by__username", flat=True)) == {
        "purchasing"
    }
    assert set(Cancellation.objects.values_list("cancelled_by__username", flat=True)) == {"service"}
    assert stock_problems() == []

    # when: again
    before = shop_counts()
    # the demo storefront key it printed works; a second run makes a new one
    first_key = first.strip().splitlines()[-1].split("BD_API_KEY=")[1]
    assert api_key_authenticate(key=first_key) is not None
    second = load_demo()
    second_key = second.strip().splitlines()[-1].split("BD_API_KEY=")[1]
    assert api_key_authenticate(key=second_key) is not None
    assert api_key_authenticate(key=first_key) is None
    # then: nothing is duplicated
    assert "already loaded" in second
    assert shop_counts() == before


@override_settings(DEMO_DATA_ALLOWED=False)
def test_load_demo_is_refused_in_production() -> None:
    with pytest.raises(CommandError, match="never loaded in production"):
        call_command("load_demo")
    with pytest.raises(CommandError, match="never loaded in production"):
        call_command("load_demo", "--users-only")
    assert not User.objects.exists()
    assert not Product.objects.exists()
