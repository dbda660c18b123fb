"""Settings shared by every mode.

The environment is read once, here, with defaults that run the embedded mode:
SQLite under the project, Celery tasks executed in-process, emails on the console
and in the app's own outbox. `test.py` and `production.py` only override.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def email_settings(url: str) -> dict[str, Any]:
    """Turn EMAIL_URL into Django's EMAIL_* settings.

    `smtp://user:password@host:587?tls=1`, `smtps://…` (implicit TLS), `console://`,
    `locmem://`. Empty means the console: the embedded mode shows messages there
    and in the outbox page.
    """
    if not url or url.startswith("console:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if url.startswith("locmem:"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"}:
        raise ValueError(f"EMAIL_URL scheme must be smtp, smtps, console or locmem: {url!r}")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_SSL": parts.scheme == "smtps",
        "EMAIL_USE_TLS": query.get("tls", "0").lower() in {"1", "true", "yes"},
        "EMAIL_TIMEOUT": int(query.get("timeout", "10")),
    }


def embedded_secret_key(path: Path) -> str:
    """The embedded mode's SECRET_KEY: random, made on the first run, kept in `path`.

    A constant in the repository would let anyone sign customer links and
    sessions for any installation that kept it. The file is written whole under
    a temporary name and linked into place, so processes starting together (web,
    worker and beat under honcho) all end up with the one key that won.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(64) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it and a new key is made.")
    return key


def secret_key_problem(key: str) -> str | None:
    """Why `key` must not sign anything in production, or None when it may.

    The rules of Django's own check (security.W009), refused instead of warned
    about: a "django-insecure" key is startproject's or a development one.
    """
    if key.startswith("django-insecure"):
        return 'it starts with "django-insecure", the mark of a development key'
    if len(key) < 50:
        return f"it has {len(key)} characters; at least 50 are needed"
    if len(set(key)) < 5:
        return "it has fewer than 5 different characters"
    return None


# Production sets SECRET_KEY (production.py refuses to start without a strong one).
SECRET_KEY = env_str("SECRET_KEY") or embedded_secret_key(BASE_DIR / "build" / "secret_key")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# How many reverse proxies in front of the app append to X-Forwarded-For (the
# README's nginx: 1). 0 ignores the header: the connection is the client.
TRUSTED_PROXY_COUNT = int(env_str("TRUSTED_PROXY_COUNT") or 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
REDIS_URL = env_str("REDIS_URL")
EMAIL_URL = env_str("EMAIL_URL")

# The promise engine (orders.promising): "naive" takes every expected date at
# face value; "calibrated" adds what each supplier's record says about its
# lateness, at the compensation policy's confidence, and counts handling in the
# warehouse's working days. Calibrated is the default: on the simulated year it
# keeps about nine first promises in ten where naive keeps under four (README,
# "Promises, measured").
PROMISE_ENGINE = env_str("PROMISE_ENGINE", "calibrated")
if PROMISE_ENGINE not in ("naive", "calibrated"):
    raise ImproperlyConfigured("PROMISE_ENGINE must be naive or calibrated.")
# The confidence promises are made with until the compensation policy says.
# 80: on the simulated years it keeps 87-91 % of first promises with a median
# error of 1-2 days; 90 keeps 92-93 % with 3-4 (README, "Promises, measured").
PROMISE_CONFIDENCE_PERCENT = int(env_str("PROMISE_CONFIDENCE_PERCENT") or 80)
# The country whose public holidays a warehouse keeps, by warehouse code
# ("JKT=ID,RTM=NL"); a warehouse not listed closes on weekends only.
WAREHOUSE_HOLIDAY_COUNTRIES = dict(
    item.split("=", 1)
    for item in env_list("WAREHOUSE_HOLIDAY_COUNTRIES", ["JKT=ID", "SUB=ID", "RTM=NL"])
    if "=" in item
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "axes",
    "csp",
    "simple_history",
    # Swagger UI's files from ninja/static: the API's docs page loads nothing from a CDN.
    "ninja",
    # Ours, lowest first: notifications → orders → suppliers → inventory; then
    # the interface: api, and desk (its template tags; the staff's own preferences).
    "inventory",
    "suppliers",
    "orders",
    "notifications",
    "api",
    "desk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's chosen language over the browser's (LocaleMiddleware's).
    "desk.language.UserLanguageMiddleware",
    # Staff and customer link pages: Cache-Control: private, no-store.
    "desk.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Axes last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "desk.navigation.navigation",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the dev server and an in-process task
    # write without "database is locked" surprises.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The default cache holds counts that every web process must share (the password
# reset throttle): Redis when there is one, in-process memory in the embedded mode
# (one process: the dev server).
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "backorder-desk",
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: 10 failures for one username from one address lock that pair
# for 15 minutes; a successful login resets the count.
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# The address is the client's behind TRUSTED_PROXY_COUNT proxies, not the
# proxy's (desk/proxies.py). Axes' own AXES_IPWARE_* settings would need
# django-ipware, which is not installed: without it axes falls back to
# REMOTE_ADDR and ignores them silently.
AXES_CLIENT_IP_CALLABLE = "desk.proxies.client_address"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("id", _("Indonesian")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# Staff pages format dates with the named formats (DATE_FORMAT, SHORT_DATE_FORMAT…)
# of the language LocaleMiddleware picked; English ones are day-first, see there.
FORMAT_MODULE_PATH = ["config.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# No inline script anywhere; htmx is served from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"


MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Emails: EMAIL_URL, or the console in the embedded mode.
vars().update(email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Backorder Desk <orders@backorder-desk.test>")
SHOP_NAME = env_str("SHOP_NAME", "Backorder Desk Demo Shop")
# Where customers reach the app: the signed links in emails start with this.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Celery. Without REDIS_URL tasks run in-process, eagerly: nothing to start.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Keep a worker's database connection between tasks (at most this many tasks;
# config.celery.database_connections_checked checks it before each one, as
# Django does per request) instead of connecting anew for every task.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = TIME_ZONE
# With acks_late a task a dead worker had taken comes back after the visibility
# timeout. One hour: far longer than any task here runs, short enough that a
# killed worker's messages are delivered the same hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # The outbox sweep: sends what a lost publish, a dead worker or a combine
    # window left pending (notifications/tasks.py).
    "send-pending-notifications": {
        "task": "notifications.tasks.send_pending_notifications",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Late purchase orders get a new date and their customers are told, daily
    # before the shop opens (orders.services.purchase_orders_sweep_overdue).
    # Answers kept for the storefront API's Idempotency-Keys live 24 hours (api/idempotency.py).
    "purge-idempotency-records": {
        "task": "api.tasks.purge_idempotency_records",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
    # Shop webhooks stored but not processed (a publish lost with the broker).
    "process-received-inbound-events": {
        "task": "api.tasks.process_received_inbound_events",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    # Outbound webhooks to the shops' storefronts: what is due and nobody sends
    # (a lost publish, a retry whose time came, a worker that died).
    "send-due-webhook-deliveries": {
        "task": "notifications.tasks.send_due_webhook_deliveries",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    "sweep-overdue-purchase-orders": {
        "task": "notifications.tasks.sweep_overdue_purchase_orders",
        "schedule": crontab(hour=5, minute=30),
    },
}
# Customer emails (notifications/). Retries: exponential backoff from
# NOTIFICATION_RETRY_BACKOFF seconds, capped at NOTIFICATION_RETRY_BACKOFF_MAX,
# with full jitter, NOTIFICATION_SEND_MAX_RETRIES times after the first try.
NOTIFICATION_SEND_MAX_RETRIES = int(env_str("NOTIFICATION_SEND_MAX_RETRIES") or 5)
NOTIFICATION_RETRY_BACKOFF = int(env_str("NOTIFICATION_RETRY_BACKOFF") or 30)
NOTIFICATION_RETRY_BACKOFF_MAX = int(env_str("NOTIFICATION_RETRY_BACKOFF_MAX") or 600)
# The sweep publishes a pending row again only when no task was published for it
# (or it was claimed) for this long; longer than the backoff, so it never races a
# retry that is still scheduled.
NOTIFICATION_REPUBLISH_AFTER_SECONDS = int(
    env_str("NOTIFICATION_REPUBLISH_AFTER_SECONDS") or NOTIFICATION_RETRY_BACKOFF_MAX + 60
)
# A row left in "sending" this long belongs to a worker that died mid-send; the
# sweep re-claims it. Far above EMAIL_TIMEOUT × the SMTP round trips of one send.
NOTIFICATION_SENDING_STALE_SECONDS = int(env_str("NOTIFICATION_SENDING_STALE_SECONDS") or 600)
# The shop's currency (ISO 4217), on the staff pages and in the emails; IDR and
# the other currencies without minor units are shown without decimals.
# Outbound webhooks (notifications/services/webhooks.py): a POST times out after
# WEBHOOK_TIMEOUT_SECONDS; a failed one is tried again after WEBHOOK_RETRY_BACKOFF
# seconds doubling per attempt up to WEBHOOK_RETRY_BACKOFF_MAX, with jitter, and
# is marked failed after WEBHOOK_MAX_ATTEMPTS tries.
WEBHOOK_TIMEOUT_SECONDS = float(env_str("WEBHOOK_TIMEOUT_SECONDS") or 10)
WEBHOOK_MAX_ATTEMPTS = int(env_str("WEBHOOK_MAX_ATTEMPTS") or 8)
WEBHOOK_RETRY_BACKOFF = int(env_str("WEBHOOK_RETRY_BACKOFF") or 30)
WEBHOOK_RETRY_BACKOFF_MAX = int(env_str("WEBHOOK_RETRY_BACKOFF_MAX") or 3600)
# A row "sending" longer than this was left by a worker that died mid-POST.
WEBHOOK_SENDING_STALE_SECONDS = int(env_str("WEBHOOK_SENDING_STALE_SECONDS") or 300)
# A published task not claimed within this is published again by the sweep.
WEBHOOK_REPUBLISH_AFTER_SECONDS = int(env_str("WEBHOOK_REPUBLISH_AFTER_SECONDS") or 300)
SHOP_CURRENCY = (env_str("SHOP_CURRENCY") or env_str("NOTIFICATION_CURRENCY") or "EUR").upper()

# Demo users and demo data are for the embedded and development modes only.
DEMO_DATA_ALLOWED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
