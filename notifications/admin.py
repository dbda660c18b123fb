"""Admin for the outbox, the compensation policy and discount codes.

The outbox is read-only: a message is what the customer received. The one
action is to send failed messages again, through the same service and task.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from notifications.models import (
    BulkJob,
    CompensationPolicy,
    DiscountCode,
    ImportJob,
    Notification,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookSubscription,
)
from notifications.services.outbox import notification_resend
from notifications.services.rendering import customer_links_inert
from notifications.services.webhooks import webhook_delivery_retry


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "to_email",
        "order",
        "language",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "kind", "language"]
    search_fields = ["to_email", "order__number", "dedup_key", "customer__name"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    fields = readonly_fields = (
        "kind",
        "customer",
        "order",
        "language",
        "to_email",
        "subject",
        "text_body",
        "html_body",
        "status",
        "attempts",
        "last_error",
        "dedup_key",
        "created_at",
        "not_before",
        "dispatched_at",
        "sent_at",
        "rendered_from",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # The customer's signed links act as the customer: the admin shows them
    # inert, like the outbox page (the stored message is unchanged).
    @admin.display(description=_("text body"))
    def text_body(self, obj: Notification) -> SafeString:
        return format_html("<pre>{}</pre>", customer_links_inert(obj.body_text))

    @admin.display(description=_("HTML body"))
    def html_body(self, obj: Notification) -> SafeString:
        return format_html("<pre>{}</pre>", customer_links_inert(obj.body_html))

    @admin.display(description=_("context"))
    def rendered_from(self, obj: Notification) -> SafeString:
        data = json.dumps(obj.context, indent=2, ensure_ascii=False, sort_keys=True)
        return format_html("<pre>{}</pre>", customer_links_inert(data))

    @admin.action(description=_("Send failed messages again"), permissions=["change"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        by = request.user if request.user.is_authenticated else None
        count = notification_resend(
            notification_ids=queryset.values_list("pk", flat=True),
            by=by,
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d failed message is being sent again.",
                "%(count)d failed messages are being sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


@admin.register(CompensationPolicy)
class CompensationPolicyAdmin(SimpleHistoryAdmin):
    list_display = [
        "__str__",
        "apology_after_days",
        "discount_after_days",
        "discount_after_slips",
        "discount_percent",
        "combine_window_minutes",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not CompensationPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DiscountCode)
class DiscountCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "customer", "order", "percent", "expires_on", "issued_by", "created_at"]
    list_filter = ["expires_on", "percent"]
    search_fields = ["code", "customer__email", "customer__name", "order__number", "reason"]
    list_select_related = ["customer", "order", "issued_by"]
    fields = [
        "code",
        "customer",
        "order",
        "percent",
        "reason",
        "expires_on",
        "issued_by",
        "created_at",
    ]
    # What the customer was sent (code, percent) and whom it is for stay as
    # issued; "one discount per order" counts these rows.
    readonly_fields = ["code", "customer", "order", "percent", "issued_by", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Codes are issued by customer service through the service (a random
        # code, the author recorded); the admin fixes reason or expiry only.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The customer holds the code; to withdraw it, let it expire (set the date).
        return False


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    """Bulk actions started on the queue: read-only, a record of who did what."""

    list_display = ["created_at", "kind", "status", "done", "total", "created_by", "finished_at"]
    list_filter = ["status", "kind"]
    search_fields = ["created_by__username", "error"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "kind",
        "status",
        "total",
        "done",
        "parameters",
        "outcome",
        "error",
        "line_ids",
        "created_by",
        "created_at",
        "dispatched_at",
        "finished_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """CSV files imported on /imports/: read-only, a record of who imported what."""

    list_display = ["created_at", "kind", "filename", "status", "total", "created_by"]
    list_filter = ["status", "kind"]
    search_fields = ["filename", "created_by__username", "error"]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "kind",
        "filename",
        "status",
        "total",
        "done",
        "error",
        "created_by",
        "created_at",
        "applied_by",
        "finished_at",
        "result",
        "content",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(SimpleHistoryAdmin):
    """A shop's storefront URL for the order events of one channel."""

    list_display = ["url", "channel", "active", "created_at"]
    list_filter = ["active", "channel"]
    search_fields = ["url"]
    fields = ["url", "secret", "channel", "event_types", "active"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Events posted to the subscriptions: read-only; a failed one can be sent again."""

    list_display = ["created_at", "event_type", "subscription", "order", "status", "attempts"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id", "order__number", "subscription__url", "last_error"]
    list_select_related = ["subscription", "order"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "subscription",
        "event_id",
        "event_type",
        "order",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "next_attempt_at",
        "dispatched_at",
        "created_at",
        "delivered_at",
        "payload",
    )
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the failed deliveries again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        ids = queryset.filter(status=WebhookDeliveryStatus.FAILED).values_list("pk", flat=True)
        count = sum(
            webhook_delivery_retry(delivery_id=pk, by=request.user)  # type: ignore[arg-type]
            for pk in ids
        )
        self.message_user(request, _("%(count)s sent again.") % {"count": count}, messages.SUCCESS)
