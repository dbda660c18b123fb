"""Settings read from the environment: EMAIL_URL parsing, the embedded mode's
secret key, and production refusals."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.settings.base import email_settings, embedded_secret_key


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


PRODUCTION_UNSET = {"SECRET_KEY", "DATABASE_URL", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE", "DEBUG"}
PRODUCTION_ENV = {
    "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
    "SITE_URL": "https://desk.example.com",
}


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


@pytest.mark.parametrize("absent", ["SECRET_KEY", "DATABASE_URL", "SITE_URL"])
def test_production_refuses_to_start_without(absent: str) -> None:
    env = {**PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(64)}
    del env[absent]
    result = _production_check(env)
    assert result.returncode != 0
    assert f"{absent} must be set in production" in result.stderr


def test_production_passes_check_deploy() -> None:
    result = _production_check({**PRODUCTION_ENV, "ALLOWED_HOSTS": "desk.example.com"})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        # the constant the base settings held before the embedded key file
        ("django-insecure-embedded-mode-only-never-in-production", "django-insecure"),
        ("django-insecure-" + secrets.token_urlsafe(64), "django-insecure"),
        (settings.SECRET_KEY, "django-insecure"),  # the test settings' key
        (secrets.token_hex(49)[:49], "49 characters"),
        ("abab" * 20, "fewer than 5 different characters"),
    ],
)
def test_production_refuses_to_start_with_a_development_or_weak_key(key: str, reason: str) -> None:
    result = _production_check({**PRODUCTION_ENV, "SECRET_KEY": key})
    assert result.returncode != 0
    assert "SECRET_KEY is not fit for production" in result.stderr
    assert reason in result.stderr


@pytest.mark.parametrize("site_url", ["desk.example.com", "ftp://desk.example.com", "https://"])
def test_production_refuses_a_site_url_customers_cannot_reach(site_url: str) -> None:
    result = _production_check({**PRODUCTION_ENV, "SITE_URL": site_url})
    assert result.returncode != 0
    assert "SITE_URL must be the address customers reach the app at" in result.stderr


def test_make_run_points_site_url_at_its_port(tmp_path: Path) -> None:
    # `make run` with a stand-in python that prints the SITE_URL each command gets
    fake_python = tmp_path / "python"
    fake_python.write_text('#!/bin/sh\necho "SITE_URL=$SITE_URL"\n')
    fake_python.chmod(0o755)
    (tmp_path / ".synced").touch()

    def site_urls(env: dict[str, str]) -> set[str]:
        unset = {"SITE_URL", "PORT", "REDIS_URL", "MAKEFLAGS"}
        clean = {k: v for k, v in os.environ.items() if k not in unset}
        result = subprocess.run(
            ["make", "--no-print-directory", "run", f"BIN={tmp_path}"],
            cwd=settings.BASE_DIR,
            env={**clean, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return {line for line in result.stdout.splitlines() if line.startswith("SITE_URL=")}

    assert site_urls({"PORT": "9123"}) == {"SITE_URL=http://127.0.0.1:9123"}
    assert site_urls({}) == {"SITE_URL=http://127.0.0.1:8000"}
    assert site_urls({"SITE_URL": "https://shop.example"}) == {"SITE_URL=https://shop.example"}


def test_embedded_secret_key_is_made_once_random_and_private(tmp_path: Path) -> None:
    path = tmp_path / "build" / "secret_key"
    key = embedded_secret_key(path)
    assert len(key) >= 50 and not key.startswith("django-insecure")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert embedded_secret_key(path) == key  # reused, not made again
    assert embedded_secret_key(tmp_path / "elsewhere" / "secret_key") != key
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_processes_starting_together_share_one_embedded_key(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    code = (
        "import sys; from config.settings.base import embedded_secret_key as make; "
        "from pathlib import Path; print(make(Path(sys.argv[1])))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path)],
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    keys = {process.communicate(timeout=60)[0].strip() for process in processes}
    assert keys == {path.read_text().strip()}


def test_embedded_mode_reads_its_key_from_the_ignored_file() -> None:
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    code = "from config.settings import base; print(base.SECRET_KEY)"
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=settings.BASE_DIR,
            env=clean,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs[0] == runs[1] == (settings.BASE_DIR / "build" / "secret_key").read_text().strip()
    assert not runs[0].startswith("django-insecure")
    ignored = subprocess.run(
        ["git", "check-ignore", "build/secret_key"], cwd=settings.BASE_DIR, check=False
    )
    assert ignored.returncode == 0


def _base_setting(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in env}
    return subprocess.run(
        [sys.executable, "-c", f"from config.settings import base; print(base.{name})"],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_trusted_proxy_count_is_read_from_the_environment() -> None:
    assert _base_setting("TRUSTED_PROXY_COUNT", {"TRUSTED_PROXY_COUNT": ""}).stdout == "0\n"
    assert _base_setting("TRUSTED_PROXY_COUNT", {"TRUSTED_PROXY_COUNT": "2"}).stdout == "2\n"
    refused = _base_setting("TRUSTED_PROXY_COUNT", {"TRUSTED_PROXY_COUNT": "-1"})
    assert refused.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be 0 or more" in refused.stderr
