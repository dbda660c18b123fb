"""The customer import and export (email, name, tier, language), a
django-import-export ModelResource matched by email address whatever its case,
as intake matches customers; an unchanged row is skipped, so the same file
twice changes nothing."""

from __future__ import annotations

from typing import Any

import tablib
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from import_export import fields, resources, widgets
from import_export.instance_loaders import BaseInstanceLoader

from inventory.imports import (
    ImportRefused,
    ImportReport,
    ModelImportMixin,
    PlainIntegerWidget,
    Progress,
    cell,
    report_from_result,
)
from orders.models import Customer, Tier

CUSTOMER_COLUMNS = ("email", "name")
CUSTOMER_OPTIONAL_COLUMNS = ("tier", "language")
_TIERS = {label.lower(): value for value, label in Tier.choices} | {
    name.lower(): member.value for name, member in Tier.__members__.items()
}


class TierWidget(PlainIntegerWidget):
    """A tier as its number (1 VIP, 2 preferred, 3 standard) or its name."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = str(value or "").strip().lower()
        if text in _TIERS:
            return _TIERS[text]
        return super().clean(value, row, **kwargs)


class LowerCharWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        return str(value or "").strip().lower()


class EmailInstanceLoader(BaseInstanceLoader):
    """The file's customers found by email whatever its case, in one query per 2,000."""

    def __init__(self, resource: Any, dataset: tablib.Dataset | None = None) -> None:
        super().__init__(resource, dataset)
        emails = sorted(
            {str(e).strip().lower() for e in (dataset or tablib.Dataset())["email"] if e}
        )
        self.by_email: dict[str, Customer] = {}
        for start in range(0, len(emails), 2000):
            for customer in Customer.objects.annotate(email_lower=Lower("email")).filter(
                email_lower__in=emails[start : start + 2000]
            ):
                self.by_email[customer.email.lower()] = customer

    def get_instance(self, row: Any) -> Customer | None:
        return self.by_email.get(cell(row, "email").lower())


class CustomerResource(ModelImportMixin, resources.ModelResource):
    email = fields.Field(attribute="email", column_name="email", widget=widgets.CharWidget())
    name = fields.Field(attribute="name", column_name="name", widget=widgets.CharWidget())
    tier = fields.Field(attribute="tier", column_name="tier", widget=TierWidget())
    language = fields.Field(attribute="language", column_name="language", widget=LowerCharWidget())

    class Meta:
        model = Customer
        fields = (*CUSTOMER_COLUMNS, *CUSTOMER_OPTIONAL_COLUMNS)
        import_id_fields = ("email",)
        instance_loader_class = EmailInstanceLoader
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        clean_model_instances = True
        use_bulk = True
        batch_size = 1000

    id_column = "email"
    id_casefold = True

    def __init__(self, *, by: User | None = None, progress: Progress | None = None) -> None:
        super().__init__()
        self.by = by
        self.progress = progress
        self.total = 0

    def skip_row(
        self, instance: Any, original: Any, row: Any, import_validation_errors: Any = None
    ) -> bool:
        # "ann@x" for "Ann@X" is the same customer, not a change.
        if (
            original is not None
            and original.pk is not None
            and (instance.email.lower() == original.email.lower())
        ):
            instance.email = original.email
        return bool(super().skip_row(instance, original, row, import_validation_errors))


COLUMN_NAMES = {"email": "email", "name": "name", "tier": "tier", "language": "language"}


def _labels(dataset: tablib.Dataset) -> list[str]:
    return [str(email or "").strip() for email in dataset["email"]]


def customers_check(*, dataset: tablib.Dataset, progress: Progress | None = None) -> ImportReport:
    """Every row of a customer file tried and rolled back."""
    resource = CustomerResource(progress=progress)
    result = resource.import_data(dataset, dry_run=True, use_transactions=True)
    return report_from_result(result, labels=_labels(dataset), columns=COLUMN_NAMES)


@transaction.atomic
def customers_apply(
    *, dataset: tablib.Dataset, by: User | None, progress: Progress | None = None
) -> ImportReport:
    """Import a customer file: all rows or none (ImportRefused when any row is refused)."""
    resource = CustomerResource(by=by, progress=progress)
    result = resource.import_data(
        dataset, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )
    report = report_from_result(result, labels=_labels(dataset), columns=COLUMN_NAMES)
    if not report.is_valid:
        raise ImportRefused(report)
    report.applied = True
    return report


def customers_for_export() -> QuerySet[Customer]:
    return Customer.objects.order_by("email")
