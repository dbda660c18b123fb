"""orders.selectors.delays: who is on the delays page and in which order, its
filters, and paging without counting. The page: tests/desk/test_delays.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.http import QueryDict
from django.utils import timezone

from desk.filters import DelaysFilter
from notifications.models import DiscountCode
from notifications.selectors import customers_with_discount_codes
from orders.models import Customer, OrderLine
from orders.selectors.delays import delayed_customers
from tests.conftest import delayed_line
from tests.factories import CustomerFactory, PurchaseOrderLineFactory, SupplierFactory

pytestmark = pytest.mark.django_db


def test_worst_first_by_days_late_then_slips(delays: dict[str, Customer]) -> None:
    rows, has_next = delayed_customers()
    assert [row.customer.email.split("@")[0] for row in rows] == ["bea", "ada", "dan", "cal"]
    assert [(row.days_late, row.times_slipped) for row in rows] == [
        (20, 0),
        (15, 2),
        (2, 3),
        (2, 1),
    ]
    assert has_next is False
    bea = rows[0]
    assert bea.passed == 1 and bea.units_waiting == 3
    # only the delayed lines show; dan's on-time line does not
    assert [line.product.sku for line in rows[2].lines] == ["DAN-1"]
    assert vars(rows[2].lines[0])["days_late"] == 2


def test_a_tie_puts_vip_customers_first(delays: dict[str, Customer]) -> None:
    vip = CustomerFactory.create(name="Vip Example", tier=1)
    delayed_line(vip, first=2, promised=4, slipped=1, customer_tier=1)
    rows, _has_next = delayed_customers()
    assert [row.customer.name for row in rows][-2:] == ["Vip Example", "Cal Example"]


def test_pages_are_fetched_one_past_the_page_and_never_counted(delays) -> None:
    rows, has_next = delayed_customers(per_page=3)
    assert len(rows) == 3 and has_next
    rows, has_next = delayed_customers(per_page=3, page=2)
    assert [row.customer.name for row in rows] == ["Cal Example"] and not has_next
    assert delayed_customers(per_page=3, page=3) == ([], False)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["bea", "ada", "dan", "cal"]),
        ("customer=BEA", ["bea"]),
        ("customer=cal@example", ["cal"]),
        ("product=dan-1", ["dan"]),
        ("passed=on", ["bea"]),
        ("min_days=10", ["bea", "ada"]),
        ("min_days=16", ["bea"]),
        ("min_days=0", ["bea", "ada", "dan", "cal"]),
        ("discount=sent", ["ada"]),
        ("discount=none", ["bea", "dan", "cal"]),
        ("min_days=x&customer=ada", ["ada"]),  # an invalid value is left out
    ],
)
def test_filters(delays: dict[str, Customer], query: str, expected: list[str]) -> None:
    DiscountCode.objects.create(
        code="SORRY-TEST",
        customer=delays["ada"],
        percent=Decimal("10"),
        reason="test",
        expires_on=timezone.localdate(),
    )
    filters = DelaysFilter(QueryDict(query), discounted_customers=customers_with_discount_codes())
    rows, _has_next = delayed_customers(filters=filters)
    assert [row.customer.email.split("@")[0] for row in rows] == expected


def test_supplier_filter(delays: dict[str, Customer]) -> None:
    supplier = SupplierFactory.create(name="Kayu Jaya")
    ada_product = OrderLine.objects.get(product__sku="ADA-1").product
    PurchaseOrderLineFactory.create(purchase_order__supplier=supplier, product=ada_product)
    filters = DelaysFilter(QueryDict(f"supplier={supplier.pk}"))
    rows, _has_next = delayed_customers(filters=filters)
    assert [row.customer.name for row in rows] == ["Ada Example"]


def test_filtering_narrows_the_lines_shown(delays: dict[str, Customer]) -> None:
    delayed_line(delays["ada"], first=-1, promised=4, slipped=1, sku="ADA-2")
    rows, _has_next = delayed_customers(filters=DelaysFilter(QueryDict("product=ADA-2")))
    assert [line.product.sku for line in rows[0].lines] == ["ADA-2"]
