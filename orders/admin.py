"""Admin for customers, sales orders, order lines, shipments and cancellations.

A line's quantities (ordered, allocated, shipped, cancelled) are read-only
here: they move only through the order services (placing, receiving, shipping,
cancelling), which keep stock and the ledger in step. The manual priority is
the one thing of a line the admin changes, and it goes through the same
service as the queue page. An order stays with the customer who placed it.
The history of orders, lines and shipments is read-only: a revert would write
old quantities back around those services.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from inventory.admin import HistoryWithoutRevertAdmin, ReadOnlyAdminMixin
from notifications import updates
from orders.models import (
    Cancellation,
    Customer,
    FormSubmission,
    OrderLine,
    OrderNote,
    RefundDue,
    SalesOrder,
    Shipment,
    ShipmentLine,
    Status,
)

QUANTITIES_ELSEWHERE = _(
    "Quantities are read-only here: they change only by placing, receiving, shipping or "
    "cancelling, which keep stock and the ledger in step. Only the manual priority of a "
    "line still waiting in the queue can be changed."
)
CUSTOMER_FIXED = _(
    "An order stays with the customer who placed it: their emails, links, discounts and "
    "refunds refer to it. To sell the items to someone else, cancel the lines on the order "
    "page and place a new order for that customer."
)

_BACKORDERED = Q(ordered__gt=F("allocated") + F("shipped") + F("cancelled"))
_NOTHING_BACKORDERED = Q(ordered=F("allocated") + F("shipped") + F("cancelled"))
STATUS_FILTERS: dict[str, Q] = {
    Status.BACKORDERED: _BACKORDERED,
    Status.READY_TO_SHIP: _NOTHING_BACKORDERED & Q(allocated__gt=0, shipped=0),
    Status.PARTIALLY_SHIPPED: _NOTHING_BACKORDERED & Q(allocated__gt=0, shipped__gt=0),
    Status.SHIPPED: _NOTHING_BACKORDERED & Q(allocated=0, shipped__gt=0),
    Status.CANCELLED: _NOTHING_BACKORDERED & Q(allocated=0, shipped=0),
}


def _user_or_none(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "email", "language", "tier", "email_opt_out", "created_at"]
    list_filter = ["language", "tier", "email_opt_out"]
    search_fields = ["name", "email"]
    readonly_fields = ["created_at"]


class OrderLineStatusFilter(admin.SimpleListFilter):
    """The derived status, as a filter on the stored quantities."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [(value, Status(value).label) for value in STATUS_FILTERS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        condition = STATUS_FILTERS.get(self.value() or "")
        return queryset.filter(condition) if condition is not None else queryset


class OrderLinePriorityForm(forms.ModelForm):
    class Meta:
        model = OrderLine
        fields = ["priority"]

    def clean_priority(self) -> int:
        # Its range is the model field's validators (orders.limits).
        priority: int = self.cleaned_data["priority"]
        if "priority" in self.changed_data and self.instance.backordered == 0:
            raise forms.ValidationError(
                _("This line is not waiting in the queue; its priority no longer matters.")
            )
        return priority


class LineQuantitiesMixin:
    """Read-only displays of a line's derived figures."""

    @admin.display(description=_("backordered"))
    def backordered(self, obj: OrderLine) -> int | str:
        return obj.backordered if obj.pk else "-"

    @admin.display(description=_("status"))
    def status(self, obj: OrderLine) -> str:
        return str(obj.status.label) if obj.pk else "-"


class OrderLineInline(LineQuantitiesMixin, admin.TabularInline):
    model = OrderLine
    form = OrderLinePriorityForm
    fields = [
        "product",
        "ordered",
        "allocated",
        "shipped",
        "cancelled",
        "backordered",
        "status",
        "priority",
    ]
    readonly_fields = [
        "product",
        "ordered",
        "allocated",
        "shipped",
        "cancelled",
        "backordered",
        "status",
    ]
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("order", "product")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SalesOrder)
class SalesOrderAdmin(HistoryWithoutRevertAdmin):
    list_display = ["number", "customer", "channel", "warehouse", "placed_at", "status"]
    list_filter = ["channel", "warehouse"]
    list_select_related = ["customer", "warehouse"]
    search_fields = ["number", "external_reference", "customer__email", "customer__name"]
    date_hierarchy = "placed_at"
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "customer",
                    "channel",
                    "external_reference",
                    "warehouse",
                    "placed_at",
                    "status",
                    "created_by",
                ],
                "description": CUSTOMER_FIXED,
            },
        ),
        (
            _("Payment (as the shop reports it)"),
            {"fields": ["payment_status", "amount_paid", "amount_refunded", "currency"]},
        ),
    ]
    # The number is the reference in the stock ledger; the warehouse and the
    # placed time were copied onto the lines and decide their allocation and
    # their place in the queue; the customer was told, and is owed any refund.
    readonly_fields = [
        "number",
        "customer",
        "warehouse",
        "placed_at",
        "status",
        "created_by",
        # The shop's word (its API or webhook); refunds are recorded on /refunds/.
        "payment_status",
        "amount_paid",
        "amount_refunded",
        "currency",
    ]
    inlines = [OrderLineInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SalesOrder]:
        return super().get_queryset(request).prefetch_related("lines")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Orders are placed through the storefront API or the order pages, which
        # allocate stock and promise dates; a bare order row would do neither.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An order is cancelled, never deleted: its lines hold allocated units,
        # shipments and the record of what the customer was promised.
        return False

    @admin.display(description=_("status"))
    def status(self, obj: SalesOrder) -> str:
        return str(obj.status_from(list(obj.lines.all())).label)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not OrderLine:
            super().save_formset(request, form, formset, change)
            return
        # Only the priority is editable, and it moves through the queue use
        # case: promises recomputed, customers whose date moved are told.
        for line in formset.save(commit=False):
            updates.order_line_set_priority(
                line=line, priority=line.priority, by=_user_or_none(request)
            )


class CancellationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Cancellation
    fields = readonly_fields = ("cancelled_at", "quantity", "refund_due", "reason", "cancelled_by")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cancellation]:
        return super().get_queryset(request).select_related("cancelled_by")


class OrderLineShipmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ShipmentLine
    fields = readonly_fields = ("shipment", "quantity")
    extra = 0
    verbose_name_plural = _("shipped in")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShipmentLine]:
        return super().get_queryset(request).select_related("shipment__order")


@admin.register(OrderLine)
class OrderLineAdmin(LineQuantitiesMixin, HistoryWithoutRevertAdmin):
    form = OrderLinePriorityForm
    list_display = [
        "order",
        "product",
        "ordered",
        "allocated",
        "shipped",
        "cancelled",
        "backordered",
        "status",
        "priority",
        "placed_at",
    ]
    list_filter = [OrderLineStatusFilter, "warehouse", "customer_tier"]
    list_select_related = ["order", "product"]
    search_fields = ["order__number", "product__sku", "product__name", "order__customer__email"]
    date_hierarchy = "placed_at"
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["order", "product", "warehouse", "unit_price", "substitute_for"]}),
        (
            _("Quantities"),
            {
                "fields": [
                    "ordered",
                    "allocated",
                    "shipped",
                    "cancelled",
                    "backordered",
                    "status",
                ],
                "description": QUANTITIES_ELSEWHERE,
            },
        ),
        (_("Queue"), {"fields": ["priority", "customer_tier", "placed_at"]}),
    ]
    readonly_fields = [
        "order",
        "product",
        "warehouse",
        "unit_price",
        "ordered",
        "allocated",
        "shipped",
        "cancelled",
        "backordered",
        "status",
        "customer_tier",
        "placed_at",
        "substitute_for",
    ]
    inlines = [OrderLineShipmentInline, CancellationInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: OrderLine, form: Any, change: bool) -> None:
        if change and "priority" in form.changed_data:
            updates.order_line_set_priority(
                line=obj, priority=obj.priority, by=_user_or_none(request)
            )


class ShipmentLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ShipmentLine
    fields = readonly_fields = ("order_line", "quantity")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShipmentLine]:
        return (
            super().get_queryset(request).select_related("order_line__order", "order_line__product")
        )


@admin.register(Shipment)
class ShipmentAdmin(HistoryWithoutRevertAdmin):
    list_display = ["tracking_number", "order", "shipped_at", "shipped_by"]
    list_select_related = ["order", "shipped_by"]
    search_fields = ["tracking_number", "order__number", "order__customer__email"]
    date_hierarchy = "shipped_at"
    show_full_result_count = False
    fields = ["order", "tracking_number", "shipped_at", "shipped_by"]
    # Only a mistyped tracking number is fixed here; the units left stock
    # through the shipping service.
    readonly_fields = ["order", "shipped_at", "shipped_by"]
    inlines = [ShipmentLineInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ShipmentLine)
class ShipmentLineAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["shipment", "order_line", "quantity"]
    list_select_related = ["shipment__order", "order_line__order", "order_line__product"]
    search_fields = [
        "shipment__tracking_number",
        "order_line__order__number",
        "order_line__product__sku",
    ]
    fields = readonly_fields = ("shipment", "order_line", "quantity")


@admin.register(Cancellation)
class CancellationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "order_line",
        "quantity",
        "refund_due",
        "reason",
        "cancelled_by",
        "cancelled_at",
    ]
    list_select_related = ["order_line__order", "order_line__product", "cancelled_by"]
    search_fields = ["order_line__order__number", "order_line__product__sku", "reason"]
    date_hierarchy = "cancelled_at"
    fields = readonly_fields = (
        "order_line",
        "quantity",
        "refund_due",
        "reason",
        "cancelled_by",
        "cancelled_at",
    )


@admin.register(RefundDue)
class RefundDueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Money owed back: written with the cancellation, marked on /refunds/."""

    list_display = [
        "order",
        "amount",
        "currency",
        "reason",
        "created_at",
        "refunded_at",
        "reference",
    ]
    list_select_related = ["order", "refunded_by"]
    list_filter = [("refunded_at", admin.EmptyFieldListFilter), "currency"]
    search_fields = ["order__number", "reference", "reason"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "order",
        "units",
        "amount",
        "currency",
        "reason",
        "created_at",
        "refunded_at",
        "refunded_by",
        "reference",
    )


@admin.register(OrderNote)
class OrderNoteAdmin(admin.ModelAdmin):
    """Customer service's internal notes; the author and time are kept as written."""

    list_display = ["order", "author", "created_at", "body"]
    list_select_related = ["order", "author"]
    search_fields = ["order__number", "order__customer__email", "body"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ["order", "body", "author", "created_at"]
    readonly_fields = ["order", "author", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Notes are written on the delays page (orders.services.order_note_add).
        return False


@admin.register(FormSubmission)
class FormSubmissionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["action", "token", "submitted_by", "submitted_at"]
    list_select_related = ["submitted_by"]
    list_filter = ["action"]
    search_fields = ["token"]
    date_hierarchy = "submitted_at"
    show_full_result_count = False
    fields = readonly_fields = ("action", "token", "submitted_by", "submitted_at")
