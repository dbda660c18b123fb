"""Purchase order writes: create, confirm, cancel, move expected dates, record receipts.

Receiving units into the backorder queue crosses into orders, so that use case
is `orders.services.purchase_order_receive`, which calls down to
`purchase_order_lines_record_receipt` here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from config.roles import acting_user
from inventory.models import Product, Warehouse
from inventory.services import require_positive_quantity
from suppliers.limits import MAX_UNIT_COST, validate_expected_date
from suppliers.models import (
    OPEN_PO_STATUSES,
    ExpectedDateRevision,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Supplier,
    SupplierProduct,
)


@dataclass(frozen=True)
class PurchaseLineRequest:
    product: Product
    quantity: int
    expected_date: dt.date | None = None
    unit_cost: Decimal | None = None


def _locked(purchase_order: PurchaseOrder) -> PurchaseOrder:
    return PurchaseOrder.objects.select_for_update().get(pk=purchase_order.pk)


@retry_on_conflict()
@transaction.atomic
def purchase_order_create(
    *,
    supplier: Supplier,
    warehouse: Warehouse,
    lines: Sequence[PurchaseLineRequest],
    expected_date: dt.date,
    by: User | None,
    confirm: bool = False,
    notes: str = "",
    reference: str = "",
) -> PurchaseOrder:
    """Create a purchase order (a draft, or already ordered with `confirm`).

    An expected date more than MAX_EXPECTED_DAYS_AHEAD days ahead is refused
    (suppliers.limits), as when it is moved.
    """
    if not lines:
        raise ValidationError({"lines": _("Add at least one product to the purchase order.")})
    dates = {expected_date, *(request.expected_date for request in lines)}
    for date in (date for date in dates if date is not None):
        try:
            validate_expected_date(date)
        except ValidationError as error:
            raise ValidationError({"expected_date": error.messages}) from error
    errors: list[str] = []
    for request in lines:
        try:
            require_positive_quantity(request.quantity)
        except ValidationError:
            errors.append(
                _("%(sku)s: enter a whole number of units above zero.")
                % {"sku": request.product.sku}
            )
        if request.unit_cost is not None and not (0 <= request.unit_cost < MAX_UNIT_COST):
            errors.append(
                _("%(sku)s: a unit cost is 0 or more and below 10,000,000,000.")
                % {"sku": request.product.sku}
            )
    if len({request.product.pk for request in lines}) != len(lines):
        errors.append(_("Each product may appear only once; combine the quantities."))
    if errors:
        raise ValidationError({"lines": errors})
    order = PurchaseOrder.objects.create(
        number=f"PO-TMP-{timezone.now().timestamp()}",
        supplier=supplier,
        warehouse=warehouse,
        expected_date=expected_date,
        notes=notes,
        reference=reference[:64],
        created_by=acting_user(by),
        status=PurchaseOrderStatus.DRAFT,
    )
    order.number = f"PO-{order.pk:06d}"
    order.save(update_fields=["number"])
    # A line without a cost takes the supplier's price for the product, if known.
    terms_costs = dict(
        SupplierProduct.objects.filter(
            supplier=supplier,
            product__in=[request.product for request in lines if request.unit_cost is None],
            unit_cost__isnull=False,
        ).values_list("product_id", "unit_cost")
    )
    PurchaseOrderLine.objects.bulk_create(
        PurchaseOrderLine(
            purchase_order=order,
            product=request.product,
            ordered=request.quantity,
            expected_date=request.expected_date or expected_date,
            unit_cost=(
                request.unit_cost
                if request.unit_cost is not None
                else terms_costs.get(request.product.pk)
            ),
        )
        for request in lines
    )
    if confirm:
        order = purchase_order_confirm(purchase_order=order, by=by)
    return order


@transaction.atomic
def purchase_order_confirm(*, purchase_order: PurchaseOrder, by: User | None) -> PurchaseOrder:
    """Send a draft to the supplier: its lines now count as inbound supply."""
    order = _locked(purchase_order)
    if order.status != PurchaseOrderStatus.DRAFT:
        raise ValidationError(
            _("%(number)s is %(status)s; only a draft can be confirmed.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    order.status = PurchaseOrderStatus.ORDERED
    order.ordered_at = timezone.now()
    order._history_user = acting_user(by)  # type: ignore[attr-defined]
    order.save(update_fields=["status", "ordered_at"])
    return order


@transaction.atomic
def purchase_order_cancel(*, purchase_order: PurchaseOrder, by: User | None) -> PurchaseOrder:
    """Cancel what is still outstanding; units already received stay received."""
    order = _locked(purchase_order)
    if order.status in (PurchaseOrderStatus.RECEIVED, PurchaseOrderStatus.CANCELLED):
        raise ValidationError(
            _("%(number)s is already %(status)s.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    order.status = PurchaseOrderStatus.CANCELLED
    order._history_user = acting_user(by)  # type: ignore[attr-defined]
    order.save(update_fields=["status"])
    return order


@transaction.atomic
def purchase_order_move_expected_date(
    *,
    purchase_order: PurchaseOrder,
    new_date: dt.date,
    reason: str,
    by: User | None,
    line_ids: Sequence[int] | None = None,
    cause: str = ExpectedDateRevision.Cause.MANUAL,
) -> list[ExpectedDateRevision]:
    """Move the expected date of the outstanding lines (all, or `line_ids`).

    Each line that actually moves gets a revision row (old, new, reason, who).
    A date more than MAX_EXPECTED_DAYS_AHEAD days ahead is refused
    (suppliers.limits): promises are computed from it.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the date moves; customers may be told.")})
    if not isinstance(new_date, dt.date):
        raise ValidationError({"new_date": _("Enter a valid date.")})
    try:
        validate_expected_date(new_date)
    except ValidationError as error:
        raise ValidationError({"new_date": error.messages}) from error
    order = _locked(purchase_order)
    if order.status not in (PurchaseOrderStatus.DRAFT, *OPEN_PO_STATUSES):
        raise ValidationError(
            _("%(number)s is %(status)s; its dates no longer matter.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    lines = list(order.lines.select_for_update().order_by("pk"))
    if line_ids is not None:
        wanted = set(line_ids)
        unknown = wanted - {line.pk for line in lines}
        if unknown:
            raise ValidationError(
                _("Those lines are not on %(number)s.") % {"number": order.number}
            )
        lines = [line for line in lines if line.pk in wanted]
    revisions = []
    author = acting_user(by)
    for line in lines:
        if line.outstanding == 0 or line.expected_date == new_date:
            continue
        revisions.append(
            ExpectedDateRevision(
                line=line,
                old_date=line.expected_date,
                new_date=new_date,
                reason=reason[:255],
                cause=cause,
                changed_by=author,
            )
        )
        line.expected_date = new_date
        line._history_user = author  # type: ignore[attr-defined]
        line.save(update_fields=["expected_date"])
    if line_ids is None and order.expected_date != new_date:
        order.expected_date = new_date
        order._history_user = author  # type: ignore[attr-defined]
        order.save(update_fields=["expected_date"])
    return ExpectedDateRevision.objects.bulk_create(revisions)


def purchase_order_lines_record_receipt(
    *, purchase_order: PurchaseOrder, quantities: Mapping[int, int]
) -> tuple[PurchaseOrder, list[tuple[PurchaseOrderLine, int]]]:
    """Record received units on a locked, open purchase order's lines.

    Runs inside the caller's transaction (orders.services.purchase_order_receive).
    Refuses unknown lines, non-positive or non-integer quantities and
    over-receipt, naming the line, before anything is written.
    """
    order = _locked(purchase_order)
    if order.status not in OPEN_PO_STATUSES:
        raise ValidationError(
            _("%(number)s is %(status)s; only an ordered purchase order can be received.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    lines = {line.pk: line for line in order.lines.select_for_update().select_related("product")}
    errors: dict[str, list[str]] = {}
    received: list[tuple[PurchaseOrderLine, int]] = []
    for line_id, quantity in quantities.items():
        line = lines.get(line_id)
        field = f"line_{line_id}"
        if line is None:
            errors[field] = [_("This line is not on %(number)s.") % {"number": order.number}]
            continue
        if quantity in (0, None):
            continue
        try:
            require_positive_quantity(quantity, field=field)
        except ValidationError:
            errors[field] = [_("Enter a whole number of units above zero.")]
            continue
        if quantity > line.outstanding:
            errors[field] = [
                _("Only %(outstanding)d of %(ordered)d units are still expected on this line.")
                % {"outstanding": line.outstanding, "ordered": line.ordered}
            ]
            continue
        received.append((line, quantity))
    if errors:
        raise ValidationError(errors)
    if not received:
        raise ValidationError(_("Enter the units received on at least one line."))
    for line, quantity in received:
        line.received += quantity
        line.save(update_fields=["received"])
    all_lines = list(lines.values())
    if all(line.outstanding == 0 for line in all_lines):
        order.status = PurchaseOrderStatus.RECEIVED
    else:
        order.status = PurchaseOrderStatus.PARTIALLY_RECEIVED
    order.save(update_fields=["status"])
    return order, received


@transaction.atomic
def supplier_product_terms_set(
    *,
    supplier: Supplier,
    product: Product,
    pack_size: int,
    minimum_order: int,
    preferred: bool,
    by: User | None,
) -> SupplierProduct:
    """Set what `supplier` sells `product` on: pack size, minimum order, and
    whether it is the product's preferred supplier (another supplier preferred
    for it stops being so). Out-of-range numbers are refused, nothing saved."""
    user = acting_user(by)
    if preferred:
        for other in (
            SupplierProduct.objects.select_for_update()
            .filter(product=product, preferred=True)
            .exclude(supplier=supplier)
        ):
            other.preferred = False
            other._history_user = user  # type: ignore[attr-defined]
            other.save(update_fields=["preferred"])
    terms = (
        SupplierProduct.objects.select_for_update()
        .filter(supplier=supplier, product=product)
        .first()
    )
    if terms is None:
        terms = SupplierProduct(supplier=supplier, product=product)
    terms.pack_size, terms.minimum_order, terms.preferred = pack_size, minimum_order, preferred
    # The fields' own bounds (suppliers.models); the atomic block undoes the
    # other supplier's lost preference when they refuse.
    terms.full_clean()
    terms._history_user = user  # type: ignore[attr-defined]
    terms.save()
    return terms
