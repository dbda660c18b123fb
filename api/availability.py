"""/api/v1/availability: can the shop sell this quantity, and when would it ship?

Read only: the answer is what a line placed now would get (the same
computation intake runs), and nothing is written."""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest
from ninja import Query, Router

from api.auth import ApiKeyAuth
from api.models import Scope
from api.problems import Problem, ProblemError
from api.schemas import (
    AvailabilityOut,
    AvailabilityQuery,
    CartAvailabilityOut,
    CartIn,
)
from orders.models import Tier
from orders.selectors.availability import (
    AvailabilityQuestionRefused,
    LineAvailability,
    storefront_availability,
)

router = Router(tags=["availability"])

# No key (401), no scope (403), off the schema or naming nothing (422); a body
# that is not JSON (400) or over 1 MiB (413).
ERRORS = {401: Problem, 403: Problem, 422: Problem}
BODY_ERRORS = {**ERRORS, 400: Problem, 413: Problem}


def line_document(line: LineAvailability) -> AvailabilityOut:
    return AvailabilityOut(
        sku=line.product.sku,
        warehouse=line.warehouse.code,
        quantity=line.quantity,
        available=line.available,
        in_stock=line.in_stock,
        backordered=line.backordered,
        backorder_allowed=line.backorder_allowed,
        backorder_room=line.backorder_room,
        sellable=line.sellable,
        reason=line.reason,
        promised_ship_date=line.promised_date,
        promise_is_estimate=line.promise_is_estimate,
    )


def _ask(
    *,
    warehouse: str | None,
    lines: Sequence[tuple[str, int]],
    tier: int | None,
    line_error: str,
    warehouse_error: dict[str, str],
) -> list[LineAvailability]:
    """The selector's answer, or a 422 naming the unknown warehouse and lines
    (`line_error` formats a line's place: a JSON pointer or the parameter)."""
    try:
        return storefront_availability(
            warehouse_code=warehouse, lines=lines, tier=tier or Tier.STANDARD
        )
    except AvailabilityQuestionRefused as refused:
        errors = [{"detail": refused.warehouse, **warehouse_error}] if refused.warehouse else []
        for index, reason in refused.lines:
            place = line_error.format(index=index)
            key = "pointer" if place.startswith("#") else "parameter"
            errors.append({"detail": reason, key: place})
        raise ProblemError(
            422,
            str(refused),
            kind="unknown-reference",
            title="Unknown SKU or warehouse",
            errors=errors,
        ) from refused


@router.get(
    "/availability",
    url_name="availability_get",
    response={200: AvailabilityOut, **ERRORS},
    auth=ApiKeyAuth(Scope.AVAILABILITY_READ),
    summary="Ask availability of one SKU",
)
def availability_get(request: HttpRequest, query: Query[AvailabilityQuery]) -> AvailabilityOut:
    """Units free now, the backorder policy's room, and the ship date a line of
    this quantity would be promised if placed now. An unknown SKU or warehouse → 422."""
    [line] = _ask(
        warehouse=query.warehouse,
        lines=[(query.sku, query.quantity)],
        tier=query.tier,
        line_error="sku",
        warehouse_error={"parameter": "warehouse"},
    )
    return line_document(line)


@router.post(
    "/availability",
    url_name="availability_cart",
    response={200: CartAvailabilityOut, **BODY_ERRORS},
    auth=ApiKeyAuth(Scope.AVAILABILITY_READ),
    summary="Ask availability of a cart",
)
def availability_cart(request: HttpRequest, payload: CartIn) -> CartAvailabilityOut:
    """Each line of a cart (up to 100, each SKU once) as `GET /availability` answers
    it, in one warehouse. Nothing is written: no Idempotency-Key needed. An
    unknown SKU → 422 naming the line (`#/lines/2`)."""
    lines = _ask(
        warehouse=payload.warehouse,
        lines=[(line.sku, line.quantity) for line in payload.lines],
        tier=payload.tier,
        line_error="#/lines/{index}",
        warehouse_error={"pointer": "#/warehouse"},
    )
    return CartAvailabilityOut(
        warehouse=lines[0].warehouse.code,
        sellable=all(line.sellable for line in lines),
        lines=[line_document(line) for line in lines],
    )
