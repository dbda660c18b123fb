"""The Celery app. Workers: `celery -A config worker`; beat: `celery -A config beat`."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("backorder_desk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="config.ping")
def ping() -> str:
    """Answer a health check: proves a worker is consuming from the broker."""
    return "pong"


@task_prerun.connect
def database_connections_checked(task: Any = None, **kwargs: Any) -> None:
    """Before each task in a worker, what Django does before each request:
    close a connection that is past CONN_MAX_AGE or broken, and have the
    next query check it (CONN_HEALTH_CHECKS).

    Celery's Django fixup would close the connection after every task instead
    (a new PostgreSQL connection per email: a quarter of a delivery worker's
    time); CELERY_DB_REUSE_MAX turns that off but checks nothing, so this
    does. The case Celery's default guards against, a query cut off by a
    time limit's signal, cannot happen here: no task has a time limit.
    Eager tasks run inside a request or a transaction and are left alone.
    """
    if task is None or getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
