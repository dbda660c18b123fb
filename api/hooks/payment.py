"""What a shop platform's order says about the customer's money: the payment
state, what was paid, what was refunded, and the currency.

Shopify (the Order resource its webhooks carry): `financial_status`,
`total_price`, `total_outstanding` (what a partly paid order still owes),
`currency`, and `refunds[].transactions[]` (a successful `kind: "refund"`
transaction's `amount` is money given back).
WooCommerce (the REST API's order): `status`, `date_paid`/`date_paid_gmt`,
`total`, `currency`, and `refunds[]` (each with a negative `total`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from orders.limits import MAX_AMOUNT, is_currency
from orders.models import PaymentStatus

ZERO = Decimal("0.00")

# Shopify's financial_status → the payment state the emails speak of.
SHOPIFY_PAYMENT = {
    "pending": PaymentStatus.UNPAID,
    "authorized": PaymentStatus.AUTHORIZED,
    "partially_paid": PaymentStatus.PAID,
    "paid": PaymentStatus.PAID,
    "partially_refunded": PaymentStatus.PARTIALLY_REFUNDED,
    "refunded": PaymentStatus.REFUNDED,
    "voided": PaymentStatus.UNPAID,
    "expired": PaymentStatus.UNPAID,
}
# The financial states in which the order's total was taken.
SHOPIFY_TAKEN = frozenset({"paid", "partially_refunded", "refunded"})
# WooCommerce's order status: "processing" and "completed" are paid orders;
# "on-hold" awaits a payment (a bank transfer), "pending" was never paid.
WOOCOMMERCE_PAID = frozenset({"processing", "completed"})


class PaymentError(ValueError):
    """An amount or currency in the body that cannot be read; the message says which."""


@dataclass(frozen=True)
class ShopPayment:
    status: str
    amount_paid: Decimal
    amount_refunded: Decimal
    currency: str | None  # None: the shop did not say (the shop's currency)


def shopify_payment(body: Mapping[str, Any]) -> ShopPayment:
    financial = body.get("financial_status") or "pending"
    if financial not in SHOPIFY_PAYMENT:
        raise PaymentError(f"Unknown financial_status {financial!r}.")
    total = _amount(body.get("total_price"), "total_price")
    if financial in SHOPIFY_TAKEN:
        paid = total
    elif financial == "partially_paid":
        outstanding = _amount(body.get("total_outstanding"), "total_outstanding")
        paid = max(total - outstanding, ZERO)
    else:
        paid = ZERO
    refunded = ZERO
    refunds = body.get("refunds")
    for refund in refunds if isinstance(refunds, list) else []:
        transactions = refund.get("transactions") if isinstance(refund, dict) else None
        for transaction in transactions if isinstance(transactions, list) else []:
            if (
                isinstance(transaction, dict)
                and transaction.get("kind") == "refund"
                and transaction.get("status", "success") == "success"
            ):
                refunded += _amount(transaction.get("amount"), "refunds[].transactions[].amount")
    if financial == "refunded" and not refunded:
        refunded = paid
    return ShopPayment(
        status=SHOPIFY_PAYMENT[financial],
        amount_paid=paid,
        amount_refunded=min(refunded, paid),
        currency=_currency(body.get("currency")),
    )


def woocommerce_payment(body: Mapping[str, Any]) -> ShopPayment:
    status = str(body.get("status") or "")
    paid_at = body.get("date_paid_gmt") or body.get("date_paid")
    taken = status in WOOCOMMERCE_PAID or status == "refunded" or bool(paid_at)
    paid = _amount(body.get("total"), "total") if taken else ZERO
    refunded = ZERO
    refunds = body.get("refunds")
    for refund in refunds if isinstance(refunds, list) else []:
        if isinstance(refund, dict):
            refunded += abs(_amount(refund.get("total"), "refunds[].total", signed=True))
    if status == "refunded" and not refunded:
        refunded = paid
    refunded = min(refunded, paid)
    if not taken or (status in ("pending", "failed", "cancelled") and not paid_at):
        payment = PaymentStatus.UNPAID
    elif paid and refunded >= paid:
        payment = PaymentStatus.REFUNDED
    elif refunded:
        payment = PaymentStatus.PARTIALLY_REFUNDED
    else:
        payment = PaymentStatus.PAID
    return ShopPayment(
        status=payment,
        amount_paid=paid if payment != PaymentStatus.UNPAID else ZERO,
        amount_refunded=refunded if payment != PaymentStatus.UNPAID else ZERO,
        currency=_currency(body.get("currency")),
    )


def _amount(value: Any, field: str, *, signed: bool = False) -> Decimal:
    if value in (None, ""):
        return ZERO
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PaymentError(f"{field} {value!r} is not an amount.")
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation as error:
        raise PaymentError(f"{field} {value!r} is not an amount.") from error
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT or (amount < 0 and not signed):
        raise PaymentError(f"{field} {value!r} is out of range.")
    return amount


def _currency(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not is_currency(value.strip().upper()):
        raise PaymentError(f"currency {value!r} is not an ISO 4217 code.")
    return value.strip().upper()
