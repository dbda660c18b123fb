"""Production settings: everything from the environment, secure by default.

Refuses to start without SECRET_KEY, DATABASE_URL and SITE_URL, or with a
SECRET_KEY that is a development key or weak, and passes `manage.py check --deploy`.
"""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# Checked before the base settings are read: without SECRET_KEY they would make
# the embedded mode's key file, which is no key for production.
for required in ("SECRET_KEY", "DATABASE_URL", "SITE_URL"):
    if not os.environ.get(required, "").strip():
        raise ImproperlyConfigured(f"{required} must be set in production.")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import SECRET_KEY, SITE_URL, secret_key_problem  # noqa: E402

if problem := secret_key_problem(SECRET_KEY):
    raise ImproperlyConfigured(
        f"SECRET_KEY is not fit for production: {problem}. Generate one, e.g. with "
        '`python -c "import secrets; print(secrets.token_urlsafe(64))"`.'
    )
# Customers' links in emails start with SITE_URL: the embedded default would
# send them to 127.0.0.1.
_site = urlsplit(SITE_URL)
if _site.scheme not in {"http", "https"} or not _site.hostname:
    raise ImproperlyConfigured(
        f"SITE_URL must be the address customers reach the app at, "
        f"e.g. https://desk.example.com, not {SITE_URL!r}."
    )

DEBUG = False
DEMO_DATA_ALLOWED = False

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Behind a proxy that terminates TLS and sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
