"""The outbox in the admin: read-only pages and the "send again" action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.limits import POLICY_LIMITS
from notifications.models import (
    CompensationPolicy,
    DiscountCode,
    Notification,
    NotificationStatus,
)
from notifications.services.discounts import discount_code_issue
from notifications.services.outbox import notification_enqueue
from tests.factories import SalesOrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed() -> Notification:
    order = SalesOrderFactory.create(number="SO-ADMIN-1")
    notification = notification_enqueue(
        kind="shipped",
        customer=order.customer,
        order=order,
        context={"tracking_number": "T-1"},
        dedup_key="shipped:SO-ADMIN-1",
    )
    assert notification is not None
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.FAILED, last_error="SMTPDataError: 451"
    )
    return notification


def test_pages_open_for_a_superuser(client_as: Callable[..., Client], failed: Notification) -> None:
    client = client_as(superuser=True)
    discount_code_issue(customer=failed.customer, order=failed.order, reason="slip")
    CompensationPolicy.current()
    changelist = reverse("admin:notifications_notification_changelist")
    response = client.get(changelist, {"q": "SO-ADMIN-1", "status__exact": "failed"})
    assert response.status_code == 200
    assert failed.to_email in response.content.decode()
    change = client.get(reverse("admin:notifications_notification_change", args=[failed.pk]))
    assert change.status_code == 200
    assert b'name="subject"' not in change.content  # read-only
    for name in ["compensationpolicy", "discountcode"]:
        assert client.get(reverse(f"admin:notifications_{name}_changelist")).status_code == 200


def test_send_again_resends_failed_messages(
    client_as: Callable[..., Client],
    failed: Notification,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_as(superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "send_again", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == NotificationStatus.SENT
    assert len(mail.outbox) == 1


# --- the policy's bounds are the model's (issue 18, #7) ----------------------------


def policy_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "apology_after_days": 1,
        "discount_after_days": 7,
        "discount_after_slips": 3,
        "discount_percent": "10",
        "one_discount_per_order": "on",
        "combine_window_minutes": 30,
        "send_good_news": "on",
        "discount_valid_days": 60,
        "promise_confidence_percent": 90,
        "_save": "Save",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("discount_after_days", 0, "Enter a number of days from 1 to 365."),
        ("discount_valid_days", 0, "Enter a number of days from 1 to 3650."),
        ("combine_window_minutes", 100_000, "Enter a number of minutes from 0 to 1440 (one day)."),
        ("apology_after_days", 366, "Enter a number of days from 0 to 365."),
        ("discount_after_slips", 0, "Enter a number of slips from 1 to 100."),
        ("discount_percent", "0", "Enter a percentage from 0.01 to 100."),
        ("promise_confidence_percent", 100, "Enter a percentage from 50 to 99."),
    ],
)
def test_the_admin_refuses_a_policy_outside_its_bounds(
    client_as: Callable[..., Client], field: str, value: object, message: str
) -> None:
    policy = CompensationPolicy.current()
    before = CompensationPolicy.objects.values().get()

    response = client_as(superuser=True).post(
        reverse("admin:notifications_compensationpolicy_change", args=[policy.pk]),
        policy_form(**{field: value}),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {field: [message]}
    assert CompensationPolicy.objects.values().get() == before


def test_the_admin_saves_a_policy_at_its_bounds(client_as: Callable[..., Client]) -> None:
    policy = CompensationPolicy.current()
    highs = {name: high for name, (_low, high, _message) in POLICY_LIMITS.items()}

    response = client_as(superuser=True).post(
        reverse("admin:notifications_compensationpolicy_change", args=[policy.pk]),
        policy_form(**highs),
    )

    assert response.status_code == 302
    policy.refresh_from_db()
    assert {name: getattr(policy, name) for name in highs} == highs


def test_a_discount_codes_percent_and_customer_stay_as_issued(
    client_as: Callable[..., Client], failed: Notification
) -> None:
    client = client_as(superuser=True)
    code = discount_code_issue(customer=failed.customer, order=failed.order, reason="slip")
    issued = code.percent
    other = SalesOrderFactory.create()
    url = reverse("admin:notifications_discountcode_change", args=[code.pk])

    changed = client.post(
        url,
        {
            "customer": other.customer_id,
            "order": other.pk,
            "percent": "90",
            "reason": "slip, fixed",
            "expires_on": code.expires_on.isoformat(),
            "_save": "Save",
        },
    )
    deleted = client.post(
        reverse("admin:notifications_discountcode_delete", args=[code.pk]), {"post": "yes"}
    )

    assert (changed.status_code, deleted.status_code) == (302, 403)
    assert DiscountCode.objects.filter(pk=code.pk).values_list(
        "customer_id", "order_id", "percent", "reason"
    ).get() == (failed.customer_id, failed.order_id, issued, "slip, fixed")
