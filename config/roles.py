"""Staff roles: Django groups, checked in every view (`desk.roles.role_required_for`,
which reads the table in `desk.access`).

Superusers may do everything. A user without the role a page asks for gets
403, on the page and on every fragment of it alike.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.utils.translation import gettext as _


class Role(StrEnum):
    WAREHOUSE = "warehouse"
    CUSTOMER_SERVICE = "customer_service"
    PURCHASING = "purchasing"

    @property
    def label(self) -> str:
        return {
            Role.WAREHOUSE: _("Warehouse"),
            Role.CUSTOMER_SERVICE: _("Customer service"),
            Role.PURCHASING: _("Purchasing"),
        }[self]


ALL_ROLES: tuple[Role, ...] = tuple(Role)


def user_roles(user: Any) -> frozenset[str]:
    """The role names a user holds (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_backorder_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) & {r.value for r in Role}
        user._backorder_roles = cached
    return cached


def has_role(user: Any, *roles: Role) -> bool:
    """True if the user is a superuser or holds any of the roles."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return bool(user_roles(user) & {r.value for r in roles})


def acting_user(user: User | AnonymousUser | None) -> User | None:
    """The user to record as a change's author: None for anonymous or missing
    (the system, a customer's link, the storefront)."""
    return user if isinstance(user, User) and user.is_authenticated else None
