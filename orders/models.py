"""Customers, sales orders and their lines, shipments and cancellations.

A line's quantities are the truth: `backordered = ordered − allocated − shipped −
cancelled`, and its status is derived from them, never stored.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.limits import quantity_validators
from inventory.models import Product, Warehouse
from orders.carriers import Carrier
from orders.limits import (
    CURRENCY_PATTERN,
    amount_validators,
    currency_validators,
    priority_validators,
    shop_currency,
)
from orders.records import CustomerChoice as CustomerChoice
from orders.records import FormSubmission as FormSubmission
from orders.records import OrderNote as OrderNote
from orders.records import RefundDue as RefundDue
from orders.records import RefundDueQuerySet as RefundDueQuerySet


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    INDONESIAN = "id", _("Indonesian")
    DUTCH = "nl", _("Dutch")


class Tier(models.IntegerChoices):
    """Customer priority tier; a lower number is served first."""

    VIP = 1, _("VIP")
    PREFERRED = 2, _("Preferred")
    STANDARD = 3, _("Standard")


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), unique=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language, default=Language.ENGLISH
    )
    tier = models.PositiveSmallIntegerField(_("priority tier"), choices=Tier, default=Tier.STANDARD)
    email_opt_out = models.BooleanField(
        _("opted out of update emails"),
        default=False,
        help_text=_("Only transactional essentials are sent; no delay updates."),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    history = HistoricalRecords(excluded_fields=["created_at"])

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            # Intake finds the customer by email whatever its case (`email__iexact`,
            # UPPER(email) = UPPER(…)), which the unique index on email cannot serve:
            # without this every storefront order scanned the customer table.
            models.Index(Upper("email"), name="customer_email_upper"),
        ]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Channel(models.TextChoices):
    WEB = "web", _("Web shop")
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    MARKETPLACE = "marketplace", _("Marketplace")
    API = "api", _("API")


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    BACKORDERED = "backordered", _("Backordered")
    READY_TO_SHIP = "ready_to_ship", _("Ready to ship")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    """The order's payment as the shop reports it: what a cancellation means for money."""

    PAID = "paid", _("Paid")
    AUTHORIZED = "authorized", _("Authorized")
    UNPAID = "unpaid", _("Unpaid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


# The states in which the shop holds the customer's money: a cancellation of
# units it paid for is a refund. Authorized (not captured) or unpaid: nothing
# was taken, nothing is refunded.
MONEY_TAKEN = frozenset({PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED})


class ShipPreference(models.TextChoices):
    """Whether an order with lines still waiting ships what is ready or waits
    for everything. Blank: nobody has said (the shipping desk ships what is ready)."""

    NOT_SAID = "", _("Not said")
    SHIP_READY = "ship_ready", _("Ship what is ready")
    HOLD = "hold", _("Hold until complete")


class SalesOrder(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="orders", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel, default=Channel.WEB)
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse")
    )
    placed_at = models.DateTimeField(_("placed at"), default=timezone.now, db_index=True)
    external_reference = models.CharField(
        _("storefront reference"), max_length=64, blank=True, default=""
    )
    payment_status = models.CharField(
        _("payment status"), max_length=18, choices=PaymentStatus, default=PaymentStatus.UNPAID
    )
    # What the shop took and gave back, as it reports them (the storefront API
    # or its webhook), in `currency`.
    amount_paid = models.DecimalField(
        _("amount paid"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=amount_validators,
    )
    amount_refunded = models.DecimalField(
        _("amount refunded"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=amount_validators,
    )
    currency = models.CharField(
        _("currency"), max_length=3, default=shop_currency, validators=currency_validators
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    ship_preference = models.CharField(
        _("ship preference"),
        max_length=10,
        choices=ShipPreference,
        blank=True,
        default=ShipPreference.NOT_SAID,
    )
    shipping_address = models.TextField(
        _("shipping address"), max_length=1000, blank=True, default=""
    )
    carrier = models.CharField(
        _("carrier"), max_length=12, choices=Carrier, blank=True, default=Carrier.NOT_SAID
    )
    # When a customer-visible part of the order last changed: placed, a line's
    # promise moved, units allocated, shipped or cancelled. The storefront polls
    # on it (GET /api/v1/orders?updated_since=). Writes that bypass save() bump it
    # with orders.services.touching (in the same statement or transaction).
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-placed_at", "-pk"]
        indexes = [
            models.Index(fields=["channel", "updated_at", "id"], name="order_channel_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_reference"],
                condition=~Q(external_reference=""),
                name="order_external_reference_unique",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0)
                & Q(amount_refunded__gte=0)
                & Q(amount_refunded__lte=F("amount_paid")),
                name="order_amounts_within_paid",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_PATTERN), name="order_currency_code"
            ),
        ]
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")

    def __str__(self) -> str:
        return self.number

    @property
    def shipping_address_line(self) -> str:
        """The shipping address on one line, for a list."""
        return ", ".join(line for line in self.shipping_address.splitlines() if line.strip())

    def status_from(self, lines: list[OrderLine]) -> Status:
        """The order's status from its lines' (pass them to avoid a query)."""
        statuses = {line.status for line in lines}
        if not statuses:
            return Status.OPEN
        if statuses == {Status.CANCELLED}:
            return Status.CANCELLED
        if statuses <= {Status.SHIPPED, Status.CANCELLED}:
            return Status.SHIPPED
        if Status.BACKORDERED in statuses:
            return Status.BACKORDERED
        if statuses & {Status.SHIPPED, Status.PARTIALLY_SHIPPED}:
            return Status.PARTIALLY_SHIPPED
        return Status.READY_TO_SHIP

    @property
    def status(self) -> Status:
        return self.status_from(list(self.lines.all()))

    @property
    def money_taken(self) -> bool:
        return self.payment_status in MONEY_TAKEN

    @property
    def amount_held(self) -> Decimal:
        """What the shop still holds of the customer's money for this order."""
        if not self.money_taken:
            return Decimal("0.00")
        return max(self.amount_paid - self.amount_refunded, Decimal("0.00"))


# The queue order, everywhere: manual priority (higher first), customer tier
# (lower first), then first come, first served.
QUEUE_ORDER = ("-priority", "customer_tier", "placed_at", "pk")


class OrderLineQuerySet(models.QuerySet["OrderLine"]):
    def backordered(self) -> OrderLineQuerySet:
        """Lines still waiting for units."""
        return self.filter(ordered__gt=F("allocated") + F("shipped") + F("cancelled"))

    def in_queue_order(self) -> OrderLineQuerySet:
        return self.order_by(*QUEUE_ORDER)

    def ready_to_ship(self) -> OrderLineQuerySet:
        return self.filter(allocated__gt=0)


class OrderLine(models.Model):
    order = models.ForeignKey(
        SalesOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_lines", verbose_name=_("product")
    )
    # Copied from the order and the customer when placed, so the queue for a
    # product is one indexed scan of this table.
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("warehouse")
    )
    customer_tier = models.PositiveSmallIntegerField(_("customer tier"), choices=Tier)
    placed_at = models.DateTimeField(_("placed at"))
    unit_price = models.DecimalField(_("unit price"), max_digits=10, decimal_places=2)
    ordered = models.PositiveIntegerField(_("ordered"), validators=quantity_validators)
    allocated = models.PositiveIntegerField(_("allocated"), default=0)
    shipped = models.PositiveIntegerField(_("shipped"), default=0)
    cancelled = models.PositiveIntegerField(_("cancelled"), default=0)
    priority = models.SmallIntegerField(
        _("manual priority"),
        default=0,
        validators=priority_validators,
        help_text=_("Higher is served first."),
    )
    # The promise, kept by orders.services.promises_recompute; history in PromiseRevision.
    promised_date = models.DateField(_("promised ship date"), null=True, blank=True)
    promise_is_estimate = models.BooleanField(
        _("estimate"),
        default=False,
        help_text=_("No open purchase order covers this line yet; the date is an estimate."),
    )
    first_promised_date = models.DateField(_("first promised date"), null=True, blank=True)
    times_slipped = models.PositiveSmallIntegerField(_("times slipped"), default=0)
    # The line this one replaced: customer service swapped the backordered
    # remainder of `substitute_for` to this (alternative) product.
    substitute_for = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="substitutes",
        verbose_name=_("substitute for"),
    )
    history = HistoricalRecords(
        excluded_fields=[
            "placed_at",
            "customer_tier",
            "unit_price",
            "promised_date",
            "promise_is_estimate",
            "first_promised_date",
            "times_slipped",
        ]
    )

    objects = OrderLineQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        indexes = [
            models.Index(
                F("product"),
                F("warehouse"),
                F("priority").desc(),
                F("customer_tier"),
                F("placed_at"),
                F("id"),
                name="order_line_queue",
                condition=Q(ordered__gt=F("allocated") + F("shipped") + F("cancelled")),
            ),
            # The queue page's default order across every product: its first
            # page is an index scan instead of sorting every waiting line.
            models.Index(
                F("priority").desc(),
                F("customer_tier"),
                F("placed_at"),
                F("id"),
                name="order_line_queue_global",
                condition=Q(ordered__gt=F("allocated") + F("shipped") + F("cancelled")),
            ),
            models.Index(
                fields=["product", "warehouse"],
                name="order_line_ready",
                condition=Q(allocated__gt=0),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ordered__gt=0), name="order_line_ordered_positive"),
            models.CheckConstraint(
                condition=Q(ordered__gte=F("allocated") + F("shipped") + F("cancelled")),
                name="order_line_quantities_within_ordered",
            ),
        ]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self) -> str:
        return f"{self.order.number} · {self.product.sku} × {self.ordered}"

    @property
    def backordered(self) -> int:
        return self.ordered - self.allocated - self.shipped - self.cancelled

    @property
    def open_quantity(self) -> int:
        """Units neither shipped nor cancelled: backordered plus allocated."""
        return self.ordered - self.shipped - self.cancelled

    @property
    def units_sold(self) -> int:
        """Units ordered and not cancelled: shipped, allocated or still waiting."""
        return self.ordered - self.cancelled

    @property
    def amount(self) -> Decimal:
        """What the line comes to: its unit price for every unit not cancelled."""
        return self.unit_price * self.units_sold

    @property
    def status(self) -> Status:
        if self.open_quantity == 0:
            return Status.SHIPPED if self.shipped else Status.CANCELLED
        if self.backordered > 0:
            return Status.BACKORDERED
        if self.shipped > 0:
            return Status.PARTIALLY_SHIPPED
        return Status.READY_TO_SHIP

    @property
    def reference(self) -> str:
        return f"{self.order.number}/{self.pk}"

    @property
    def days_slipped(self) -> int:
        """How much later the promise is than the first one given (never negative)."""
        if self.promised_date is None or self.first_promised_date is None:
            return 0
        return max((self.promised_date - self.first_promised_date).days, 0)


class PromiseRevision(models.Model):
    """Every change of a line's promised ship date, and what caused it."""

    line = models.ForeignKey(
        OrderLine,
        on_delete=models.CASCADE,
        related_name="promise_revisions",
        verbose_name=_("line"),
    )
    old_date = models.DateField(_("old date"), null=True, blank=True)
    new_date = models.DateField(_("new date"), null=True, blank=True)
    old_is_estimate = models.BooleanField(default=False, verbose_name=_("old is estimate"))
    new_is_estimate = models.BooleanField(default=False, verbose_name=_("new is estimate"))
    cause = models.CharField(_("cause"), max_length=120)
    covered_by = models.CharField(_("covered by"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["line", "-created_at"], name="promise_revision_line")]
        verbose_name = _("promise revision")
        verbose_name_plural = _("promise revisions")

    def __str__(self) -> str:
        return f"{self.line_id}: {self.old_date} → {self.new_date} ({self.cause})"

    @property
    def days_moved(self) -> int | None:
        if self.old_date is None or self.new_date is None:
            return None
        return (self.new_date - self.old_date).days


class Shipment(models.Model):
    order = models.ForeignKey(
        SalesOrder, on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    shipped_at = models.DateTimeField(_("shipped at"), default=timezone.now)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipped by"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-shipped_at", "-pk"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return f"{self.order.number} · {self.tracking_number}"


class ShipmentLine(models.Model):
    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("shipment")
    )
    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        related_name="shipment_lines",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("units"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="shipment_line_quantity_positive"
            ),
        ]
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")

    def __str__(self) -> str:
        return f"{self.order_line} × {self.quantity}"


class Cancellation(models.Model):
    """Units of a line cancelled, and the money to refund (or release) for them."""

    order_line = models.ForeignKey(
        OrderLine,
        on_delete=models.PROTECT,
        related_name="cancellations",
        verbose_name=_("order line"),
    )
    quantity = models.PositiveIntegerField(_("units"))
    refund_due = models.DecimalField(
        _("refund due"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    reason = models.CharField(_("reason"), max_length=255)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), auto_now_add=True)

    class Meta:
        ordering = ["-cancelled_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="cancellation_quantity_positive"
            ),
        ]
        verbose_name = _("cancellation")
        verbose_name_plural = _("cancellations")

    def __str__(self) -> str:
        return f"{self.order_line} − {self.quantity}"
