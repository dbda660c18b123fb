"""The client's address, seen through the reverse proxies we trust.

Each proxy in front of the app appends the address it took the connection
from to `X-Forwarded-For`. Behind `TRUSTED_PROXY_COUNT` such proxies the
client is therefore that many entries from the right (the last proxy is the
connection itself, REMOTE_ADDR); whatever stands further left the client wrote
itself and proves nothing. With no trusted proxy the header is ignored
entirely, so a forged one changes nothing.

Login lockouts (django-axes, AXES_CLIENT_IP_CALLABLE) and the password reset
throttle key on this address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or the one our proxies vouch for."""
    connection = str(request.META.get("REMOTE_ADDR", ""))
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return connection
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < count:
        # Not through all of our proxies (a direct request, or fewer proxies than
        # configured): the connection is the best address there is.
        return connection
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return connection
