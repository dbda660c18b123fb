"""Filters of the staff pages (django-filter): the queue, purchase orders, delays, the outbox.

They bind the query string; the selectors they narrow live in the domain apps."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import InboundEvent, InboundStatus, ShopConnection
from desk.widgets import Select
from inventory.models import Warehouse
from notifications.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEventType,
)
from orders.models import OrderLine
from suppliers.models import PurchaseOrderLine, PurchaseOrderStatus, Supplier


class WholeNumberFilter(django_filters.Filter):
    field_class = forms.IntegerField


class CheckboxFilter(django_filters.Filter):
    """On when ticked; unticked means "don't filter", never "only the others"."""

    field_class = forms.BooleanField


def _search_input(placeholder: Any) -> forms.TextInput:
    # `queue-search` lets the form send after a pause in typing (see the template).
    return forms.TextInput(
        attrs={"type": "search", "placeholder": placeholder, "class": "queue-search"}
    )


class QueueFilter(django_filters.FilterSet):
    """What the backorder queue page can be narrowed to."""

    product = django_filters.CharFilter(
        label=_("Product"),
        method="filter_product",
        widget=_search_input(_("SKU or name")),
    )
    supplier = django_filters.ModelChoiceFilter(
        label=_("Supplier"),
        queryset=Supplier.objects.order_by("name"),
        method="filter_supplier",
        empty_label=_("All suppliers"),
        widget=Select,
    )
    customer = django_filters.CharFilter(
        label=_("Customer"),
        method="filter_customer",
        widget=_search_input(_("Name or email")),
    )
    warehouse = django_filters.ModelChoiceFilter(
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        to_field_name="code",
        empty_label=_("All warehouses"),
        widget=Select,
    )
    min_age = WholeNumberFilter(
        label=_("Min. age (days)"),
        method="filter_min_age",
        min_value=0,
        max_value=36500,
        error_messages={"invalid": _("Enter a whole number of days, like 7.")},
        widget=forms.NumberInput(attrs={"min": 0, "step": 1, "inputmode": "numeric"}),
    )
    slipped = CheckboxFilter(label=_("Slipped only"), method="filter_slipped", required=False)
    estimate = CheckboxFilter(
        label=_("Estimated dates only"), method="filter_estimate", required=False
    )

    class Meta:
        model = OrderLine
        fields: list[str] = []

    @property
    def is_active(self) -> bool:
        """True when the query string asks for any filter (valid or not)."""
        return any(self.data.get(name) for name in self.filters)

    def filter_product(self, lines: QuerySet[OrderLine], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return lines
        return lines.filter(Q(product__sku__icontains=value) | Q(product__name__icontains=value))

    def filter_supplier(self, lines: QuerySet[OrderLine], name: str, value: Supplier) -> QuerySet:
        # Products this supplier is (or was) ordered from; a subquery, so no row repeats.
        products = PurchaseOrderLine.objects.filter(purchase_order__supplier=value).values(
            "product"
        )
        return lines.filter(product__in=products)

    def filter_customer(self, lines: QuerySet[OrderLine], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return lines
        return lines.filter(
            Q(order__customer__name__icontains=value) | Q(order__customer__email__icontains=value)
        )

    def filter_min_age(self, lines: QuerySet[OrderLine], name: str, value: int) -> QuerySet:
        # Age is counted in calendar days of the shop's time zone, as the page shows it:
        # waiting at least N days = placed before the start of the day N-1 days ago.
        first_day_too_young = timezone.localdate() - dt.timedelta(days=value - 1)
        start = timezone.make_aware(dt.datetime.combine(first_day_too_young, dt.time.min))
        return lines.filter(placed_at__lt=start)

    def filter_slipped(self, lines: QuerySet[OrderLine], name: str, value: bool) -> QuerySet:
        return lines.filter(times_slipped__gt=0) if value else lines

    def filter_estimate(self, lines: QuerySet[OrderLine], name: str, value: bool) -> QuerySet:
        return lines.filter(promise_is_estimate=True) if value else lines


class PurchaseOrderFilterForm(forms.Form):
    """What the purchase order list can be narrowed to: status and supplier."""

    STATUS_CHOICES = [
        ("open", _("Open")),
        ("all", _("All")),
        *PurchaseOrderStatus.choices,
    ]

    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
    supplier = forms.ModelChoiceField(
        label=_("Supplier"),
        queryset=Supplier.objects.order_by("name"),
        required=False,
        empty_label=_("All suppliers"),
        widget=Select,
    )

    def filters(self) -> dict[str, Any]:
        """Keyword arguments for `purchase_order_list`; invalid values are left out."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        supplier = cleaned.get("supplier")
        return {
            "status": cleaned.get("status") or "open",
            "supplier_id": supplier.pk if supplier is not None else None,
        }

    @property
    def is_active(self) -> bool:
        filters = self.filters()
        return filters["status"] != "open" or filters["supplier_id"] is not None


def _delays_search_input(placeholder: Any) -> forms.TextInput:
    # `delays-search` lets the form send after a pause in typing (see the template).
    return forms.TextInput(
        attrs={"type": "search", "placeholder": placeholder, "class": "delays-search"}
    )


class DelaysFilter(django_filters.FilterSet):
    """What the delays page can be narrowed to. It filters the delayed lines
    (orders.selectors.delay_lines); a customer shows when a line of theirs matches.

    Whether a customer was sent a discount code is notifications data, which
    orders may not import: the caller passes `discounted_customers`, a
    queryset of the customer ids that got a code (the field is left out
    without it).
    """

    customer = django_filters.CharFilter(
        label=_("Customer"),
        method="filter_customer",
        widget=_delays_search_input(_("Name or email")),
    )
    product = django_filters.CharFilter(
        label=_("Product"),
        method="filter_product",
        widget=_delays_search_input(_("SKU or name")),
    )
    supplier = django_filters.ModelChoiceFilter(
        label=_("Supplier"),
        queryset=Supplier.objects.order_by("name"),
        method="filter_supplier",
        empty_label=_("All suppliers"),
        widget=Select,
    )
    min_days = WholeNumberFilter(
        label=_("Min. days late"),
        method="filter_min_days",
        min_value=0,
        max_value=3650,
        error_messages={
            "invalid": _("Enter a whole number of days, like 7."),
            "min_value": _("Enter 0 or more days."),
            "max_value": _("Enter at most 3650 days."),
        },
        widget=forms.NumberInput(attrs={"min": 0, "step": 1, "inputmode": "numeric"}),
    )
    discount = django_filters.ChoiceFilter(
        label=_("Discount"),
        choices=[("sent", _("Discount code sent")), ("none", _("No discount code yet"))],
        empty_label=_("With or without"),
        method="filter_discount",
    )
    passed = CheckboxFilter(
        label=_("Promised date passed only"), method="filter_passed", required=False
    )

    class Meta:
        model = OrderLine
        fields: list[str] = []

    def __init__(
        self, *args: Any, discounted_customers: QuerySet[Any] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.discounted_customers = discounted_customers
        if discounted_customers is None:
            self.filters.pop("discount")

    @property
    def is_active(self) -> bool:
        """True when the query string asks for any filter (valid or not)."""
        return any(self.data.get(name) for name in self.filters)

    def filter_customer(self, lines: QuerySet[OrderLine], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return lines
        return lines.filter(
            Q(order__customer__name__icontains=value) | Q(order__customer__email__icontains=value)
        )

    def filter_product(self, lines: QuerySet[OrderLine], name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return lines
        return lines.filter(Q(product__sku__icontains=value) | Q(product__name__icontains=value))

    def filter_supplier(self, lines: QuerySet[OrderLine], name: str, value: Supplier) -> QuerySet:
        products = PurchaseOrderLine.objects.filter(purchase_order__supplier=value).values(
            "product"
        )
        return lines.filter(product__in=products)

    def filter_min_days(self, lines: QuerySet[OrderLine], name: str, value: int) -> QuerySet:
        # Days late = max(promised date, today) − first promised date, so a line is
        # at least N days late when its promise moved N days, or when its first
        # promised date is N days ago (the promise then passed).
        if not value:
            return lines
        today = timezone.localdate()
        return lines.filter(
            Q(first_promised_date__lte=today - dt.timedelta(days=value))
            | Q(promised_date__gte=F("first_promised_date") + dt.timedelta(days=value))
        )

    def filter_discount(self, lines: QuerySet[OrderLine], name: str, value: str) -> QuerySet:
        if self.discounted_customers is None or value not in ("sent", "none"):
            return lines
        got_one = Q(order__customer_id__in=self.discounted_customers)
        return lines.filter(got_one) if value == "sent" else lines.exclude(got_one)

    def filter_passed(self, lines: QuerySet[OrderLine], name: str, value: bool) -> QuerySet:
        return lines.filter(promised_date__lt=timezone.localdate()) if value else lines


class OutboxFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=NotificationStatus.choices, empty_label=_("Any status")
    )
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=NotificationKind.choices, empty_label=_("Any kind")
    )
    customer = django_filters.CharFilter(
        label=_("Customer"),
        method="filter_customer",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name or email"), "autocomplete": "off"}
        ),
    )
    order = django_filters.CharFilter(
        label=_("Order number"),
        field_name="order__number",
        lookup_expr="icontains",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. SO-1042"), "autocomplete": "off"}
        ),
    )

    class Meta:
        model = Notification
        fields = ["status", "kind", "customer", "order"]

    def filter_customer(
        self, queryset: QuerySet[Notification], name: str, value: str
    ) -> QuerySet[Notification]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(customer__name__icontains=value)
            | Q(customer__email__icontains=value)
            | Q(to_email__icontains=value)
        )


class InboundEventFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=InboundStatus.choices, empty_label=_("Any status")
    )
    connection = django_filters.ModelChoiceFilter(
        label=_("Shop"),
        queryset=ShopConnection.objects.order_by("platform", "domain"),
        empty_label=_("Any shop"),
        widget=Select,
    )
    shop_order = django_filters.CharFilter(
        label=_("Shop order or order number"),
        method="filter_shop_order",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("e.g. 1042 or SO-1042"),
                "autocomplete": "off",
            }
        ),
    )

    class Meta:
        model = InboundEvent
        fields = ["status", "connection", "shop_order"]

    def filter_shop_order(
        self, queryset: QuerySet[InboundEvent], name: str, value: str
    ) -> QuerySet[InboundEvent]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(shop_order_id=value) | Q(order__number__icontains=value))


class WebhookDeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=WebhookDeliveryStatus.choices, empty_label=_("Any status")
    )
    event_type = django_filters.ChoiceFilter(
        label=_("Event"), choices=WebhookEventType.choices, empty_label=_("Any event")
    )
    order = django_filters.CharFilter(
        label=_("Order number"),
        field_name="order__number",
        lookup_expr="icontains",
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. SO-1042"), "autocomplete": "off"}
        ),
    )

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type", "order"]
