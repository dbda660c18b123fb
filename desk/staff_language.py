"""The staff member's chosen language as the session keeps it.

No model imports at the top: `desk.apps` connects `remember_on_login` before
the models are loaded."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest

SESSION_KEY = "staff_language"
LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def staff_language_of(user: Any) -> str:
    """The user's chosen language, or "" when they have not chosen."""
    preference = apps.get_model("desk", "StaffPreference")
    choice = preference.objects.filter(user=user).values_list("language", flat=True).first()
    return choice if choice in LANGUAGE_CODES else ""


def remember_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in: copy the user's choice into their new session."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = staff_language_of(user)
