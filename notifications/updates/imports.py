"""CSV imports as jobs: upload → check (a dry run, row by row) → apply (one
transaction, after a person confirms). A file of up to INLINE_IMPORT_ROWS rows
runs each step inside the request; a longer one in a worker, its progress in
the cache for the progress bar (the step's own transaction hides it from the
database until the end), as the queue's bulk jobs do.

Safe to run twice: a step is claimed by moving the job's status (checking →
checked/invalid, checked → applying → done/invalid), the apply's changes and its
"done" commit together, and a second apply of the same file finds every row
unchanged.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.roles import acting_user
from inventory.imports import (
    INLINE_IMPORT_ROWS,
    ImportFileError,
    ImportRefused,
    Progress,
    read_csv,
)
from notifications import tasks
from notifications.imports import IMPORT_FORMATS
from notifications.models import ImportJob, ImportJobStatus

import_logger = logging.getLogger(__name__)

# A running job whose worker has not reported for this long lost its task
# (a broker down, a worker killed): the next look at its progress publishes it again.
IMPORT_JOB_REPUBLISH_AFTER = dt.timedelta(seconds=60)


def _progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:done"


def import_job_start(*, kind: str, filename: str, content: bytes, by: User | None) -> ImportJob:
    """Read an uploaded file and check it: inline when short, else in a worker.

    Raises ImportFileError (the file as a whole cannot be read: its messages
    say why) or ValidationError (an unknown kind); nothing is stored then.
    """
    spec = IMPORT_FORMATS.get(kind)
    if spec is None:
        raise ValidationError({"kind": _("Choose what the file holds.")})
    dataset = read_csv(content=content, required=spec.columns, optional=spec.optional)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            filename=(filename or "upload.csv")[:255],
            content=content.decode("utf-8-sig"),
            total=len(dataset),
            status=ImportJobStatus.CHECKING,
            created_by=acting_user(by),
            dispatched_at=timezone.now(),
        )
    _run_or_publish(job)
    return ImportJob.objects.get(pk=job.pk)


def import_job_apply(*, job_id: int, by: User | None) -> ImportJob:
    """Apply a checked file (a person confirmed the preview): inline when
    short, else in a worker. Refused unless the check found no bad row, and
    when the file is applied already (a double click applies it once)."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.CHECKED).update(
        status=ImportJobStatus.APPLYING,
        applied_by=acting_user(by),
        done=0,
        dispatched_at=timezone.now(),
    )
    job = ImportJob.objects.get(pk=job_id)
    if not claimed:
        if job.status in (ImportJobStatus.APPLYING, ImportJobStatus.DONE):
            raise ValidationError(_("This file is being applied or was applied already."))
        raise ValidationError(_("Only a file whose check found no bad rows can be applied."))
    _run_or_publish(job)
    return ImportJob.objects.get(pk=job_id)


def _run_or_publish(job: ImportJob) -> None:
    if job.total <= INLINE_IMPORT_ROWS:
        import_job_run(job_id=job.pk)
        return
    job_id = job.pk
    transaction.on_commit(lambda: _publish(job_id))


def _publish(job_id: int) -> bool:
    try:
        tasks.run_import_job.delay(job_id)
    except Exception:
        import_logger.warning("Could not publish import job %s.", job_id, exc_info=True)
        return False
    return True


def import_job_progress(*, job_id: int) -> ImportJob:
    """The job as it stands, `done` from the cache while a step runs; a job
    whose worker went silent is published again."""
    job = ImportJob.objects.select_related("created_by", "applied_by").get(pk=job_id)
    if not job.is_running:
        return job
    done = cache.get(_progress_key(job.pk))
    if done is not None:
        job.done = min(int(done), job.total)
        return job
    stale = timezone.now() - IMPORT_JOB_REPUBLISH_AFTER
    if job.dispatched_at is None or job.dispatched_at < stale:
        claimed = ImportJob.objects.filter(
            pk=job.pk, status=job.status, dispatched_at=job.dispatched_at
        ).update(dispatched_at=timezone.now())
        if claimed:
            _publish(job.pk)
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run the step the job waits for (check or apply). An unexpected error
    marks the job failed; an apply that failed changed nothing."""
    try:
        job = ImportJob.objects.get(pk=job_id)
        if job.status == ImportJobStatus.CHECKING:
            _check(job_id)
        elif job.status == ImportJobStatus.APPLYING:
            _apply(job_id)
    except Exception as error:
        import_logger.exception("Import job %s failed.", job_id)
        ImportJob.objects.filter(
            pk=job_id, status__in=(ImportJobStatus.CHECKING, ImportJobStatus.APPLYING)
        ).update(
            status=ImportJobStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
            finished_at=timezone.now(),
        )
    finally:
        cache.delete(_progress_key(job_id))
    return ImportJob.objects.get(pk=job_id)


def _reporter(job_id: int, total: int) -> Progress:
    key = _progress_key(job_id)
    cache.set(key, 0, timeout=3600)

    def progress(done: int, _of: int) -> None:
        # Steps report their own units (rows, or purchase orders): scale to rows.
        cache.set(key, done * total // max(_of, 1), timeout=3600)

    return progress


def _check(job_id: int) -> None:
    job = ImportJob.objects.get(pk=job_id)
    spec = IMPORT_FORMATS[job.kind]
    try:
        dataset = read_csv(
            content=job.content.encode(), required=spec.columns, optional=spec.optional
        )
    except ImportFileError as error:
        ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.CHECKING).update(
            status=ImportJobStatus.FAILED,
            error=" ".join(error.messages),
            finished_at=timezone.now(),
        )
        return
    report = spec.check(dataset=dataset, progress=_reporter(job_id, job.total))
    ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.CHECKING).update(
        status=ImportJobStatus.CHECKED if report.is_valid else ImportJobStatus.INVALID,
        result=report.as_json(),
        done=job.total,
    )


def _apply(job_id: int) -> None:
    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(of=("self",))
            .select_related("applied_by")
            .get(pk=job_id)
        )
        if job.status != ImportJobStatus.APPLYING:
            return
        spec = IMPORT_FORMATS[job.kind]
        dataset = read_csv(
            content=job.content.encode(), required=spec.columns, optional=spec.optional
        )
        try:
            with transaction.atomic():
                report = spec.apply(
                    dataset=dataset,
                    by=job.applied_by,
                    progress=_reporter(job_id, job.total),
                )
        except ImportRefused as refused:
            report = refused.report
            job.status = ImportJobStatus.INVALID
        else:
            job.status = ImportJobStatus.DONE
        job.result = report.as_json()
        job.done = job.total
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "result", "done", "finished_at"])
