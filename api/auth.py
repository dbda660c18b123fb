"""`Authorization: Bearer <key>`: no key, an unknown or a revoked one → 401; a key
without the operation's scope → 403."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from api.keys import api_key_authenticate
from api.models import ApiKey, Scope


class ApiKeyAuth(HttpBearer):
    """A key with one of these scopes."""

    def __init__(self, *scopes: Scope) -> None:
        super().__init__()
        assert scopes
        self.scopes = scopes

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        api_key = api_key_authenticate(key=token)
        if api_key is None:
            return None
        if not api_key.scope_set.intersection(self.scopes):
            raise AuthorizationError(
                message=f"This API key lacks the scope {' or '.join(self.scopes)}."
            )
        return api_key


def request_api_key(request: HttpRequest) -> ApiKey:
    """The key the request was authenticated with (set by ApiKeyAuth)."""
    api_key = getattr(request, "auth", None)
    assert isinstance(api_key, ApiKey)
    return api_key
