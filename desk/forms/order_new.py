"""A new sales order taken by customer service (`/orders/new/`): the customer by
email (found, or made with a name, language and tier), the warehouse, how the
order came in, the payment the shop holds, and lines by SKU."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from desk.forms.sku_lines import SkuLinesForm
from desk.widgets import Select
from inventory.models import Product, Warehouse
from orders.models import Channel, Customer, Language, PaymentStatus, Tier

STAFF_CHANNELS = [(Channel.PHONE, Channel.PHONE.label), (Channel.EMAIL, Channel.EMAIL.label)]


class OrderCreateForm(SkuLinesForm):
    """Who orders, from where, and what. A known email address orders as that
    customer (their name, language and tier stay as they are); a new one needs
    a name. `customer` is the known customer once the form is cleaned."""

    email = forms.EmailField(
        label=_("Customer's email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": _("Enter the customer's email address: the confirmation goes there."),
            "invalid": _("Enter a valid email address, like name@example.com."),
        },
    )
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=200,
        error_messages={"max_length": _("At most 200 characters.")},
    )
    language = forms.ChoiceField(
        label=_("Language of their emails"),
        choices=Language.choices,
        initial=Language.ENGLISH,
        widget=Select,
        error_messages={"invalid_choice": _("Choose one of the languages.")},
    )
    tier = forms.TypedChoiceField(
        label=_("Priority tier"),
        choices=Tier.choices,
        coerce=int,
        initial=Tier.STANDARD,
        widget=Select,
        error_messages={"invalid_choice": _("Choose one of the tiers.")},
    )
    warehouse = forms.ModelChoiceField(
        label=_("Ship from warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        empty_label=None,
        widget=Select,
        error_messages={
            "required": _("Choose the warehouse."),
            "invalid_choice": _("Choose one of the warehouses."),
        },
    )
    channel = forms.ChoiceField(
        label=_("Taken by"),
        choices=STAFF_CHANNELS,
        initial=Channel.PHONE,
        widget=Select,
        error_messages={"invalid_choice": _("Choose phone or email.")},
    )
    payment_status = forms.ChoiceField(
        label=_("Payment"),
        choices=PaymentStatus.choices,
        initial=PaymentStatus.UNPAID,
        widget=Select,
        error_messages={"invalid_choice": _("Choose one of the payment states.")},
    )

    quantity_missing_message = _("Enter the quantity the customer wants.")
    no_lines_message = _("Add at least one product: its SKU and the quantity the customer wants.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer: Customer | None = None
        # Each field's message is shown under it (templates/desk/order_new.html).
        self.describe_fields()
        for row in range(self.row_count):
            self.fields[f"sku_{row}"].widget.attrs["autocomplete"] = "off"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        email = cleaned.get("email")
        if email:
            self.customer = Customer.objects.filter(email__iexact=email).first()
            if self.customer is None and not (cleaned.get("name") or "").strip():
                self.add_error(
                    "name", _("Enter the customer's name: this email is new to the shop.")
                )
        return cleaned

    def placing_tier(self) -> int:
        """The tier the order's lines queue with: the known customer's, else the one chosen."""
        if self.customer is not None:
            return self.customer.tier
        tier = self.cleaned_data.get("tier") if hasattr(self, "cleaned_data") else None
        return int(tier) if tier else Tier.STANDARD

    def rows_to_check(self) -> list[tuple[int, Product, int]]:
        """(row, product, quantity) of each row whose SKU and quantity are both
        valid, for the live availability check of a form that may still be
        incomplete (call after `is_valid()`)."""
        rows = []
        for row, product in sorted(self.products.items()):
            quantity = self.cleaned_data.get(f"quantity_{row}")
            refused = f"sku_{row}" in self.errors or f"quantity_{row}" in self.errors
            if quantity and not refused:
                rows.append((row, product, quantity))
        return rows
