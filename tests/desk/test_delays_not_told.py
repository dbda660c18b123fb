"""The delays page says whom no email has reached since their date moved or
passed (or who opted out of update emails), and shows them first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from config.roles import Role
from notifications.models import Notification, NotificationKind, NotificationStatus
from orders.models import Customer, OrderLine, PromiseRevision
from tests.conftest import delayed_line
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

DELAYS = "/delays/"


def slip(line: OrderLine, *, days_ago: int) -> None:
    revision = PromiseRevision.objects.create(
        line=line,
        old_date=line.first_promised_date,
        new_date=line.promised_date,
        cause="PO-000001 moved",
    )
    PromiseRevision.objects.filter(pk=revision.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def email(customer: Customer, *, days_ago: int, status: str = NotificationStatus.SENT) -> None:
    message = Notification.objects.create(
        customer=customer,
        kind=NotificationKind.PROMISE_LATER,
        language="en",
        to_email=customer.email,
        subject="Your order ships later",
        body_text="…",
        body_html="<p>…</p>",
        dedup_key=f"test:{customer.pk}:{days_ago}:{status}",
        status=status,
    )
    Notification.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - dt.timedelta(days=days_ago)
    )


def card(html: str, customer: Customer) -> str:
    return html.split(f'id="delay-customer-{customer.pk}"', 1)[1].split("</article>", 1)[0]


def test_whom_no_email_reached_is_flagged_and_shown_first(
    client_as: Callable[..., Client],
) -> None:
    # given: ada 15 days late, told after her date moved; bob 2 days late, his
    # date moved after his last email; cy's only email after the slip failed;
    # dee opted out; eli's promise passed yesterday and nobody wrote since
    ada, bob, cy, dee, eli = (
        CustomerFactory.create(name=f"{name} Example", email=f"{name}@example.com")
        for name in ("Ada", "Bob", "Cy", "Dee", "Eli")
    )
    slip(delayed_line(ada, first=-10, promised=5, slipped=1), days_ago=4)
    email(ada, days_ago=3)
    slip(delayed_line(bob, first=2, promised=4, slipped=1), days_ago=1)
    email(bob, days_ago=6)
    slip(delayed_line(cy, first=1, promised=3, slipped=1), days_ago=2)
    email(cy, days_ago=1, status=NotificationStatus.FAILED)
    Customer.objects.filter(pk=dee.pk).update(email_opt_out=True)
    delayed_line(dee, first=-4, promised=6, slipped=1)
    delayed_line(eli, first=-1, promised=-1)

    html = client_as(Role.CUSTOMER_SERVICE).get(DELAYS).content.decode()

    flagged = {c.name: "not told" in card(html, c) for c in (ada, bob, cy, dee, eli)}
    assert flagged == {
        "Ada Example": False,
        "Bob Example": True,
        "Cy Example": True,
        "Dee Example": True,
        "Eli Example": True,
    }
    assert "Opted out of update emails" in card(html, dee)
    assert "call or write" in card(html, bob)
    # ada is the latest (15 days) but was told: those to contact come first
    positions = {c.name: html.index(f'id="delay-customer-{c.pk}"') for c in (ada, bob, dee)}
    assert positions["Ada Example"] > max(positions["Bob Example"], positions["Dee Example"])
