"""A staff order (phone or email): the customer found or made, the order placed
with its confirmation, once per form — `updates.order_place_for_customer`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from inventory.models import BackorderPolicy
from notifications import updates
from notifications.models import Notification
from orders.models import Channel, Customer, FormSubmission, Language, PaymentStatus, Tier
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def take(shop: Shop, lines, *, email="ana@example.com", token="", **fields):
    values: dict[str, Any] = {
        "name": "Ana Putri",
        "language": Language.INDONESIAN,
        "tier": Tier.PREFERRED,
    }
    values.update(fields)
    return updates.order_place_for_customer(
        email=email,
        token=token,
        warehouse=shop.warehouse,
        lines=lines,
        by=shop.clerk,
        channel=Channel.PHONE,
        payment_status=PaymentStatus.AUTHORIZED,
        **values,
    )


def test_a_new_customer_is_made_and_told_the_date_in_their_language(shop: Shop) -> None:
    # given one lamp in stock and a chair on a purchase order
    lamp, chair = shop.product(sku="LAMP-1"), shop.product(sku="CHAIR-2")
    shop.receive(lamp, 1)
    shop.purchase(chair, 5, days=6)

    order = take(shop, [LineRequest(lamp, 1), LineRequest(chair, 2)])

    customer = Customer.objects.get(email="ana@example.com")
    assert (customer.name, customer.language, customer.tier) == (
        "Ana Putri",
        Language.INDONESIAN,
        Tier.PREFERRED,
    )
    assert (order.customer, order.channel, order.payment_status) == (
        customer,
        Channel.PHONE,
        PaymentStatus.AUTHORIZED,
    )
    assert order.created_by == shop.clerk
    lines = {line.product.sku: line for line in order.lines.select_related("product")}
    assert (lines["LAMP-1"].allocated, lines["LAMP-1"].backordered) == (1, 0)
    assert (lines["CHAIR-2"].allocated, lines["CHAIR-2"].backordered) == (0, 2)
    confirmation = Notification.objects.get(kind="backorder_confirmed", order=order)
    assert confirmation.language == Language.INDONESIAN
    assert confirmation.to_email == "ana@example.com"


def test_a_known_customer_keeps_their_name_language_and_tier(shop: Shop) -> None:
    known = shop.customer(email="Bram@Example.com", name="Bram", tier=Tier.VIP, language="nl")
    lamp = shop.product(sku="LAMP-1")

    order = take(shop, [LineRequest(lamp, 1)], email="bram@example.com", name="Someone else")

    assert order.customer == known
    known.refresh_from_db()
    assert (known.name, known.tier, known.language) == ("Bram", Tier.VIP, "nl")
    assert Customer.objects.count() == 1


def test_the_same_form_twice_places_one_order(shop: Shop) -> None:
    lamp = shop.product(sku="LAMP-1")
    token = uuid.uuid4().hex
    take(shop, [LineRequest(lamp, 1)], token=token)

    with pytest.raises(ValidationError) as refused:
        take(shop, [LineRequest(lamp, 1)], token=token)

    assert refused.value.code == "already_submitted"
    assert lamp.order_lines.count() == 1
    assert FormSubmission.objects.count() == 1


def test_a_refused_line_leaves_no_customer_order_or_spent_token(shop: Shop, unchanged) -> None:
    lamp = shop.product(sku="LAMP-1", backorder_policy=BackorderPolicy.DENY)
    with unchanged(), pytest.raises(ValidationError) as refused:
        take(shop, [LineRequest(lamp, 2)], token=uuid.uuid4().hex)

    assert refused.value.message_dict["lines"] == [
        "LAMP-1: only 0 in stock and this product is not sold on backorder."
    ]
    assert not Customer.objects.exists()
    assert not FormSubmission.objects.exists()
