"""The refunds worklist's filter and its "mark refunded" form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.services.refunds import MAX_REFERENCE_LENGTH


class RefundFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Show"),
        choices=[
            ("open", _("Still owed")),
            ("refunded", _("Refunded")),
            ("all", _("All")),
        ],
        required=False,
    )


class RefundMarkForm(forms.Form):
    reference = forms.CharField(
        label=_("Refund reference"),
        max_length=MAX_REFERENCE_LENGTH,
        strip=True,
        error_messages={"required": _("Enter the refund's reference from the payment provider.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": _("e.g. re_3NqK…")}),
    )
