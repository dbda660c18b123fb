"""The ship form of one order: ship what is ready now (chosen lines and
quantities, with a tracking number) or hold it until it is complete."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine

SHIP_READY = "ready"
HOLD = "hold"


class ShipOrderForm(forms.Form):
    """A tracking number, the ship choice, and a `line_<id>` quantity for each
    line with allocated units (0 or empty: not in this shipment).

    A post that names no line quantity ships everything allocated.
    """

    ship_choice = forms.ChoiceField(
        label=_("Ship choice"),
        required=False,
        choices=[
            (SHIP_READY, _("Ship what is ready now")),
            (HOLD, _("Hold until complete")),
        ],
        error_messages={"invalid_choice": _("Choose to ship what is ready or to hold.")},
    )
    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=64,
        required=False,
        error_messages={"max_length": _("A tracking number has at most 64 characters.")},
    )

    def __init__(self, *args: Any, lines: Sequence[OrderLine] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ready_lines = [line for line in lines if line.allocated]
        for line in self.ready_lines:
            self.fields[f"line_{line.pk}"] = forms.IntegerField(
                required=False,
                min_value=0,
                max_value=line.allocated,
                error_messages={
                    "invalid": _("Enter a whole number of units."),
                    "min_value": _("Enter 0 or more units."),
                    "max_value": _("Only %(limit_value)s units are ready to ship."),
                },
            )

    @property
    def holds(self) -> bool:
        return self.cleaned_data.get("ship_choice") == HOLD

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tracking = (cleaned.get("tracking_number") or "").strip()
        shipping = cleaned.get("ship_choice") != HOLD
        if shipping and not tracking and "tracking_number" not in self.errors:
            self.add_error("tracking_number", _("Enter the carrier's tracking number."))
        return cleaned

    def quantities(self) -> dict[int, int] | None:
        """The units to ship per line id (an empty field is 0 and left out);
        None when the post names no line at all (ship everything allocated)."""
        posted = [line for line in self.ready_lines if f"line_{line.pk}" in self.data]
        if not posted:
            return None
        return {
            line.pk: units
            for line in posted
            if (units := self.cleaned_data.get(f"line_{line.pk}") or 0) > 0
        }
