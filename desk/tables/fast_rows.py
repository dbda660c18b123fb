"""A django-tables2 table whose body renders without the per-cell machinery.

django-tables2 renders each cell through `BoundRow.get_cell`: an accessor walk
with a model field lookup (for `get_FOO_display`), then `call_with_appropriate`,
which inspects the render method's signature, for every cell. On the queue page
that was about 0.2 ms a cell, 550 cells a page: most of the page's server time.

`FastRowsTable.fast_rows` does the same work with everything that does not
depend on the record decided once per column: the `<td>` attributes, the render
method and the arguments it takes, whether the value needs `get_FOO_display`.
Columns it cannot plan for (other column classes, links, callable attributes,
choice fields) fall back to django-tables2's own `get_cell`, so a cell renders
the same either way. `templates/tables/table.html` uses `fast_rows` when the
table has it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import django_tables2 as tables
from django.utils.html import format_html, strip_tags
from django_tables2.utils import Accessor

Cell = Callable[[Any, Any], Any]  # (record, bound_row) -> the cell's content


RENDER_ARGUMENTS = {"value", "record"}


class FastRowsTable(tables.Table):
    def fast_rows(self) -> list[tuple[str, list[tuple[str, Any]]]]:
        """The page's rows as (row attributes HTML, [(td attributes HTML, content)])."""
        plans = [(self._td_html(bound), self._cell(bound)) for bound in self.columns]
        rows = []
        for row in self.paginated_rows:
            record = row.record
            rows.append((row.attrs.as_html(), [(td, cell(record, row)) for td, cell in plans]))
        return rows

    @staticmethod
    def _td_html(bound: Any) -> str:
        """The cell's attributes, and its column's name as `data-label`: at tablet
        width the rows reflow into cards that show it beside each value."""
        attrs = str(bound.attrs["td"].as_html()) if "td" in bound.attrs else ""
        label = strip_tags(str(bound.verbose_name or "")).strip()  # a header may be a control
        return format_html('data-label="{}" ', label) + attrs if label else attrs

    def _cell(self, bound: Any) -> Cell:
        name, column = bound.name, bound.column

        def slow(record: Any, row: Any) -> Any:
            return row.get_cell(name)

        td = column.attrs.get("td", {})
        if (
            type(column) is not tables.Column
            or bound.link
            or column.localize is not None
            or any(callable(value) for value in td.values())
        ):
            return slow
        accessor = Accessor(bound.accessor)
        render = getattr(self, f"render_{name}", None)
        default, empty = bound.default, column.empty_values
        if render is None:
            if self._has_choices(accessor):
                return slow

            def plain(record: Any, row: Any) -> Any:
                value = accessor.resolve(record)
                return default if value in empty else value

            return plain
        wanted = set(inspect.signature(render).parameters)
        if not wanted <= RENDER_ARGUMENTS:
            return slow

        def rendered(record: Any, row: Any) -> Any:
            value = accessor.resolve(record)
            if value in empty:
                return default
            arguments = {"value": value, "record": record}
            return render(**{name: arguments[name] for name in wanted})

        return rendered

    def _has_choices(self, accessor: Accessor) -> bool:
        """Whether the accessor ends on a model field with choices (django-tables2
        shows those through get_FOO_display); without a model, count it as yes."""
        model = getattr(self.data, "model", None)
        if model is None:
            return True
        field = accessor.get_field(model)  # None for an annotation
        return bool(getattr(field, "choices", None))
