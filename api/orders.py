"""/api/v1/orders: a storefront places and reads its orders."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Field as NinjaField
from ninja import Header, Query, Router, Schema
from pydantic import AwareDatetime, field_validator

from api.auth import ApiKeyAuth, request_api_key
from api.cursors import BadCursor, cursor_decode, cursor_encode
from api.idempotency import (
    IDEMPOTENCY_KEY_MAX_LENGTH,
    Answer,
    IdempotencyInFlight,
    IdempotencyKeyReused,
    idempotent_answer,
    request_fingerprint,
)
from api.models import ApiKey, Scope
from api.problems import PROBLEM_CONTENT_TYPE, Problem, ProblemError, problem_body
from api.schemas import CancelIn, OrderIn, OrderList, OrderOut
from api.services import (
    LinesRefused,
    OrderNotFound,
    StorefrontLine,
    UnknownWarehouse,
    storefront_order_cancel,
    storefront_order_place,
)
from notifications.updates.telling import customer_links
from orders.models import SalesOrder
from orders.selectors.storefront import (
    storefront_order,
    storefront_order_by_external_reference,
    storefront_orders,
    storefront_orders_changed,
)
from orders.services.cancelling import NothingToCancel

router = Router(tags=["orders"])

# Every operation: no key (401), no scope (403), parameters off the schema (422).
ERRORS = {401: Problem, 403: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 400: Problem, 409: Problem, 413: Problem, 422: Problem}


def order_url(order: SalesOrder) -> str:
    return reverse("api-v1:order_get", kwargs={"number": order.number})


def order_document(order: SalesOrder) -> dict:
    """The order as the API shows it (JSON-ready)."""
    lines = list(order.lines.all())
    waiting = any(line.backordered for line in lines)
    return OrderOut.model_validate(
        {
            "number": order.number,
            "url": order_url(order),
            "status": order.status_from(lines).value,
            "channel": order.channel,
            "external_id": order.external_reference,
            "placed_at": order.placed_at,
            "payment_status": order.payment_status,
            "amount_paid": order.amount_paid,
            "amount_refunded": order.amount_refunded,
            "currency": order.currency,
            "warehouse": order.warehouse.code,
            "ship_preference": order.ship_preference,
            "shipping_address": order.shipping_address,
            "carrier": order.carrier,
            "updated_at": order.updated_at,
            "customer": {
                "email": order.customer.email,
                "name": order.customer.name,
                "language": order.customer.language,
                "tier": order.customer.tier,
            },
            "lines": [
                {
                    "sku": line.product.sku,
                    "quantity": line.ordered,
                    "unit_price": line.unit_price,
                    "allocated": line.allocated,
                    "backordered": line.backordered,
                    "shipped": line.shipped,
                    "cancelled": line.cancelled,
                    "status": line.status.value,
                    "promised_ship_date": line.promised_date,
                    "promise_is_estimate": line.promise_is_estimate,
                }
                for line in lines
            ],
            "customer_links": customer_links(order) if waiting else None,
        }
    ).model_dump(mode="json")


def _problem_answer(body: dict[str, Any]) -> Answer:
    return Answer(status=body["status"], content=json.dumps(body))


def _duplicate(order: SalesOrder) -> Answer:
    return _problem_answer(
        problem_body(
            409,
            f"The order {order.external_reference!r} of this channel exists already: "
            f"{order.number}.",
            kind="duplicate-order",
            title="Order exists",
            order_url=order_url(order),
        )
    )


def _json(document: Schema, status: int = 200) -> HttpResponse:
    """One serialisation for every answer (and for the kept ones): pydantic's JSON,
    so a replayed answer is byte for byte the first."""
    return HttpResponse(document.model_dump_json(), status=status, content_type="application/json")


def _answer(answer: Answer) -> HttpResponse:
    if answer.status >= 400:
        response = HttpResponse(
            answer.content, status=answer.status, content_type=PROBLEM_CONTENT_TYPE
        )
    else:
        response = HttpResponse(
            answer.content, status=answer.status, content_type="application/json"
        )
        if answer.status == 201:
            response["Location"] = json.loads(answer.content)["url"]
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _idempotent(
    *, api_key: ApiKey, key: str, document: Any, run: Callable[[], Answer]
) -> HttpResponse:
    """`run()`'s answer under this Idempotency-Key (the kept one for a replay)."""
    key = key.strip().strip('"')
    if not key:
        raise ProblemError(400, "The Idempotency-Key header is empty.", kind="idempotency-key")
    try:
        answer = idempotent_answer(
            api_key=api_key, key=key, fingerprint=request_fingerprint(document), run=run
        )
    except IdempotencyKeyReused as error:
        raise ProblemError(
            422,
            "This Idempotency-Key was used with a different request body.",
            kind="idempotency-key-reused",
            title="Idempotency-Key reused",
        ) from error
    except IdempotencyInFlight as error:
        raise ProblemError(
            409,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            kind="request-in-flight",
            title="Request in flight",
        ) from error
    return _answer(answer)


def _idempotency_key_header() -> Any:
    return Header(
        ...,
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX_LENGTH,
        description="Unique per request (a UUID); a retry sends the same one. Kept 24 hours.",
    )


@router.post(
    "/orders",
    url_name="order_create",
    response={201: OrderOut, **WRITE_ERRORS},
    auth=ApiKeyAuth(Scope.ORDERS_WRITE),
    summary="Place an order",
)
def order_create(
    request: HttpRequest,
    payload: OrderIn,
    idempotency_key: str = _idempotency_key_header(),
) -> HttpResponse:
    """Place an order from the shop. Each line takes what is in stock, the rest
    is backordered with a promised ship date, and the customer is emailed.
    A line the product's policy refuses → 422 naming it; nothing is saved."""
    api_key = request_api_key(request)
    document = payload.model_dump(mode="json")

    def run() -> Answer:
        existing = storefront_order_by_external_reference(
            channel=api_key.channel, reference=payload.external_id
        )
        if existing is not None:
            return _duplicate(existing)
        try:
            order = storefront_order_place(
                channel=api_key.channel,
                external_id=payload.external_id,
                placed_at=payload.placed_at,
                customer_email=payload.customer.email,
                customer_name=payload.customer.name,
                customer_language=payload.customer.language,
                customer_tier=payload.customer.tier,
                lines=[
                    StorefrontLine(line.sku, line.quantity, line.unit_price)
                    for line in payload.lines
                ],
                warehouse_code=payload.warehouse,
                payment_status=payload.payment_status,
                amount_paid=payload.amount_paid,
                amount_refunded=payload.amount_refunded,
                currency=payload.currency,
                ship_preference=payload.ship_preference or "",
                shipping_address=payload.shipping_address,
                carrier=payload.carrier or "",
            )
        except LinesRefused as refused:
            return _problem_answer(
                problem_body(
                    422,
                    str(refused),
                    kind="order-refused",
                    title="Order refused",
                    errors=[
                        {
                            "detail": reason,
                            "pointer": "#/lines" + (f"/{index}" if index is not None else ""),
                        }
                        for index, reason in refused.errors
                    ],
                ),
            )
        except (DjangoValidationError, IntegrityError):
            # Another request placed this external id between the check above and
            # the insert (intake's check, or the unique constraint, found it).
            raced = storefront_order_by_external_reference(
                channel=api_key.channel, reference=payload.external_id
            )
            if raced is None:
                raise
            return _duplicate(raced)
        except UnknownWarehouse:
            return _problem_answer(
                problem_body(
                    422,
                    "No warehouse has this code.",
                    kind="validation",
                    title="Invalid request",
                    errors=[{"detail": "No warehouse has this code.", "pointer": "#/warehouse"}],
                ),
            )
        placed = storefront_order(channel=api_key.channel, number=order.number)
        assert placed is not None
        return Answer(
            status=201, content=OrderOut.model_validate(order_document(placed)).model_dump_json()
        )

    return _idempotent(api_key=api_key, key=idempotency_key, document=document, run=run)


@router.get(
    "/orders/{number}",
    url_name="order_get",
    response={200: OrderOut, 404: Problem, **ERRORS},
    auth=ApiKeyAuth(Scope.ORDERS_READ),
    summary="Read an order",
)
def order_get(request: HttpRequest, number: str) -> HttpResponse:
    """One order of the key's channel, by its number."""
    order = storefront_order(channel=request_api_key(request).channel, number=number)
    if order is None:
        raise ProblemError(404, "This channel has no order with this number.")
    return _json(OrderOut.model_validate(order_document(order)))


@router.post(
    "/orders/{number}/cancel",
    url_name="order_cancel",
    response={200: OrderOut, 404: Problem, **WRITE_ERRORS},
    auth=ApiKeyAuth(Scope.ORDERS_WRITE),
    summary="Cancel what an order still waits for",
)
def order_cancel(
    request: HttpRequest,
    number: str,
    payload: CancelIn,
    idempotency_key: str = _idempotency_key_header(),
) -> HttpResponse:
    """The customer cancelled in the shop: the backordered units of every line,
    or of the lines of the SKUs listed, are cancelled and the customer gets the
    cancellation email. Units already allocated or shipped stay. Answers the
    order as GET does; 409 when nothing listed is waiting, 404 for an order of
    another channel."""
    api_key = request_api_key(request)
    document = {"cancel": number, **payload.model_dump(mode="json")}

    def run() -> Answer:
        try:
            storefront_order_cancel(
                channel=api_key.channel, number=number, reason=payload.reason, skus=payload.skus
            )
        except OrderNotFound:
            return _problem_answer(problem_body(404, "This channel has no order with this number."))
        except LinesRefused as refused:
            return _problem_answer(
                problem_body(
                    422,
                    str(refused),
                    kind="validation",
                    title="Invalid request",
                    errors=[
                        {"detail": reason, "pointer": f"#/skus/{index}"}
                        for index, reason in refused.errors
                    ],
                )
            )
        except NothingToCancel as nothing:
            return _problem_answer(
                problem_body(
                    409,
                    " ".join(nothing.messages),
                    kind="nothing-to-cancel",
                    title="Nothing to cancel",
                )
            )
        order = storefront_order(channel=api_key.channel, number=number)
        assert order is not None
        return Answer(
            status=200, content=OrderOut.model_validate(order_document(order)).model_dump_json()
        )

    return _idempotent(api_key=api_key, key=idempotency_key, document=document, run=run)


MAX_PAGE = 100
RFC3339 = re.compile(r"\A\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)\Z")


class OrderFilter(Schema):
    external_id: str | None = NinjaField(
        None, min_length=1, max_length=64, description="The shop's order id"
    )
    updated_since: AwareDatetime | None = NinjaField(
        None,
        description="ISO 8601 with a time zone: the orders changed at or after it, oldest first",
    )
    cursor: str | None = NinjaField(
        None, min_length=1, max_length=200, description="`next_cursor` of the previous page"
    )
    limit: int = NinjaField(50, ge=1, le=MAX_PAGE, description="Orders a page (changes only)")

    @field_validator("updated_since", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any) -> Any:
        # pydantic would take "0.5" for a Unix time; the schema says date-time
        if value is not None and not RFC3339.match(str(value)):
            raise ValueError("Send an ISO 8601 date and time with a zone: 2026-12-01T09:00:00Z.")
        return value


@router.get(
    "/orders",
    url_name="order_list",
    response={200: OrderList, **ERRORS},
    auth=ApiKeyAuth(Scope.ORDERS_READ),
    summary="Find an order by the shop's id, or poll for changed orders",
)
def order_list(request: HttpRequest, filters: Query[OrderFilter]) -> HttpResponse:
    """With `external_id`: the key's channel's order with it (a list of none or
    one). With `updated_since` (then `cursor`): the channel's orders whose
    promise moved, that were allocated, shipped or cancelled (or placed) since,
    oldest change first, `limit` a page."""
    channel = request_api_key(request).channel
    polling = filters.updated_since is not None or filters.cursor is not None
    if filters.external_id is not None:
        if polling:
            raise _parameter_problem(
                "external_id", "Send external_id, or updated_since/cursor, not both."
            )
        orders = storefront_orders(channel=channel).filter(
            external_reference=filters.external_id.strip()
        )
        return _json(OrderList.model_validate({"items": [order_document(o) for o in orders[:1]]}))
    if not polling:
        raise _parameter_problem("updated_since", "Send external_id, updated_since or cursor.")
    after = None
    if filters.cursor is not None:
        try:
            after = cursor_decode(filters.cursor)
        except BadCursor as error:
            raise _parameter_problem(
                "cursor", "Not a cursor of this API: send next_cursor as it came."
            ) from error
    page = storefront_orders_changed(
        channel=channel, since=filters.updated_since, after=after, limit=filters.limit + 1
    )
    items, has_more = page[: filters.limit], len(page) > filters.limit
    next_cursor = cursor_encode(items[-1].updated_at, items[-1].pk) if items else filters.cursor
    return _json(
        OrderList.model_validate(
            {
                "items": [order_document(order) for order in items],
                "next_cursor": next_cursor,
                "has_more": has_more,
            }
        )
    )


def _parameter_problem(parameter: str, detail: str) -> ProblemError:
    return ProblemError(
        422,
        detail,
        kind="validation",
        title="Invalid request",
        errors=[{"detail": detail, "parameter": parameter}],
    )
