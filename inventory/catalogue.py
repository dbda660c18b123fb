"""The catalogue as a shop syncs it: a product created or updated by SKU."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from config.roles import acting_user
from inventory.models import BackorderPolicy, Product


@dataclass(frozen=True)
class ProductUpsert:
    product: Product
    created: bool
    changed: frozenset[str]
    """The fields whose value changed (all of them for a new product)."""


SYNCED_FIELDS = ("name", "price", "active", "backorder_policy", "backorder_cap")


@transaction.atomic
def product_upsert(
    *,
    sku: str,
    name: str,
    price: Decimal,
    active: bool,
    backorder_policy: str,
    backorder_cap: int | None,
    by: User | None,
) -> ProductUpsert:
    """Create the product with this SKU, or update its name, price, active flag,
    backorder policy and cap, validated by the model's own validators
    (inventory.limits: the SKU pattern, the cap's bounds, a price ≥ 0).

    A cap is required with the "cap" policy and refused with another. Raises
    ValidationError naming the fields; nothing is saved then. Changing the
    policy or cap changes no promise already given (the promise engine reads
    stock, supply and the queue, not the policy): it decides what new orders
    may wait.
    """
    if backorder_policy == BackorderPolicy.CAP and backorder_cap is None:
        raise ValidationError(
            {"backorder_cap": _("With the “cap” policy, say how many units may wait.")}
        )
    if backorder_policy != BackorderPolicy.CAP and backorder_cap is not None:
        raise ValidationError({"backorder_cap": _("A cap goes only with the “cap” policy.")})
    product = Product.objects.select_for_update().filter(sku=sku).first()
    created = product is None
    if product is None:
        product = Product(sku=sku)
    values = {
        "name": name,
        "price": price,
        "active": active,
        "backorder_policy": backorder_policy,
        "backorder_cap": backorder_cap,
    }
    changed = frozenset(
        field for field, value in values.items() if created or getattr(product, field) != value
    )
    for field, value in values.items():
        setattr(product, field, value)
    product.full_clean(exclude=["alternatives"])
    if created or changed:
        product._history_user = acting_user(by)  # type: ignore[attr-defined]
        product.save()
    return ProductUpsert(product=product, created=created, changed=changed)
