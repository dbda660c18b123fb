"""The outbox of customer messages, the compensation policy and discount codes.

A `Notification` is written in the same transaction as the change that caused
it and sent afterwards by a Celery task (notifications/services.py explains the
delivery guarantees). Its rendered subject and bodies are kept, so the outbox
shows exactly what the customer received.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from notifications.limits import (
    discount_percent_validators,
    policy_validators,
    promise_confidence_validators,
)
from orders.models import Channel, Customer, Language, SalesOrder
from orders.services.calibration import promise_confidence_source_set


class NotificationKind(models.TextChoices):
    BACKORDER_CONFIRMED = "backorder_confirmed", _("Backorder confirmed")
    PROMISE_LATER = "promise_later", _("Later date, with an apology")
    PROMISE_LATER_DISCOUNT = "promise_later_discount", _("Later date, apology and discount")
    PROMISE_EARLIER = "promise_earlier", _("Earlier date (good news)")
    READY_TO_SHIP = "ready_to_ship", _("Ready to ship")
    SHIPPED = "shipped", _("Shipped")
    CANCELLED = "cancelled", _("Cancelled")
    PERSONAL_NOTE = "personal_note", _("Personal note")
    PROMISE_UPDATE = "promise_update", _("Where the backorder stands")
    SUBSTITUTED = "substituted", _("Alternative product sent instead")


# Sent even to a customer who opted out of update emails: they confirm what
# happened to the order (accepted with a date, ready, shipped, cancelled, an
# item swapped for an alternative).
TRANSACTIONAL_KINDS = frozenset(
    {
        NotificationKind.BACKORDER_CONFIRMED,
        NotificationKind.READY_TO_SHIP,
        NotificationKind.SHIPPED,
        NotificationKind.CANCELLED,
        NotificationKind.SUBSTITUTED,
    }
)


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """One message to a customer: rendered once, sent at most once per dedup key
    in every case but a crash inside the SMTP exchange (services.py)."""

    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="notifications", verbose_name=_("customer")
    )
    order = models.ForeignKey(
        SalesOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("order"),
    )
    language = models.CharField(_("language"), max_length=2, choices=Language)
    to_email = models.EmailField(_("to"))
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"))
    status = models.CharField(
        _("status"),
        max_length=8,
        choices=NotificationStatus,
        default=NotificationStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    dedup_key = models.CharField(
        _("deduplication key"),
        max_length=200,
        unique=True,
        help_text=_("One message per key, ever; also the email's Message-ID."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    not_before = models.DateTimeField(
        _("not before"),
        null=True,
        blank=True,
        help_text=_("A message combined over a window is sent only after it."),
    )
    # When a send task was last published for the row, or a worker last claimed
    # it. The sweep leaves alone rows whose task is still expected to run, and
    # re-claims rows stuck in "sending" since long ago (a worker died mid-send).
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    context = models.JSONField(
        _("context"), default=dict, blank=True, help_text=_("The data it was rendered from.")
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "not_before"], name="notification_sweep"),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.to_email}"

    @property
    def message_id(self) -> str:
        """The email's Message-ID, derived from the dedup key: a receiver that
        dedupes on Message-ID drops a resend after a crash (services.py)."""
        return message_id_for(self.dedup_key)


_MESSAGE_ID_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+")


def message_id_for(dedup_key: str) -> str:
    """`<key@domain>` with the key quoted to RFC 5322 atext, one-to-one: every
    byte outside `[A-Za-z0-9-_+]` becomes `=XX` (the `=` itself included)."""
    local = "".join(
        char if char in _MESSAGE_ID_SAFE else "".join(f"={b:02X}" for b in char.encode())
        for char in dedup_key
    )
    return f"<{local}@{message_id_domain()}>"


def message_id_domain() -> str:
    sender = str(settings.DEFAULT_FROM_EMAIL)
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else ""
    return domain or "backorder-desk.invalid"


class CompensationPolicy(models.Model):
    """How the shop makes up for a slipped promise. One row: `current()`."""

    apology_after_days = models.PositiveIntegerField(
        _("apology after (days later)"),
        default=1,
        validators=policy_validators("apology_after_days"),
        help_text=_("A promise moving later by at least this many days gets an apology."),
    )
    discount_after_days = models.PositiveIntegerField(
        _("discount after (total days slipped)"),
        default=7,
        validators=policy_validators("discount_after_days"),
        help_text=_("A line that slipped this many days in total gets a discount code."),
    )
    discount_after_slips = models.PositiveIntegerField(
        _("discount after (number of slips)"),
        default=3,
        validators=policy_validators("discount_after_slips"),
        help_text=_("A line that slipped this many times gets a discount code."),
    )
    discount_percent = models.DecimalField(
        _("discount percent"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=discount_percent_validators,
    )
    one_discount_per_order = models.BooleanField(_("one discount per order"), default=True)
    combine_window_minutes = models.PositiveIntegerField(
        _("combine window (minutes)"),
        default=30,
        validators=policy_validators("combine_window_minutes"),
        help_text=_("Changes to one order within this window produce one email."),
    )
    send_good_news = models.BooleanField(
        _("tell customers when a date moves earlier"), default=True
    )
    discount_valid_days = models.PositiveIntegerField(
        _("discount valid (days)"),
        default=60,
        validators=policy_validators("discount_valid_days"),
    )
    promise_confidence_percent = models.PositiveSmallIntegerField(
        _("promise confidence (%)"),
        default=80,
        validators=promise_confidence_validators,
        help_text=_(
            "With the calibrated promise engine: how many promises in a hundred should hold "
            "against each supplier's record of late deliveries. Higher keeps more promises "
            "and gives later dates."
        ),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("compensation policy")
        verbose_name_plural = _("compensation policy")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="compensation_policy_single_row"),
            models.CheckConstraint(
                condition=Q(discount_percent__gt=0, discount_percent__lte=100),
                name="compensation_policy_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Compensation policy"))

    @classmethod
    def current(cls) -> CompensationPolicy:
        """The policy, created with the defaults the first time it is asked for."""
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy


# The calibrated promise engine (orders) asks the policy's confidence through this.
promise_confidence_source_set(lambda: CompensationPolicy.current().promise_confidence_percent)


class DiscountCode(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True)
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="discount_codes",
        verbose_name=_("customer"),
    )
    order = models.ForeignKey(
        SalesOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="discount_codes",
        verbose_name=_("order"),
    )
    percent = models.DecimalField(
        _("percent"), max_digits=5, decimal_places=2, validators=discount_percent_validators
    )
    reason = models.CharField(_("reason"), max_length=255)
    expires_on = models.DateField(_("expires on"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system issued it under the compensation policy."),
        verbose_name=_("issued by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gt=0, percent__lte=100), name="discount_code_percent_range"
            ),
        ]
        verbose_name = _("discount code")
        verbose_name_plural = _("discount codes")

    def __str__(self) -> str:
        return self.code


class BulkJobKind(models.TextChoices):
    NOTIFY = "notify", _("Tell customers where their items stand")
    REPRIORITISE = "reprioritise", _("Set the queue priority")


class BulkJobStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BulkJob(models.Model):
    """A bulk action on selected queue lines, run by a Celery task in chunks.

    `done` counts the lines processed so far; it moves in the same transaction
    as each chunk's changes, so a chunk re-run after a crash starts where the
    last committed one ended (updates.bulk_job_run explains the idempotency).
    """

    kind = models.CharField(_("kind"), max_length=16, choices=BulkJobKind)
    line_ids = models.JSONField(
        _("order lines"), default=list, help_text=_("Ids of the order lines, in processing order.")
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    status = models.CharField(
        _("status"), max_length=8, choices=BulkJobStatus, default=BulkJobStatus.PENDING
    )
    error = models.TextField(_("error"), blank=True, default="")
    outcome = models.JSONField(
        _("outcome"), default=dict, blank=True, help_text=_("What the chunks done so far did.")
    )
    # When the task was last published: a job still pending long after it was
    # published again (its publish was lost with the broker).
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("bulk job")
        constraints = [
            models.CheckConstraint(
                condition=Q(done__lte=F("total")), name="bulk_job_done_le_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.done}/{self.total})"

    @property
    def is_finished(self) -> bool:
        return self.status in (BulkJobStatus.DONE, BulkJobStatus.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.done * 100 // self.total


class WebhookEventType(models.TextChoices):
    """What a shop's storefront can hear about its orders (outbound webhooks)."""

    BACKORDERED = "order.backordered", _("Order backordered")
    PROMISE_CHANGED = "order.promise_changed", _("Promised date changed")
    READY = "order.ready_to_ship", _("Lines ready to ship")
    SHIPPED = "order.shipped", _("Order shipped")
    CANCELLED = "order.cancelled", _("Units cancelled")
    REFUND_DUE = "refund.due", _("Refund due")
    REFUND_RECORDED = "refund.recorded", _("Refund recorded")


def all_webhook_event_types() -> list[str]:
    return list(WebhookEventType.values)


class WebhookSubscription(models.Model):
    """A shop's URL that hears, signed, about the orders of one channel."""

    url = models.URLField(
        _("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])]
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=200,
        help_text=_(
            "Key of the webhook-signature HMAC (Standard Webhooks): whsec_<base64> or any text."
        ),
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel)
    event_types = models.JSONField(
        _("event types"),
        default=all_webhook_event_types,
        help_text=_("A list of event type names, such as order.shipped."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return f"{self.url} ({self.channel})"

    def clean(self) -> None:
        known = set(WebhookEventType.values)
        types = self.event_types
        if not isinstance(types, list) or not types or not all(t in known for t in types):
            raise ValidationError(
                {
                    "event_types": _("Give a list of one or more of: %(types)s.")
                    % {"types": ", ".join(WebhookEventType.values)}
                }
            )


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one subscription: written with the change, posted after commit."""

    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event_id = models.CharField(_("event id"), max_length=64)
    event_type = models.CharField(_("event type"), max_length=32, choices=WebhookEventType)
    order = models.ForeignKey(
        SalesOrder,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
        verbose_name=_("order"),
    )
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=WebhookDeliveryStatus,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True, default="")
    response_status = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # When a send task was last published or a worker claimed the row: the
    # sweep leaves rows alone that someone works on.
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_id"], name="webhook_delivery_once_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_sweep"),
        ]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription.url}"

    @property
    def delivery_id(self) -> str:
        """The webhook-id header: this row, stable across retries."""
        return f"{self.event_id}.{self.subscription_id}"


class ImportKind(models.TextChoices):
    PRODUCTS = "products", _("Products")
    STOCK_COUNTS = "stock_counts", _("Stock counts")
    PURCHASE_ORDERS = "purchase_orders", _("Purchase orders")
    CUSTOMERS = "customers", _("Customers")


class ImportJobStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked: ready to apply")
    INVALID = "invalid", _("Rows refused: nothing applied")
    APPLYING = "applying", _("Applying")
    DONE = "done", _("Applied")
    FAILED = "failed", _("Failed: nothing applied")


class ImportJob(models.Model):
    """A CSV file uploaded to import: checked first (a dry run: which rows are
    new, changed, unchanged, refused), then applied in one transaction when a
    person confirms. A long file runs both steps in a worker; `done` of `total`
    rows is the progress bar (kept in the cache while a step runs, here at its end)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind)
    filename = models.CharField(_("file name"), max_length=255)
    content = models.TextField(_("file"), help_text=_("The file as uploaded (UTF-8 CSV)."))
    status = models.CharField(
        _("status"), max_length=10, choices=ImportJobStatus, default=ImportJobStatus.CHECKING
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    result = models.JSONField(
        _("result"), default=dict, blank=True, help_text=_("Each row's outcome and errors.")
    )
    error = models.TextField(_("error"), blank=True, default="")
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.filename}"

    @property
    def is_running(self) -> bool:
        return self.status in (ImportJobStatus.CHECKING, ImportJobStatus.APPLYING)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)
