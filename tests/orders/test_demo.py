from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_load_demo_creates_the_four_users_and_is_safe_twice() -> None:
    call_command("load_demo")
    call_command("load_demo")
    users = {u.username: u for u in User.objects.all()}
    assert set(users) == {"warehouse", "service", "purchasing", "admin"}
    assert users["admin"].is_superuser
    assert list(users["warehouse"].groups.values_list("name", flat=True)) == ["warehouse"]
    assert list(users["service"].groups.values_list("name", flat=True)) == ["customer_service"]
    assert users["purchasing"].check_password("demo")


@override_settings(DEMO_DATA_ALLOWED=False)
def test_load_demo_is_refused_in_production() -> None:
    with pytest.raises(CommandError, match="never loaded in production"):
        call_command("load_demo")
    assert not User.objects.exists()
