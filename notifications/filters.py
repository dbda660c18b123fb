"""Filters of the outbox page (django-filter)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification, NotificationKind, NotificationStatus


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
