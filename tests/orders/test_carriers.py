"""Tracking numbers checked per carrier format (issue 16): a known carrier's
format, else any 4 to 40 letters, digits and dashes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from api.schemas import OrderIn
from orders.carriers import TRACKING_FORMATS, Carrier, tracking_number_check
from orders.models import SalesOrder, Shipment
from orders.services.shipping import order_delivery_set, shipment_create
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("carrier", "number", "stored"),
    [
        ("ups", "1z999aa10123456784", "1Z999AA10123456784"),
        ("dhl", "1234 567 890", "1234567890"),
        ("postnl", "3SBDK1234567890", "3SBDK1234567890"),
        ("pos_id", "RR123456789ID", "RR123456789ID"),
        ("", "TRK-9", "TRK-9"),
        ("other", "abc-123-xyz", "abc-123-xyz"),
    ],
)
def test_good_tracking_numbers_pass(carrier: str, number: str, stored: str) -> None:
    assert tracking_number_check(number, carrier=carrier) == stored


@pytest.mark.parametrize(
    ("carrier", "number", "message"),
    [
        ("ups", "1234567890", "is not a UPS tracking number (like 1Z999AA10123456784)"),
        ("dhl", "12345", "is not a DHL Express tracking number"),
        ("", "T", "4 to 40 letters"),
        ("", "X" * 41, "4 to 40 letters"),
        ("", "TRK 12 34", "4 to 40 letters"),
        ("", "  ", "Enter the carrier's tracking number."),
    ],
)
def test_bad_tracking_numbers_say_what_they_should_look_like(
    carrier: str, number: str, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        tracking_number_check(number, carrier=carrier)

    assert message in " ".join(error.value.message_dict["tracking_number"])


def test_every_known_format_takes_its_own_example() -> None:
    for carrier, known in TRACKING_FORMATS.items():
        assert tracking_number_check(known.example, carrier=carrier) == known.example


def test_the_api_offers_exactly_the_carriers() -> None:
    schema = OrderIn.model_json_schema()
    offered = schema["properties"]["carrier"]["anyOf"][0]["enum"]
    assert sorted(offered) == sorted(value for value in Carrier.values if value)


def test_shipping_refuses_a_number_off_the_orders_carrier_format(shop: Shop, unchanged) -> None:
    lamp = shop.product(sku="LAMP-1")
    shop.receive(lamp, 1)
    order = shop.order(lamp, 1)
    order_delivery_set(order=order, shipping_address="", carrier="ups", by=shop.clerk)

    with unchanged(), pytest.raises(ValidationError):
        shipment_create(order=order, tracking_number="TRK-1", by=shop.clerk)

    shipment = shipment_create(order=order, tracking_number="1Z999AA10123456784", by=shop.clerk)
    assert Shipment.objects.get(pk=shipment.pk).tracking_number == "1Z999AA10123456784"


def test_delivery_set_refuses_an_unknown_carrier(shop: Shop, unchanged) -> None:
    lamp = shop.product(sku="LAMP-1")
    order = shop.order(lamp, 1)

    with unchanged(), pytest.raises(ValidationError):
        order_delivery_set(order=order, shipping_address="x", carrier="pigeon", by=shop.clerk)

    assert SalesOrder.objects.get(pk=order.pk).carrier == ""
