"""The upload form of /imports/: what the file holds (the kinds the user may
import) and the file."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from desk.access import may_import
from notifications.models import ImportKind


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"), choices=())
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Comma-separated, UTF-8, the first line naming the columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in ImportKind.choices if may_import(user, value)
        ]
