"""CSV imports (`/imports/`): choose what the file holds, upload it, read the
check (rows new, changed, unchanged, and every refused row with its line and
why), then apply it. A long file is checked and applied by a worker while a
progress bar polls the job (`/imports/<id>/`), as the queue's bulk jobs do.

Who imports what is `desk.access.IMPORT_KIND_ROLES`: purchasing products and
purchase orders, the warehouse stock counts, customer service customers.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from desk.access import IMPORT_KIND_ROLES, may_import
from desk.forms.imports import ImportUploadForm
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from inventory.imports import (
    CHANGED,
    INLINE_IMPORT_ROWS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    NEW,
    ImportFileError,
    ImportReport,
)
from notifications import updates
from notifications.imports import IMPORT_FORMATS
from notifications.models import ImportJob, ImportJobStatus

IMPORTS_TEMPLATE = "desk/imports.html"
IMPORT_JOB_TEMPLATE = "desk/import_job.html"
# The preview lists every refused row, and the first of the rows it would change.
PREVIEW_ERRORS = 1000
PREVIEW_ROWS = 100
RECENT_JOBS = 10

STATUS_BADGES = {
    ImportJobStatus.CHECKING: "badge badge-estimate",
    ImportJobStatus.CHECKED: "badge",
    ImportJobStatus.INVALID: "badge badge-bad",
    ImportJobStatus.APPLYING: "badge badge-estimate",
    ImportJobStatus.DONE: "badge badge-ok",
    ImportJobStatus.FAILED: "badge badge-bad",
}


def _formats_for(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "kind": kind,
            "label": spec.kind.label,
            "columns": spec.columns,
            "optional": spec.optional,
        }
        for kind, spec in IMPORT_FORMATS.items()
        if may_import(user, kind)
    ]


def _imports_page(
    request: HttpRequest, form: ImportUploadForm, *, status: int = 200
) -> HttpResponse:
    kinds = [kind for kind in IMPORT_KIND_ROLES if may_import(request.user, kind)]
    recent = list(
        ImportJob.objects.filter(kind__in=kinds)
        .select_related("created_by")
        .defer("content", "result")
        .order_by("-created_at", "-pk")[:RECENT_JOBS]
    )
    context = {
        "form": form,
        "formats": _formats_for(request.user),
        "recent": recent,
        "status_badges": STATUS_BADGES,
        "max_mb": MAX_IMPORT_BYTES // 1024 // 1024,
        "max_rows": MAX_IMPORT_ROWS,
        "inline_rows": INLINE_IMPORT_ROWS,
    }
    return render(request, IMPORTS_TEMPLATE, context, status=status)


@role_required_for("imports")
def imports(request: HttpRequest) -> HttpResponse:
    """The upload form and the latest imports; a POST checks the file."""
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponse(status=405)
    if request.method != "POST":
        return _imports_page(request, ImportUploadForm(user=request.user))
    form = ImportUploadForm(request.POST, request.FILES, user=request.user)
    if not form.is_valid():
        return _imports_page(request, form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > MAX_IMPORT_BYTES:
        form.add_error(
            "file",
            _("The file is %(size)s MB; at most %(limit)s MB can be imported at once.")
            % {
                "size": f"{upload.size / 1024 / 1024:.1f}",
                "limit": MAX_IMPORT_BYTES // 1024 // 1024,
            },
        )
        return _imports_page(request, form, status=400)
    try:
        job = updates.import_job_start(
            kind=form.cleaned_data["kind"],
            filename=upload.name or "",
            content=upload.read(),
            by=request.user,  # type: ignore[arg-type]
        )
    except ImportFileError as error:
        for message in error.messages:
            form.add_error("file", message)
        return _imports_page(request, form, status=400)
    except ValidationError as error:
        form.add_error(None, error.messages)
        return _imports_page(request, form, status=400)
    return redirect("import-job", job_id=job.pk)


def _job_or_404(job_id: int, user: Any) -> ImportJob:
    try:
        job = updates.import_job_progress(job_id=job_id)
    except ImportJob.DoesNotExist as missing:
        raise Http404(_("No import %(id)s.") % {"id": job_id}) from missing
    if not may_import(user, job.kind):
        raise PermissionDenied("Your role does not import this kind of file.")
    return job


def _job_context(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
    report = ImportReport.from_json(job.result) if not job.is_running else ImportReport()
    errors = report.errors
    changes = [row for row in report.rows if row.status in (NEW, CHANGED)]
    spec = IMPORT_FORMATS[job.kind]
    return {
        "job": job,
        "status_class": STATUS_BADGES.get(ImportJobStatus(job.status), "badge"),
        "counts": report.counts,
        "errors": errors[:PREVIEW_ERRORS],
        "errors_hidden": max(0, len(errors) - PREVIEW_ERRORS),
        "changes": changes[:PREVIEW_ROWS],
        "changes_hidden": max(0, len(changes) - PREVIEW_ROWS),
        "can_apply": job.status == ImportJobStatus.CHECKED and any(changes),
        "nothing_to_do": job.status == ImportJobStatus.CHECKED and not changes,
        "columns": spec.columns,
        "optional": spec.optional,
    }


def _job_response(request: HttpRequest, job: ImportJob) -> HttpResponse:
    """The job's page, or for htmx's polling its card: a job no longer running
    answers 286 (htmx stops polling) with `importJobFinished`."""
    context = _job_context(request, job)
    if not is_fragment_request(request):
        request.nav_path = reverse("imports")  # type: ignore[attr-defined]
        response = render(request, IMPORT_JOB_TEMPLATE, context)
    else:
        response = render(request, f"{IMPORT_JOB_TEMPLATE}#import-job", context)
        if not job.is_running:
            response.status_code = 286
            trigger_client_event(
                response, "importJobFinished", {"job": job.pk, "status": job.status}
            )
    patch_vary_headers(response, ("HX-Request",))
    return response


@role_required_for("import-job")
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """An import's check (the preview) or its progress while a worker runs it."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    return _job_response(request, _job_or_404(job_id, request.user))


@role_required_for("import-job-apply")
@require_POST
def import_job_apply(request: HttpRequest, job_id: int) -> HttpResponse:
    """Apply a checked file: every row or none."""
    job = _job_or_404(job_id, request.user)
    try:
        job = updates.import_job_apply(job_id=job.pk, by=request.user)  # type: ignore[arg-type]
    except ValidationError as error:
        # The page again with the reason (not a flash message: the card says
        # what the job is, the reason says why nothing happened now).
        context = _job_context(request, updates.import_job_progress(job_id=job.pk))
        context["apply_errors"] = [str(message) for message in error.messages]
        request.nav_path = reverse("imports")  # type: ignore[attr-defined]
        return render(request, IMPORT_JOB_TEMPLATE, context, status=409)
    # The card says what the apply did (applied, refused rows, or running).
    return redirect("import-job", job_id=job.pk)
