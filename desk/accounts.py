"""Accounts: the password reset page, throttled.

Django's reset form is public and sends a mail per request. Here each client
address may ask RESETS_PER_CLIENT times an hour and each e-mail address gets at
most MAILS_PER_ADDRESS mails an hour; past either, the answer is the same "if
an account exists we sent an email" page as always, and nothing is sent. The
counts live in the default cache (Redis when REDIS_URL is set, so every web
process shares them; in-process memory in the embedded mode).
"""

from __future__ import annotations

import hashlib
import logging

from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseRedirect

from desk.proxies import client_address

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 60 * 60
MAILS_PER_ADDRESS = 3
RESETS_PER_CLIENT = 10


def _counted_within(key: str, limit: int) -> bool:
    """Count one more request for `key` in its window; False once past `limit`.

    The window starts with the first request and is not extended by later ones.
    """
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        count = 1
    return count <= limit


def password_reset_allowed(*, client: str, email: str) -> bool:
    """Whether a reset mail may go to `email` for a request from `client`."""
    if not _counted_within(f"password-reset:client:{client}", RESETS_PER_CLIENT):
        logger.warning("password reset throttled: too many requests from %s", client)
        return False
    # Hashed: the cache holds no e-mail addresses. Lower case, as the form
    # matches accounts by email__iexact.
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    if not _counted_within(f"password-reset:email:{digest}", MAILS_PER_ADDRESS):
        logger.warning("password reset throttled: too many mails to one address")
        return False
    return True


class ThrottledPasswordResetView(PasswordResetView):
    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        allowed = password_reset_allowed(
            client=client_address(self.request), email=form.cleaned_data["email"]
        )
        if not allowed:
            # The page every request gets: it must not tell a throttled address
            # (or an existing account) from any other.
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


password_reset = ThrottledPasswordResetView.as_view()
