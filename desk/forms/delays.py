"""Forms of the delays page: personal note, discount, internal note, substitute."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from desk.forms.one_time import OneTimeForm


class _OrderChoiceForm(OneTimeForm):
    """A form about one of the customer's orders, chosen by number."""

    order = forms.CharField(
        label=_("Order"),
        max_length=32,
        error_messages={"required": _("Choose the order it is about.")},
    )

    def __init__(self, *args: Any, orders: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.orders = orders

    def clean_order(self) -> Any:
        number = self.cleaned_data["order"]
        order = self.orders.get(number)
        if order is None:
            raise forms.ValidationError(_("Choose one of this customer's waiting orders."))
        return order


class CustomerNoteForm(_OrderChoiceForm):
    """A personal note to a delayed customer, sent by email."""

    subject = forms.CharField(
        label=_("Subject (optional)"),
        max_length=200,
        required=False,
        error_messages={"max_length": _("At most 200 characters.")},
    )
    note = forms.CharField(
        label=_("Message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Write the message to the customer."),
            "max_length": _("At most 5000 characters."),
        },
    )


class DelayDiscountForm(_OrderChoiceForm):
    """A discount code for a delayed order, within the compensation policy."""

    percent = forms.DecimalField(
        label=_("Discount (%)"),
        max_digits=5,
        decimal_places=2,
        error_messages={
            "required": _("Enter a percentage."),
            "invalid": _("Enter a number, e.g. 10 or 7.5."),
            "max_digits": _("Enter a number, e.g. 10 or 7.5."),
            "max_decimal_places": _("At most two decimals, e.g. 7.5."),
        },
    )
    note = forms.CharField(
        label=_("Message with the code (optional)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("At most 5000 characters.")},
    )

    def __init__(self, *args: Any, low: Decimal, high: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.low, self.high = low, high

    def clean_percent(self) -> Decimal:
        percent: Decimal = self.cleaned_data["percent"]
        if not percent.is_finite() or not self.low <= percent <= self.high:
            raise forms.ValidationError(
                _("Enter a percentage from %(low)s to %(high)s (the compensation policy's).")
                % {"low": f"{self.low.normalize():f}", "high": f"{self.high.normalize():f}"}
            )
        return percent


class OrderNoteForm(_OrderChoiceForm):
    """An internal note on one of the customer's orders (never emailed)."""

    body = forms.CharField(
        label=_("Internal note"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Write the note first."),
            "max_length": _("At most 2000 characters."),
        },
    )


class OrderLineSubstituteForm(forms.Form):
    """Which alternative product replaces a line's backordered remainder."""

    product = forms.TypedChoiceField(
        label=_("Alternative"),
        coerce=int,
        error_messages={
            "required": _("Choose the alternative product."),
            "invalid_choice": _("Choose one of the product's alternatives."),
        },
    )

    def __init__(self, *args: Any, alternatives: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.alternatives = {product.pk: product for product in alternatives}
        field = self.fields["product"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(product.pk, product.sku) for product in alternatives]

    def clean_product(self) -> Any:
        return self.alternatives[self.cleaned_data["product"]]
