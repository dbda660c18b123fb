"""Customers as a storefront names them: by email address."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from orders.models import Customer, Language, Tier


def customer_find_or_create(
    *, email: str, name: str, language: str = Language.ENGLISH, tier: int | None = None
) -> Customer:
    """The customer with this email address (case-insensitive), or a new one.

    An existing customer keeps the name, language and tier the shop's staff may
    have set; the storefront's values only fill a new record. Two orders of a
    new customer arriving at once both end with the one row the unique email allows.
    """
    email = email.strip()
    existing = Customer.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Customer.objects.create(
                email=email,
                name=name.strip() or email,
                language=language,
                tier=Tier.STANDARD if tier is None else tier,
            )
    except IntegrityError:
        return Customer.objects.get(email__iexact=email)
