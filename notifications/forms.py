"""The compensation policy form: what the shop gives customers whose date slips."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.widgets import Select
from inventory.models import Product, Warehouse
from notifications.models import BulkJobKind, CompensationPolicy
from suppliers.models import Supplier
from suppliers.services import PurchaseLineRequest

# (min, max, message) per whole-number field: a typo like 3000 days is refused.
LIMITS: dict[str, tuple[int, int, Any]] = {
    "apology_after_days": (0, 365, _("Enter a number of days from 0 to 365.")),
    "discount_after_days": (1, 365, _("Enter a number of days from 1 to 365.")),
    "discount_after_slips": (1, 100, _("Enter a number of slips from 1 to 100.")),
    "combine_window_minutes": (0, 1440, _("Enter a number of minutes from 0 to 1440 (one day).")),
    "discount_valid_days": (1, 3650, _("Enter a number of days from 1 to 3650.")),
}


class CompensationPolicyForm(forms.ModelForm):
    class Meta:
        model = CompensationPolicy
        fields = [
            "apology_after_days",
            "discount_after_days",
            "discount_after_slips",
            "discount_percent",
            "one_discount_per_order",
            "combine_window_minutes",
            "send_good_news",
            "discount_valid_days",
        ]
        labels = {
            "apology_after_days": _("Apologise when a date moves by at least (days)"),
            "discount_after_days": _("Offer a discount after a total delay of (days)"),
            "discount_after_slips": _("…or after the date has moved this many times"),
            "discount_percent": _("Discount (%)"),
            "one_discount_per_order": _("At most one discount per order"),
            "combine_window_minutes": _("Combine updates to one order within (minutes)"),
            "send_good_news": _("Tell customers when a date moves earlier"),
            "discount_valid_days": _("Discount code valid for (days)"),
        }
        help_texts = {
            "apology_after_days": _(
                "When a supplier delay pushes a customer's ship date later by this many days "
                "or more, the customer gets an apology email. 0 or 1: apologise for any delay."
            ),
            "discount_after_days": _(
                "Once an item has slipped this many days in total since the first promise, "
                "the apology comes with a discount code."
            ),
            "discount_after_slips": _(
                "Once the date of an item has moved later this many times, the apology comes "
                "with a discount code, however short each delay was."
            ),
            "discount_percent": _(
                "Percentage off the customer's next order, more than 0 and at most 100 "
                "(decimals allowed, e.g. 7.5)."
            ),
            "one_discount_per_order": _(
                "Ticked: an order that already received a discount code gets apologies only, "
                "no second code."
            ),
            "combine_window_minutes": _(
                "Several changes to one order within this many minutes go out as one email, "
                "sent when the window closes. 0 sends every change at once."
            ),
            "send_good_news": _(
                "Ticked: customers get an email when their items will ship sooner than promised."
            ),
            "discount_valid_days": _(
                "How long a customer can use a discount code after we send it."
            ),
        }

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (low, high, message) in LIMITS.items():
            field = self.fields[name]
            assert isinstance(field, forms.IntegerField)
            field.min_value, field.max_value = low, high
            field.widget.attrs.update({"min": low, "max": high})
            field.validators = [
                MinValueValidator(low, message=message),
                MaxValueValidator(high, message=message),
            ]
            field.error_messages["invalid"] = _("Enter a whole number.")
        percent = self.fields["discount_percent"]
        assert isinstance(percent, forms.DecimalField)
        percent_message = _("Enter a percentage above 0 and at most 100.")
        percent.validators = [
            validator
            for validator in percent.validators
            if not isinstance(validator, MinValueValidator | MaxValueValidator)
        ] + [
            MinValueValidator(Decimal("0.01"), message=percent_message),
            MaxValueValidator(Decimal("100"), message=percent_message),
        ]
        percent.widget.attrs.update({"min": "0.01", "max": "100", "step": "0.01"})
        percent.error_messages["invalid"] = _("Enter a number, e.g. 10 or 7.5.")
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"id_{name}_help"
            if read_only:
                field.disabled = True


class PurchaseOrderReceiveForm(forms.Form):
    """Units received now on each open line of a purchase order (`line_<id>`),
    and the receipt state the form was rendered from (see
    notifications.updates.purchase_order_receive_from_form).

    Only the shape is checked here (whole numbers, 0 or more, at least one);
    how many units a line may still take is the use case's to say, under lock.
    """

    receipt_state = forms.CharField(widget=forms.HiddenInput, max_length=10_000)

    def __init__(self, *args: Any, line_ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_ids = line_ids
        for line_id in line_ids:
            self.fields[f"line_{line_id}"] = forms.IntegerField(
                required=False,
                min_value=0,
                error_messages={
                    "invalid": _("Enter a whole number of units."),
                    "min_value": _("Enter 0 or more units."),
                },
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors and not any(self.quantities().values()):
            raise forms.ValidationError(_("Enter the units received on at least one line."))
        return cleaned

    def quantities(self) -> dict[int, int]:
        """Line id → units received now, for the lines with more than 0."""
        values = {
            line_id: self.cleaned_data.get(f"line_{line_id}") or 0 for line_id in self.line_ids
        }
        return {line_id: units for line_id, units in values.items() if units}

    def line_errors(self) -> dict[int, list[str]]:
        """The messages of each line's field, by line id."""
        return {
            line_id: [str(message) for message in self.errors[f"line_{line_id}"]]
            for line_id in self.line_ids
            if f"line_{line_id}" in self.errors
        }


class MoveExpectedDateForm(forms.Form):
    """A purchase order's new expected date and why: previewed, then confirmed."""

    new_date = forms.DateField(
        label=_("New expected date"),
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


class ShipOrderForm(forms.Form):
    """The carrier's tracking number for shipping everything allocated on an order."""

    tracking_number = forms.CharField(
        label=_("Tracking number"),
        max_length=64,
        error_messages={
            "required": _("Enter the carrier's tracking number."),
            "max_length": _("A tracking number has at most 64 characters."),
        },
    )


class StockAdjustForm(forms.Form):
    """A stock count correction in one warehouse: units found (+) or lost (−).

    Only the shape is checked here; zero, a missing reason or going below what
    is allocated are the use case's to refuse, under lock.
    """

    warehouse = forms.IntegerField(widget=forms.HiddenInput)
    change = forms.IntegerField(
        label=_("Change"),
        error_messages={
            "required": _("Enter the change in units, e.g. 5 or -2."),
            "invalid": _("Enter a whole number of units, e.g. 5 or -2."),
        },
    )
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)


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


class LineIdsField(forms.Field):
    """Several order line ids (`lines=1&lines=2`): the ticked rows of the queue."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one line in the table."),
        "invalid": _("The selection is not valid; reload the page and select again."),
        "too_many": _("Select at most %(limit)d lines at once."),
    }

    def __init__(self, *args: Any, limit: int = 1000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = sorted({int(item) for item in values})
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error
        if any(pk <= 0 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(ids) > self.limit:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": self.limit}
            )
        return ids


class QueueBulkForm(forms.Form):
    """A bulk action on the ticked queue lines: tell their customers, or set a priority."""

    kind = forms.ChoiceField(
        choices=BulkJobKind.choices,
        error_messages={
            "required": _("Choose what to do with the selected lines."),
            "invalid_choice": _("Choose what to do with the selected lines."),
        },
    )
    lines = LineIdsField()
    priority = forms.IntegerField(
        required=False,
        min_value=-100,
        max_value=100,
        error_messages={
            "invalid": _("Enter a whole number from -100 to 100."),
            "min_value": _("Enter a whole number from -100 to 100."),
            "max_value": _("Enter a whole number from -100 to 100."),
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("kind") == BulkJobKind.REPRIORITISE
            and cleaned.get("priority") is None
            and "priority" not in self.errors
        ):
            self.add_error("priority", _("Enter the priority to give the selected lines."))
        return cleaned

    def parameters(self) -> dict[str, Any]:
        """The job's parameters: the priority to set, for a reprioritise."""
        if self.cleaned_data["kind"] == BulkJobKind.REPRIORITISE:
            return {"priority": self.cleaned_data["priority"]}
        return {}


# --- the delays page (/delays/) ----------------------------------------------------


class _OneTimeForm(forms.Form):
    """A form carrying the one-time token it was rendered with
    (orders.services.form_submission_record spends it with the change)."""

    token = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form is out of date: reload the page and try again."),
            "invalid": _("This form is out of date: reload the page and try again."),
        },
    )


class _OrderChoiceForm(_OneTimeForm):
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


# --- a new purchase order (/purchase-orders/new/) ------------------------------------

PURCHASE_ORDER_ROWS = 5
PURCHASE_ORDER_MAX_ROWS = 100
PURCHASE_ORDER_MAX_UNITS = 1_000_000

_QUANTITY_MESSAGE = _("Enter a whole number of units above zero.")


class _SupplierChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(
            _("%(name)s (usually %(days)d days)") % {"name": obj.name, "days": obj.lead_time_days}
        )


class PurchaseOrderCreateForm(_OneTimeForm):
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
                # Each field's message is shown under it (templates/orders/purchase_order_new.html).
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


class PurchaseOrderActionForm(_OneTimeForm):
    """Confirm or cancel a purchase order from its page: the button's one-time
    token is all it carries, so a double click or a resent form applies once."""
