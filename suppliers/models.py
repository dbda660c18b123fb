"""Suppliers, purchase orders and their lines, and every move of an expected date."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.limits import lead_time_days_validators, quantity_validators
from inventory.models import Product, Warehouse
from suppliers.limits import validate_expected_date


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    contact_email = models.EmailField(_("contact email"))
    lead_time_days = models.PositiveSmallIntegerField(
        _("typical lead time (days)"), default=14, validators=lead_time_days_validators
    )
    active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self) -> str:
        return self.name


class PurchaseOrderStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ORDERED = "ordered", _("Ordered")
    PARTIALLY_RECEIVED = "partially_received", _("Partially received")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_PO_STATUSES = (PurchaseOrderStatus.ORDERED, PurchaseOrderStatus.PARTIALLY_RECEIVED)


class PurchaseOrder(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        related_name="purchase_orders",
        verbose_name=_("supplier"),
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PurchaseOrderStatus, default=PurchaseOrderStatus.DRAFT
    )
    expected_date = models.DateField(_("expected date"), validators=[validate_expected_date])
    notes = models.TextField(_("notes"), blank=True)
    reference = models.CharField(
        _("reference"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("The buyer's or the supplier's own reference, as an import names it."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    ordered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ordered at"))
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "expected_date"], name="po_status_expected")]
        verbose_name = _("purchase order")
        verbose_name_plural = _("purchase orders")

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_PO_STATUSES


class PurchaseOrderLine(models.Model):
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("purchase order"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="purchase_lines", verbose_name=_("product")
    )
    ordered = models.PositiveIntegerField(_("ordered"), validators=quantity_validators)
    received = models.PositiveIntegerField(_("received"), default=0)
    expected_date = models.DateField(_("expected date"), validators=[validate_expected_date])
    unit_cost = models.DecimalField(
        _("unit cost"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("What the supplier charges per unit, in the shop's currency."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["purchase_order", "pk"]
        indexes = [
            models.Index(fields=["product", "expected_date"], name="po_line_product_expected")
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ordered__gt=0), name="po_line_ordered_positive"),
            models.CheckConstraint(
                condition=Q(received__lte=F("ordered")), name="po_line_received_within_ordered"
            ),
        ]
        verbose_name = _("purchase order line")
        verbose_name_plural = _("purchase order lines")

    def __str__(self) -> str:
        return f"{self.purchase_order.number} · {self.product.sku} × {self.ordered}"

    @property
    def outstanding(self) -> int:
        """Units ordered from the supplier and not yet received."""
        return self.ordered - self.received

    @property
    def line_cost(self) -> Decimal | None:
        """Units ordered × unit cost (None while the cost is not known)."""
        return None if self.unit_cost is None else self.unit_cost * self.ordered


class ExpectedDateRevision(models.Model):
    """Every move of a purchase order line's expected date: who, when, why."""

    class Cause(models.TextChoices):
        MANUAL = "manual", _("Moved by purchasing")
        OVERDUE = "overdue", _("Overdue: passed without arriving")

    line = models.ForeignKey(
        PurchaseOrderLine,
        on_delete=models.CASCADE,
        related_name="revisions",
        verbose_name=_("line"),
    )
    old_date = models.DateField(_("old date"))
    new_date = models.DateField(_("new date"))
    reason = models.CharField(_("reason"), max_length=255)
    cause = models.CharField(_("cause"), max_length=8, choices=Cause, default=Cause.MANUAL)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        verbose_name = _("expected date revision")
        verbose_name_plural = _("expected date revisions")

    def __str__(self) -> str:
        return f"{self.line} {self.old_date} → {self.new_date}"

    @property
    def days_moved(self) -> int:
        return (self.new_date - self.old_date).days


class SupplierProduct(models.Model):
    """What one supplier sells of one product: the pack it ships in, the fewest
    units it takes an order for, and whether it is the product's preferred
    supplier (at most one per product). The shortfall worklist rounds its
    suggested quantities to these."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="products", verbose_name=_("supplier")
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="supplier_terms", verbose_name=_("product")
    )
    pack_size = models.PositiveIntegerField(
        _("pack size"),
        default=1,
        validators=quantity_validators,
        help_text=_("Units per pack: orders are rounded up to whole packs."),
    )
    minimum_order = models.PositiveIntegerField(
        _("minimum order"),
        default=1,
        validators=quantity_validators,
        help_text=_("The fewest units this supplier takes an order for."),
    )
    preferred = models.BooleanField(
        _("preferred supplier"),
        default=False,
        help_text=_("Suggested first for this product on the shortfall worklist."),
    )
    unit_cost = models.DecimalField(
        _("unit cost"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("This supplier's price per unit: prefills new purchase order lines."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["supplier", "product"]
        verbose_name = _("supplier product")
        constraints = [
            models.UniqueConstraint(fields=["supplier", "product"], name="supplier_product_unique"),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(preferred=True),
                name="supplier_product_one_preferred",
                violation_error_message=_("This product already has a preferred supplier."),
            ),
            models.CheckConstraint(
                condition=Q(pack_size__gt=0) & Q(minimum_order__gt=0),
                name="supplier_product_pack_and_minimum_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.product.sku}"
