"""CSV imports, the shared part: reading a file into rows (django-import-export's
CSV format, tablib underneath), the checks every kind makes before any row is
looked at (size, encoding, columns), and the report a check or an apply gives:
each row new, changed, unchanged or invalid, with its line number.

The kinds are defined where their data lives (`suppliers.imports` products,
`orders.imports` customers, `notifications.imports` stock counts and purchase
orders, which go through the use cases that tell customers).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import tablib
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _
from import_export import widgets
from import_export.formats.base_formats import CSV
from import_export.results import Result, RowResult
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

# A file bigger than this is refused before it is read: 50,000 product rows
# are about 3 MB.
MAX_IMPORT_BYTES = 10 * 1024 * 1024
MAX_IMPORT_ROWS = 50_000
# Files up to this many rows are checked and applied inside the request; longer
# ones run as a background job with a progress bar.
INLINE_IMPORT_ROWS = 500

NEW, CHANGED, UNCHANGED, INVALID = "new", "changed", "unchanged", "invalid"

Progress = Callable[[int, int], None]  # (rows done, rows in all)


class ImportFileError(Exception):
    """The file as a whole cannot be imported: every message says why."""

    def __init__(self, messages: Sequence[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass
class RowOutcome:
    """One data row: its line in the file (the header is line 1), what an
    import does with it, what it is (a SKU, an email) and why it is refused."""

    line: int
    status: str
    label: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What a check found or an apply did, row by row."""

    rows: list[RowOutcome] = field(default_factory=list)
    applied: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts = {NEW: 0, CHANGED: 0, UNCHANGED: 0, INVALID: 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    @property
    def errors(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.status == INVALID]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def as_json(self) -> dict[str, Any]:
        return {"applied": self.applied, "rows": [asdict(row) for row in self.rows]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ImportReport:
        data = data or {}
        return cls(
            rows=[RowOutcome(**row) for row in data.get("rows", [])],
            applied=bool(data.get("applied")),
        )


class ImportRefused(Exception):
    """Raised inside an apply's transaction to roll it back: some row failed."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{len(report.errors)} rows refused")
        self.report = report


def normalise_header(name: object) -> str:
    return str(name or "").strip().lower().replace(" ", "_").replace("-", "_")


def read_csv(
    *, content: bytes, required: Sequence[str], optional: Sequence[str] = ()
) -> tablib.Dataset:
    """The file's rows, with its header normalised (lower case, underscores).

    Raises ImportFileError for a file too big, not text, not UTF-8, not
    comma-separated values, without rows, with a column missing or unknown,
    or with more than MAX_IMPORT_ROWS rows.
    """
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError(
            [
                _("The file is %(size)s MB; at most %(limit)s MB can be imported at once.")
                % {
                    "size": f"{len(content) / 1024 / 1024:.1f}",
                    "limit": MAX_IMPORT_BYTES // 1024 // 1024,
                }
            ]
        )
    if b"\x00" in content[:65536]:
        raise ImportFileError(
            [_("This is not a CSV file. Save the sheet as “CSV UTF-8 (comma delimited)”.")]
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise ImportFileError(
            [
                _(
                    "Line %(line)d is not UTF-8 text. Save the sheet as "
                    "“CSV UTF-8 (comma delimited)” and upload it again."
                )
                % {"line": line}
            ]
        ) from error
    if not text.strip():
        raise ImportFileError([_("The file is empty.")])
    try:
        dataset = CSV().create_dataset(text)
    except Exception as error:  # tablib: rows of uneven length, a broken quote
        raise ImportFileError(
            [
                _(
                    "The file could not be read as CSV (%(problem)s): check that every row has "
                    "the same columns as the header."
                )
                % {"problem": type(error).__name__}
            ]
        ) from error
    headers = [normalise_header(name) for name in dataset.headers or []]
    dataset.headers = headers
    messages = []
    missing = [name for name in required if name not in headers]
    if missing:
        messages.append(
            _("Columns missing: %(missing)s. The first line must name the columns: %(expected)s.")
            % {"missing": ", ".join(missing), "expected": ", ".join([*required, *optional])}
        )
    known = {*required, *optional}
    unknown = [name for name in headers if name not in known]
    if unknown:
        messages.append(
            _("Columns not known: %(unknown)s. Columns this import reads: %(expected)s.")
            % {
                "unknown": ", ".join(name or _("(blank)") for name in unknown),
                "expected": ", ".join([*required, *optional]),
            }
        )
    if len(set(headers)) != len(headers):
        messages.append(_("A column is named twice in the first line."))
    if messages:
        raise ImportFileError(messages)
    if not len(dataset):
        raise ImportFileError([_("The file has a header line but no rows.")])
    if len(dataset) > MAX_IMPORT_ROWS:
        raise ImportFileError(
            [
                _("The file has %(rows)d rows; split it into files of at most %(limit)d.")
                % {"rows": len(dataset), "limit": MAX_IMPORT_ROWS}
            ]
        )
    return dataset


class PlainIntegerWidget(widgets.IntegerWidget):
    """A whole number as the file writes it, whatever the reader's language:
    "1.000" is not a thousand in one locale and one in another, so a file is
    read the same way by everyone (plain digits, a dot for decimals)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if self.is_empty(value):
            return None
        number = decimal.Decimal(str(value).strip())
        if number != number.to_integral_value() or abs(number) > 10**12:
            raise ValueError("not a whole number")
        return int(number)


class PlainDecimalWidget(widgets.DecimalWidget):
    """A decimal as the file writes it (see PlainIntegerWidget)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if self.is_empty(value):
            return None
        number = decimal.Decimal(str(value).strip())
        if not number.is_finite():
            raise ValueError("not a number")
        return number


def widget_message(widget: widgets.Widget) -> str:
    """What a person should write in a cell this widget could not read."""
    if isinstance(widget, widgets.IntegerWidget):
        return _("enter a whole number")
    if isinstance(widget, widgets.DecimalWidget):
        return _("enter a number such as 12.50")
    if isinstance(widget, widgets.DateWidget):
        return _("enter a date as YYYY-MM-DD")
    if isinstance(widget, widgets.BooleanWidget):
        return _("enter yes or no (1 or 0)")
    return _("this value cannot be read")


class HumanErrorsMixin:
    """For a django-import-export resource: a cell a widget cannot read is a
    row error that names the column and says what to write (the library's
    own messages are for programmers, and a bad decimal is not a ValueError)."""

    def import_field(
        self, field: Any, instance: Any, row: Any, is_m2m: bool = False, **kwargs: Any
    ) -> None:
        try:
            super().import_field(field, instance, row, is_m2m, **kwargs)  # type: ignore[misc]
        except (ValueError, decimal.InvalidOperation, ObjectDoesNotExist) as error:
            raise ValueError(
                _("%(column)s “%(value)s”: %(message)s")
                % {
                    "column": field.column_name,
                    "value": str(row.get(field.column_name, ""))[:40],
                    "message": widget_message(field.widget),
                }
            ) from error


class _NoDiff:
    """The report shows no field-by-field diff: building one exported every
    field of every row twice (a third of a 10,000-row check)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def compare_with(self, *args: Any, **kwargs: Any) -> None:
        pass

    def as_html(self) -> list[str]:
        return []


class ModelImportMixin(HumanErrorsMixin):
    """For a django-import-export ModelResource matched by one column (`id_column`):

    - a row whose key is on an earlier line too is refused, naming that line;
    - the model is validated by its fields' validators only: uniqueness is the
      instance loader's (a known key updates its row) and the line check's, and
      the resource checks its CHECK constraints in words (Django would run a
      query per constraint per row: 2 queries a row, 10,000 rows);
    - the check (dry run) saves nothing: there is nothing to roll back;
    - the apply saves in bulk, 1,000 rows a statement, with their history rows
      (django-simple-history's bulk helpers, the author recorded).
    """

    id_column = ""
    id_casefold = False
    by: Any = None
    progress: Progress | None = None

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        self.total = len(dataset)
        self.first_line: dict[str, int] = {}
        super().before_import(dataset, **kwargs)  # type: ignore[misc]

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)  # type: ignore[misc]
        except ValidationError as error:
            errors = dict(error.error_dict)
        key = cell(row, self.id_column)
        key = key.lower() if self.id_casefold else key
        line = int(kwargs.get("row_number", 0)) + 1
        if key and self.first_line.setdefault(key, line) != line:
            field = self.fields[self.id_column]  # type: ignore[attr-defined]
            errors.setdefault(field.attribute, []).append(
                ValidationError(
                    _("%(column)s “%(value)s” is on line %(line)d too; keep one line.")
                    % {
                        "column": self.id_column,
                        "value": cell(row, self.id_column)[:64],
                        "line": self.first_line[key],
                    }
                )
            )
        if errors:
            raise ValidationError(errors)

    def get_diff_class(self) -> type[_NoDiff]:
        return _NoDiff

    def validate_instance(
        self, instance: Any, import_validation_errors: Any = None, validate_unique: bool = True
    ) -> None:
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=errors.keys(), validate_unique=False, validate_constraints=False
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance: Any, is_create: bool, row: Any, **kwargs: Any) -> None:
        if kwargs.get("dry_run"):
            return
        super().save_instance(instance, is_create, row, **kwargs)  # type: ignore[misc]

    def bulk_create(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Any = None,
    ) -> None:
        instances = self.create_instances  # type: ignore[attr-defined]
        if instances and not dry_run:
            bulk_create_with_history(
                instances, type(instances[0]), batch_size=batch_size or 1000, default_user=self.by
            )
        instances.clear()

    def bulk_update(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Any = None,
    ) -> None:
        instances = self.update_instances  # type: ignore[attr-defined]
        if instances and not dry_run:
            id_fields = self.get_import_id_fields()  # type: ignore[attr-defined]
            fields = [
                field.attribute
                for name, field in self.fields.items()  # type: ignore[attr-defined]
                if not field.readonly and name not in id_fields and field.attribute
            ]
            bulk_update_with_history(
                instances,
                type(instances[0]),
                fields,
                batch_size=batch_size or 1000,
                default_user=self.by,
            )
        instances.clear()

    def after_import_row(self, row: Any, row_result: Any, **kwargs: Any) -> None:
        number = int(kwargs.get("row_number", 0))
        if self.progress is not None and number % 250 == 0:
            self.progress(number, self.total)


def validation_messages(error: ValidationError, columns: Mapping[str, str]) -> list[str]:
    """A row's ValidationError as sentences naming the file's columns."""
    if not hasattr(error, "error_dict"):
        return [str(message) for message in error.messages]
    messages = []
    for name, errors in error.error_dict.items():
        for message in ValidationError(errors).messages:
            if name == "__all__" or message.startswith(tuple(columns.values())):
                messages.append(str(message))
            else:
                messages.append(f"{columns.get(name, name)}: {message}")
    return messages


def report_from_result(
    result: Result, *, labels: Sequence[str], columns: Mapping[str, str]
) -> ImportReport:
    """A django-import-export Result as a report (rows in file order)."""
    report = ImportReport()
    invalid = {row.number: row for row in result.invalid_rows}
    errors = dict(result.row_errors())
    statuses = {
        RowResult.IMPORT_TYPE_NEW: NEW,
        RowResult.IMPORT_TYPE_UPDATE: CHANGED,
        RowResult.IMPORT_TYPE_SKIP: UNCHANGED,
    }
    for number, row_result in enumerate(result.rows, 1):
        label = labels[number - 1] if number - 1 < len(labels) else ""
        if number in invalid:
            messages = validation_messages(invalid[number].error, columns)
            report.rows.append(RowOutcome(number + 1, INVALID, label, messages))
        elif number in errors:
            messages = [str(error.error) for error in errors[number]]
            report.rows.append(RowOutcome(number + 1, INVALID, label, messages))
        else:
            status = statuses.get(row_result.import_type, INVALID)
            report.rows.append(RowOutcome(number + 1, status, label))
    for error in result.base_errors:
        report.rows.append(RowOutcome(1, INVALID, "", [str(error.error)]))
    return report


def cell(row: Mapping[str, Any], name: str) -> str:
    """A cell as text, stripped ('' when the column is absent or blank)."""
    value = row.get(name)
    return "" if value is None else str(value).strip()


def clean_cell(row: Mapping[str, Any], name: str, widget: widgets.Widget, errors: list[str]) -> Any:
    """A cell read by an import-export widget; a bad one adds a message to `errors`."""
    try:
        return widget.clean(cell(row, name) or None, row=row)
    except (ValueError, decimal.InvalidOperation, ArithmeticError):
        errors.append(
            _("%(column)s “%(value)s”: %(message)s")
            % {"column": name, "value": cell(row, name)[:40], "message": widget_message(widget)}
        )
        return None


def required_cells(row: Mapping[str, Any], names: Iterable[str], errors: list[str]) -> None:
    for name in names:
        if not cell(row, name):
            errors.append(_("%(column)s: this cell may not be blank.") % {"column": name})
