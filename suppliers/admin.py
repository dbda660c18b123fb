"""Admin for suppliers, purchase orders, their lines and expected-date revisions.

Received units are read-only here (receiving goes through the receiving
service, which allocates them and writes the stock ledger). Expected dates of
confirmed purchase orders move through the purchase order page, which records
a revision and tells the customers it affects; the admin refuses to move them.

Once a purchase order is sent to the supplier it is inbound supply that
promises rest on: its number, supplier, warehouse and lines no longer change
here, it is not deleted (cancel it), and its history is read-only (a revert
would write the old status and received units back around the use cases).
A draft is purchasing's to edit freely.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from config.db import ConcurrencyConflict
from inventory.admin import HistoryWithoutRevertAdmin, ReadOnlyAdminMixin
from notifications import updates
from suppliers.models import (
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)

MOVE_DATES_ELSEWHERE = _(
    "Only a draft's expected date can change here. Move the dates of a confirmed purchase "
    "order on its page, so the change is recorded and the customers it affects are told."
)
HEADER_FIXED = _(
    "%(number)s is %(status)s: its number, supplier and warehouse no longer change, since "
    "receipts, the stock ledger and promises refer to them. Cancel it on its page and "
    "create a new purchase order instead."
)
LINES_FIXED = _(
    "%(number)s is %(status)s: its lines no longer change here. Receive what arrives on the "
    "receiving page, cancel what will not come on the purchase order's page, or order more "
    "on a new purchase order, so promises are recomputed and customers told."
)


def _sent(order: PurchaseOrder) -> dict[str, str]:
    """The number and status of an order, for HEADER_FIXED and LINES_FIXED."""
    return {"number": order.number, "status": order.get_status_display().lower()}


def _current_status(order: PurchaseOrder) -> str:
    """The order's status as stored, its row locked until the admin's save ends
    (a confirm cannot slip between this check and the save)."""
    status: str = (
        PurchaseOrder.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)
    )
    order.status = status
    return status


@admin.register(Supplier)
class SupplierAdmin(SimpleHistoryAdmin):
    list_display = ["name", "contact_email", "lead_time_days", "active"]
    list_filter = ["active"]
    search_fields = ["name", "contact_email"]


@admin.register(SupplierProduct)
class SupplierProductAdmin(SimpleHistoryAdmin):
    """Pack sizes, minimum orders and preferred suppliers (also edited on /suppliers/<id>/)."""

    list_display = ["supplier", "product", "pack_size", "minimum_order", "unit_cost", "preferred"]
    list_filter = ["preferred", "supplier"]
    search_fields = ["supplier__name", "product__sku", "product__name"]
    autocomplete_fields = ["supplier", "product"]
    list_select_related = ["supplier", "product"]


class PurchaseOrderLineForm(forms.ModelForm):
    """What may change on a line: product (until received), ordered, a draft's dates."""

    class Meta:
        model = PurchaseOrderLine
        fields = ["purchase_order", "product", "ordered", "expected_date", "unit_cost"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        line = self.instance
        received = 0
        if line.pk is not None:
            # The admin validates and saves in one transaction: holding the row
            # lock from here keeps a concurrent receipt from slipping between
            # this check and the save, and the save writes the current count.
            line.received = received = (
                PurchaseOrderLine.objects.select_for_update()
                .values_list("received", flat=True)
                .get(pk=line.pk)
            )
        ordered = cleaned.get("ordered")
        if ordered is not None:
            if ordered < 1:
                self.add_error("ordered", _("Order at least one unit."))
            elif ordered < received:
                self.add_error(
                    "ordered",
                    _(
                        "%(received)d units have already been received; "
                        "ordered cannot go below that."
                    )
                    % {"received": received},
                )
        if line.pk is not None and received and "product" in self.changed_data:
            self.add_error(
                "product", _("Units of this line have been received; its product cannot change.")
            )
        purchase_order = cleaned.get("purchase_order") or getattr(line, "purchase_order", None)
        if purchase_order is None or purchase_order.pk is None:
            return cleaned
        if _current_status(purchase_order) == PurchaseOrderStatus.DRAFT:
            return cleaned
        if line.pk is None:
            raise ValidationError(LINES_FIXED % _sent(purchase_order))
        if "expected_date" in self.changed_data:
            self.add_error("expected_date", MOVE_DATES_ELSEWHERE)
        for name in ("product", "ordered"):
            if name in self.changed_data and name not in self.errors:
                self.add_error(name, LINES_FIXED % _sent(purchase_order))
        return cleaned


class PurchaseOrderLineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        products = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if self.can_delete and form.cleaned_data.get("DELETE"):
                if form.instance.pk is not None and form.instance.received:
                    raise ValidationError(
                        _("%(line)s has received units and cannot be deleted.")
                        % {"line": form.instance}
                    )
                order = self.instance
                if form.instance.pk is not None and order.status != PurchaseOrderStatus.DRAFT:
                    raise ValidationError(LINES_FIXED % _sent(order))
                continue
            product = form.cleaned_data.get("product")
            if product is not None:
                products.append(product.pk)
        if len(products) != len(set(products)):
            raise ValidationError(_("Each product may appear only once; combine the quantities."))


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    form = PurchaseOrderLineForm
    formset = PurchaseOrderLineFormSet
    fields = ["product", "ordered", "received", "outstanding", "expected_date"]
    readonly_fields = ["received", "outstanding"]
    autocomplete_fields = ["product"]
    show_change_link = True
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrderLine]:
        return super().get_queryset(request).select_related("product", "purchase_order")

    @admin.display(description=_("outstanding"))
    def outstanding(self, obj: PurchaseOrderLine) -> int | str:
        return obj.outstanding if obj.pk else "-"


class PurchaseOrderAdminForm(forms.ModelForm):
    class Meta:
        model = PurchaseOrder
        fields = ["number", "supplier", "warehouse", "expected_date", "notes"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        order = self.instance
        if order.pk is None or _current_status(order) == PurchaseOrderStatus.DRAFT:
            return cleaned
        if "expected_date" in self.changed_data:
            self.add_error("expected_date", MOVE_DATES_ELSEWHERE)
        for name in ("number", "supplier", "warehouse"):
            if name in self.changed_data:
                self.add_error(name, HEADER_FIXED % _sent(order))
        return cleaned


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(HistoryWithoutRevertAdmin):
    form = PurchaseOrderAdminForm
    list_display = ["number", "supplier", "warehouse", "status", "expected_date", "created_at"]
    list_filter = ["status", "warehouse", "supplier"]
    list_select_related = ["supplier", "warehouse"]
    search_fields = ["number", "supplier__name"]
    date_hierarchy = "expected_date"
    autocomplete_fields = ["supplier", "warehouse"]
    # The status moves through the services (confirm, receive, cancel), never by hand.
    readonly_fields = ["status", "created_by", "created_at", "ordered_at"]
    fields = [
        "number",
        "supplier",
        "warehouse",
        "status",
        "expected_date",
        "notes",
        "created_by",
        "created_at",
        "ordered_at",
    ]
    inlines = [PurchaseOrderLineInline]
    actions = ["confirm_selected", "cancel_selected"]

    def save_model(self, request: HttpRequest, obj: PurchaseOrder, form: Any, change: bool) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Sent to the supplier, it is inbound supply promises rest on: it is
        # cancelled (the use case recomputes them), not deleted. Received units
        # are in stock and in the ledger under its number.
        orders = list(objs)
        sent = [order for order in orders if order.status != PurchaseOrderStatus.DRAFT]
        received = PurchaseOrderLine.objects.filter(
            purchase_order__in=orders, received__gt=0
        ).select_related("purchase_order", "product")
        protected = [
            *protected,
            *(_("%(number)s (%(status)s: cancel it on its page instead)") % _sent(o) for o in sent),
            *(_("%(line)s (received units)") % {"line": r} for r in received),
        ]
        return deleted, counts, perms_needed, protected

    # The actions go through the same use cases as the purchase order page
    # (notifications.updates): the waiting lines' promises are recomputed and
    # their customers told. The admin is an entry point like a view, so it may
    # import those use cases (CONVENTIONS.md, Layout).

    @admin.action(description=_("Confirm the selected drafts (send to the supplier)"))
    def confirm_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._apply(request, queryset, updates.purchase_order_confirm, _("%(count)d confirmed."))

    @admin.action(description=_("Cancel what is outstanding on the selected purchase orders"))
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._apply(request, queryset, updates.purchase_order_cancel, _("%(count)d cancelled."))

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[PurchaseOrder], service: Any, done: Any
    ) -> None:
        user = request.user if request.user.is_authenticated else None
        count = 0
        for order in queryset.order_by("pk"):
            try:
                service(purchase_order=order, by=user)
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            except ConcurrencyConflict as error:
                self.message_user(request, f"{order.number}: {error}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done % {"count": count}, messages.SUCCESS)


class ExpectedDateRevisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ExpectedDateRevision
    fields = readonly_fields = (
        "changed_at",
        "old_date",
        "new_date",
        "days_moved",
        "cause",
        "reason",
        "changed_by",
    )
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExpectedDateRevision]:
        return super().get_queryset(request).select_related("changed_by")

    @admin.display(description=_("days moved"))
    def days_moved(self, obj: ExpectedDateRevision) -> int:
        return obj.days_moved


@admin.register(PurchaseOrderLine)
class PurchaseOrderLineAdmin(HistoryWithoutRevertAdmin):
    form = PurchaseOrderLineForm
    list_display = [
        "purchase_order",
        "product",
        "ordered",
        "received",
        "outstanding",
        "expected_date",
    ]
    list_filter = ["purchase_order__status", "purchase_order__warehouse"]
    list_select_related = ["purchase_order", "product"]
    search_fields = ["purchase_order__number", "product__sku", "product__name"]
    date_hierarchy = "expected_date"
    autocomplete_fields = ["purchase_order", "product"]
    fields = ["purchase_order", "product", "ordered", "received", "outstanding", "expected_date"]
    readonly_fields = ["received", "outstanding"]
    inlines = [ExpectedDateRevisionInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("purchase_order")
        return readonly

    @admin.display(description=_("outstanding"))
    def outstanding(self, obj: PurchaseOrderLine) -> int | str:
        return obj.outstanding if obj.pk else "-"

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        lines = list(objs)
        received = [line for line in lines if line.received]
        sent = [
            line
            for line in lines
            if not line.received and line.purchase_order.status != PurchaseOrderStatus.DRAFT
        ]
        protected = [
            *protected,
            *(_("%(line)s (received units)") % {"line": r} for r in received),
            *(_("%(line)s (sent to the supplier)") % {"line": line} for line in sent),
        ]
        return deleted, counts, perms_needed, protected


@admin.register(ExpectedDateRevision)
class ExpectedDateRevisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The record of every moved date: read-only, like any audit trail."""

    list_display = ["line", "old_date", "new_date", "days_moved", "cause", "reason", "changed_by"]
    list_filter = ["cause"]
    list_select_related = ["line__purchase_order", "line__product", "changed_by"]
    search_fields = ["line__purchase_order__number", "line__product__sku", "reason"]
    date_hierarchy = "changed_at"
    fields = readonly_fields = (
        "line",
        "old_date",
        "new_date",
        "days_moved",
        "cause",
        "reason",
        "changed_by",
        "changed_at",
    )

    @admin.display(description=_("days moved"))
    def days_moved(self, obj: ExpectedDateRevision) -> int:
        return obj.days_moved
