"""Products, warehouses, stock levels and the append-only stock ledger."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.limits import (
    SKU_MAX_LENGTH,
    backorder_cap_validators,
    handling_days_validators,
    lead_time_days_validators,
    quantity_validators,
    sku_validator,
)


class BackorderPolicy(models.TextChoices):
    DENY = "deny", _("Deny: sell only what is in stock")
    ALLOW = "allow", _("Allow backorders")
    CAP = "cap", _("Allow backorders up to a cap")


class Product(models.Model):
    sku = models.CharField(
        _("SKU"), max_length=SKU_MAX_LENGTH, unique=True, validators=[sku_validator]
    )
    name = models.CharField(_("name"), max_length=200)
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    active = models.BooleanField(_("active"), default=True)
    backorder_policy = models.CharField(
        _("backorder policy"), max_length=8, choices=BackorderPolicy, default=BackorderPolicy.ALLOW
    )
    backorder_cap = models.PositiveIntegerField(
        _("backorder cap"),
        null=True,
        blank=True,
        validators=backorder_cap_validators,
        help_text=_("With the 'cap' policy: at most this many units may wait on backorder."),
    )
    default_lead_time_days = models.PositiveSmallIntegerField(
        _("default lead time (days)"),
        default=14,
        validators=lead_time_days_validators,
        help_text=_("Used for an estimated ship date when no purchase order covers a backorder."),
    )
    alternatives = models.ManyToManyField(
        "self", symmetrical=False, blank=True, verbose_name=_("alternatives")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_not_negative"),
            models.CheckConstraint(
                condition=~Q(backorder_policy="cap") | Q(backorder_cap__isnull=False),
                name="product_cap_policy_has_cap",
            ),
        ]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.sku} · {self.name}"


class Warehouse(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    handling_days = models.PositiveSmallIntegerField(
        _("handling days"),
        default=1,
        validators=handling_days_validators,
        help_text=_("Days between goods arriving and the order leaving the warehouse."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class StockLevel(models.Model):
    """Units on hand and allocated to orders, for one product in one warehouse.

    Changed only by the inventory services, each change written to the ledger.
    """

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("product")
    )
    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.PROTECT,
        related_name="stock_levels",
        verbose_name=_("warehouse"),
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    allocated = models.IntegerField(_("allocated"), default=0)
    bin_location = models.CharField(
        _("bin location"),
        max_length=32,
        blank=True,
        default="",
        help_text=_(
            "Where the product sits in this warehouse, e.g. A-03-2: the pick list walks by it."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["product__sku", "warehouse__code"]
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="stock_level_unique"),
            models.CheckConstraint(
                condition=Q(allocated__gte=0), name="stock_allocated_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(allocated__lte=F("on_hand")), name="stock_allocated_within_on_hand"
            ),
        ]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")

    def __str__(self) -> str:
        return f"{self.product.sku} @ {self.warehouse.code}"

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


class StockMoveKind(models.TextChoices):
    RECEIPT = "receipt", _("Receipt")
    ALLOCATION = "allocation", _("Allocation")
    RELEASE = "release", _("Release")
    SHIPMENT = "shipment", _("Shipment")
    ADJUSTMENT = "adjustment", _("Adjustment")
    TRANSFER_OUT = "transfer_out", _("Transfer out")
    TRANSFER_IN = "transfer_in", _("Transfer in")


class AppendOnlyError(Exception):
    pass


class StockMove(models.Model):
    """One change to a stock level: the append-only ledger.

    Summing `on_hand_change` and `allocated_change` over a product and warehouse
    gives its stock level; `manage.py check_stock` verifies that.
    """

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=StockMoveKind)
    quantity = models.PositiveIntegerField(_("units"), validators=quantity_validators)
    on_hand_change = models.IntegerField(_("on hand change"))
    allocated_change = models.IntegerField(_("allocated change"))
    reference = models.CharField(
        _("document"), max_length=64, help_text=_("The purchase order, order line or reason.")
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["product", "warehouse"], name="stock_move_product_wh")]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="stock_move_quantity_positive"
            ),
        ]
        verbose_name = _("stock move")
        verbose_name_plural = _("stock moves")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.quantity} × {self.product_id} ({self.reference})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("Stock moves are append-only; record a correcting move instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Stock moves are append-only; record a correcting move instead.")


DEFAULT_TRANSIT_DAYS = 3
"""Days a transfer takes between two warehouses with no route of their own."""


class TransferRoute(models.Model):
    """How long units take from one warehouse to another (one way)."""

    from_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="+", verbose_name=_("from")
    )
    to_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.CASCADE, related_name="+", verbose_name=_("to")
    )
    transit_days = models.PositiveSmallIntegerField(
        _("transit days"),
        default=DEFAULT_TRANSIT_DAYS,
        validators=lead_time_days_validators,
        help_text=_("Days from shipping at one warehouse to arriving at the other."),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["from_warehouse__code", "to_warehouse__code"]
        verbose_name = _("transfer route")
        constraints = [
            models.UniqueConstraint(
                fields=["from_warehouse", "to_warehouse"], name="transfer_route_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_warehouse=F("to_warehouse")),
                name="transfer_route_two_warehouses",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_warehouse_id} → {self.to_warehouse_id}"


class TransferStatus(models.TextChoices):
    IN_TRANSIT = "in_transit", _("Shipped, in transit")
    RECEIVED = "received", _("Received")


TRANSFER_PREFIX = "TR-"


class Transfer(models.Model):
    """Units of one product moved from one warehouse to another.

    Shipping it takes the units out of the sending warehouse's stock (a
    `transfer_out` move) and puts it in transit; receiving it adds them to the
    destination's stock (`transfer_in`). Changed only by the transfer use cases.
    """

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    from_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    quantity = models.PositiveIntegerField(_("units"), validators=quantity_validators)
    status = models.CharField(
        _("status"), max_length=12, choices=TransferStatus, default=TransferStatus.IN_TRANSIT
    )
    shipped_at = models.DateTimeField(_("shipped"), auto_now_add=True)
    expected_date = models.DateField(_("expected"))
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("transfer")
        indexes = [
            models.Index(
                fields=["product", "to_warehouse"],
                condition=Q(status="in_transit"),
                name="transfer_in_transit",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(from_warehouse=F("to_warehouse")), name="transfer_two_warehouses"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        """The reference on its ledger moves and promises: "TR-<id>"."""
        return transfer_number(self.pk)


def transfer_number(pk: int | None) -> str:
    return f"{TRANSFER_PREFIX}{pk}"
