"""API keys of the storefronts, and the answers kept for their Idempotency-Keys."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orders.models import Channel


class Scope(models.TextChoices):
    ORDERS_WRITE = "orders:write", _("Place and cancel orders")
    ORDERS_READ = "orders:read", _("Read orders")
    AVAILABILITY_READ = "availability:read", _("Ask availability")
    CATALOGUE_WRITE = "catalogue:write", _("Sync the catalogue")


def scopes_validator(value: str) -> None:
    unknown = sorted(set(value.split()) - set(Scope.values))
    if unknown:
        raise ValidationError(
            _("Unknown scopes: %(unknown)s. Known: %(known)s."),
            params={"unknown": ", ".join(unknown), "known": ", ".join(Scope.values)},
            code="unknown_scope",
        )


class ApiKey(models.Model):
    """A storefront's key. Only a SHA-256 of the key is kept; the key itself is
    shown once, when it is made (api.keys.api_key_create)."""

    name = models.CharField(_("name"), max_length=100)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel, default=Channel.WEB)
    scopes = models.CharField(
        _("scopes"),
        max_length=200,
        validators=[scopes_validator],
        help_text=_("Space-separated, e.g. “orders:write orders:read”."),
    )
    prefix = models.CharField(
        _("prefix"),
        max_length=16,
        unique=True,
        help_text=_("The key's visible start, to tell keys apart in logs."),
    )
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyState(models.TextChoices):
    IN_FLIGHT = "in_flight", _("In flight")
    COMPLETED = "completed", _("Completed")


class IdempotencyRecord(models.Model):
    """One Idempotency-Key of one API key: claimed before the request runs,
    then the answer it got, replayed for the same key and body."""

    api_key = models.ForeignKey(
        ApiKey, on_delete=models.CASCADE, related_name="+", verbose_name=_("api key")
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    state = models.CharField(
        _("state"), max_length=10, choices=IdempotencyState, default=IdempotencyState.IN_FLIGHT
    )
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    # The answer's JSON as sent, byte for byte (a JSONField would reorder its keys).
    response_body = models.TextField(_("response body"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), db_index=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="idempotency_key_unique"),
            models.CheckConstraint(
                condition=Q(state="in_flight") | Q(response_status__isnull=False),
                name="idempotency_completed_has_status",
            ),
        ]
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.key} ({self.state})"


class Platform(models.TextChoices):
    SHOPIFY = "shopify", _("Shopify")
    WOOCOMMERCE = "woocommerce", _("WooCommerce")


class SkuMapping(models.TextChoices):
    """How a shop's SKU names a product here."""

    EXACT = "exact", _("As the shop sends it (spaces trimmed)")
    UPPERCASE = "uppercase", _("In capitals (spaces trimmed)")


def connection_key() -> str:
    return secrets.token_hex(8)


class ShopConnection(models.Model):
    """A Shopify or WooCommerce shop whose order webhooks come in at
    /hooks/<platform>/<key>/, signed with `secret`."""

    platform = models.CharField(_("platform"), max_length=12, choices=Platform)
    domain = models.CharField(
        _("shop domain"), max_length=255, help_text=_("e.g. “example.myshopify.com”")
    )
    key = models.CharField(
        _("URL key"),
        max_length=32,
        unique=True,
        default=connection_key,
        editable=False,
        help_text=_("The connection's part of its webhook URL."),
    )
    # Kept as it is: the HMAC of every delivery is computed with it.
    secret = models.CharField(
        _("signing secret"),
        max_length=255,
        help_text=_("Shopify: the app's client secret; WooCommerce: the webhook's secret."),
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel, default=Channel.WEB)
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default warehouse"),
        help_text=_("Orders from this shop are filled here; empty: the first warehouse by code."),
    )
    sku_mapping = models.CharField(
        _("SKU mapping"), max_length=12, choices=SkuMapping, default=SkuMapping.EXACT
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive connection refuses deliveries (401).")
    )
    # Forged or unsigned deliveries: counted, never stored.
    rejected_deliveries = models.PositiveIntegerField(
        _("rejected deliveries"), default=0, editable=False
    )
    last_rejected_at = models.DateTimeField(
        _("last rejected at"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["platform", "domain", "pk"]
        verbose_name = _("shop connection")
        constraints = [
            models.UniqueConstraint(fields=["platform", "domain"], name="shop_connection_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.domain}"

    @property
    def webhook_path(self) -> str:
        return f"/hooks/{self.platform}/{self.key}/"


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class InboundEvent(models.Model):
    """One signed delivery of a shop's webhook, stored as it came before it is
    processed (store-then-process); `dedup_key` keeps a redelivery out."""

    connection = models.ForeignKey(
        ShopConnection,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("connection"),
    )
    topic = models.CharField(_("topic"), max_length=64)
    delivery_id = models.CharField(_("delivery id"), max_length=128)
    event_id = models.CharField(_("event id"), max_length=128, blank=True, default="")
    dedup_key = models.CharField(_("deduplication key"), max_length=200)
    raw_body = models.TextField(_("raw body"))
    received_at = models.DateTimeField(_("received at"), db_index=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InboundStatus, default=InboundStatus.RECEIVED
    )
    error = models.TextField(_("error"), blank=True, default="")
    outcome = models.CharField(
        _("outcome"), max_length=255, blank=True, default="", help_text=_("What processing did.")
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    shop_order_id = models.CharField(_("shop's order id"), max_length=64, blank=True, default="")
    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("inbound event")
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_event_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "dedup_key"], name="inbound_event_delivery_unique"
            ),
            # Shopify sends one event to each subscription of a topic: same event id.
            models.UniqueConstraint(
                fields=["connection", "topic", "event_id"],
                condition=~Q(event_id=""),
                name="inbound_event_event_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection} {self.topic} {self.delivery_id}"


class ShopOrder(models.Model):
    """The order a shop's order became here: one per (connection, shop order
    id), and the shop's `updated_at` of the last state applied to it."""

    connection = models.ForeignKey(
        ShopConnection,
        on_delete=models.PROTECT,
        related_name="shop_orders",
        verbose_name=_("connection"),
    )
    shop_order_id = models.CharField(_("shop's order id"), max_length=64)
    shop_order_name = models.CharField(_("shop's order name"), max_length=64, blank=True)
    order = models.OneToOneField(
        "orders.SalesOrder",
        on_delete=models.PROTECT,
        related_name="shop_order",
        verbose_name=_("order"),
    )
    shop_updated_at = models.DateTimeField(_("shop's last update applied"))

    class Meta:
        ordering = ["connection", "shop_order_id"]
        verbose_name = _("shop order")
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "shop_order_id"], name="shop_order_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.connection}: {self.shop_order_name or self.shop_order_id}"
