"""The product import and export: the catalogue a purchasing manager keeps in a
sheet (policy, cap, price, lead time) and, with a supplier named, what that
supplier sells it on (pack size, minimum order).

A django-import-export ModelResource: rows are matched by SKU, an unchanged
row is skipped (so the same file twice changes nothing), every value passes the
model's own validators and constraints (`inventory.limits`), and the supplier
terms go through `suppliers.services.supplier_product_terms_set`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tablib
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from import_export.instance_loaders import CachedInstanceLoader
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from inventory.imports import (
    ImportRefused,
    ImportReport,
    ModelImportMixin,
    PlainDecimalWidget,
    PlainIntegerWidget,
    Progress,
    cell,
    report_from_result,
)
from inventory.limits import MAX_QUANTITY
from inventory.models import BackorderPolicy, Product
from suppliers.models import Supplier, SupplierProduct

PRODUCT_COLUMNS = ("sku", "name", "price", "policy")
PRODUCT_OPTIONAL_COLUMNS = (
    "cap",
    "lead_time_days",
    "active",
    "supplier",
    "pack_size",
    "minimum_order",
)
TERMS_COLUMNS = ("supplier", "pack_size", "minimum_order")


class ProductResource(ModelImportMixin, resources.ModelResource):
    sku = fields.Field(attribute="sku", column_name="sku", widget=widgets.CharWidget())
    name = fields.Field(attribute="name", column_name="name", widget=widgets.CharWidget())
    price = fields.Field(attribute="price", column_name="price", widget=PlainDecimalWidget())
    policy = fields.Field(
        attribute="backorder_policy", column_name="policy", widget=widgets.CharWidget()
    )
    cap = fields.Field(attribute="backorder_cap", column_name="cap", widget=PlainIntegerWidget())
    lead_time_days = fields.Field(
        attribute="default_lead_time_days",
        column_name="lead_time_days",
        widget=PlainIntegerWidget(),
    )
    active = fields.Field(attribute="active", column_name="active", widget=widgets.BooleanWidget())
    # Export only (import reads them in after_save_instance): the preferred
    # supplier's terms, annotated by `products_for_export`.
    supplier = fields.Field(attribute="preferred_supplier", column_name="supplier", readonly=True)
    pack_size = fields.Field(
        attribute="preferred_pack_size", column_name="pack_size", readonly=True
    )
    minimum_order = fields.Field(
        attribute="preferred_minimum_order", column_name="minimum_order", readonly=True
    )

    class Meta:
        model = Product
        fields = (*PRODUCT_COLUMNS, *PRODUCT_OPTIONAL_COLUMNS)
        import_id_fields = ("sku",)
        instance_loader_class = CachedInstanceLoader
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        clean_model_instances = True
        use_bulk = True
        batch_size = 1000

    id_column = "sku"

    def __init__(self, *, by: User | None = None, progress: Progress | None = None) -> None:
        super().__init__()
        self.by = by
        self.progress = progress
        self.suppliers: dict[str, Supplier] = {}
        self.terms: dict[tuple[int, int], SupplierProduct] = {}
        self.pending_terms: list[tuple[Product, Supplier, int, int]] = []

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        """The suppliers and their terms for the file's products, in two queries."""
        super().before_import(dataset, **kwargs)
        if "supplier" not in (dataset.headers or []):
            return
        names = {str(name).strip().lower() for name in dataset["supplier"] if name}
        self.suppliers = {
            supplier.name.lower(): supplier
            for supplier in Supplier.objects.all()
            if supplier.name.lower() in names
        }
        skus = {str(sku).strip() for sku in dataset["sku"] if sku}
        self.terms = {
            (terms.supplier_id, terms.product_id): terms
            for terms in SupplierProduct.objects.filter(
                product__sku__in=skus, supplier__in=self.suppliers.values()
            )
        }

    def _terms_wanted(self, row: Any) -> tuple[Supplier | None, int, int] | None:
        """The supplier terms a row asks for, None without a supplier; a bad
        one raises ValueError naming the cell."""
        name = cell(row, "supplier")
        if not name:
            if cell(row, "pack_size") or cell(row, "minimum_order"):
                raise ValueError(_("supplier: name the supplier the pack size is for."))
            return None
        supplier = self.suppliers.get(name.lower())
        if supplier is None:
            raise ValueError(_("supplier “%(name)s”: no such supplier.") % {"name": name[:60]})
        numbers = []
        for column in ("pack_size", "minimum_order"):
            text = cell(row, column) or "1"
            try:
                number = int(text)
            except ValueError:
                number = 0
            if not 1 <= number <= MAX_QUANTITY:
                raise ValueError(
                    _("%(column)s “%(value)s”: enter a whole number from 1 to %(high)d")
                    % {"column": column, "value": text[:40], "high": MAX_QUANTITY}
                )
            numbers.append(number)
        return supplier, numbers[0], numbers[1]

    def import_instance(self, instance: Product, row: Any, **kwargs: Any) -> None:
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:  # the cells' errors, kept with the terms'
            errors = dict(error.error_dict)
        try:
            instance._terms_wanted = self._terms_wanted(row)  # type: ignore[attr-defined]
        except ValueError as error:
            errors["supplier"] = [ValidationError(str(error))]
        policy = str(instance.backorder_policy or "").strip().lower()
        instance.backorder_policy = policy
        if "backorder_policy" not in errors and policy not in BackorderPolicy.values:
            errors["backorder_policy"] = [
                ValidationError(
                    _("policy “%(value)s”: choose %(choices)s.")
                    % {"value": policy[:20], "choices": ", ".join(BackorderPolicy.values)}
                )
            ]
        elif policy == BackorderPolicy.CAP and instance.backorder_cap is None:
            # Said here, in words: the CHECK constraint would only give its name.
            errors.setdefault("backorder_cap", []).append(
                ValidationError(_("cap: the “cap” policy needs a cap (0 or more units)."))
            )
        if errors:
            raise ValidationError(errors)

    def skip_row(
        self, instance: Product, original: Any, row: Any, import_validation_errors: Any = None
    ) -> bool:
        if not super().skip_row(instance, original, row, import_validation_errors):
            return False
        wanted = getattr(instance, "_terms_wanted", None)
        if wanted is None:
            return True
        supplier, pack_size, minimum_order = wanted
        terms = self.terms.get((supplier.pk, instance.pk))
        return terms is not None and (terms.pack_size, terms.minimum_order) == (
            pack_size,
            minimum_order,
        )

    def after_save_instance(self, instance: Product, row: Any, **kwargs: Any) -> None:
        # The product is saved in bulk later (it has no id yet): its terms
        # follow in after_import.
        wanted = getattr(instance, "_terms_wanted", None)
        if wanted is not None:
            self.pending_terms.append((instance, *wanted))

    def after_import(self, dataset: tablib.Dataset, result: Any, **kwargs: Any) -> None:
        """The supplier terms the file sets, written in bulk with their history
        (a product's preferred supplier stays as it was)."""
        super().after_import(dataset, result, **kwargs)
        new, changed = [], []
        for product, supplier, pack_size, minimum_order in self.pending_terms:
            terms = self.terms.get((supplier.pk, product.pk))
            if terms is None:
                new.append(
                    SupplierProduct(
                        supplier=supplier,
                        product=product,
                        pack_size=pack_size,
                        minimum_order=minimum_order,
                    )
                )
            elif (terms.pack_size, terms.minimum_order) != (pack_size, minimum_order):
                terms.pack_size, terms.minimum_order = pack_size, minimum_order
                changed.append(terms)
        if new:
            bulk_create_with_history(new, SupplierProduct, batch_size=1000, default_user=self.by)
        if changed:
            bulk_update_with_history(
                changed,
                SupplierProduct,
                ["pack_size", "minimum_order"],
                batch_size=1000,
                default_user=self.by,
            )
        self.pending_terms.clear()


COLUMN_NAMES = {
    "sku": "sku",
    "name": "name",
    "price": "price",
    "backorder_policy": "policy",
    "backorder_cap": "cap",
    "default_lead_time_days": "lead_time_days",
    "active": "active",
    "supplier": "supplier",
    "pack_size": "pack_size",
    "minimum_order": "minimum_order",
}


def _labels(dataset: tablib.Dataset) -> Sequence[str]:
    return [str(sku or "").strip() for sku in dataset["sku"]]


def products_check(*, dataset: tablib.Dataset, progress: Progress | None = None) -> ImportReport:
    """Every row of a product file tried and rolled back: new, changed,
    unchanged or refused with its reasons."""
    resource = ProductResource(progress=progress)
    result = resource.import_data(dataset, dry_run=True, use_transactions=True)
    return report_from_result(result, labels=_labels(dataset), columns=COLUMN_NAMES)


@transaction.atomic
def products_apply(
    *, dataset: tablib.Dataset, by: User | None, progress: Progress | None = None
) -> ImportReport:
    """Import a product file: all rows or none (ImportRefused when any row is refused)."""
    resource = ProductResource(by=by, progress=progress)
    result = resource.import_data(
        dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )
    report = report_from_result(result, labels=_labels(dataset), columns=COLUMN_NAMES)
    if not report.is_valid:
        raise ImportRefused(report)
    report.applied = True
    return report


def products_for_export() -> QuerySet[Product]:
    """Every product with its preferred supplier's terms: one query."""
    preferred = SupplierProduct.objects.filter(product=OuterRef("pk"), preferred=True)
    return Product.objects.order_by("sku").annotate(
        preferred_supplier=Subquery(preferred.values("supplier__name")[:1]),
        preferred_pack_size=Subquery(preferred.values("pack_size")[:1]),
        preferred_minimum_order=Subquery(preferred.values("minimum_order")[:1]),
    )
