"""Bulk actions on the queue: the views that start a job and report its progress."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications import updates
from notifications.models import BulkJob, BulkJobKind, BulkJobStatus, Notification
from orders.models import OrderLine
from tests.notifications.test_bulk_jobs import all_lines, start

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
JOBS = "/queue/jobs/"

# --- the views ----------------------------------------------------------------------


def trigger(response) -> dict:
    return json.loads(response["HX-Trigger"])


def test_urls() -> None:
    assert reverse("queue-jobs") == JOBS
    assert reverse("queue-job", args=[3]) == "/queue/jobs/3/"


def test_starting_a_job_with_htmx_answers_the_progress_bar(
    client_as: Callable[..., Client],
    queue: dict[str, list[OrderLine]],
    django_capture_on_commit_callbacks,
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    lines = all_lines(queue)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            JOBS, {"kind": "notify", "lines": [line.pk for line in lines]}, headers=HX
        )

    # the job is written and its task published after commit
    assert response.status_code == 200
    job = BulkJob.objects.get()
    assert (job.kind, job.total, job.created_by) == ("notify", 7, response.wsgi_request.user)
    assert len(callbacks) == 1
    html = response.content.decode()
    assert '<section id="queue-job"' in html
    assert f'hx-get="/queue/jobs/{job.pk}/" hx-trigger="every 1s"' in html
    assert '<progress id="queue-job-progress" value="0" max="7"' in html
    assert "0 of 7 lines processed" in html
    assert trigger(response)["bulkJobStarted"]["total"] == 7


def test_progress_polls_while_running_and_stops_with_286_when_done(
    client_as: Callable[..., Client], queue: dict[str, list[OrderLine]]
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    job = start(BulkJobKind.REPRIORITISE, all_lines(queue), priority=4)
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJobStatus.RUNNING, done=3)

    running = client.get(f"/queue/jobs/{job.pk}/", headers=HX)

    assert running.status_code == 200
    assert "HX-Trigger" not in running
    html = running.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert 'value="3" max="7"' in html and "3 of 7 lines processed" in html

    BulkJob.objects.filter(pk=job.pk).update(status=BulkJobStatus.PENDING, done=0)
    updates.bulk_job_run(job_id=job.pk)
    finished = client.get(f"/queue/jobs/{job.pk}/", headers=HX)

    assert finished.status_code == 286  # htmx stops polling
    html = finished.content.decode()
    assert "hx-trigger" not in html
    assert 'value="7" max="7"' in html
    assert "7 lines moved to priority 4." in html
    event = trigger(finished)["bulkJobFinished"]
    assert event["status"] == "done" and event["done"] == 7


def test_progress_page_without_htmx_reloads_itself_until_done(
    client_as: Callable[..., Client], queue: dict[str, list[OrderLine]]
) -> None:
    client = client_as(Role.PURCHASING)
    job = start(BulkJobKind.REPRIORITISE, all_lines(queue), priority=4)

    pending = client.get(f"/queue/jobs/{job.pk}/").content.decode()
    updates.bulk_job_run(job_id=job.pk)
    done = client.get(f"/queue/jobs/{job.pk}/").content.decode()

    assert "<html" in pending and '<meta http-equiv="refresh" content="2">' in pending
    assert "Waiting to start" in pending
    assert '<meta http-equiv="refresh"' not in done and "Done" in done
    assert 'href="/queue/"' in done


def test_starting_without_htmx_redirects_to_the_job(
    client_as: Callable[..., Client], queue: dict[str, list[OrderLine]]
) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).post(
        JOBS, {"kind": "reprioritise", "priority": "3", "lines": [queue["cai"][0].pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/queue/jobs/{BulkJob.objects.get().pk}/"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "notify"}, "lines", "Select at least one line in the table."),
        ({"kind": "reprioritise", "lines": "LINE"}, "priority", "Enter the priority"),
        ({"kind": "reprioritise", "lines": "LINE", "priority": "abc"}, "priority", "whole number"),
        ({"kind": "notify", "lines": "abc"}, "lines", "The selection is not valid"),
        ({"kind": "notify", "lines": str(10**30)}, "lines", "The selection is not valid"),
        ({"kind": "notify", "lines": str(2**63)}, "lines", "The selection is not valid"),
        ({"kind": "notify", "lines": "9" * 5000}, "lines", "The selection is not valid"),
        ({"lines": "LINE"}, "kind", "Choose what to do"),
    ],
)
def test_bad_bulk_input_shows_a_message_in_the_bulk_form(
    client_as: Callable[..., Client],
    queue: dict[str, list[OrderLine]],
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    if data.get("lines") == "LINE":
        data = {**data, "lines": str(queue["cai"][0].pk)}

    response = client_as(Role.CUSTOMER_SERVICE).post(JOBS, data, headers=HX)

    assert response.status_code == 200
    assert response["HX-Retarget"] == "#queue-bulk"
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="queue-bulk"')
    assert message in html.split(f'id="queue-bulk-{field}-error"', 1)[1]
    assert not BulkJob.objects.exists()


def test_bad_bulk_input_without_htmx_shows_the_queue_with_the_message(
    client_as: Callable[..., Client], queue: dict[str, list[OrderLine]]
) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).post(JOBS, {"kind": "notify", "query": "sort=age"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'id="queue-table-container"' in html
    assert "Select at least one line in the table." in html


def test_a_line_id_no_row_can_have_without_htmx_shows_the_queue_with_the_message(
    client_as: Callable[..., Client], queue: dict[str, list[OrderLine]], unchanged
) -> None:
    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(
            JOBS, {"kind": "notify", "lines": [str(queue["cai"][0].pk), str(10**30)]}
        )

    assert response.status_code == 200
    assert "The selection is not valid" in response.content.decode()
    assert not BulkJob.objects.exists()


@pytest.mark.parametrize(
    ("role", "kind", "allowed"),
    [
        (Role.CUSTOMER_SERVICE, "notify", True),
        (Role.CUSTOMER_SERVICE, "reprioritise", True),
        (Role.PURCHASING, "reprioritise", True),
        (Role.PURCHASING, "notify", False),
        (Role.WAREHOUSE, "reprioritise", False),
        (Role.WAREHOUSE, "notify", False),
    ],
)
def test_who_may_start_which_job(
    client_as: Callable[..., Client],
    queue: dict[str, list[OrderLine]],
    role: Role,
    kind: str,
    allowed: bool,
) -> None:
    response = client_as(role).post(
        JOBS, {"kind": kind, "priority": "1", "lines": [queue["cai"][0].pk]}, headers=HX
    )

    assert (response.status_code == 200) is allowed
    assert (response.status_code == 403) is not allowed
    assert BulkJob.objects.exists() is allowed


def test_warehouse_may_not_watch_a_job(
    client_as: Callable[..., Client], queue: dict[str, list[OrderLine]]
) -> None:
    job = start(BulkJobKind.NOTIFY, queue["cai"])

    assert client_as(Role.WAREHOUSE).get(f"/queue/jobs/{job.pk}/", headers=HX).status_code == 403


def test_an_unknown_job_is_404(client_as: Callable[..., Client]) -> None:
    assert client_as(Role.CUSTOMER_SERVICE).get("/queue/jobs/9999/").status_code == 404


def test_the_same_notify_post_twice_emails_each_customer_once(
    client_as: Callable[..., Client],
    queue: dict[str, list[OrderLine]],
    django_capture_on_commit_callbacks,
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    data = {"kind": "notify", "lines": [line.pk for line in all_lines(queue)]}

    # a double-click: two jobs, each run by its task at commit (embedded mode)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(JOBS, data, headers=HX)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(JOBS, data, headers=HX)

    assert Notification.objects.filter(kind="promise_update").count() == 3  # Ann, Ben, Cai
    first, second = BulkJob.objects.order_by("pk")
    assert first.outcome["messages"] == 3 and second.outcome["messages"] == 0
    progress = client.get(reverse("queue-job", args=[second.pk]), headers=HX)
    assert "3 had this update about the same lines" in progress.content.decode()
