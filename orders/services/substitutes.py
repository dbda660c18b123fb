"""Swapping a waiting line to an alternative product."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from config.roles import acting_user
from inventory.models import BackorderPolicy, Product, StockMoveKind
from inventory.services import (
    Move,
    stock_levels_lock,
    stock_moves_apply,
)
from orders.models import (
    Cancellation,
    OrderLine,
)
from orders.selectors.availability import backordered_units
from orders.services.cancelling import cancel_units
from orders.services.promises import promises_recompute
from orders.services.refunds import refund_due_record


@dataclass(frozen=True)
class Substitution:
    """What `order_line_substitute` did: the remainder cancelled, the line added."""

    cancellation: Cancellation
    line: OrderLine  # the new line, for the alternative product

    @property
    def allocated(self) -> int:
        return self.line.allocated

    @property
    def backordered(self) -> int:
        return self.line.backordered


@retry_on_conflict()
@transaction.atomic
def order_line_substitute(*, line: OrderLine, product: Product, by: User | None) -> Substitution:
    """Swap a line's backordered remainder to one of its product's alternatives.

    In one transaction: the remainder of `line` is cancelled (reason
    "Substituted with <SKU>", refund due recorded; units already allocated to
    it stay and ship), and a new line for `product` on the same order takes as
    many units as are available now and waits on backorder for the rest if the
    alternative's backorder policy allows it. The new line joins the
    alternative's queue now (placed now, the old line's manual priority), so it
    does not jump ahead of customers who were already waiting for it. Promises
    of both products are recomputed. Refused, changing nothing, when `product`
    is not an active alternative, when nothing on the line waits any more (a
    second submit), or when the alternative cannot be backordered.
    """
    warehouse_id = line.warehouse_id
    keys = [(line.product_id, warehouse_id), (product.pk, warehouse_id)]
    levels = stock_levels_lock(keys=keys)
    locked = (
        OrderLine.objects.select_for_update(of=("self",))
        .select_related("order", "product")
        .get(pk=line.pk)
    )
    if (
        product.pk == locked.product_id
        or not locked.product.alternatives.filter(pk=product.pk).exists()
    ):
        raise ValidationError(
            {
                "product": _("%(sku)s is not an alternative of %(original)s.")
                % {"sku": product.sku, "original": locked.product.sku}
            }
        )
    if not product.active:
        raise ValidationError(
            {"product": _("%(sku)s is no longer sold (inactive product).") % {"sku": product.sku}}
        )
    quantity = locked.backordered
    if quantity == 0:
        raise ValidationError(_("Nothing on this line is waiting on backorder."))
    level = levels[(product.pk, warehouse_id)]
    take = min(max(level.available, 0), quantity)
    short = quantity - take
    if short and product.backorder_policy == BackorderPolicy.DENY:
        raise ValidationError(
            {
                "product": _(
                    "Only %(available)d of %(sku)s in stock and it is not sold on backorder."
                )
                % {"available": take, "sku": product.sku}
            }
        )
    if short and product.backorder_policy == BackorderPolicy.CAP:
        room = max(
            (product.backorder_cap or 0)
            - backordered_units(product_ids=[product.pk]).get(product.pk, 0),
            0,
        )
        if short > room:
            raise ValidationError(
                {
                    "product": _(
                        "Only %(available)d of %(sku)s in stock and %(room)d more may be "
                        "backordered (cap %(cap)d)."
                    )
                    % {
                        "available": take,
                        "sku": product.sku,
                        "room": room,
                        "cap": product.backorder_cap or 0,
                    }
                }
            )
    reason = _("Substituted with %(sku)s") % {"sku": product.sku}
    cancellation, _released = cancel_units(
        line=locked,
        quantity=quantity,
        level=levels[(locked.product_id, warehouse_id)],
        reason=reason,
        by=by,
    )
    new_line = OrderLine(
        order=locked.order,
        product=product,
        warehouse_id=warehouse_id,
        customer_tier=locked.customer_tier,
        placed_at=timezone.now(),
        unit_price=product.price,
        ordered=quantity,
        allocated=take,
        priority=locked.priority,
        substitute_for=locked,
    )
    new_line._history_user = acting_user(by)  # type: ignore[attr-defined]
    new_line.save()
    # The alternative is sent for the money paid: only what it does not use is due back.
    refund_due_record(cancellations=[cancellation], reason=reason, by=by)
    if take:
        stock_moves_apply(
            level=level,
            moves=[Move(StockMoveKind.ALLOCATION, take, new_line.reference, reason)],
            by=by,
        )
    promises_recompute(
        keys=keys,
        cause=f"{locked.order.number}: {locked.product.sku} substituted with {product.sku}",
    )
    # The promise was written by an UPDATE; keep the cached order and product.
    new_line.refresh_from_db(
        fields=["promised_date", "promise_is_estimate", "first_promised_date", "times_slipped"]
    )
    return Substitution(cancellation=cancellation, line=new_line)
