"""Discount codes: generated readable, issued once per order, shown in messages."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.models import (
    CompensationPolicy,
    DiscountCode,
)
from orders.models import Customer, SalesOrder

# No 0/O, 1/I/L: a code read out on the phone is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def discount_code_generate(prefix: str = "SORRY") -> str:
    """A random, readable code like SORRY-7KQ2-M9XD (31⁸ ≈ 8.5·10¹¹ codes)."""
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(2))
    return "-".join([prefix, *groups])


@transaction.atomic
def discount_code_issue(
    *,
    customer: Customer,
    order: SalesOrder | None,
    reason: str,
    percent: Decimal | None = None,
    valid_days: int | None = None,
    by: User | None = None,
) -> DiscountCode:
    """Issue a discount code to a customer; policy defaults for percent and validity.

    Whether a discount is due (thresholds, one per order) is the caller's
    decision under `CompensationPolicy`; this only writes the code. `by` is
    None when the system issues it under the policy.
    """
    policy = CompensationPolicy.current()
    percent = policy.discount_percent if percent is None else percent
    days = policy.discount_valid_days if valid_days is None else valid_days
    author = by if by is not None and by.is_authenticated else None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return DiscountCode.objects.create(
                    code=discount_code_generate(),
                    customer=customer,
                    order=order,
                    percent=percent,
                    reason=reason[:255],
                    expires_on=timezone.localdate() + dt.timedelta(days=days),
                    issued_by=author,
                )
        except IntegrityError:
            continue  # a code collision: draw again
    raise RuntimeError("Could not draw an unused discount code.")


def discount_context(code: DiscountCode) -> dict[str, Any]:
    """The `discount` entry of a notification context for `code`."""
    return {"code": code.code, "percent": code.percent, "expires_on": code.expires_on}
