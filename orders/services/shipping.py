"""Shipping: allocated units leave stock with a tracking number."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from config.roles import acting_user
from inventory.models import StockMoveKind
from inventory.services import (
    Move,
    require_positive_quantity,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.carriers import Carrier, tracking_number_check
from orders.models import (
    SalesOrder,
    Shipment,
    ShipmentLine,
    ShipPreference,
)
from orders.services import recording
from orders.services.touching import orders_touch


@retry_on_conflict()
@transaction.atomic
def shipment_create(
    *,
    order: SalesOrder,
    tracking_number: str,
    by: User | None,
    quantities: Mapping[int, int] | None = None,
) -> Shipment:
    """Ship allocated units of an order (all of them by default) with a tracking number.

    A line may ship partly; what is not allocated stays backordered.
    """
    tracking_number = tracking_number_check(tracking_number, carrier=order.carrier)
    line_products = dict(order.lines.values_list("pk", "product_id"))
    levels = stock_levels_lock(
        keys=[(pid, order.warehouse_id) for pid in set(line_products.values())]
    )
    lines = {line.pk: line for line in order.lines.select_for_update().order_by("pk")}
    if quantities is None:
        wanted = {pk: line.allocated for pk, line in lines.items() if line.allocated}
    else:
        wanted = dict(quantities)
    errors: dict[str, list[str]] = {}
    for line_id, quantity in wanted.items():
        field = f"line_{line_id}"
        line = lines.get(line_id)
        if line is None:
            errors[field] = [_("This line is not on order %(number)s.") % {"number": order.number}]
            continue
        try:
            require_positive_quantity(quantity, field=field)
        except ValidationError:
            errors[field] = [_("Enter a whole number of units above zero.")]
            continue
        if quantity > line.allocated:
            errors[field] = [
                _("Only %(allocated)d units of this line are allocated and can ship.")
                % {"allocated": line.allocated}
            ]
    if errors:
        raise ValidationError(errors)
    if not wanted:
        raise ValidationError(
            _("Nothing on order %(number)s is ready to ship.") % {"number": order.number}
        )
    shipment = Shipment.objects.create(
        order=order, tracking_number=tracking_number, shipped_by=acting_user(by)
    )
    moves: dict[int, list[Move]] = defaultdict(list)
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        line.allocated -= quantity
        line.shipped += quantity
        line._history_user = acting_user(by)  # type: ignore[attr-defined]
        line.save(update_fields=["allocated", "shipped"])
        moves[line.product_id].append(
            Move(StockMoveKind.SHIPMENT, quantity, f"{order.number}/{line.pk}", tracking_number)
        )
    orders_touch(order_ids=[order.pk])
    ShipmentLine.objects.bulk_create(
        ShipmentLine(shipment=shipment, order_line_id=line_id, quantity=quantity)
        for line_id, quantity in wanted.items()
    )
    for product_id, product_moves in moves.items():
        stock_moves_apply(
            level=levels[(product_id, order.warehouse_id)], moves=product_moves, by=by
        )
    recording.shipment_record(shipment.pk)
    return shipment


@retry_on_conflict()
@transaction.atomic
def order_ship_preference_set(*, order: SalesOrder, preference: str, by: User | None) -> SalesOrder:
    """Record whether an order with lines still waiting ships what is ready or
    is held until complete (staff overriding or recording the customer's wish).

    An unknown preference raises ValidationError and changes nothing.
    """
    if preference not in ShipPreference.values:
        raise ValidationError(
            {"ship_choice": _("Choose to ship what is ready or to hold until complete.")}
        )
    locked = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if locked.ship_preference != preference:
        locked.ship_preference = preference
        locked._history_user = acting_user(by)  # type: ignore[attr-defined]
        locked.save(update_fields=["ship_preference", "updated_at"])
    order.ship_preference = locked.ship_preference
    return locked


SHIPPING_ADDRESS_MAX = 1000


@retry_on_conflict()
@transaction.atomic
def order_delivery_set(
    *, order: SalesOrder, shipping_address: str, carrier: str, by: User | None
) -> SalesOrder:
    """Record where an order goes and with which carrier (the storefront sends
    both; staff correct them). Trimmed; an unknown carrier or an address past
    1,000 characters raises ValidationError and changes nothing."""
    address = "\n".join(
        line.strip() for line in (shipping_address or "").strip().splitlines() if line.strip()
    )
    errors: dict[str, list[str]] = {}
    if carrier not in Carrier.values:
        errors["carrier"] = [_("Choose one of the carriers.")]
    if len(address) > SHIPPING_ADDRESS_MAX:
        errors["shipping_address"] = [
            _("An address has at most %(max)d characters.") % {"max": SHIPPING_ADDRESS_MAX}
        ]
    if errors:
        raise ValidationError(errors)
    locked = SalesOrder.objects.select_for_update().get(pk=order.pk)
    if (locked.shipping_address, locked.carrier) != (address, carrier):
        locked.shipping_address = address
        locked.carrier = carrier
        locked._history_user = acting_user(by)  # type: ignore[attr-defined]
        locked.save(update_fields=["shipping_address", "carrier", "updated_at"])
    order.shipping_address, order.carrier = locked.shipping_address, locked.carrier
    return locked
