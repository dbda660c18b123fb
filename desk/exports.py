"""The lists as CSV files in the formats the imports read: products, stock
counts, customers, purchase order lines. Streamed row by row (a fixed number of
queries: each format's rows come from one query with their relations), so a
file exported, edited and imported again changes only what was edited."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from desk.roles import role_required_for
from notifications.imports import IMPORT_FORMATS
from notifications.models import ImportKind

EXPORT_CHUNK = 2000


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer."""

    def write(self, value: str) -> str:
        return value


def _lines(kind: str) -> Iterator[str]:
    spec = IMPORT_FORMATS[kind]
    resource = spec.resource()
    fields = resource.get_export_fields()
    writer = csv.writer(_Echo())
    yield writer.writerow([field.column_name for field in fields])
    for instance in spec.rows_for_export().iterator(chunk_size=EXPORT_CHUNK):
        # Native values (not the reader's locale): "12.50", not "12,50".
        yield writer.writerow(
            [resource.export_field(field, instance, force_native_type=True) for field in fields]
        )


def _export(kind: str, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_lines(kind), content_type="text/csv; charset=utf-8")
    filename = f"{name}-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@role_required_for("products-export")
@require_GET
def products_export(request: HttpRequest) -> Any:
    """Every product with its policy, cap, price and preferred supplier's terms."""
    return _export(ImportKind.PRODUCTS, "products")


@role_required_for("stock-counts-export")
@require_GET
def stock_counts_export(request: HttpRequest) -> Any:
    """Units on hand per warehouse and SKU: a count sheet to fill in and import."""
    return _export(ImportKind.STOCK_COUNTS, "stock-counts")


@role_required_for("customers-export")
@require_GET
def customers_export(request: HttpRequest) -> Any:
    return _export(ImportKind.CUSTOMERS, "customers")


@role_required_for("purchase-orders-export")
@require_GET
def purchase_orders_export(request: HttpRequest) -> Any:
    """Every purchase order line with its order's supplier, warehouse, reference."""
    return _export(ImportKind.PURCHASE_ORDERS, "purchase-orders")
