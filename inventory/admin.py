"""Admin for products, warehouses, stock levels and the stock ledger.

Stock quantities are never edited here: every change of stock goes through the
inventory services, which write the ledger row in the same transaction. The
admin shows stock levels and moves, and lets staff fix product and warehouse
data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from inventory.models import (
    BackorderPolicy,
    Product,
    StockLevel,
    StockMove,
    Transfer,
    TransferRoute,
    Warehouse,
)

STOCK_CHANGES_ELSEWHERE = _(
    "Stock quantities are read-only here. Stock changes go through the stock services "
    "(receiving, shipping, stock adjustment with a reason), which record every change "
    "in the stock ledger."
)


class ReadOnlyAdminMixin:
    """View-only: no add, change or delete, for any user, superusers included."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


REVERT_REFUSED = _(
    "Reverting is refused: a %(model)s changes only through the pages that own it "
    "(receiving, shipping, confirming or cancelling, moving a date, the queue), which "
    "recompute promises, keep stock and the ledger in step and tell the customers. "
    "A revert here would do none of that. This page shows the version as it was."
)


class HistoryWithoutRevertAdmin(SimpleHistoryAdmin):
    """History to read, never to revert, for the rows the use cases own.

    simple-history's revert saves the whole historical row (status, received
    units, customer, …), not just the fields of the change form, and neither
    its `revert_disabled` hook nor SIMPLE_HISTORY_REVERT_DISABLED stops a POST
    (django-simple-history 3.13 only hides the button), so the version page
    refuses the POST itself and shows the version read-only.
    """

    def revert_disabled(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        refused = REVERT_REFUSED % {"model": self.model._meta.verbose_name}
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            if obj is None:
                raise Http404
            if not self.has_view_history_or_change_history_permission(request, obj):
                raise PermissionDenied
            self.message_user(request, refused, messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(
                    f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_history",
                    args=[obj.pk],
                )
            )
        request._history_read_only = True  # type: ignore[attr-defined]
        self.message_user(request, refused, messages.INFO)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if not getattr(request, "_history_read_only", False):
            return super().get_readonly_fields(request, obj)
        # Every field shown is read-only on a version page (the fieldsets may
        # ask for the read-only fields themselves: unset the flag meanwhile).
        request._history_read_only = False  # type: ignore[attr-defined]
        try:
            fieldsets = self.get_fieldsets(request, obj)
        finally:
            request._history_read_only = True  # type: ignore[attr-defined]
        return [name for _name, options in fieldsets for name in _flatten(options["fields"])]


def _flatten(fields: Any) -> list[str]:
    names: list[str] = []
    for field in fields:
        names += _flatten(field) if isinstance(field, list | tuple) else [field]
    return names


class ProductAdminForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "sku",
            "name",
            "price",
            "active",
            "backorder_policy",
            "backorder_cap",
            "default_lead_time_days",
            "alternatives",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        policy = cleaned.get("backorder_policy")
        if policy == BackorderPolicy.CAP and cleaned.get("backorder_cap") is None:
            self.add_error(
                "backorder_cap",
                _("The 'cap' policy needs a cap: enter how many units may wait on backorder."),
            )
        alternatives = cleaned.get("alternatives")
        if self.instance.pk and alternatives and self.instance in alternatives:
            self.add_error("alternatives", _("A product cannot be its own alternative."))
        return cleaned


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    form = ProductAdminForm
    list_display = [
        "sku",
        "name",
        "price",
        "active",
        "backorder_policy",
        "backorder_cap",
        "default_lead_time_days",
    ]
    list_display_links = ["sku", "name"]
    list_filter = ["active", "backorder_policy"]
    search_fields = ["sku", "name"]
    autocomplete_fields = ["alternatives"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "price", "active"]}),
        (
            _("Backorders"),
            {"fields": ["backorder_policy", "backorder_cap", "default_lead_time_days"]},
        ),
        (_("Alternatives"), {"fields": ["alternatives"]}),
        (_("Record"), {"fields": ["created_at"]}),
    ]


@admin.register(Warehouse)
class WarehouseAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "handling_days"]
    list_display_links = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["product", "warehouse", "on_hand", "allocated", "available", "updated_at"]
    list_filter = ["warehouse"]
    list_select_related = ["product", "warehouse"]
    search_fields = ["product__sku", "product__name", "warehouse__code"]
    fieldsets = [
        (
            None,
            {
                "fields": ["product", "warehouse", "on_hand", "allocated", "available"],
                "description": STOCK_CHANGES_ELSEWHERE,
            },
        ),
        (_("Record"), {"fields": ["updated_at"]}),
    ]
    readonly_fields = ["product", "warehouse", "on_hand", "allocated", "available", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        return super().get_queryset(request).annotate(available_units=F("on_hand") - F("allocated"))

    @admin.display(description=_("available"), ordering="available_units")
    def available(self, obj: StockLevel) -> int:
        return obj.available

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        extra_context = {**(extra_context or {}), "subtitle": STOCK_CHANGES_ELSEWHERE}
        return super().changelist_view(request, extra_context)


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The append-only ledger: nothing here may be added, changed or deleted."""

    list_display = [
        "created_at",
        "kind",
        "product",
        "warehouse",
        "quantity",
        "on_hand_change",
        "allocated_change",
        "reference",
        "created_by",
    ]
    list_filter = ["kind", "warehouse"]
    list_select_related = ["product", "warehouse", "created_by"]
    search_fields = ["product__sku", "reference", "note"]
    date_hierarchy = "created_at"
    # The ledger grows without bound; skip the unfiltered COUNT(*).
    show_full_result_count = False
    fields = readonly_fields = (
        "created_at",
        "kind",
        "product",
        "warehouse",
        "quantity",
        "on_hand_change",
        "allocated_change",
        "reference",
        "note",
        "created_by",
    )


@admin.register(TransferRoute)
class TransferRouteAdmin(SimpleHistoryAdmin):
    """Transit days between two warehouses (a pair without a route takes the default)."""

    list_display = ["from_warehouse", "to_warehouse", "transit_days"]
    list_filter = ["from_warehouse", "to_warehouse"]
    list_select_related = ["from_warehouse", "to_warehouse"]


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, HistoryWithoutRevertAdmin):
    """Transfers are shipped and received on the transfers page (ledgered, promises
    recomputed, customers told); here they are read only."""

    list_display = [
        "__str__",
        "product",
        "from_warehouse",
        "to_warehouse",
        "quantity",
        "status",
        "shipped_at",
        "expected_date",
        "received_at",
    ]
    list_filter = ["status", "from_warehouse", "to_warehouse"]
    list_select_related = ["product", "from_warehouse", "to_warehouse"]
    search_fields = ["product__sku", "product__name"]
    fields = readonly_fields = (
        "product",
        "from_warehouse",
        "to_warehouse",
        "quantity",
        "status",
        "shipped_at",
        "shipped_by",
        "expected_date",
        "received_at",
        "received_by",
    )
