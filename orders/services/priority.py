"""Queue priority: moving a line up or down the queue."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from config.roles import acting_user
from inventory.services import (
    stock_levels_lock,
)
from orders.limits import PRIORITY_MESSAGE, is_priority
from orders.models import (
    OrderLine,
)
from orders.services.promises import promises_recompute


@retry_on_conflict()
@transaction.atomic
def order_line_set_priority(*, line: OrderLine, priority: int, by: User | None) -> OrderLine:
    """Move a line up (higher) or down the queue. Units already allocated stay."""
    if not is_priority(priority):
        raise ValidationError({"priority": PRIORITY_MESSAGE})
    stock_levels_lock(keys=[(line.product_id, line.warehouse_id)])
    locked = OrderLine.objects.select_for_update().get(pk=line.pk)
    if locked.backordered == 0:
        raise ValidationError(_("This line is not waiting in the queue."))
    locked.priority = priority
    locked._history_user = acting_user(by)  # type: ignore[attr-defined]
    locked.save(update_fields=["priority"])
    promises_recompute(
        keys=[(locked.product_id, locked.warehouse_id)], cause="queue priority changed"
    )
    locked.refresh_from_db()
    return locked


@retry_on_conflict()
@transaction.atomic
def order_lines_set_priority(
    *, line_ids: Sequence[int], priority: int, by: User | None
) -> list[OrderLine]:
    """Set the manual priority of several waiting lines at once (a bulk action).

    The stock levels of every queue touched are locked first, then the lines
    in primary-key order; promises are recomputed once per (product,
    warehouse), not once per line. Lines no longer waiting, and lines already
    at `priority`, are left alone, so running it twice changes nothing the
    second time. Returns the lines whose priority changed.
    """
    if not is_priority(priority):
        raise ValidationError({"priority": PRIORITY_MESSAGE})
    ids = sorted(set(line_ids))
    keys = set(OrderLine.objects.filter(pk__in=ids).values_list("product_id", "warehouse_id"))
    stock_levels_lock(keys=keys)
    author = acting_user(by)
    changed: list[OrderLine] = []
    for line in OrderLine.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if line.backordered == 0 or line.priority == priority:
            continue
        line.priority = priority
        line._history_user = author  # type: ignore[attr-defined]
        line.save(update_fields=["priority"])  # one history row per line: who moved it
        changed.append(line)
    if changed:
        promises_recompute(
            keys={(line.product_id, line.warehouse_id) for line in changed},
            cause="queue priority changed",
        )
    return changed
