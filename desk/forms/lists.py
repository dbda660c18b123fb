"""Filters of the list pages (django-filter): products, orders, customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from desk.widgets import Select
from inventory.models import BackorderPolicy, Product, Warehouse
from notifications.accuracy import REASONS
from notifications.shipped_lines import orders_shipped
from orders.models import Channel, Customer, Language, OrderLine, SalesOrder, Tier
from orders.selectors.lists import orders_open, orders_ready, orders_waiting, products_short
from suppliers.models import Supplier


class _CheckboxFilter(django_filters.Filter):
    field_class = forms.BooleanField


def _search_input(placeholder: Any) -> forms.TextInput:
    # `list-search` lets the form send after a pause in typing (see the templates).
    return forms.TextInput(
        attrs={"type": "search", "placeholder": placeholder, "class": "list-search"}
    )


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _ListFilter(django_filters.FilterSet):
    @property
    def is_active(self) -> bool:
        """True when the query string asks for any filter (valid or not)."""
        return any(self.data.get(name) for name in self.filters)


class ProductListFilter(_ListFilter):
    q = django_filters.CharFilter(
        label=_("Product"), method="filter_q", widget=_search_input(_("SKU or name"))
    )
    policy = django_filters.ChoiceFilter(
        field_name="backorder_policy",
        label=_("Backorder policy"),
        choices=BackorderPolicy.choices,
        empty_label=_("Any policy"),
        widget=Select,
    )
    warehouse = django_filters.ModelChoiceFilter(
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        to_field_name="code",
        method="filter_warehouse",
        empty_label=_("All warehouses"),
        widget=Select,
    )
    short = _CheckboxFilter(label=_("Short only"), method="filter_short", required=False)

    class Meta:
        model = Product
        fields: list[str] = []

    @property
    def warehouse_chosen(self) -> Warehouse | None:
        """The warehouse the figures are for, when a valid one is chosen."""
        self.is_valid()
        return getattr(self.form, "cleaned_data", {}).get("warehouse")

    def filter_q(self, products: QuerySet[Product], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return products
        return products.filter(Q(sku__icontains=value) | Q(name__icontains=value))

    def filter_warehouse(
        self, products: QuerySet[Product], name: str, value: Warehouse
    ) -> QuerySet:
        # Stocked there, or waited for there.
        return products.filter(
            Q(stock_levels__warehouse=value)
            | Q(pk__in=OrderLine.objects.filter(warehouse=value).values("product_id"))
        ).distinct()

    def filter_short(self, products: QuerySet[Product], name: str, value: bool) -> QuerySet:
        return products.filter(products_short()) if value else products


ORDER_STATUS_CHOICES = [
    ("waiting", _("Has backordered lines")),
    ("ready", _("Has units ready to ship")),
    ("open", _("Open (not all shipped or cancelled)")),
    ("closed", _("Closed (shipped or cancelled)")),
]


SHIPPED_CHOICES = [
    ("any", _("Any line shipped")),
    ("promised", _("Lines with a promise")),
    ("kept_first", _("Shipped by the first promise")),
    ("late_first", _("Shipped after the first promise")),
    ("kept_latest", _("Shipped by the latest promise")),
    ("late_latest", _("Shipped after the latest promise")),
    ("first_shipped", _("First shipment")),
    ("complete_first", _("Complete in the first shipment")),
    ("split", _("Not complete in the first shipment")),
]
BROKE_CHOICES = [(code, label) for code, label, _how in REASONS]


def _rested_on_choices() -> list[tuple[str, Any]]:
    """The suppliers a first promise can rest on, and none (an estimate or stock)."""
    return [
        ("none", _("No purchase order")),
        *(
            (str(pk), name)
            for pk, name in Supplier.objects.order_by("name").values_list("pk", "name")
        ),
    ]


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class OrderListFilter(_ListFilter):
    q = django_filters.CharFilter(
        label=_("Order or customer"),
        method="filter_q",
        widget=_search_input(_("Number, name or email")),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=ORDER_STATUS_CHOICES,
        method="filter_status",
        empty_label=_("Any status"),
        widget=Select,
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=Channel.choices, empty_label=_("Any channel"), widget=Select
    )
    warehouse = django_filters.ModelChoiceFilter(
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("All warehouses"),
        widget=Select,
    )
    placed_from = django_filters.DateFilter(
        label=_("Placed from"), method="filter_placed_from", widget=_date_input()
    )
    placed_to = django_filters.DateFilter(
        label=_("Placed until"), method="filter_placed_to", widget=_date_input()
    )

    class Meta:
        model = SalesOrder
        fields: list[str] = []

    def filter_q(self, orders: QuerySet[SalesOrder], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return orders
        return orders.filter(
            Q(number__istartswith=value)
            | Q(customer__name__icontains=value)
            | Q(customer__email__icontains=value)
        )

    def filter_status(self, orders: QuerySet[SalesOrder], name: str, value: str) -> QuerySet:
        if value == "waiting":
            return orders.filter(orders_waiting())
        if value == "ready":
            return orders.filter(orders_ready())
        if value == "open":
            return orders.filter(orders_open())
        if value == "closed":
            return orders.exclude(orders_open())
        return orders

    def filter_placed_from(self, orders: QuerySet[SalesOrder], name: str, value: dt.date):
        return orders.filter(placed_at__gte=_start_of(value))

    def filter_placed_to(self, orders: QuerySet[SalesOrder], name: str, value: dt.date):
        if value >= dt.date.max - dt.timedelta(days=1):
            return orders
        return orders.filter(placed_at__lt=_start_of(value + dt.timedelta(days=1)))

    # --- shipped: the lists the dashboard's figures count (issue 16) ---------------
    shipped_from = django_filters.DateFilter(
        label=_("Shipped from"), method="filter_shipped_range", widget=_date_input()
    )
    shipped_to = django_filters.DateFilter(
        label=_("Shipped until"), method="filter_shipped_range", widget=_date_input()
    )
    shipped = django_filters.ChoiceFilter(
        label=_("Shipped lines"),
        choices=SHIPPED_CHOICES,
        method="filter_shipped_range",
        empty_label=_("Any shipment"),
        widget=Select,
    )
    broke = django_filters.ChoiceFilter(
        label=_("Promise broken by"),
        choices=BROKE_CHOICES,
        method="filter_shipped_range",
        empty_label=_("Any reason"),
        widget=Select,
    )

    rested_on = django_filters.ChoiceFilter(
        label=_("First promise rested on"),
        choices=_rested_on_choices,
        method="filter_shipped_range",
        empty_label=_("Any supplier"),
        widget=Select,
    )

    def filter_shipped_range(self, orders: QuerySet[SalesOrder], name: str, value: Any):
        # The four shipped filters narrow together (filter_queryset), once.
        return orders

    def filter_queryset(self, queryset: QuerySet[SalesOrder]) -> QuerySet[SalesOrder]:
        orders = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        first, last = data.get("shipped_from"), data.get("shipped_to")
        kind, reason = data.get("shipped") or "", data.get("broke") or ""
        rested_on = data.get("rested_on") or ""
        if not (first or last or kind or reason or rested_on):
            return orders
        return orders.filter(
            pk__in=orders_shipped(
                first_day=first,
                last_day=last,
                kind=kind or "any",
                reason=reason,
                rested_on=rested_on,
            )
        )


class CustomerListFilter(_ListFilter):
    q = django_filters.CharFilter(
        label=_("Customer"), method="filter_q", widget=_search_input(_("Name or email"))
    )
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), choices=Tier.choices, empty_label=_("Any tier"), widget=Select
    )
    language = django_filters.ChoiceFilter(
        label=_("Language"), choices=Language.choices, empty_label=_("Any language"), widget=Select
    )
    waiting = _CheckboxFilter(label=_("Waiting only"), method="filter_waiting", required=False)

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_q(self, customers: QuerySet[Customer], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return customers
        return customers.filter(Q(name__icontains=value) | Q(email__icontains=value))

    def filter_waiting(self, customers: QuerySet[Customer], name: str, value: bool) -> QuerySet:
        if not value:
            return customers
        return customers.filter(pk__in=OrderLine.objects.backordered().values("order__customer_id"))
