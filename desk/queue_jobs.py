"""Bulk actions on the queue (`/queue/jobs/`): a job runs in chunks in a worker;
its page (and the fragment the queue polls) shows the progress."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import (
    reswap,
    retarget,
    trigger_client_event,
)

from config.roles import Role, has_role
from desk.forms.queue import QueueBulkForm
from desk.orders import can_open_outbox
from desk.queue import QUEUE_TEMPLATE, queue_context, queue_query
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from desk.shipping import form_errors_from
from notifications import updates
from notifications.models import (
    BulkJob,
    BulkJobKind,
    BulkJobStatus,
)

BULK_JOB_TEMPLATE = "desk/bulk_job.html"


BULK_JOB_STATUS_BADGES = {
    BulkJobStatus.PENDING: "badge",
    BulkJobStatus.RUNNING: "badge badge-estimate",
    BulkJobStatus.DONE: "badge badge-ok",
    BulkJobStatus.FAILED: "badge badge-bad",
}


def _bulk_job_summary(job: BulkJob) -> str:
    """What the job did so far, in a sentence."""
    outcome = job.outcome
    parts: list[str] = []
    if job.kind == BulkJobKind.NOTIFY:
        count = outcome.get("messages", 0)
        parts.append(
            ngettext("%(count)d customer emailed.", "%(count)d customers emailed.", count)
            % {"count": count}
        )
        if count := outcome.get("opted_out", 0):
            parts.append(
                ngettext(
                    "%(count)d opted out of updates and was not emailed.",
                    "%(count)d opted out of updates and were not emailed.",
                    count,
                )
                % {"count": count}
            )
        if count := outcome.get("already_told", 0):
            parts.append(
                ngettext(
                    "%(count)d had this update about the same lines within the policy's combine "
                    "window and was not emailed again.",
                    "%(count)d had this update about the same lines within the policy's combine "
                    "window and were not emailed again.",
                    count,
                )
                % {"count": count}
            )
    else:
        count = outcome.get("changed", 0)
        parts.append(
            ngettext(
                "%(count)d line moved to priority %(priority)s.",
                "%(count)d lines moved to priority %(priority)s.",
                count,
            )
            % {"count": count, "priority": job.parameters.get("priority")}
        )
        if count := outcome.get("unchanged", 0):
            parts.append(
                ngettext(
                    "%(count)d already had it or no longer waits.",
                    "%(count)d already had it or no longer wait.",
                    count,
                )
                % {"count": count}
            )
    if count := outcome.get("not_waiting", 0):
        parts.append(
            ngettext(
                "%(count)d line no longer waiting was skipped.",
                "%(count)d lines no longer waiting were skipped.",
                count,
            )
            % {"count": count}
        )
    return " ".join(parts) if job.done else ""


def _bulk_job_context(request: HttpRequest, job: BulkJob) -> dict[str, Any]:
    return {
        "job": job,
        "status_class": BULK_JOB_STATUS_BADGES.get(BulkJobStatus(job.status), "badge"),
        "summary": _bulk_job_summary(job),
        "can_open_outbox": can_open_outbox(request.user),
        "back_url": reverse("queue"),
    }


def _bulk_job_response(request: HttpRequest, job: BulkJob, *, started: bool) -> HttpResponse:
    """The progress bar (htmx) or the job's own page. A finished job answers
    htmx's polling with 286, which stops it, and fires bulkJobFinished so the
    queue table reloads."""
    context = _bulk_job_context(request, job)
    if not is_fragment_request(request):
        request.nav_path = reverse("queue")  # type: ignore[attr-defined]
        return render(request, BULK_JOB_TEMPLATE, context)
    response = render(request, f"{BULK_JOB_TEMPLATE}#bulk-job", context)
    detail = {"job": job.pk, "kind": job.kind, "done": job.done, "total": job.total}
    if started:
        trigger_client_event(
            response,
            "bulkJobStarted",
            {
                **detail,
                "message": ngettext(
                    "%(kind)s: %(total)d line.", "%(kind)s: %(total)d lines.", job.total
                )
                % {"kind": job.get_kind_display(), "total": job.total},
            },
        )
    if job.is_finished:
        if not started:
            response.status_code = 286
        trigger_client_event(
            response,
            "bulkJobFinished",
            {**detail, "status": job.status, "message": context["summary"]},
        )
    return response


@role_required_for("queue-jobs")
@require_POST
def queue_jobs(request: HttpRequest) -> HttpResponse:
    """Start a bulk action on the ticked queue lines: email their customers
    (customer service) or set their priority (customer service, purchasing)."""
    if request.POST.get("kind") == BulkJobKind.NOTIFY and not has_role(
        request.user, Role.CUSTOMER_SERVICE
    ):
        raise PermissionDenied(_("Only customer service emails customers."))
    form = QueueBulkForm(request.POST)
    job = None
    if form.is_valid():
        try:
            job = updates.bulk_job_start(
                kind=form.cleaned_data["kind"],
                line_ids=form.cleaned_data["lines"],
                parameters=form.parameters(),
                by=request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form_errors_from(form, error)
    if job is None:
        errors = {
            ("kind" if field == "__all__" else field): [str(m) for m in field_messages]
            for field, field_messages in form.errors.items()
        }
        values = {"priority": request.POST.get("priority", "")}
        if is_fragment_request(request):
            context = {
                "can_notify": has_role(request.user, Role.CUSTOMER_SERVICE),
                "bulk_errors": errors,
                "bulk_values": values,
            }
            response = render(request, f"{QUEUE_TEMPLATE}#queue-bulk", context)
            return reswap(retarget(response, "#queue-bulk"), "outerHTML")
        context = queue_context(
            request,
            query=queue_query(request),
            fragment=False,
            bulk_errors=errors,
            bulk_values=values,
        )
        request.nav_path = reverse("queue")  # type: ignore[attr-defined]
        return render(request, QUEUE_TEMPLATE, context)
    # In the embedded mode the task ran at commit: the job may be finished already.
    job = updates.bulk_job_progress(job_id=job.pk)
    if not is_fragment_request(request):
        return redirect("queue-job", job_id=job.pk)
    return _bulk_job_response(request, job, started=True)


@role_required_for("queue-job")
@require_GET
def queue_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """A bulk job's progress: the bar polls this every second until it is done."""
    try:
        job = updates.bulk_job_progress(job_id=job_id)
    except BulkJob.DoesNotExist as missing:
        raise Http404(_("No bulk job %(id)s.") % {"id": job_id}) from missing
    response = _bulk_job_response(request, job, started=False)
    patch_vary_headers(response, ("HX-Request",))
    return response
