"""The role check every staff view starts with: `role_required_for(url name)`
reads the roles from `desk.access.ACCESS`, the one role table.

Superusers may do everything. A user without the role a page asks for gets
403, on the page and on every fragment of it alike.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from config.roles import Role, has_role
from desk.access import ACCESS

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


def role_required(*roles: Role) -> Callable[[ViewFunc], ViewFunc]:
    """Login required, then one of `roles` (or superuser), else 403."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_role(request.user, *roles):
                raise PermissionDenied(_("Your role does not give access to this page."))
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def role_required_for(url_name: str) -> Callable[[ViewFunc], ViewFunc]:
    """Login required, then the roles `desk.access.ACCESS[url_name]` gives the
    request's method (or superuser), else 403. The view is marked with the
    entry it checks, so the URL-role test can tell that it reads the table."""
    access = ACCESS[url_name]

    def decorator(view: ViewFunc) -> ViewFunc:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            method = request.method or "GET"
            if not has_role(request.user, *access.roles_for(method)):
                raise PermissionDenied(_("Your role does not give access to this page."))
            return view(request, *args, **kwargs)

        wrapped.access_url_name = url_name  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator
