"""Test settings: the base settings, made fast and deterministic.

DATABASE_URL and REDIS_URL still come from the environment, so CI runs the
suite against PostgreSQL and Redis. Tasks run eagerly unless a test starts a
real worker and turns eagerness off itself.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import REDIS_URL

DEBUG = False
# A fixed key keeps signed values stable across runs; production refuses it.
SECRET_KEY = "django-insecure-test-settings-only-" + "0123456789abcdef" * 2
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
# In-process even with REDIS_URL: counts (the password reset throttle) must not
# outlive a test or leak between runs; tests of the Redis cache set it up themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Serve static files from the source folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Tests of promised dates expect the naive engine's (dates at face value); tests
# of the calibrated engine say so with override_settings(PROMISE_ENGINE=...).
PROMISE_ENGINE = "naive"
