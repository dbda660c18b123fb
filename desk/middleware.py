"""Responses that belong to one person are not kept by any cache.

A staff page shows customers' names and orders; a customer link page shows one
customer's order and acts on it. Neither may be stored by a shared proxy or
left in a browser's cache for the next user of a tablet on the floor to find
with the back button. Static files (served earlier, by whitenoise) and pages for
anonymous visitors keep whatever caching they had.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control

# URL names of pages that are personal without a login: the link is the credential.
PERSONAL_WITHOUT_LOGIN = frozenset({"customer-link"})


class PrivateNoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in user
    and on the customer link pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        match = request.resolver_match
        if (match is not None and match.url_name in PERSONAL_WITHOUT_LOGIN) or (
            request.user.is_authenticated
        ):
            patch_cache_control(response, private=True, no_store=True)
        return response
