from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from api.keys import api_keys_revoke
from api.models import ApiKey, IdempotencyRecord, InboundEvent, ShopConnection, ShopOrder


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made by `manage.py api_key_create` (the key is shown once, there);
    here they are named, scoped and revoked."""

    list_display = (
        "name",
        "prefix",
        "channel",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("channel", "revoked_at")
    search_fields = ("name", "prefix")
    readonly_fields = (
        "prefix",
        "secret_hash",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected API keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = api_keys_revoke(api_keys=queryset)
        self.message_user(
            request, _("%(count)d API keys revoked.") % {"count": count}, messages.SUCCESS
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ("key", "api_key", "state", "response_status", "created_at")
    list_filter = ("state", "response_status")
    search_fields = ("key",)
    readonly_fields = [field.name for field in IdempotencyRecord._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ShopConnection)
class ShopConnectionAdmin(admin.ModelAdmin):
    """Admins connect shops here or with `manage.py shop_connect`; the webhook
    URL path is shown once saved."""

    list_display = (
        "domain",
        "platform",
        "channel",
        "warehouse",
        "active",
        "webhook_path",
        "rejected_deliveries",
        "last_rejected_at",
    )
    list_filter = ("platform", "channel", "active")
    search_fields = ("domain", "key")
    readonly_fields = ("key", "webhook_path", "rejected_deliveries", "last_rejected_at")
    fields = (
        "platform",
        "domain",
        "secret",
        "channel",
        "warehouse",
        "sku_mapping",
        "active",
        "key",
        "webhook_path",
        "rejected_deliveries",
        "last_rejected_at",
    )

    @admin.display(description=_("webhook URL path"))
    def webhook_path(self, obj: ShopConnection) -> str:
        return obj.webhook_path if obj.pk else "—"


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    """Deliveries as they came; retried from the inbound events page."""

    list_display = ("received_at", "connection", "topic", "status", "shop_order_id", "order")
    list_filter = ("status", "topic", "connection")
    search_fields = ("delivery_id", "event_id", "shop_order_id", "order__number")
    readonly_fields = [field.name for field in InboundEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ShopOrder)
class ShopOrderAdmin(admin.ModelAdmin):
    list_display = ("shop_order_name", "shop_order_id", "connection", "order", "shop_updated_at")
    list_filter = ("connection",)
    search_fields = ("shop_order_id", "shop_order_name", "order__number")
    readonly_fields = [field.name for field in ShopOrder._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
