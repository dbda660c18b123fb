"""Purchase order forms: create (lines by SKU), move the expected date, confirm or cancel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from desk.forms.one_time import OneTimeForm
from desk.widgets import Select
from inventory.limits import MAX_QUANTITY
from inventory.models import Product, Warehouse
from suppliers.limits import validate_expected_date
from suppliers.models import Supplier
from suppliers.services import PurchaseLineRequest


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


PURCHASE_ORDER_ROWS = 5


PURCHASE_ORDER_MAX_ROWS = 100


PURCHASE_ORDER_MAX_UNITS = MAX_QUANTITY


_QUANTITY_MESSAGE = _("Enter a whole number of units above zero.")


class _SupplierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(
            _("%(name)s (usually %(days)d days)") % {"name": obj.name, "days": obj.lead_time_days}
        )


class PurchaseOrderCreateForm(OneTimeForm):
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

    def __init__(
        self,
        *args: Any,
        rows: int = PURCHASE_ORDER_ROWS,
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        if self.is_bound:
            rows = self.rows_posted(self.data)
        self.row_count = min(max(rows, PURCHASE_ORDER_ROWS), PURCHASE_ORDER_MAX_ROWS)
        self.products: dict[int, Product] = {}
        expected = self.fields["expected_date"]
        expected.widget.attrs["min"] = self.today.isoformat()
        if not self.is_bound and "warehouse" not in self.initial:
            # A shop with one warehouse: nothing to choose.
            only = list(Warehouse.objects.order_by("code").values_list("pk", flat=True)[:2])
            if len(only) == 1:
                self.initial["warehouse"] = only[0]
        for row in range(self.row_count):
            self.fields[f"sku_{row}"] = forms.CharField(
                label=_("SKU"),
                required=False,
                max_length=64,
                error_messages={"max_length": _("A SKU has at most 64 characters.")},
            )
            self.fields[f"quantity_{row}"] = forms.IntegerField(
                label=_("Quantity"),
                required=False,
                min_value=1,
                max_value=PURCHASE_ORDER_MAX_UNITS,
                widget=forms.NumberInput(attrs={"step": 1, "inputmode": "numeric"}),
                error_messages={
                    "invalid": _QUANTITY_MESSAGE,
                    "min_value": _QUANTITY_MESSAGE,
                    "max_value": _("Enter at most %(limit_value)s units."),
                },
            )
        for name, field in self.fields.items():
            if not field.widget.is_hidden:
                # Each field's message is shown under it (templates/desk/purchase_order_new.html).
                field.widget.attrs.setdefault("aria-describedby", f"id_{name}_error")
        self.fields["confirm"].widget.attrs["aria-describedby"] = "id_confirm_help"

    @staticmethod
    def rows_posted(data: Any) -> int:
        """How many rows the posted form had (a tampered count falls back to 5)."""
        try:
            return int(data.get("rows") or PURCHASE_ORDER_ROWS)
        except (TypeError, ValueError):
            return PURCHASE_ORDER_ROWS

    def line_rows(self) -> list[dict[str, Any]]:
        """Each row's SKU and quantity fields, and the product its SKU named."""
        return [
            {
                "number": row + 1,
                "sku": self[f"sku_{row}"],
                "quantity": self[f"quantity_{row}"],
                "product": self.products.get(row),
            }
            for row in range(self.row_count)
        ]

    def clean_expected_date(self) -> dt.date:
        expected: dt.date = self.cleaned_data["expected_date"]
        if expected < self.today:
            raise forms.ValidationError(_("The expected date cannot be in the past."))
        return expected

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        typed: dict[int, tuple[str, int | None]] = {}
        for row in range(self.row_count):
            sku_field, quantity_field = f"sku_{row}", f"quantity_{row}"
            sku = (cleaned.get(sku_field) or "").strip()
            quantity = cleaned.get(quantity_field)
            refused = sku_field in self.errors or quantity_field in self.errors
            if refused:
                typed[row] = (sku, quantity)
                continue
            if not sku and quantity is None:
                continue  # a blank row
            if not sku:
                self.add_error(sku_field, _("Enter the SKU of the product."))
            elif quantity is None:
                self.add_error(quantity_field, _("Enter the quantity to order."))
            typed[row] = (sku, quantity)
        if not typed:
            self.add_error(
                "sku_0", _("Add at least one product: its SKU and the quantity to order.")
            )
            return cleaned
        self._find_products({row: sku for row, (sku, _q) in typed.items() if sku})
        first_row: dict[int, int] = {}
        for row, product in sorted(self.products.items()):
            if product.pk in first_row:
                self.add_error(
                    f"sku_{row}",
                    _("%(sku)s is already on line %(row)d: combine the quantities there.")
                    % {"sku": product.sku, "row": first_row[product.pk] + 1},
                )
            else:
                first_row[product.pk] = row
        if not self.errors:
            cleaned["lines"] = [
                PurchaseLineRequest(product=self.products[row], quantity=quantity)
                for row, (_sku, quantity) in sorted(typed.items())
                if quantity is not None
            ]
        return cleaned

    def _find_products(self, skus: dict[int, str]) -> None:
        """The products the rows name, by SKU ignoring case (one query); a row
        whose SKU names none, or several, gets its message."""
        if not skus:
            return
        matches: dict[str, list[Product]] = {}
        for product in Product.objects.annotate(sku_key=Lower("sku")).filter(
            sku_key__in={sku.lower() for sku in skus.values()}
        ):
            matches.setdefault(product.sku.lower(), []).append(product)
        for row, sku in skus.items():
            found = matches.get(sku.lower(), [])
            exact = [product for product in found if product.sku == sku]
            if len(found) == 1 or len(exact) == 1:
                self.products[row] = (exact or found)[0]
            elif not found:
                self.add_error(f"sku_{row}", _("No product has the SKU %(sku)s.") % {"sku": sku})
            else:
                self.add_error(
                    f"sku_{row}",
                    _("Several products have this SKU in other letter cases: type it exactly."),
                )


class PurchaseOrderActionForm(OneTimeForm):
    """Confirm or cancel a purchase order from its page: the button's one-time
    token is all it carries, so a double click or a resent form applies once."""
