"""API keys of the storefronts, and the answers kept for their Idempotency-Keys."""

from __future__ import annotations

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
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
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

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
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

    def __str__(self) -> str:
        return f"{self.api_key_id}:{self.key} ({self.state})"
