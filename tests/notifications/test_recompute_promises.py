"""`manage.py recompute_promises`: every queue (or one product's) recomputed, customers told."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from notifications import updates
from notifications.models import Notification
from orders.models import OrderLine
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def _waiting_on_a_purchase_order(shop: Shop, days: int) -> OrderLine:
    product = shop.product()
    shop.purchase(product, 5, days=days)
    order = updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, 2)],
        by=shop.clerk,
    )
    return order.lines.get()


def _recompute(*args: str) -> str:
    out = StringIO()
    call_command("recompute_promises", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_stale_promise_is_recomputed_and_its_customer_told(shop: Shop) -> None:
    # given a line promised from a purchase order whose date was changed behind
    # the use cases' back (the promise is stale)
    line = _waiting_on_a_purchase_order(shop, days=5)
    other = _waiting_on_a_purchase_order(shop, days=6)
    before = line.promised_date
    assert before is not None
    later = timezone.localdate() + dt.timedelta(days=20)
    line.product.purchase_lines.update(expected_date=later)
    # when the whole shop is recomputed
    output = _recompute()
    # then the promise follows the new date, the customer hears of it once,
    # and the figures say what was done
    line.refresh_from_db()
    assert line.promised_date is not None and line.promised_date > before
    assert (
        Notification.objects.filter(order=line.order, kind__startswith="promise_later").count() == 1
    )
    assert "Recomputed 2 waiting lines in 2 queues" in output
    assert "1 promises changed" in output
    other_before = other.promised_date
    other.refresh_from_db()
    assert other.promised_date == other_before


def test_one_product_only(shop: Shop) -> None:
    line = _waiting_on_a_purchase_order(shop, days=5)
    _waiting_on_a_purchase_order(shop, days=6)
    output = _recompute("--product", line.product.sku)
    assert "Recomputed 1 waiting lines in 1 queues" in output
    assert "0 promises changed" in output


def test_an_unknown_product_is_refused_with_its_sku(shop: Shop) -> None:
    with pytest.raises(CommandError, match="NO-SUCH-SKU"):
        _recompute("--product", "NO-SUCH-SKU")
