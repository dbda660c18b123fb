"""A form carrying a one-time token: a submission changes things once, however often sent."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class OneTimeForm(forms.Form):
    """A form carrying the one-time token it was rendered with
    (orders.services.form_submission_record spends it with the change)."""

    token = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form is out of date: reload the page and try again."),
            "invalid": _("This form is out of date: reload the page and try again."),
        },
    )
