"""The queue's bulk job form: which lines, which action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from desk.converters import largest_id
from notifications.models import BulkJobKind
from orders.limits import MAX_PRIORITY, MIN_PRIORITY, PRIORITY_MESSAGE


class LineIdsField(forms.Field):
    """Several order line ids (`lines=1&lines=2`): the ticked rows of the queue."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one line in the table."),
        "invalid": _("The selection is not valid; reload the page and select again."),
        "too_many": _("Select at most %(limit)d lines at once."),
    }

    def __init__(self, *args: Any, limit: int = 1000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = sorted({int(item) for item in values})
        except (TypeError, ValueError) as error:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from error
        # An id no row can have (10**30) is refused here, not by the database.
        if any(pk <= 0 or pk > largest_id() for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if len(ids) > self.limit:
            raise forms.ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": self.limit}
            )
        return ids


class QueueBulkForm(forms.Form):
    """A bulk action on the ticked queue lines: tell their customers, or set a priority."""

    kind = forms.ChoiceField(
        choices=BulkJobKind.choices,
        error_messages={
            "required": _("Choose what to do with the selected lines."),
            "invalid_choice": _("Choose what to do with the selected lines."),
        },
    )
    lines = LineIdsField()
    priority = forms.IntegerField(
        required=False,
        min_value=MIN_PRIORITY,
        max_value=MAX_PRIORITY,
        error_messages={
            "invalid": PRIORITY_MESSAGE,
            "min_value": PRIORITY_MESSAGE,
            "max_value": PRIORITY_MESSAGE,
        },
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if (
            cleaned.get("kind") == BulkJobKind.REPRIORITISE
            and cleaned.get("priority") is None
            and "priority" not in self.errors
        ):
            self.add_error("priority", _("Enter the priority to give the selected lines."))
        return cleaned

    def parameters(self) -> dict[str, Any]:
        """The job's parameters: the priority to set, for a reprioritise."""
        if self.cleaned_data["kind"] == BulkJobKind.REPRIORITISE:
            return {"priority": self.cleaned_data["priority"]}
        return {}
