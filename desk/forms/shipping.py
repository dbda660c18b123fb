"""The ship form: a tracking number for an order's allocated units."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ShipOrderForm(forms.Form):
    """The carrier's tracking number for shipping everything allocated on an order."""

    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=64,
        error_messages={
            "required": _("Enter the carrier's tracking number."),
            "max_length": _("A tracking number has at most 64 characters."),
        },
    )
