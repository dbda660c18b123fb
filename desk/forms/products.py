"""The stock adjust form on the product page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.limits import ADJUSTMENT_MESSAGE, MAX_QUANTITY


class StockAdjustForm(forms.Form):
    """A stock count correction in one warehouse: units found (+) or lost (−).

    Only the shape is checked here; zero, a missing reason or going below what
    is allocated are the use case's to refuse, under lock.
    """

    warehouse = forms.IntegerField(widget=forms.HiddenInput)
    change = forms.IntegerField(
        label=_("Change"),
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        error_messages={
            "required": _("Enter the change in units, e.g. 5 or -2."),
            "invalid": _("Enter a whole number of units, e.g. 5 or -2."),
            "min_value": ADJUSTMENT_MESSAGE,
            "max_value": ADJUSTMENT_MESSAGE,
        },
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)
