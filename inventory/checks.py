"""Consistency of transfers with the ledger (part of `manage.py check_stock`).

A transfer's units leave the sending warehouse's ledger (`transfer_out`) when
it is shipped and enter the destination's (`transfer_in`) when it is
received. So, per transfer: exactly its units out, from its sending
warehouse; its units in, at its destination, once received, and none while
in transit. Then the units in transit are exactly what one ledger lost and the
other has not gained yet, and the two ledgers balance. Two grouped queries,
however many transfers.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum
from django.utils.translation import gettext as _

from inventory.models import (
    TRANSFER_PREFIX,
    StockMove,
    StockMoveKind,
    Transfer,
    TransferStatus,
    transfer_number,
)

MAX_LISTED = 50


def transfer_problems() -> list[str]:
    """Every transfer whose ledger moves do not match it, in words."""
    # reference → kind → warehouse → units
    moved: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(dict))
    for reference, kind, warehouse_id, units in (
        StockMove.objects.filter(
            kind__in=(StockMoveKind.TRANSFER_OUT, StockMoveKind.TRANSFER_IN),
        )
        .order_by()
        .values_list("reference", "kind", "warehouse_id")
        .annotate(Sum("quantity"))
    ):
        moved[reference][kind][warehouse_id] = units or 0
    problems: list[str] = []
    known: set[str] = set()
    for pk, from_id, to_id, quantity, status in Transfer.objects.order_by("pk").values_list(
        "pk", "from_warehouse_id", "to_warehouse_id", "quantity", "status"
    ):
        number = transfer_number(pk)
        known.add(number)
        moves = moved.get(number, {})
        expected_out = {from_id: quantity}
        expected_in = {to_id: quantity} if status == TransferStatus.RECEIVED else {}
        got_out = dict(moves.get(StockMoveKind.TRANSFER_OUT, {}))
        got_in = dict(moves.get(StockMoveKind.TRANSFER_IN, {}))
        if got_out != expected_out or got_in != expected_in:
            problems.append(
                _(
                    "Transfer %(number)s (%(status)s, %(units)d units): the ledger has "
                    "%(out)d units out and %(in)d units in under it, not where they belong."
                )
                % {
                    "number": number,
                    "status": status,
                    "units": quantity,
                    "out": sum(got_out.values()),
                    "in": sum(got_in.values()),
                }
            )
    for reference in sorted(set(moved) - known):
        if reference.startswith(TRANSFER_PREFIX):
            problems.append(
                _("The ledger has transfer moves under %(number)s, but there is no such transfer.")
                % {"number": reference}
            )
        else:
            problems.append(
                _("The ledger has transfer moves under %(reference)s, which is not a transfer.")
                % {"reference": reference}
            )
    if len(problems) > MAX_LISTED:
        more = len(problems) - MAX_LISTED
        more_text = _("… and %(count)d more transfers that do not match the ledger.")
        problems = [*problems[:MAX_LISTED], more_text % {"count": more}]
    return problems
