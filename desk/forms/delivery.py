"""Where an order goes and with which carrier."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.carriers import Carrier
from orders.services.shipping import SHIPPING_ADDRESS_MAX


class OrderDeliveryForm(forms.Form):
    shipping_address = forms.CharField(
        label=_("Shipping address"),
        required=False,
        max_length=SHIPPING_ADDRESS_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "autocomplete": "shipping street-address"}),
        help_text=_("As it goes on the parcel, one line per line."),
        error_messages={"max_length": _("An address has at most %(limit_value)d characters.")},
    )
    carrier = forms.ChoiceField(
        label=_("Carrier"),
        required=False,
        choices=Carrier.choices,
        help_text=_("The tracking number is checked against this carrier's format."),
        error_messages={"invalid_choice": _("Choose one of the carriers.")},
    )
