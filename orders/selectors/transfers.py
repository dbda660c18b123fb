"""Reads of transfers between warehouses: the units in transit (inbound supply
for the destination), and the list the transfers page shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, QuerySet, Sum

from inventory.models import StockLevel, Transfer, TransferStatus

TRANSFERS_LIMIT = 100
"""The most transfers in transit the page lists (oldest first); the rest are counted."""

RECENT_LIMIT = 10
"""Received transfers the page lists under those in transit."""


def in_transit_units(*, product_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """Units in transit by (product, destination warehouse): one query."""
    rows = (
        Transfer.objects.filter(product_id__in=set(product_ids), status=TransferStatus.IN_TRANSIT)
        .order_by()
        .values("product_id", "to_warehouse_id")
        .annotate(units=Sum("quantity"))
    )
    return {(row["product_id"], row["to_warehouse_id"]): row["units"] for row in rows}


def _with_names(transfers: QuerySet[Transfer]) -> QuerySet[Transfer]:
    return transfers.select_related("product", "from_warehouse", "to_warehouse", "shipped_by")


@dataclass(frozen=True)
class TransferList:
    in_transit: list[Transfer]
    in_transit_total: int
    """Transfers in transit in all (a partial index: a small count)."""
    in_transit_units: int
    recent: list[Transfer]


def transfers_page() -> TransferList:
    """Transfers in transit, the soonest expected first (at most TRANSFERS_LIMIT),
    their number and units, and the last received ones: two queries (a third
    counts the transfers in transit when more than the page lists)."""
    open_transfers = Transfer.objects.filter(status=TransferStatus.IN_TRANSIT)
    listed = list(_with_names(open_transfers).order_by("expected_date", "pk")[:TRANSFERS_LIMIT])
    if len(listed) < TRANSFERS_LIMIT:
        total, units = len(listed), sum(transfer.quantity for transfer in listed)
    else:
        figures = open_transfers.order_by().aggregate(count=Count("pk"), units=Sum("quantity"))
        total, units = figures["count"] or 0, figures["units"] or 0
    recent = list(
        _with_names(Transfer.objects.filter(status=TransferStatus.RECEIVED)).order_by(
            "-received_at", "-pk"
        )[:RECENT_LIMIT]
    )
    return TransferList(
        in_transit=listed, in_transit_total=total, in_transit_units=units, recent=recent
    )


def free_units(*, product_id: int) -> dict[int, int]:
    """Free (unallocated) units of a product by warehouse id: one query."""
    return {
        warehouse_id: free
        for warehouse_id, free in StockLevel.objects.filter(product_id=product_id)
        .annotate(free=F("on_hand") - F("allocated"))
        .values_list("warehouse_id", "free")
        if free > 0
    }
