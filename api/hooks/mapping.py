"""A shop platform's order, as its webhook documents it, read into the one shape
intake takes. Anything that cannot be read is a MappingError naming what is
wrong: the event fails with that reason and nothing is applied."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from api.hooks.payment import PaymentError, ShopPayment, shopify_payment, woocommerce_payment
from api.models import Platform, SkuMapping
from orders.models import Language

SHOPIFY_ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
WOOCOMMERCE_ORDER_TOPICS = frozenset({"order.created", "order.updated"})

MAX_EMAIL_LENGTH = 254  # Customer.email
# OrderLine.unit_price: ten digits, two of them decimals.
MAX_UNIT_PRICE = Decimal("99999999.99")


class MappingError(Exception):
    """The delivery's body cannot become an order here; the message says why."""


@dataclass(frozen=True)
class ShopLine:
    sku: str
    quantity: int
    unit_price: Decimal | None


@dataclass(frozen=True)
class ShopOrderDocument:
    shop_order_id: str
    shop_order_name: str
    updated_at: dt.datetime
    placed_at: dt.datetime | None
    email: str
    customer_name: str
    language: str
    payment: ShopPayment
    cancelled: bool
    cancel_reason: str
    lines: tuple[ShopLine, ...]


def order_document(
    *, platform: str, topic: str, raw_body: str, sku_mapping: str
) -> ShopOrderDocument:
    """The order in a delivery of `platform`'s `topic`, SKUs mapped by the connection's rule."""
    try:
        body = json.loads(raw_body)
    except ValueError as error:
        raise MappingError(f"The body is not JSON: {error}.") from error
    if not isinstance(body, dict):
        raise MappingError("The body is not a JSON object (an order).")
    if platform == Platform.SHOPIFY:
        document = _shopify(body, topic=topic)
    elif platform == Platform.WOOCOMMERCE:
        document = _woocommerce(body)
    else:
        raise MappingError(f"Unknown platform {platform!r}.")
    lines: dict[str, ShopLine] = {}
    for line in document.lines:
        sku = sku_map(line.sku, rule=sku_mapping)
        # Intake takes each product once: the shop's two lines of one SKU are one here.
        earlier = lines.get(sku)
        quantity = line.quantity + (earlier.quantity if earlier else 0)
        lines[sku] = ShopLine(sku, quantity, line.unit_price)
    if not lines:
        raise MappingError("The order has no line with a SKU to fill.")
    return ShopOrderDocument(**{**document.__dict__, "lines": tuple(lines.values())})


def sku_map(sku: str, *, rule: str) -> str:
    sku = sku.strip()
    return sku.upper() if rule == SkuMapping.UPPERCASE else sku


def language_from_locale(locale: Any) -> str:
    """ "nl", "nl-NL", "id_ID" → that language; anything else → English."""
    if not isinstance(locale, str):
        return Language.ENGLISH
    code = locale.strip().replace("_", "-").split("-")[0].lower()
    return code if code in Language.values else Language.ENGLISH


def _shopify(body: Mapping[str, Any], *, topic: str) -> ShopOrderDocument:
    shop_order_id = _id(body.get("id"))
    customer = _object(body.get("customer"))
    billing = _object(body.get("billing_address"))
    email = _email(body.get("email") or body.get("contact_email") or customer.get("email"))
    name = _name(customer.get("first_name"), customer.get("last_name")) or _name(
        billing.get("first_name"), billing.get("last_name")
    )
    try:
        payment = shopify_payment(body)
    except PaymentError as error:
        raise MappingError(str(error)) from error
    items = body.get("line_items")
    if not isinstance(items, list):
        raise MappingError("line_items is missing or not a list.")
    lines = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MappingError(f"line_items[{index}] is not an object.")
        if item.get("gift_card"):
            continue  # nothing to ship or backorder
        lines.append(_line(item, index=index, key="line_items"))
    return ShopOrderDocument(
        shop_order_id=shop_order_id,
        shop_order_name=str(body.get("name") or "")[:64],
        updated_at=_when(body.get("updated_at"), "updated_at"),
        placed_at=_when(body.get("created_at"), "created_at") if body.get("created_at") else None,
        email=email,
        customer_name=name or email,
        language=language_from_locale(body.get("customer_locale")),
        payment=payment,
        cancelled=topic == "orders/cancelled" or bool(body.get("cancelled_at")),
        cancel_reason=str(body.get("cancel_reason") or ""),
        lines=tuple(lines),
    )


def _woocommerce(body: Mapping[str, Any]) -> ShopOrderDocument:
    shop_order_id = _id(body.get("id"))
    billing = _object(body.get("billing"))
    email = _email(billing.get("email"))
    status = str(body.get("status") or "")
    try:
        payment = woocommerce_payment(body)
    except PaymentError as error:
        raise MappingError(str(error)) from error
    items = body.get("line_items")
    if not isinstance(items, list):
        raise MappingError("line_items is missing or not a list.")
    lines = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MappingError(f"line_items[{index}] is not an object.")
        lines.append(_line(item, index=index, key="line_items"))
    created = body.get("date_created_gmt")
    return ShopOrderDocument(
        shop_order_id=shop_order_id,
        shop_order_name=f"#{body.get('number') or shop_order_id}"[:64],
        updated_at=_when(body.get("date_modified_gmt"), "date_modified_gmt", naive_is_utc=True),
        placed_at=_when(created, "date_created_gmt", naive_is_utc=True) if created else None,
        email=email,
        customer_name=_name(billing.get("first_name"), billing.get("last_name")) or email,
        # WooCommerce's order carries no customer language.
        language=Language.ENGLISH,
        payment=payment,
        cancelled=status == "cancelled",
        cancel_reason="",
        lines=tuple(lines),
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip():
        raise MappingError("The order has no id.")
    text = str(value).strip()
    if len(text) > 40:
        raise MappingError("The order's id is longer than 40 characters.")
    return text


def _email(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError("The order has no customer email.")
    if len(value.strip()) > MAX_EMAIL_LENGTH:
        raise MappingError(f"The customer email is longer than {MAX_EMAIL_LENGTH} characters.")
    try:
        validate_email(value.strip())
    except ValidationError as error:
        raise MappingError(f"The customer email {value!r} is not an email address.") from error
    return value.strip()


def _name(first: Any, last: Any) -> str:
    parts = [part.strip() for part in (first, last) if isinstance(part, str) and part.strip()]
    return " ".join(parts)[:200]


def _when(value: Any, field: str, *, naive_is_utc: bool = False) -> dt.datetime:
    if not isinstance(value, str) or not value:
        raise MappingError(f"{field} is missing.")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError as error:
        raise MappingError(f"{field} {value!r} is not an ISO 8601 date and time.") from error
    if moment.tzinfo is None:
        if not naive_is_utc:
            raise MappingError(f"{field} {value!r} has no time zone.")
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def _line(item: Mapping[str, Any], *, index: int, key: str) -> ShopLine:
    label = item.get("name") or item.get("title") or f"{key}[{index}]"
    sku = item.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        raise MappingError(f"{label!s}: the line has no SKU.")
    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise MappingError(f"{sku}: the quantity {quantity!r} is not a whole number above zero.")
    price = item.get("price")
    unit_price: Decimal | None = None
    if price not in (None, ""):
        try:
            unit_price = Decimal(str(price))
            if not unit_price.is_finite():
                raise InvalidOperation
            unit_price = unit_price.quantize(Decimal("0.01"))
        except InvalidOperation as error:
            raise MappingError(f"{sku}: the price {price!r} is not a number.") from error
        if not Decimal(0) <= unit_price <= MAX_UNIT_PRICE:
            raise MappingError(f"{sku}: the price {price!r} is out of range.")
    return ShopLine(sku.strip(), quantity, unit_price)
