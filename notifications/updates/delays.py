"""What customer service does for a delayed customer (the delays page): a personal
note, a discount, an alternative product."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from config.db import retry_on_conflict
from notifications.models import (
    CompensationPolicy,
    DiscountCode,
    Notification,
    NotificationKind,
)
from notifications.services.discounts import discount_code_issue, discount_context
from notifications.services.outbox import notification_enqueue
from notifications.updates.telling import line_context, telling_customers
from orders.models import OrderLine, SalesOrder
from orders.services import (
    notes,
    substitutes,
)

PERSONAL_NOTE_MAX_LENGTH = 5000


PERSONAL_NOTE_SUBJECT_MAX_LENGTH = 200


def _agent_name(by: User | None) -> str:
    if by is None or not by.is_authenticated:
        return ""
    return by.get_full_name() or by.get_username()


def _opted_out_message(order: SalesOrder) -> str:
    return str(
        _(
            "%(name)s opted out of update emails, so no email would reach them. "
            "Call or write to them directly."
        )
        % {"name": order.customer.name}
    )


@transaction.atomic
def customer_note_send(
    *, order: SalesOrder, note: str, subject: str = "", token: str, by: User | None
) -> Notification:
    """Email a personal note from customer service about an order.

    `token` is the form's one-time token: the same form submitted twice sends
    one email. Refused (ValidationError by field, nothing written) for an
    empty or too long note, or a customer who opted out of update emails.
    """
    note, subject = (note or "").strip(), (subject or "").strip()
    if not note:
        raise ValidationError({"note": _("Write the message to the customer.")})
    if len(note) > PERSONAL_NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": _("At most %(max)d characters.") % {"max": PERSONAL_NOTE_MAX_LENGTH}}
        )
    if len(subject) > PERSONAL_NOTE_SUBJECT_MAX_LENGTH:
        raise ValidationError(
            {
                "subject": _("At most %(max)d characters.")
                % {"max": PERSONAL_NOTE_SUBJECT_MAX_LENGTH}
            }
        )
    if order.customer.email_opt_out:
        raise ValidationError({"note": _opted_out_message(order)})
    notes.form_submission_record(token=token, action="customer_note_send", by=by)
    notification = notification_enqueue(
        kind=NotificationKind.PERSONAL_NOTE,
        customer=order.customer,
        order=order,
        context={"note": note, "subject": subject, "agent_name": _agent_name(by)},
        dedup_key=f"personal-note:{token}",
    )
    assert notification is not None  # opted-out customers were refused above
    return notification


def discount_percent_bounds(policy: CompensationPolicy) -> tuple[Decimal, Decimal]:
    """What an agent may give: from 1 % (or the policy's percent, if lower) up
    to the policy's percent. More than the policy is purchasing's decision
    (the /policy/ page), not a single agent's."""
    most = policy.discount_percent
    return min(Decimal("1"), most), most


@transaction.atomic
def order_discount_issue(
    *,
    order: SalesOrder,
    token: str,
    by: User | None,
    percent: Decimal | None = None,
    note: str = "",
) -> tuple[DiscountCode, Notification | None]:
    """Issue a discount code for a delayed order and email it to the customer
    (with the agent's optional note).

    The percent defaults to the compensation policy's and must lie within
    `discount_percent_bounds`; with "one discount per order" an order that
    has a code gets no second one. The same form submitted twice issues one
    code (`token`). A customer who opted out of update emails gets the code
    but no email (None): the agent tells them.
    """
    policy = CompensationPolicy.current()
    low, high = discount_percent_bounds(policy)
    percent = policy.discount_percent if percent is None else percent
    if not low <= percent <= high:
        raise ValidationError(
            {
                "percent": _("Enter a percentage from %(low)s to %(high)s (the policy's).")
                % {"low": f"{low.normalize():f}", "high": f"{high.normalize():f}"}
            }
        )
    note = (note or "").strip()
    if len(note) > PERSONAL_NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": _("At most %(max)d characters.") % {"max": PERSONAL_NOTE_MAX_LENGTH}}
        )
    if policy.one_discount_per_order:
        existing = DiscountCode.objects.filter(order=order).order_by("pk").first()
        if existing is not None:
            raise ValidationError(
                {
                    "order": _(
                        "%(number)s already has discount code %(code)s: the policy gives one "
                        "per order."
                    )
                    % {"number": order.number, "code": existing.code}
                }
            )
    notes.form_submission_record(token=token, action="order_discount_issue", by=by)
    code = discount_code_issue(
        customer=order.customer,
        order=order,
        reason=f"Delay on {order.number}, given by customer service",
        percent=percent,
        by=by,
    )
    notification = notification_enqueue(
        kind=NotificationKind.PERSONAL_NOTE,
        customer=order.customer,
        order=order,
        context={
            "purpose": "discount",
            "note": note,
            "discount": discount_context(code),
            "agent_name": _agent_name(by),
        },
        dedup_key=f"discount:{code.pk}",
    )
    return code, notification


@retry_on_conflict()
@transaction.atomic
def order_line_substitute(
    *, line: OrderLine, product: Any, by: User | None
) -> tuple[substitutes.Substitution, Notification | None]:
    """`orders.services.order_line_substitute`, then one email to the customer
    naming what was replaced and when the alternative ships: a change to the
    order, so sent even to a customer who opted out of updates. Other customers
    whose promises the new line moved are told as for any change."""
    substitution = telling_customers(
        substitutes.order_line_substitute, line=line, product=product, by=by
    )
    new_line = substitution.line
    old_line = substitution.cancellation.order_line
    notification = notification_enqueue(
        kind=NotificationKind.SUBSTITUTED,
        customer=new_line.order.customer,
        order=new_line.order,
        context={
            "purpose": "substitute",
            "substitute_for": old_line.product.name,
            "lines": [{**line_context(new_line), "quantity": new_line.ordered}],
            "agent_name": _agent_name(by),
            # What the replaced item means for money: a refund of what the
            # alternative does not use, or nothing charged for it.
            "refund_due": substitution.cancellation.refund_due,
            "charged": new_line.order.money_taken,
            "currency": new_line.order.currency,
        },
        dedup_key=f"substituted:{new_line.pk}",
    )
    return substitution, notification
