"""/api/v1/products/{sku}: the shop syncs its catalogue and reads stock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, Path, Router, Schema
from pydantic import field_validator

from api.auth import ApiKeyAuth
from api.models import Scope
from api.problems import Problem, ProblemError
from api.services import storefront_product_upsert
from inventory.limits import MAX_QUANTITY, SKU_JSON_PATTERN, SKU_MAX_LENGTH
from orders.selectors.storefront import StorefrontProductStock, storefront_product_stock

router = Router(tags=["catalogue"])

ERRORS = {401: Problem, 403: Problem, 422: Problem}


class ProductIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    price: Decimal = Field(..., ge=0, max_digits=10, decimal_places=2, examples=["19.90"])
    active: bool = Field(True, description="An inactive product takes no new orders")
    backorder_policy: Literal["deny", "allow", "cap"] = Field(
        ..., description="deny: only what is in stock; allow; cap: up to backorder_cap waiting"
    )
    backorder_cap: int | None = Field(
        None,
        ge=0,
        le=MAX_QUANTITY,
        description="Units that may wait on backorder: required with “cap”, null otherwise",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip() or any(ord(c) < 32 for c in value):
            raise ValueError("Enter the product's name (no control characters).")
        return value.strip()


class InboundOut(Schema):
    purchase_order: str
    expected_date: dt.date
    quantity: int


class WarehouseStockOut(Schema):
    warehouse: str
    on_hand: int
    allocated: int
    available: int = Field(..., description="On hand and not allocated to an order")
    waiting: int = Field(..., description="Units ordered and waiting on backorder here")
    inbound: list[InboundOut] = Field(
        ..., description="Open purchase order lines: outstanding units, soonest first"
    )


class ProductOut(Schema):
    sku: str
    name: str
    price: Decimal
    active: bool
    backorder_policy: str
    backorder_cap: int | None
    warehouses: list[WarehouseStockOut]


def product_document(stock: StorefrontProductStock) -> ProductOut:
    product = stock.product
    return ProductOut.model_validate(
        {
            "sku": product.sku,
            "name": product.name,
            "price": product.price,
            "active": product.active,
            "backorder_policy": product.backorder_policy,
            "backorder_cap": product.backorder_cap,
            "warehouses": [
                {
                    "warehouse": row.warehouse.code,
                    "on_hand": row.on_hand,
                    "allocated": row.allocated,
                    "available": row.available,
                    "waiting": row.waiting,
                    "inbound": [
                        {
                            "purchase_order": line.purchase_order.number,
                            "expected_date": line.expected_date,
                            "quantity": line.ordered - line.received,
                        }
                        for line in row.inbound
                    ],
                }
                for row in stock.warehouses
            ],
        }
    )


def _document(sku: str, status: int = 200) -> HttpResponse:
    stock = storefront_product_stock(sku=sku)
    if stock is None:
        raise ProblemError(404, "No product has this SKU.")
    document = product_document(stock)
    return HttpResponse(document.model_dump_json(), status=status, content_type="application/json")


SkuPath = Path(..., max_length=SKU_MAX_LENGTH, pattern=SKU_JSON_PATTERN, description="The SKU")


@router.put(
    "/products/{sku}",
    url_name="product_put",
    response={200: ProductOut, 201: ProductOut, 400: Problem, 413: Problem, **ERRORS},
    auth=ApiKeyAuth(Scope.CATALOGUE_WRITE),
    summary="Create or update a product",
)
def product_put(request: HttpRequest, payload: ProductIn, sku: str = SkuPath) -> HttpResponse:
    """The shop's product under this SKU: created (201) or updated (200) with
    this name, price, active flag, backorder policy and cap. Promises already
    given do not change (they follow stock, supply and the queue); the policy
    and cap decide what new orders may wait. Answers as GET does."""
    try:
        upsert = storefront_product_upsert(
            sku=sku,
            name=payload.name,
            price=payload.price,
            active=payload.active,
            backorder_policy=payload.backorder_policy,
            backorder_cap=payload.backorder_cap,
        )
    except DjangoValidationError as error:
        by_field = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        errors = [
            _field_error(field, message)
            for field, messages in by_field.items()
            for message in messages
        ]
        raise ProblemError(
            422,
            "The product is not valid: " + "; ".join(e["detail"] for e in errors),
            kind="validation",
            title="Invalid request",
            errors=errors,
        ) from error
    return _document(upsert.product.sku, status=201 if upsert.created else 200)


def _field_error(field: str, message: str) -> dict[str, str]:
    if field == "sku":
        return {"detail": message, "parameter": "sku"}
    return {"detail": message, "pointer": "#" if field in ("", "__all__") else f"#/{field}"}


@router.get(
    "/products/{sku}",
    url_name="product_get",
    response={200: ProductOut, 404: Problem, **ERRORS},
    auth=ApiKeyAuth(Scope.AVAILABILITY_READ, Scope.CATALOGUE_WRITE),
    summary="A product's stock, waiting units and inbound supply per warehouse",
)
def product_get(request: HttpRequest, sku: str = SkuPath) -> HttpResponse:
    """Per warehouse: units on hand, allocated to orders, available, waiting on
    backorder, and the open purchase order lines bringing more (date, units)."""
    return _document(sku)
