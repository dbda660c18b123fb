"""The shortfall worklist's filters, and the review form of the drafts it makes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from desk.forms.one_time import OneTimeForm
from desk.widgets import Select
from inventory.limits import MAX_QUANTITY
from inventory.models import Warehouse
from orders.models import OrderLine
from orders.selectors.shortfall import (
    BUFFER_PERCENT,
    MAX_BUFFER_PERCENT,
    DraftGroup,
    ShortfallRow,
)
from suppliers.limits import validate_expected_date
from suppliers.models import Supplier


class _WholeNumberFilter(django_filters.Filter):
    field_class = forms.IntegerField


class _CheckboxFilter(django_filters.Filter):
    field_class = forms.BooleanField


def _search_input(placeholder: Any) -> forms.TextInput:
    # `shortfall-search` lets the form send after a pause in typing (see the template).
    return forms.TextInput(
        attrs={"type": "search", "placeholder": placeholder, "class": "shortfall-search"}
    )


def _number_input(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": 1, "inputmode": "numeric", **attrs})


class ShortfallFilter(django_filters.FilterSet):
    """What the worklist can be narrowed to. Product and warehouse narrow the
    waiting lines in SQL; supplier, least shortfall and "free elsewhere" are
    applied to the rows (`rows_matching`); the buffer sizes the suggestions."""

    product = django_filters.CharFilter(
        label=_("Product"), method="filter_product", widget=_search_input(_("SKU or name"))
    )
    warehouse = django_filters.ModelChoiceFilter(
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("All warehouses"),
        widget=Select,
    )
    supplier = django_filters.ModelChoiceFilter(
        label=_("Suggested supplier"),
        queryset=Supplier.objects.order_by("name"),
        method="keep",
        empty_label=_("All suppliers"),
        widget=Select,
    )
    min_shortfall = _WholeNumberFilter(
        label=_("Min. units short"),
        method="keep",
        min_value=1,
        max_value=MAX_QUANTITY,
        error_messages={"invalid": _("Enter a whole number of units, like 5.")},
        widget=_number_input(min=1),
    )
    buffer = _WholeNumberFilter(
        label=_("Buffer %"),
        method="keep",
        min_value=0,
        max_value=MAX_BUFFER_PERCENT,
        error_messages={"invalid": _("Enter a whole percentage, like 10.")},
        widget=_number_input(min=0, max=MAX_BUFFER_PERCENT, placeholder=str(BUFFER_PERCENT)),
    )
    transfer = _CheckboxFilter(label=_("Free elsewhere only"), method="keep", required=False)

    class Meta:
        model = OrderLine
        fields: list[str] = []

    @property
    def is_active(self) -> bool:
        """True when the query string asks for any filter (the buffer is not one)."""
        return any(self.data.get(name) for name in self.filters if name != "buffer")

    def _cleaned(self, name: str) -> Any:
        self.is_valid()
        return getattr(self.form, "cleaned_data", {}).get(name)

    @property
    def buffer_percent(self) -> int:
        value = self._cleaned("buffer")
        return BUFFER_PERCENT if value is None else value

    def filter_product(self, lines: QuerySet[OrderLine], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return lines
        return lines.filter(Q(product__sku__icontains=value) | Q(product__name__icontains=value))

    def keep(self, lines: QuerySet[OrderLine], name: str, value: Any) -> QuerySet:
        return lines

    def rows_matching(self, rows: list[ShortfallRow]) -> list[ShortfallRow]:
        """The rows the supplier, least-shortfall and free-elsewhere filters keep."""
        supplier = self._cleaned("supplier")
        least = self._cleaned("min_shortfall")
        transfer = self._cleaned("transfer")
        return [
            row
            for row in rows
            if (supplier is None or row.supplier == supplier)
            and (least is None or row.shortfall >= least)
            and (not transfer or row.free_elsewhere > 0)
        ]


class ShortfallDraftForm(OneTimeForm):
    """The drafts to create, as reviewed: a quantity per chosen row
    (`quantity_<row key>`, 0 leaves the row out) and an expected date per draft
    (`expected_<group key>`). `groups` are the drafts the chosen rows make."""

    def __init__(self, *args: Any, groups: list[DraftGroup], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = groups
        for group in groups:
            self.fields[f"expected_{group.key}"] = forms.DateField(
                label=_("Expected"),
                initial=group.expected_date,
                validators=[validate_expected_date],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={
                    "required": _("Enter the date the supplier is expected to deliver."),
                    "invalid": _("Enter a valid date."),
                },
            )
            for row in group.rows:
                self.fields[f"quantity_{row.key}"] = forms.IntegerField(
                    label=_("Units"),
                    initial=row.suggested_quantity,
                    min_value=0,
                    max_value=MAX_QUANTITY,
                    widget=_number_input(min=0, max=MAX_QUANTITY),
                    error_messages={
                        "required": _("Enter the units to order (0 leaves the product out)."),
                        "invalid": _("Enter a whole number of units."),
                    },
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        today = timezone.localdate()
        for group in self.groups:
            name = f"expected_{group.key}"
            date: dt.date | None = cleaned.get(name)
            if date is not None and date < today:
                self.add_error(name, _("An expected date cannot be in the past."))
        quantities = [
            cleaned.get(f"quantity_{row.key}") for group in self.groups for row in group.rows
        ]
        if self.groups and not self.errors and not any(quantities):
            raise forms.ValidationError(_("Every quantity is 0: nothing to order."))
        return cleaned

    def bound_rows(self) -> list[dict[str, Any]]:
        """Per draft: its date field and its rows with their quantity fields."""
        return [
            {
                "group": group,
                "expected": self[f"expected_{group.key}"],
                "rows": [(row, self[f"quantity_{row.key}"]) for row in group.rows],
            }
            for group in self.groups
        ]
