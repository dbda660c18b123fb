"""The use cases customers feel: each wraps an orders use case and, in the same
transaction, writes the messages its changes call for.

    notifications.updates  →  orders.services  →  suppliers / inventory

A view, a task or the storefront API calls these, never the orders use case
directly, when a customer should hear about the change. What each writes:

- order placed with backordered units → "backordered, ships by <date>" with the
  customer's links (keep waiting / cancel);
- any promise that moves later (a purchase order slips, is cancelled, a VIP
  jumps the queue, the overdue sweep) → an apology, past the policy's
  threshold with a discount code (at most one per order); moved earlier →
  good news if the policy says so. Changes to one order within the policy's
  window are combined into one email: a pending message is updated, not
  joined by a second; a date that moves back where it was sends nothing;
- units received or released that complete lines → "ready to ship";
- a shipment → "shipped" with the tracking number;
- a cancellation (agent or customer link) → "cancelled" with the refund due.

The use cases live in one module per flow (`order_changes`, `purchasing`,
`impact`, `bulk`, `delays`; `telling` turns changes into messages). The names
below are the ones the interface layer calls as `updates.<use case>`.
"""

from __future__ import annotations

from notifications.updates.bulk import (
    bulk_job_progress,
    bulk_job_run,
    bulk_job_start,
)
from notifications.updates.delays import (
    customer_note_send,
    discount_percent_bounds,
    order_discount_issue,
    order_line_substitute,
)
from notifications.updates.impact import (
    purchase_order_cancel_preview,
    purchase_order_move_preview,
)
from notifications.updates.imports import (
    import_job_apply,
    import_job_progress,
    import_job_run,
    import_job_start,
)
from notifications.updates.order_changes import (
    order_backorders_cancel,
    order_cancel,
    order_customer_choose,
    order_line_cancel,
    order_line_set_priority,
    order_place,
    order_place_for_customer,
    promises_refresh,
    shipment_create,
    stock_adjust,
)
from notifications.updates.purchasing import (
    DraftRequest,
    PurchaseOrderOutcome,
    purchase_order_cancel,
    purchase_order_confirm,
    purchase_order_create,
    purchase_order_drafts_create,
    purchase_order_move_expected_date,
    purchase_order_receive,
    purchase_order_receive_from_form,
    purchase_orders_sweep_overdue,
)
from notifications.updates.refunds import refund_mark_refunded, refunds_settle_from_shop
from notifications.updates.transfers import transfer_receive, transfer_ship

__all__ = [
    "DraftRequest",
    "PurchaseOrderOutcome",
    "bulk_job_progress",
    "bulk_job_run",
    "bulk_job_start",
    "customer_note_send",
    "discount_percent_bounds",
    "import_job_apply",
    "import_job_progress",
    "import_job_run",
    "import_job_start",
    "order_backorders_cancel",
    "order_cancel",
    "order_customer_choose",
    "order_discount_issue",
    "order_line_cancel",
    "order_line_set_priority",
    "order_line_substitute",
    "order_place",
    "order_place_for_customer",
    "promises_refresh",
    "purchase_order_cancel",
    "purchase_order_cancel_preview",
    "purchase_order_confirm",
    "purchase_order_create",
    "purchase_order_drafts_create",
    "purchase_order_move_expected_date",
    "purchase_order_move_preview",
    "purchase_order_receive",
    "purchase_order_receive_from_form",
    "purchase_orders_sweep_overdue",
    "refund_mark_refunded",
    "refunds_settle_from_shop",
    "shipment_create",
    "stock_adjust",
    "transfer_receive",
    "transfer_ship",
]
