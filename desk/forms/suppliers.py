"""The supplier pages' forms: the list's search, and a product's purchase terms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.limits import MAX_QUANTITY, SKU_MAX_LENGTH
from inventory.models import Product


class SupplierSearchForm(forms.Form):
    """What the supplier list can be narrowed to."""

    q = forms.CharField(
        label=_("Supplier"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name"), "class": "supplier-search"}
        ),
    )
    active = forms.BooleanField(label=_("Active only"), required=False)

    def cleaned(self) -> dict[str, Any]:
        """The valid values; an invalid one is left out."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})


def _units_field(label: Any, help_text: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        help_text=help_text,
        min_value=1,
        max_value=MAX_QUANTITY,
        initial=1,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_QUANTITY, "step": 1}),
        error_messages={
            "required": _("Enter a whole number of units, 1 or more."),
            "invalid": _("Enter a whole number of units, 1 or more."),
        },
    )


class SupplierTermsForm(forms.Form):
    """What a supplier sells a product on: pack size, minimum order, preferred."""

    sku = forms.CharField(
        label=_("SKU"),
        max_length=SKU_MAX_LENGTH,
        widget=forms.TextInput(attrs={"list": "supplier-skus", "autocomplete": "off"}),
        error_messages={"required": _("Enter the product's SKU.")},
    )
    pack_size = _units_field(_("Pack size"), _("Units per pack."))
    minimum_order = _units_field(_("Minimum order"), _("Fewest units per order."))
    preferred = forms.BooleanField(label=_("Preferred supplier for this product"), required=False)

    def clean_sku(self) -> Product:
        sku = self.cleaned_data["sku"].strip()
        product = Product.objects.filter(sku__iexact=sku).first()
        if product is None:
            raise forms.ValidationError(_("No product has the SKU %(sku)s.") % {"sku": sku})
        return product
