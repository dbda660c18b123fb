"""The order page's refunds card: its refunds, read by the card's own partial."""

from __future__ import annotations

from decimal import Decimal

from django import template

from desk.templatetags.desk_format import money_text
from orders.models import RefundDue, SalesOrder
from orders.selectors.refunds import refunds_due_list

register = template.Library()


@register.simple_tag
def order_refunds(order: SalesOrder) -> list[RefundDue]:
    """Every refund of `order`, oldest first (one query)."""
    return list(refunds_due_list(state="all", order_id=order.pk))


@register.filter
def money_in(amount: Decimal | int | None, currency: str) -> str:
    """`{{ refund.amount|money_in:refund.currency }}`: an amount in its own currency."""
    return money_text(amount, currency)
