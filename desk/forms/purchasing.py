"""Purchase order forms: create (lines by SKU), move the expected date, confirm or cancel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from desk.forms.one_time import OneTimeForm
from desk.forms.sku_lines import SKU_LINE_MAX_ROWS, SKU_LINE_ROWS, SkuLinesForm
from desk.widgets import Select
from inventory.models import Warehouse
from suppliers.limits import MAX_UNIT_COST, validate_expected_date
from suppliers.models import Supplier
from suppliers.services import PurchaseLineRequest


class CostField(forms.DecimalField):
    """A money amount as people type it: 12.50 or 12,50 (a decimal comma is
    taken when there is no point); spaces are left out."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = "".join(value.split())
            if "," in value and "." not in value and value.count(",") == 1:
                value = value.replace(",", ".")
        return super().to_python(value)


class MoveExpectedDateForm(forms.Form):
    """A purchase order's new expected date and why: previewed, then confirmed."""

    new_date = forms.DateField(
        label=_("New expected date"),
        validators=[validate_expected_date],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the new expected date."),
            "invalid": _("Enter a valid date."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. supplier confirmed a port delay")}),
        error_messages={"required": _("Say why the date moves; customers may be told.")},
    )


PURCHASE_ORDER_ROWS = SKU_LINE_ROWS


PURCHASE_ORDER_MAX_ROWS = SKU_LINE_MAX_ROWS


class _SupplierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(
            _("%(name)s (usually %(days)d days)") % {"name": obj.name, "days": obj.lead_time_days}
        )


class PurchaseOrderCreateForm(SkuLinesForm):
    """A new purchase order: supplier, warehouse, expected date, and product
    lines typed as SKU and quantity (`sku_<n>`, `quantity_<n>`; blank rows are
    left out). `rows` says how many rows the form was rendered with."""

    supplier = _SupplierChoiceField(
        label=_("Supplier"),
        queryset=Supplier.objects.filter(active=True).order_by("name"),
        empty_label=_("Choose a supplier…"),
        widget=Select,
        error_messages={
            "required": _("Choose the supplier."),
            "invalid_choice": _("Choose one of the suppliers."),
        },
    )
    warehouse = forms.ModelChoiceField(
        label=_("Deliver to warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        empty_label=_("Choose a warehouse…"),
        widget=Select,
        error_messages={
            "required": _("Choose the warehouse."),
            "invalid_choice": _("Choose one of the warehouses."),
        },
    )
    expected_date = forms.DateField(
        label=_("Expected date"),
        validators=[validate_expected_date],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Enter the expected date."),
            "invalid": _("Enter a valid date."),
        },
    )
    notes = forms.CharField(
        label=_("Notes (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("At most 2000 characters.")},
    )
    confirm = forms.BooleanField(label=_("Confirm now (send to supplier)"), required=False)

    quantity_missing_message = _("Enter the quantity to order.")
    no_lines_message = _("Add at least one product: its SKU and the quantity to order.")

    def __init__(
        self,
        *args: Any,
        rows: int = PURCHASE_ORDER_ROWS,
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, rows=rows, **kwargs)
        self.today = today or timezone.localdate()
        expected = self.fields["expected_date"]
        expected.widget.attrs["min"] = self.today.isoformat()
        if not self.is_bound and "warehouse" not in self.initial:
            # A shop with one warehouse: nothing to choose.
            only = list(Warehouse.objects.order_by("code").values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial["warehouse"] = only[0]
        for row in range(self.row_count):
            self.fields[f"cost_{row}"] = CostField(
                label=_("Unit cost"),
                required=False,
                min_value=Decimal(0),
                max_value=MAX_UNIT_COST - Decimal("0.01"),
                max_digits=12,
                decimal_places=2,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 10}),
                error_messages={
                    "invalid": _("Enter a cost such as 12.50, or leave it empty."),
                    "min_value": _("A cost is 0 or more."),
                    "max_value": _("Enter a cost below 10,000,000,000."),
                    "max_decimal_places": _("A cost has at most 2 decimals."),
                    "max_digits": _("Enter a cost below 10,000,000,000."),
                },
            )
        # Each field's message is shown under it (templates/desk/purchase_order_new.html).
        self.describe_fields()
        self.fields["confirm"].widget.attrs["aria-describedby"] = "id_confirm_help"

    def line_rows(self) -> list[dict[str, Any]]:
        rows = super().line_rows()
        for row in rows:
            row["cost"] = self[f"cost_{row['index']}"]
        return rows

    def clean_expected_date(self) -> dt.date:
        expected: dt.date = self.cleaned_data["expected_date"]
        if expected < self.today:
            raise forms.ValidationError(_("The expected date cannot be in the past."))
        return expected

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            costs = {
                product.pk: cleaned.get(f"cost_{row}") for row, product in self.products.items()
            }
            cleaned["lines"] = [
                PurchaseLineRequest(
                    product=product, quantity=quantity, unit_cost=costs.get(product.pk)
                )
                for product, quantity in self.typed_lines
            ]
        return cleaned


class PurchaseOrderActionForm(OneTimeForm):
    """Confirm or cancel a purchase order from its page: the button's one-time
    token is all it carries, so a double click or a resent form applies once."""
