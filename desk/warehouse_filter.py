"""The warehouse filter of the shipping and receiving pages, remembered in the session.

`?warehouse=CODE` chooses a warehouse, `?warehouse=` (empty) shows them all;
either is remembered for the next visit to either page, so a warehouse lead
on a tablet chooses once. An unknown code shows every warehouse and forgets
the choice.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from inventory.models import Warehouse
from orders.selectors.shipping import shipping_warehouses

SESSION_KEY = "desk.warehouse"
MAX_CODE_LENGTH = 16


@dataclass(frozen=True)
class WarehouseFilter:
    warehouses: list[Warehouse]
    chosen: Warehouse | None
    unknown: str = ""

    @property
    def warehouse_id(self) -> int | None:
        return self.chosen.pk if self.chosen else None


def warehouse_filter(request: HttpRequest) -> WarehouseFilter:
    """The warehouse this request asks for, or the one remembered; remembers it."""
    warehouses = shipping_warehouses()
    by_code = {warehouse.code: warehouse for warehouse in warehouses}
    if "warehouse" in request.GET:
        code = request.GET["warehouse"].strip()[: MAX_CODE_LENGTH + 1]
        chosen = by_code.get(code)
        request.session[SESSION_KEY] = chosen.code if chosen else ""
        unknown = code if code and chosen is None else ""
        return WarehouseFilter(warehouses=warehouses, chosen=chosen, unknown=unknown)
    remembered = request.session.get(SESSION_KEY, "")
    chosen = by_code.get(remembered) if isinstance(remembered, str) else None
    return WarehouseFilter(warehouses=warehouses, chosen=chosen)
