"""Settings read from the environment: EMAIL_URL parsing and production refusals."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.settings.base import email_settings


def test_empty_email_url_means_console() -> None:
    assert email_settings("")["EMAIL_BACKEND"].endswith("console.EmailBackend")


def test_smtp_email_url_is_parsed() -> None:
    parsed = email_settings("smtp://mailer:p%40ss@mail.example.com:587?tls=1")
    assert parsed["EMAIL_HOST"] == "mail.example.com"
    assert parsed["EMAIL_PORT"] == 587
    assert parsed["EMAIL_HOST_USER"] == "mailer"
    assert parsed["EMAIL_HOST_PASSWORD"] == "p@ss"
    assert parsed["EMAIL_USE_TLS"] is True
    assert parsed["EMAIL_USE_SSL"] is False


def test_unknown_email_scheme_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="EMAIL_URL scheme"):
        email_settings("carrier-pigeon://coop")


PRODUCTION_UNSET = {"SECRET_KEY", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}


def _production_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_UNSET}
    return subprocess.run(
        [
            sys.executable,
            "manage.py",
            "check",
            "--deploy",
            "--fail-level",
            "WARNING",
            "--settings=config.settings.production",
        ],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("absent", ["SECRET_KEY", "DATABASE_URL"])
def test_production_refuses_to_start_without(absent: str) -> None:
    env = {"SECRET_KEY": "x" * 60, "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x"}
    del env[absent]
    result = _production_check(env)
    assert result.returncode != 0
    assert f"{absent} must be set in production" in result.stderr


def test_production_passes_check_deploy() -> None:
    result = _production_check(
        {
            "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6,
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
            "ALLOWED_HOSTS": "desk.example.com",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
