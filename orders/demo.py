"""Demo users (and, as the domain grows, a believable demo shop).

Only for the embedded and development modes: refused when settings say
DEMO_DATA_ALLOWED is False (production).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from config.roles import Role

DEMO_PASSWORD = "demo"  # noqa: S105 - the documented demo password, refused in production


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    roles: tuple[Role, ...]
    superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("warehouse", "Wendy", (Role.WAREHOUSE,)),
    DemoUser("service", "Sam", (Role.CUSTOMER_SERVICE,)),
    DemoUser("purchasing", "Pat", (Role.PURCHASING,)),
    DemoUser("admin", "Alex", (), superuser=True),
)


def ensure_demo_allowed() -> None:
    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise ImproperlyConfigured("Demo data and demo users are never loaded in production.")


@transaction.atomic
def demo_users_load() -> list[User]:
    """Create or reset the four demo users; safe to run any number of times."""
    ensure_demo_allowed()
    users = []
    for spec in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=spec.username)
        user.first_name = spec.first_name
        user.email = f"{spec.username}@backorder-desk.test"
        user.is_staff = spec.superuser
        user.is_superuser = spec.superuser
        user.is_active = True
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get_or_create(name=r.value)[0] for r in spec.roles])
        users.append(user)
    return users
