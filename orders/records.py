"""Records kept beside an order: what a customer chose through a signed link,
customer service's notes, staff forms' one-time tokens, and refunds due.

Split from orders.models (which re-exports them) to keep each module short.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.limits import CURRENCY_PATTERN, currency_validators


class CustomerChoice(models.Model):
    """What a customer chose through a signed link in an email. One row per
    link: a link that was used once cannot be used again."""

    class Choice(models.TextChoices):
        KEEP_WAITING = "keep_waiting", _("Keep waiting")
        CANCEL = "cancel", _("Cancel the backordered items")
        SHIP_READY = "ship_ready", _("Ship what is ready")
        WAIT_ALL = "wait_all", _("Wait for everything")

    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.CASCADE,
        related_name="customer_choices",
        verbose_name=_("order"),
    )
    choice = models.CharField(_("choice"), max_length=16, choices=Choice)
    link_id = models.CharField(_("link"), max_length=64, unique=True)
    chosen_at = models.DateTimeField(_("chosen at"), auto_now_add=True)

    class Meta:
        ordering = ["-chosen_at", "-pk"]
        verbose_name = _("customer choice")
        verbose_name_plural = _("customer choices")

    def __str__(self) -> str:
        return f"{self.order.number}: {self.get_choice_display()}"


class OrderNote(models.Model):
    """An internal note of customer service on an order: shown on the order and
    delays pages, never sent to the customer."""

    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.CASCADE,
        related_name="notes",
        verbose_name=_("order"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["order", "-created_at"], name="order_note_order")]
        verbose_name = _("order note")
        verbose_name_plural = _("order notes")

    def __str__(self) -> str:
        return f"{self.order.number}: {self.body[:40]}"


class FormSubmission(models.Model):
    """A staff form's one-time token, spent in the transaction of the change
    the form asked for: a double click or a resent form finds it spent and
    changes nothing (orders.services.form_submission_record)."""

    token = models.CharField(_("token"), max_length=64, unique=True)
    action = models.CharField(_("action"), max_length=64)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")

    def __str__(self) -> str:
        return f"{self.action} {self.token}"


class RefundDueQuerySet(models.QuerySet["RefundDue"]):
    def open(self) -> RefundDueQuerySet:
        return self.filter(refunded_at__isnull=True)

    def refunded(self) -> RefundDueQuerySet:
        return self.filter(refunded_at__isnull=False)


class RefundDue(models.Model):
    """Money the shop owes a customer for units cancelled (or substituted) that
    were paid for: written in the transaction of the cancellation, marked
    refunded by customer service with the payment provider's reference."""

    order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.PROTECT, related_name="refunds_due"
    )
    # The units it pays back: [{"line_id", "sku", "quantity"}, …].
    units = models.JSONField(_("units"), default=list)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, validators=currency_validators)
    reason = models.CharField(_("reason"), max_length=255)
    created_at = models.DateTimeField(_("due since"), default=timezone.now)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reference = models.CharField(_("refund reference"), max_length=100, blank=True, default="")

    objects = RefundDueQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                name="refund_due_open",
                condition=Q(refunded_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_due_amount_positive"),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_PATTERN), name="refund_due_currency_code"
            ),
            models.CheckConstraint(
                condition=(Q(refunded_at__isnull=True) & Q(reference=""))
                | (Q(refunded_at__isnull=False) & ~Q(reference="")),
                name="refund_due_refunded_with_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.currency} {self.amount}"

    @property
    def is_refunded(self) -> bool:
        return self.refunded_at is not None

    @property
    def units_text(self) -> str:
        return ", ".join(f"{unit['sku']} × {unit['quantity']}" for unit in self.units)
