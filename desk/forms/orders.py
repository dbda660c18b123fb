"""Forms of the order page's line actions: cancel the remainder, priority."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OrderLineCancelForm(forms.Form):
    """Why customer service cancels a line's backordered remainder."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        error_messages={"required": _("Say why; the customer is told the items are cancelled.")},
    )


class OrderLinePriorityForm(forms.Form):
    """A waiting line's manual priority in the queue (higher is served first)."""

    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=-100,
        max_value=100,
        error_messages={
            "required": _("Enter a whole number from -100 to 100."),
            "invalid": _("Enter a whole number from -100 to 100."),
            "min_value": _("Enter a whole number from -100 to 100."),
            "max_value": _("Enter a whole number from -100 to 100."),
        },
    )
