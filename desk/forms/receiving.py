"""The receive form: units per purchase order line."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class PurchaseOrderReceiveForm(forms.Form):
    """Units received now on each open line of a purchase order (`line_<id>`),
    and the receipt state the form was rendered from (see
    notifications.updates.purchase_order_receive_from_form).

    Only the shape is checked here (whole numbers, 0 or more, at least one);
    how many units a line may still take is the use case's to say, under lock.
    """

    receipt_state = forms.CharField(widget=forms.HiddenInput, max_length=10_000)

    def __init__(self, *args: Any, line_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_ids = line_ids
        for line_id in line_ids:
            self.fields[f"line_{line_id}"] = forms.IntegerField(
                required=False,
                min_value=0,
                error_messages={
                    "invalid": _("Enter a whole number of units."),
                    "min_value": _("Enter 0 or more units."),
                },
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not any(self.quantities().values()):
            raise forms.ValidationError(_("Enter the units received on at least one line."))
        return cleaned

    def quantities(self) -> dict[int, int]:
        """Line id → units received now, for the lines with more than 0."""
        values = {
            line_id: self.cleaned_data.get(f"line_{line_id}") or 0 for line_id in self.line_ids
        }
        return {line_id: units for line_id, units in values.items() if units}

    def line_errors(self) -> dict[int, list[str]]:
        """The messages of each line's field, by line id."""
        return {
            line_id: [str(message) for message in self.errors[f"line_{line_id}"]]
            for line_id in self.line_ids
            if f"line_{line_id}" in self.errors
        }
