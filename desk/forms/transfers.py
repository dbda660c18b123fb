"""The new transfer form on the transfers page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from desk.forms.one_time import OneTimeForm
from inventory.limits import MAX_QUANTITY, QUANTITY_MESSAGE, SKU_MAX_LENGTH, range_message
from inventory.models import Warehouse

QUANTITY_RANGE = range_message(QUANTITY_MESSAGE, low=1, high=MAX_QUANTITY)


class TransferForm(OneTimeForm):
    """Ship units of one product from one warehouse to another.

    The shape only: an unknown SKU, the same warehouse twice or more units
    than are free are the use case's to refuse, under lock.
    """

    sku = forms.CharField(
        label=_("SKU"),
        max_length=SKU_MAX_LENGTH,
        error_messages={"required": _("Enter the SKU of the product to move.")},
    )
    from_warehouse = forms.ChoiceField(
        label=_("From"),
        error_messages={
            "required": _("Choose the warehouse the units leave."),
            "invalid_choice": _("Choose a warehouse from the list."),
        },
    )
    to_warehouse = forms.ChoiceField(
        label=_("To"),
        error_messages={
            "required": _("Choose the warehouse the units go to."),
            "invalid_choice": _("Choose a warehouse from the list."),
        },
    )
    quantity = forms.IntegerField(
        label=_("Units"),
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages={
            "required": _("Enter the number of units to move."),
            "invalid": _("Enter a whole number of units."),
            "min_value": QUANTITY_RANGE,
            "max_value": QUANTITY_RANGE,
        },
    )

    def __init__(self, *args: Any, warehouses: list[Warehouse], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The page's one query of warehouses serves both lists (by code, so a
        # link from the shortfall worklist can prefill them).
        choices = [("", "—"), *((w.code, str(w)) for w in warehouses)]
        for name in ("from_warehouse", "to_warehouse"):
            self.fields[name].choices = choices  # type: ignore[attr-defined]
        self._warehouses = {w.code: w for w in warehouses}

    def clean_from_warehouse(self) -> Warehouse | None:
        return self._warehouse("from_warehouse")

    def clean_to_warehouse(self) -> Warehouse | None:
        return self._warehouse("to_warehouse")

    def _warehouse(self, name: str) -> Warehouse | None:
        return self._warehouses.get(self.cleaned_data.get(name) or "")
