"""The storefront's order documents, in and out. Bounds come from the models'
limits (inventory.limits), so the API refuses what the admin and forms refuse."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import AwareDatetime, field_validator, model_validator

from inventory.limits import MAX_QUANTITY, SKU_JSON_PATTERN, SKU_MAX_LENGTH
from orders.limits import CURRENCY_PATTERN, MAX_AMOUNT

MAX_LINES = 100


class CustomerIn(Schema):
    email: str = Field(..., min_length=3, max_length=254, examples=["ada@example.com"])
    name: str = Field(..., min_length=1, max_length=200)
    language: Literal["en", "id", "nl"] = "en"
    tier: Literal[1, 2, 3] | None = Field(None, description="1 VIP, 2 preferred, 3 standard")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            validate_email(value.strip())
        except DjangoValidationError as error:
            raise ValueError("Enter a valid email address.") from error
        return value.strip()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Enter the customer's name.")
        return value.strip()


class LineIn(Schema):
    sku: str = Field(..., max_length=SKU_MAX_LENGTH, pattern=SKU_JSON_PATTERN)
    quantity: int = Field(..., ge=1, le=MAX_QUANTITY)
    unit_price: Decimal | None = Field(
        None, ge=0, max_digits=10, decimal_places=2, description="The product's price if omitted"
    )


class OrderIn(Schema):
    external_id: str = Field(
        ..., min_length=1, max_length=64, description="The shop's order id, unique per channel"
    )
    placed_at: AwareDatetime | None = Field(None, description="Now if omitted")
    customer: CustomerIn
    lines: list[LineIn] = Field(..., min_length=1, max_length=MAX_LINES)
    warehouse: str | None = Field(
        None, min_length=1, max_length=16, description="A warehouse code; the first one if omitted"
    )
    payment_status: Literal["paid", "authorized", "unpaid", "partially_refunded", "refunded"] = (
        "unpaid"
    )
    amount_paid: Decimal | None = Field(
        None,
        ge=0,
        le=MAX_AMOUNT,
        max_digits=12,
        decimal_places=2,
        description="What the shop took; the order's total if paid and omitted, else 0",
    )
    amount_refunded: Decimal | None = Field(
        None, ge=0, le=MAX_AMOUNT, max_digits=12, decimal_places=2, description="0 if omitted"
    )
    currency: str | None = Field(
        None,
        pattern=CURRENCY_PATTERN,
        examples=["EUR"],
        description="ISO 4217; the shop's currency if omitted",
    )

    ship_preference: Literal["ship_ready", "hold"] | None = Field(
        None,
        description=(
            "While lines wait: ship what is ready (ship_ready) or wait for everything (hold); "
            "the desk ships what is ready if omitted"
        ),
    )
    shipping_address: str = Field("", max_length=1000, description="Lines separated by newlines")
    carrier: Literal["jne", "sicepat", "pos_id", "postnl", "dhl", "ups", "other"] | None = Field(
        None, description="Checks the tracking number's format where one is known"
    )

    @model_validator(mode="after")
    def _refunded_within_paid(self) -> OrderIn:
        if (self.amount_refunded or 0) > (self.amount_paid or 0) and self.amount_refunded:
            raise ValueError("amount_refunded is more than amount_paid.")
        return self

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Enter the shop's order id.")
        return value.strip()


Sku = Annotated[str, Field(max_length=SKU_MAX_LENGTH, pattern=SKU_JSON_PATTERN)]


class CancelIn(Schema):
    reason: str = Field(
        ...,
        min_length=1,
        max_length=255,
        description="Why, as the customer said it; kept with the cancellation",
    )
    skus: list[Sku] | None = Field(
        None,
        min_length=1,
        max_length=MAX_LINES,
        description=(
            "Cancel the backordered units of the lines of these SKUs only; "
            "of every line if omitted. Allocated and shipped units are not cancelled."
        ),
    )

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Say why the order is cancelled.")
        return value.strip()


class CustomerOut(Schema):
    email: str
    name: str
    language: str
    tier: int


class LineOut(Schema):
    sku: str
    quantity: int
    unit_price: Decimal
    allocated: int
    backordered: int
    shipped: int
    cancelled: int
    status: str
    promised_ship_date: dt.date | None
    promise_is_estimate: bool


class CustomerLinks(Schema):
    keep_waiting_url: str
    cancel_url: str


class OrderOut(Schema):
    number: str
    url: str
    status: str
    channel: str
    external_id: str
    placed_at: dt.datetime
    payment_status: str
    amount_paid: Decimal
    amount_refunded: Decimal
    currency: str
    warehouse: str
    ship_preference: str = Field("", description="ship_ready, hold, or empty: not said")
    shipping_address: str = ""
    carrier: str = ""
    updated_at: dt.datetime = Field(
        ...,
        description=(
            "The last change a customer sees: placed, a promise moved, units allocated, "
            "shipped or cancelled"
        ),
    )
    customer: CustomerOut
    lines: list[LineOut]
    customer_links: CustomerLinks | None = Field(
        None, description="The signed links of the customer's emails, while units wait"
    )


class OrderList(Schema):
    items: list[OrderOut]
    next_cursor: str | None = Field(
        None,
        description=(
            "With updated_since or cursor: pass it as `cursor` for the next page, and keep "
            "the last one to poll from next time (null until there was a page with orders)"
        ),
    )
    has_more: bool = Field(False, description="More changed orders wait after this page")


TIER_FIELD = Field(
    None,
    ge=1,
    le=3,
    description="The customer's tier (1 VIP, 2 preferred, 3 standard): where a new line "
    "joins the queue. Standard if omitted.",
)
WAREHOUSE_FIELD = Field(
    None, min_length=1, max_length=16, description="A warehouse code; the first one if omitted"
)


class AvailabilityQuery(Schema):
    sku: str = Field(..., max_length=SKU_MAX_LENGTH, pattern=SKU_JSON_PATTERN)
    quantity: int = Field(..., ge=1, le=MAX_QUANTITY)
    warehouse: str | None = WAREHOUSE_FIELD
    tier: int | None = TIER_FIELD


class CartLineIn(Schema):
    sku: str = Field(..., max_length=SKU_MAX_LENGTH, pattern=SKU_JSON_PATTERN)
    quantity: int = Field(..., ge=1, le=MAX_QUANTITY)


class CartIn(Schema):
    lines: list[CartLineIn] = Field(..., min_length=1, max_length=MAX_LINES)
    warehouse: str | None = WAREHOUSE_FIELD
    tier: int | None = TIER_FIELD


class AvailabilityOut(Schema):
    sku: str
    warehouse: str
    quantity: int = Field(..., description="The units asked for")
    available: int = Field(..., description="Units free now at the warehouse")
    in_stock: int = Field(..., description="Units a line placed now would take from stock")
    backordered: int = Field(..., description="Units it would leave waiting on backorder")
    backorder_allowed: bool = Field(..., description="The product's policy allows backorders")
    backorder_room: int | None = Field(
        ...,
        description="Units that may still be backordered: the cap minus the units waiting; "
        "null when uncapped, 0 when backorders are denied",
    )
    sellable: bool = Field(..., description="The whole quantity can be sold now")
    reason: str | None = Field(..., description="Why not, when not sellable")
    promised_ship_date: dt.date | None = Field(
        ...,
        description="When the whole quantity would ship if placed now: today plus the "
        "warehouse's handling days from stock, else the promise the backordered units "
        "would get; null when not sellable",
    )
    promise_is_estimate: bool = Field(
        ..., description="The date is an estimate (no stock or purchase order covers it yet)"
    )


class CartAvailabilityOut(Schema):
    warehouse: str
    sellable: bool = Field(..., description="Every line can be sold")
    lines: list[AvailabilityOut]
