"""Consistency checks over stock, the ledger, order lines and purchase orders.

Every check is a handful of set-based queries (GROUP BY aggregates, anti-joins),
never one query per row, so `manage.py check_stock` runs on a million order
lines in seconds. Each problem is a sentence a warehouse lead can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from inventory.checks import transfer_problems
from inventory.models import Product, StockLevel, StockMove, StockMoveKind, Warehouse
from orders.models import Cancellation, OrderLine, ShipmentLine
from suppliers.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus

# Per kind of problem, list this many and count the rest: a broken import can
# make a million lines wrong, and nobody reads a million sentences.
MAX_LISTED = 50

Pair = tuple[int, int]


@dataclass
class StockCheck:
    """The outcome of one run: the problems, and how much was looked at."""

    problems: list[str] = field(default_factory=list)
    stock_levels: int = 0
    ledger_rows: int = 0
    order_lines: int = 0

    @property
    def consistent(self) -> bool:
        return not self.problems


def stock_problems() -> list[str]:
    """Every inconsistency between stock levels, the ledger, order lines,
    shipments, cancellations and purchase order lines, in words."""
    return stock_check().problems


def stock_check() -> StockCheck:
    """Run every check; see `stock_problems`."""
    result = StockCheck()
    level_rows = StockLevel.objects.order_by().values_list(
        "product_id", "warehouse_id", "on_hand", "allocated"
    )
    levels = {
        (product, warehouse): (on_hand, allocated)
        for product, warehouse, on_hand, allocated in level_rows
    }
    result.stock_levels = len(levels)

    ledger: dict[Pair, tuple[int, int, int]] = {}
    for product_id, warehouse_id, on_hand, allocated, moves in (
        StockMove.objects.order_by()
        .values_list("product_id", "warehouse_id")
        .annotate(Sum("on_hand_change"), Sum("allocated_change"), Count("id"))
    ):
        ledger[(product_id, warehouse_id)] = (on_hand or 0, allocated or 0, moves)
        result.ledger_rows += moves

    line_allocated: dict[Pair, int] = {}
    for product_id, warehouse_id, allocated, lines in (
        OrderLine.objects.order_by()
        .values_list("product_id", "warehouse_id")
        .annotate(Sum("allocated"), Count("id"))
    ):
        line_allocated[(product_id, warehouse_id)] = allocated or 0
        result.order_lines += lines

    names = _PairNames()
    result.problems += _ledger_problems(levels, ledger, names)
    result.problems += _allocation_problems(levels, line_allocated, names)
    result.problems += _line_quantity_problems()
    result.problems += _shipment_problems()
    result.problems += _cancellation_problems()
    result.problems += _purchase_line_problems()
    result.problems += _purchase_order_status_problems()
    result.problems += _purchase_receipt_problems()
    result.problems += transfer_problems()
    return result


class _PairNames:
    """'SKU-000001 in warehouse AMS' for a (product, warehouse) pair; the names
    are fetched only for the pairs that have a problem."""

    def __init__(self) -> None:
        self._skus: dict[int, str] = {}
        self._codes: dict[int, str] = {}

    def load(self, pairs: Iterable[Pair]) -> None:
        """Fetch the names of these pairs in two queries."""
        pairs = list(pairs)
        if not pairs:
            return
        self._skus.update(
            Product.objects.filter(pk__in={p for p, _w in pairs})
            .values_list("pk", "sku")
            .order_by()
        )
        self._codes.update(
            Warehouse.objects.filter(pk__in={w for _p, w in pairs})
            .values_list("pk", "code")
            .order_by()
        )

    def __call__(self, pair: Pair) -> str:
        product_id, warehouse_id = pair
        return _("%(sku)s in warehouse %(warehouse)s") % {
            "sku": self._skus.get(product_id, f"product #{product_id}"),
            "warehouse": self._codes.get(warehouse_id, f"#{warehouse_id}"),
        }


def _ledger_problems(
    levels: dict[Pair, tuple[int, int]],
    ledger: dict[Pair, tuple[int, int, int]],
    names: _PairNames,
) -> list[str]:
    wrong: list[Pair] = []
    for pair in sorted(set(levels) | set(ledger)):
        level = levels.get(pair)
        moves = ledger.get(pair)
        if moves is None:
            # A level nothing ever happened to: fine while it is all zeros.
            if level != (0, 0):
                wrong.append(pair)
        elif level != moves[:2]:
            wrong.append(pair)
    names.load(wrong[:MAX_LISTED])
    messages = []
    for pair in wrong[:MAX_LISTED]:
        level = levels.get(pair)
        moves = ledger.get(pair)
        if moves is None:
            assert level is not None
            messages.append(
                _(
                    "%(pair)s: the stock level says %(on_hand)d on hand and %(allocated)d "
                    "allocated, but the ledger has no moves for it."
                )
                % {"pair": names(pair), "on_hand": level[0], "allocated": level[1]}
            )
        elif level is None:
            messages.append(
                _(
                    "%(pair)s: the ledger has %(moves)d moves (on hand %(on_hand)+d, allocated "
                    "%(allocated)+d) but there is no stock level for it."
                )
                % {
                    "pair": names(pair),
                    "moves": moves[2],
                    "on_hand": moves[0],
                    "allocated": moves[1],
                }
            )
        else:
            messages.append(
                _(
                    "%(pair)s: the ledger adds up to %(ledger_on_hand)d on hand and "
                    "%(ledger_allocated)d allocated, but the stock level says %(on_hand)d on hand "
                    "and %(allocated)d allocated."
                )
                % {
                    "pair": names(pair),
                    "ledger_on_hand": moves[0],
                    "ledger_allocated": moves[1],
                    "on_hand": level[0],
                    "allocated": level[1],
                }
            )
    return messages + _more(
        len(wrong),
        len(messages),
        _("… and %(count)d more stock levels that do not match their ledger."),
    )


def _allocation_problems(
    levels: dict[Pair, tuple[int, int]],
    line_allocated: dict[Pair, int],
    names: _PairNames,
) -> list[str]:
    wrong = [
        pair
        for pair in sorted(set(levels) | set(line_allocated))
        if line_allocated.get(pair, 0) != levels.get(pair, (0, 0))[1]
    ]
    names.load(wrong[:MAX_LISTED])
    messages = []
    for pair in wrong[:MAX_LISTED]:
        if pair in levels:
            messages.append(
                _(
                    "%(pair)s: order lines hold %(lines)d allocated units, but the stock level "
                    "says %(allocated)d are allocated."
                )
                % {
                    "pair": names(pair),
                    "lines": line_allocated.get(pair, 0),
                    "allocated": levels[pair][1],
                }
            )
        else:
            messages.append(
                _(
                    "%(pair)s: order lines hold %(lines)d allocated units, but there is no "
                    "stock level."
                )
                % {"pair": names(pair), "lines": line_allocated[pair]}
            )
    return messages + _more(
        len(wrong),
        len(messages),
        _("… and %(count)d more stock levels whose allocation does not match the lines."),
    )


def _line_label(row: Mapping[str, Any]) -> str:
    return _("Order %(number)s, line %(line)s (%(sku)s)") % {
        "number": row["order__number"],
        "line": row["id"],
        "sku": row["product__sku"],
    }


def _listed(queryset: QuerySet[OrderLine], *fields: str) -> tuple[list[dict[str, Any]], int]:
    """The first MAX_LISTED rows (with their labels) and how many there are in all."""
    rows = list(
        queryset.order_by("pk").values("id", "order__number", "product__sku", *fields)[
            : MAX_LISTED + 1
        ]
    )
    total = len(rows) if len(rows) <= MAX_LISTED else queryset.count()
    return rows[:MAX_LISTED], total


def _more(total: int, listed: int, what: str) -> list[str]:
    return [what % {"count": total - listed}] if total > listed else []


def _line_quantity_problems() -> list[str]:
    bad = OrderLine.objects.filter(
        Q(ordered__lt=F("allocated") + F("shipped") + F("cancelled"))
        | Q(ordered__lte=0)
        | Q(allocated__lt=0)
        | Q(shipped__lt=0)
        | Q(cancelled__lt=0)
    )
    rows, total = _listed(bad, "ordered", "allocated", "shipped", "cancelled")
    messages = []
    for row in rows:
        values = {
            "line": _line_label(row),
            "ordered": row["ordered"],
            "allocated": row["allocated"],
            "shipped": row["shipped"],
            "cancelled": row["cancelled"],
        }
        if min(row["ordered"], row["allocated"], row["shipped"], row["cancelled"]) < 0:
            messages.append(
                _(
                    "%(line)s has a negative quantity: ordered %(ordered)d, allocated "
                    "%(allocated)d, shipped %(shipped)d, cancelled %(cancelled)d."
                )
                % values
            )
        elif row["ordered"] == 0:
            messages.append(_("%(line)s has nothing ordered.") % values)
        else:
            messages.append(
                _(
                    "%(line)s: allocated %(allocated)d + shipped %(shipped)d + cancelled "
                    "%(cancelled)d is more than the %(ordered)d ordered."
                )
                % values
            )
    return messages + _more(
        total, len(rows), _("… and %(count)d more order lines with impossible quantities.")
    )


def _documented_problems(
    *,
    model: type[ShipmentLine] | type[Cancellation],
    line_field: str,
    mismatch: str,
    undocumented: str,
    more: str,
) -> list[str]:
    """Lines whose `line_field` (shipped, cancelled) is not the sum of their
    shipment lines or cancellations.

    Two set-based queries: lines that have documents, grouped and compared in
    HAVING; and lines with units but no document at all, as an anti-join.
    """
    line_value = f"order_line__{line_field}"
    mismatched = (
        model.objects.order_by()
        .values("order_line_id", line_value)
        .annotate(total=Sum("quantity"))
        .exclude(total=F(line_value))
    )
    rows = list(mismatched.order_by("order_line_id")[: MAX_LISTED + 1])
    total = len(rows) if len(rows) <= MAX_LISTED else mismatched.count()
    rows = rows[:MAX_LISTED]
    labels = {
        row["id"]: _line_label(row)
        for row in OrderLine.objects.filter(pk__in=[r["order_line_id"] for r in rows])
        .order_by()
        .values("id", "order__number", "product__sku")
    }
    messages = [
        mismatch
        % {
            "line": labels[row["order_line_id"]],
            "value": row[line_value],
            "total": row["total"],
        }
        for row in rows
    ]
    messages += _more(total, len(rows), more)

    without = OrderLine.objects.filter(**{f"{line_field}__gt": 0}).filter(
        ~Exists(model.objects.filter(order_line=OuterRef("pk")))
    )
    bare, bare_total = _listed(without, line_field)
    messages += [
        undocumented % {"line": _line_label(row), "value": row[line_field]} for row in bare
    ]
    messages += _more(bare_total, len(bare), more)
    return messages


def _shipment_problems() -> list[str]:
    return _documented_problems(
        model=ShipmentLine,
        line_field="shipped",
        mismatch=_("%(line)s says %(value)d shipped, but its shipment lines add up to %(total)d."),
        undocumented=_("%(line)s says %(value)d shipped, but no shipment has it."),
        more=_("… and %(count)d more order lines whose shipped units do not match shipments."),
    )


def _cancellation_problems() -> list[str]:
    return _documented_problems(
        model=Cancellation,
        line_field="cancelled",
        mismatch=_("%(line)s says %(value)d cancelled, but its cancellations add up to %(total)d."),
        undocumented=_("%(line)s says %(value)d cancelled, but there is no cancellation for it."),
        more=_(
            "… and %(count)d more order lines whose cancelled units do not match cancellations."
        ),
    )


def _purchase_line_problems() -> list[str]:
    bad = PurchaseOrderLine.objects.filter(
        Q(received__gt=F("ordered")) | Q(ordered__lte=0) | Q(received__lt=0)
    ).order_by("pk")
    rows = list(
        bad.values("id", "purchase_order__number", "product__sku", "ordered", "received")[
            : MAX_LISTED + 1
        ]
    )
    total = len(rows) if len(rows) <= MAX_LISTED else bad.count()
    rows = rows[:MAX_LISTED]
    messages = [
        _(
            "Purchase order %(number)s, line %(line)s (%(sku)s): %(received)d received of "
            "%(ordered)d ordered."
        )
        % {
            "number": row["purchase_order__number"],
            "line": row["id"],
            "sku": row["product__sku"],
            "received": row["received"],
            "ordered": row["ordered"],
        }
        for row in rows
    ]
    return messages + _more(
        total, len(rows), _("… and %(count)d more purchase order lines received beyond ordered.")
    )


# What each purchase order status says about its lines' received units
# (suppliers.services): nothing is received before an order is sent; the
# first receipt makes it partially received, the one that completes every line
# received; a received one is never cancelled.
_STATUS_PROBLEMS: list[tuple[Q, Any]] = [
    (
        Q(status=PurchaseOrderStatus.DRAFT, received_units__gt=0),
        gettext_lazy(
            "Purchase order %(number)s is a draft, but %(received)d units were received on it; "
            "only an order sent to the supplier is received."
        ),
    ),
    (
        Q(status=PurchaseOrderStatus.ORDERED, received_units__gt=0),
        gettext_lazy(
            "Purchase order %(number)s is ordered, but %(received)d of its %(ordered)d units "
            "were received: it should be partially received or received."
        ),
    ),
    (
        Q(status=PurchaseOrderStatus.PARTIALLY_RECEIVED, received_units=0),
        gettext_lazy(
            "Purchase order %(number)s is partially received, but nothing was received on it."
        ),
    ),
    (
        Q(status=PurchaseOrderStatus.PARTIALLY_RECEIVED, line_count__gt=0, outstanding_lines=0),
        gettext_lazy(
            "Purchase order %(number)s is partially received, but all %(ordered)d units were "
            "received: it should be received."
        ),
    ),
    (
        Q(status=PurchaseOrderStatus.RECEIVED, outstanding_lines__gt=0),
        gettext_lazy(
            "Purchase order %(number)s is received, but only %(received)d of its %(ordered)d "
            "units were received."
        ),
    ),
    (
        Q(status=PurchaseOrderStatus.RECEIVED, line_count=0),
        gettext_lazy("Purchase order %(number)s is received, but it has no lines."),
    ),
    (
        Q(status=PurchaseOrderStatus.CANCELLED, line_count__gt=0, outstanding_lines=0),
        gettext_lazy(
            "Purchase order %(number)s is cancelled, but all %(ordered)d units were received: "
            "it should be received."
        ),
    ),
]


def _purchase_order_status_problems() -> list[str]:
    """Purchase orders whose status does not follow from their lines' received
    units: one GROUP BY over the lines, the first rule broken picked in SQL."""
    problem = Case(
        *(When(wrong, then=Value(index)) for index, (wrong, _m) in enumerate(_STATUS_PROBLEMS)),
        default=None,
        output_field=IntegerField(),
    )
    bad = (
        PurchaseOrder.objects.order_by()
        .annotate(
            line_count=Count("lines"),
            ordered_units=Coalesce(Sum("lines__ordered"), 0),
            received_units=Coalesce(Sum("lines__received"), 0),
            outstanding_lines=Count("lines", filter=Q(lines__received__lt=F("lines__ordered"))),
        )
        .annotate(problem=problem)
        .filter(problem__isnull=False)
    )
    rows = list(
        bad.order_by("pk").values("number", "ordered_units", "received_units", "problem")[
            : MAX_LISTED + 1
        ]
    )
    total = len(rows) if len(rows) <= MAX_LISTED else bad.count()
    messages = [
        _STATUS_PROBLEMS[row["problem"]][1]
        % {
            "number": row["number"],
            "received": row["received_units"],
            "ordered": row["ordered_units"],
        }
        for row in rows[:MAX_LISTED]
    ]
    return messages + _more(
        total,
        len(messages),
        _("… and %(count)d more purchase orders whose status does not match their receipts."),
    )


def _purchase_receipt_problems() -> list[str]:
    """Purchase order lines that say fewer units were received than the stock
    ledger's receipts under the order's number (a received count written back,
    or the order moved to another warehouse after a receipt).

    One query: each line with the sum of the receipt moves for its order's
    number and product in the order's warehouse, and elsewhere. The other way
    round (received units without a receipt move) is not an error: opening
    balances and imported history come without one.
    """
    receipts = StockMove.objects.filter(
        kind=StockMoveKind.RECEIPT,
        reference=OuterRef("purchase_order__number"),
        product=OuterRef("product"),
    ).order_by()

    def units(moves: QuerySet[StockMove]) -> Coalesce:
        total = moves.values("product").annotate(units=Sum("quantity")).values("units")
        return Coalesce(Subquery(total), 0)

    lines = PurchaseOrderLine.objects.annotate(
        ledger_here=units(receipts.filter(warehouse=OuterRef("purchase_order__warehouse"))),
        ledger_elsewhere=units(receipts.exclude(warehouse=OuterRef("purchase_order__warehouse"))),
    ).filter(Q(ledger_here__gt=F("received")) | Q(ledger_elsewhere__gt=0))
    rows = list(
        lines.order_by("pk").values(
            "id",
            "purchase_order__number",
            "purchase_order__warehouse__code",
            "product__sku",
            "received",
            "ledger_here",
            "ledger_elsewhere",
        )[: MAX_LISTED + 1]
    )
    total = len(rows) if len(rows) <= MAX_LISTED else lines.count()
    messages = []
    for row in rows[:MAX_LISTED]:
        values = {
            "number": row["purchase_order__number"],
            "line": row["id"],
            "sku": row["product__sku"],
            "received": row["received"],
            "ledger": row["ledger_here"],
            "elsewhere": row["ledger_elsewhere"],
            "warehouse": row["purchase_order__warehouse__code"],
        }
        if row["ledger_elsewhere"]:
            messages.append(
                _(
                    "Purchase order %(number)s, line %(line)s (%(sku)s): the ledger has "
                    "%(elsewhere)d units received under it outside its warehouse %(warehouse)s."
                )
                % values
            )
        else:
            messages.append(
                _(
                    "Purchase order %(number)s, line %(line)s (%(sku)s) says %(received)d "
                    "received, but the ledger has %(ledger)d units received under it."
                )
                % values
            )
    return messages + _more(
        total,
        len(messages),
        _("… and %(count)d more purchase order lines with fewer units than their receipts."),
    )
