"""Forms of the order page's line actions: cancel the remainder, priority."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.limits import MAX_PRIORITY, MIN_PRIORITY, PRIORITY_MESSAGE


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
        min_value=MIN_PRIORITY,
        max_value=MAX_PRIORITY,
        error_messages={
            "required": PRIORITY_MESSAGE,
            "invalid": PRIORITY_MESSAGE,
            "min_value": PRIORITY_MESSAGE,
            "max_value": PRIORITY_MESSAGE,
        },
    )
