"""Reads about suppliers: how they really deliver, and what a product is bought on.

`received_lines_dated` is the one definition of "on time" (the dashboard's
on-time chart, the supplier scorecards and the shortfall worklist all use it):
a purchase order line fully received on or before its *original* expected
date. The original date is the old date of the line's first revision, or its
expected date if it never moved. A line does not store when it was received,
so the day comes from its change history: the first historical row in which
`received` reached `ordered`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import DateField, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from suppliers.models import ExpectedDateRevision, PurchaseOrderLine, SupplierProduct


def received_lines_dated() -> QuerySet[PurchaseOrderLine]:
    """Fully received purchase order lines, annotated with `received_on` (the
    day the last unit came in) and `original_date` (the date first expected)."""
    history = PurchaseOrderLine.history.model
    fully_received_at = (
        history.objects.filter(id=OuterRef("pk"), received__gte=F("ordered"))
        .order_by("history_date")
        .values("history_date")[:1]
    )
    first_old_date = (
        ExpectedDateRevision.objects.filter(line=OuterRef("pk"))
        .order_by("changed_at", "pk")
        .values("old_date")[:1]
    )
    return PurchaseOrderLine.objects.filter(received__gte=F("ordered")).annotate(
        received_on=TruncDate(Subquery(fully_received_at)),
        original_date=Coalesce(
            Subquery(first_old_date, output_field=DateField()), F("expected_date")
        ),
    )


def percentile(values: list[int], fraction: float) -> int | None:
    """The nearest-rank percentile of `values` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class DeliveryRecord:
    """How one supplier delivered its fully received purchase order lines."""

    supplier_id: int
    lines: int = 0
    on_time: int = 0
    days_late: list[int] = field(default_factory=list)
    """Per line received late: the days after its original date."""
    lead_days: list[int] = field(default_factory=list)
    """Per line of a confirmed order: days from ordered to received."""

    @property
    def on_time_percent(self) -> int | None:
        return round(100 * self.on_time / self.lines) if self.lines else None

    @property
    def average_days_late(self) -> float | None:
        """Average days late over every received line (on time counts as 0)."""
        if not self.lines:
            return None
        return round(sum(self.days_late) / self.lines, 1)

    @property
    def p90_days_late(self) -> int | None:
        """Nine in ten received lines came at most this many days late."""
        if not self.lines:
            return None
        late = self.days_late + [0] * (self.lines - len(self.days_late))
        return percentile(late, 0.9)

    @property
    def delivered_lead_days(self) -> float | None:
        """Average days from ordering to receiving, as the supplier really delivers."""
        if not self.lead_days:
            return None
        return round(sum(self.lead_days) / len(self.lead_days), 1)


def supplier_delivery_records(
    *, supplier_ids: Iterable[int] | None = None
) -> dict[int, DeliveryRecord]:
    """The delivery record of each supplier (those in `supplier_ids`, or all
    that have received lines), from one query over their received lines."""
    lines = received_lines_dated()
    if supplier_ids is not None:
        lines = lines.filter(purchase_order__supplier_id__in=list(supplier_ids))
    records: dict[int, DeliveryRecord] = defaultdict(lambda: DeliveryRecord(supplier_id=0))
    rows = lines.values_list(  # type: ignore[misc]  # received_on, original_date: annotations
        "purchase_order__supplier_id", "received_on", "original_date", "purchase_order__ordered_at"
    ).order_by()
    for supplier_id, received_on, original_date, ordered_at in rows:
        record = records[supplier_id]
        record.supplier_id = supplier_id
        record.lines += 1
        if received_on is None:
            # No history row (data loaded around the models): rated not on
            # time, as the dashboard counts it, with no days to tell.
            continue
        late = (received_on - original_date).days
        if late <= 0:
            record.on_time += 1
        else:
            record.days_late.append(late)
        if ordered_at is not None:
            ordered_on = timezone.localtime(ordered_at).date()
            record.lead_days.append(max((received_on - ordered_on).days, 0))
    return dict(records)


def supplier_products_for(*, product_ids: Iterable[int]) -> dict[tuple[int, int], SupplierProduct]:
    """The purchase terms of `product_ids` by (supplier id, product id) (one query)."""
    return {
        (terms.supplier_id, terms.product_id): terms
        for terms in SupplierProduct.objects.filter(product_id__in=list(product_ids))
    }
