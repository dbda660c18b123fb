"""The language a staff member reads the pages in.

Their own choice (`StaffPreference.language`, set with the EN · ID · NL switch
in the navigation), else what the browser asks for (Accept-Language, which
Django's LocaleMiddleware has already activated), else LANGUAGE_CODE.

The choice is copied into the session when they log in and when they switch,
so reading it costs no query on a page view.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from desk.models import StaffPreference
from desk.roles import role_required_for
from desk.staff_language import LANGUAGE_CODES, SESSION_KEY, staff_language_of


class UserLanguageMiddleware:
    """After AuthenticationMiddleware: a signed-in user's chosen language wins
    over the browser's. Anonymous visitors keep LocaleMiddleware's choice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = request.session.get(SESSION_KEY)
            if language is None:  # a session from before the choice was remembered
                language = request.session[SESSION_KEY] = staff_language_of(user)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


@role_required_for("language")
@require_POST
def language_switch(request: HttpRequest) -> HttpResponseRedirect:
    """POST language=<code> (or "" for the browser's), next=<path>: remember
    the choice and go back to the page it was made on."""
    language = request.POST.get("language", "")
    if language not in LANGUAGE_CODES:
        language = ""
    user = request.user
    assert user.is_authenticated  # role_required_for logged them in
    StaffPreference.objects.update_or_create(user=user, defaults={"language": language})
    request.session[SESSION_KEY] = language
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("home")
    return HttpResponseRedirect(target)
