"""Forms whose products are typed as rows of SKU and quantity (a new purchase
order, a new sales order): the rows, "More rows", and finding the products."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from desk.forms.one_time import OneTimeForm
from inventory.limits import MAX_QUANTITY
from inventory.models import Product

SKU_LINE_ROWS = 5


SKU_LINE_MAX_ROWS = 100


_QUANTITY_MESSAGE = _("Enter a whole number of units above zero.")


class SkuLinesForm(OneTimeForm):
    """A one-time form with product lines typed as SKU and quantity
    (`sku_<n>`, `quantity_<n>`; blank rows are left out). `rows` says how many
    rows the form was rendered with; a bound form reads it from the data.

    After `is_valid()`, `typed_lines` holds (product, quantity) per filled row,
    in row order. Subclasses word what the quantity is for.
    """

    quantity_missing_message: Any = _("Enter the quantity.")
    no_lines_message: Any = _("Add at least one product: its SKU and the quantity.")

    def __init__(self, *args: Any, rows: int = SKU_LINE_ROWS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_bound:
            rows = self.rows_posted(self.data)
        self.row_count = min(max(rows, SKU_LINE_ROWS), SKU_LINE_MAX_ROWS)
        self.products: dict[int, Product] = {}
        self.typed_lines: list[tuple[Product, int]] = []
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
                max_value=MAX_QUANTITY,
                widget=forms.NumberInput(attrs={"step": 1, "inputmode": "numeric"}),
                error_messages={
                    "invalid": _QUANTITY_MESSAGE,
                    "min_value": _QUANTITY_MESSAGE,
                    "max_value": _("Enter at most %(limit_value)s units."),
                },
            )

    def describe_fields(self) -> None:
        """Point each visible field at the message shown under it (the templates
        render `<p id="id_<name>_error">`); call after adding every field."""
        for name, field in self.fields.items():
            if not field.widget.is_hidden:
                field.widget.attrs.setdefault("aria-describedby", f"id_{name}_error")

    @staticmethod
    def rows_posted(data: Any) -> int:
        """How many rows the posted form had (a tampered count falls back to 5)."""
        try:
            return int(data.get("rows") or SKU_LINE_ROWS)
        except (TypeError, ValueError):
            return SKU_LINE_ROWS

    def line_rows(self) -> list[dict[str, Any]]:
        """Each row's SKU and quantity fields, and the product its SKU named."""
        return [
            {
                "index": row,
                "number": row + 1,
                "sku": self[f"sku_{row}"],
                "quantity": self[f"quantity_{row}"],
                "product": self.products.get(row),
            }
            for row in range(self.row_count)
        ]

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
                self.add_error(quantity_field, self.quantity_missing_message)
            typed[row] = (sku, quantity)
        if not typed:
            self.add_error("sku_0", self.no_lines_message)
            return cleaned
        self.find_products({row: sku for row, (sku, _q) in typed.items() if sku})
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
        self.typed_lines = [
            (self.products[row], quantity)
            for row, (_sku, quantity) in sorted(typed.items())
            if quantity is not None and row in self.products
        ]
        return cleaned

    def find_products(self, skus: dict[int, str]) -> None:
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
