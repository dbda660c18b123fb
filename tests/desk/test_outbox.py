"""The outbox and message pages: roles, fragments, send again, queries."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from desk.pagination import MAX_PAGE_SIZE
from notifications.models import (
    Notification,
    NotificationKind,
    NotificationStatus,
)
from orders.models import Customer, SalesOrder
from tests.factories import CustomerFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
EMPTY_TEXT = "No messages yet. Messages appear here when an order is backordered"
_keys = itertools.count(1)

# (who, expected status for viewing the outbox / policy)
VIEWERS = [
    ("anonymous", 302),
    ("warehouse", 403),
    ("customer_service", 200),
    ("purchasing", 200),
    ("superuser", 200),
]


def make_client(client_as: Callable[..., Client], who: str) -> Client:
    if who == "anonymous":
        return Client()
    if who == "superuser":
        return client_as(superuser=True)
    return client_as(Role(who))


def make_notification(
    *,
    customer: Customer | None = None,
    order: SalesOrder | None = None,
    with_order: bool = True,
    **fields: Any,
) -> Notification:
    customer = customer or CustomerFactory.create()
    if order is None and with_order:
        order = SalesOrderFactory.create(customer=customer)
    values: dict[str, Any] = {
        "kind": NotificationKind.PROMISE_LATER,
        "language": "en",
        "to_email": customer.email,
        "subject": f"News about your order {order.number if order else ''}".strip(),
        "body_text": "Hello,\nyour order ships later.\n",
        "body_html": '<p style="margin:0">Hello, <strong>your order</strong> ships later.</p>',
        "dedup_key": f"test:{next(_keys)}",
        "status": NotificationStatus.SENT,
    }
    values.update(fields)
    return Notification.objects.create(customer=customer, order=order, **values)


def assert_login_redirect(response: Any) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- role matrix ---------------------------------------------------------------


@pytest.mark.parametrize(("who", "expected"), VIEWERS)
def test_outbox_page_and_fragment_roles(
    client_as: Callable[..., Client], who: str, expected: int
) -> None:
    client = make_client(client_as, who)

    for headers in ({}, HX):
        response = client.get(reverse("outbox"), headers=headers)
        if who == "anonymous":
            assert_login_redirect(response)
        else:
            assert response.status_code == expected


@pytest.mark.parametrize(("who", "expected"), VIEWERS)
def test_message_page_and_fragment_roles(
    client_as: Callable[..., Client], who: str, expected: int
) -> None:
    notification = make_notification()
    client = make_client(client_as, who)

    for headers in ({}, HX):
        response = client.get(reverse("outbox-message", args=[notification.pk]), headers=headers)
        if who == "anonymous":
            assert_login_redirect(response)
        else:
            assert response.status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", 302),
        ("warehouse", 403),
        ("customer_service", 200),
        ("purchasing", 403),
        ("superuser", 200),
    ],
)
def test_resend_roles(client_as: Callable[..., Client], who: str, expected: int) -> None:
    notification = make_notification(status=NotificationStatus.FAILED, attempts=6)
    client = make_client(client_as, who)

    response = client.post(reverse("outbox-message-resend", args=[notification.pk]), headers=HX)

    if who == "anonymous":
        assert_login_redirect(response)
    else:
        assert response.status_code == expected
    notification.refresh_from_db()
    allowed = expected == 200
    assert notification.status == (
        NotificationStatus.PENDING if allowed else NotificationStatus.FAILED
    )


# --- outbox ----------------------------------------------------------------------


def test_outbox_lists_messages_newest_first_with_their_columns(
    client_as: Callable[..., Client],
) -> None:
    # given
    customer = CustomerFactory.create(name="Ada Lovelace", email="ada@example.com")
    order = SalesOrderFactory.create(customer=customer, number="SO-777001")
    now = timezone.now()
    old = make_notification(
        customer=customer,
        order=order,
        subject="Older message",
        created_at=now - dt.timedelta(hours=2),
        kind=NotificationKind.SHIPPED,
    )
    held = make_notification(
        customer=customer,
        order=order,
        subject="Newer message",
        status=NotificationStatus.PENDING,
        not_before=now + dt.timedelta(minutes=20),
        attempts=0,
    )
    failed = make_notification(
        with_order=False,
        subject="Failed message",
        status=NotificationStatus.FAILED,
        attempts=6,
        created_at=now - dt.timedelta(hours=1),
    )

    # when
    response = client_as(Role.CUSTOMER_SERVICE).get(reverse("outbox"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Newer message") < html.index("Failed message") < html.index("Older message")
    assert "Ada Lovelace" in html and "ada@example.com" in html and "SO-777001" in html
    assert "Shipped" in html  # the kind's label
    assert f'id="message-row-{failed.pk}"' in html
    assert 'class="badge badge-bad" data-status="failed">Failed<' in html
    assert 'class="badge badge-warn" data-status="pending">Pending<' in html
    assert 'class="badge badge-ok" data-status="sent">Sent<' in html
    # the time alone while it is today, with the day once the window runs past midnight
    held_local = timezone.localtime(held.not_before)
    shown = held_local.strftime("%H:%M")
    if held_local.date() != timezone.localdate():
        shown = f"{held_local.day} {held_local:%b}, {shown}"
    assert f"held until {shown} to combine updates" in html
    assert reverse("outbox-message", args=[old.pk]) in html
    assert ' class="num">6</td>' in html
    assert 'hx-push-url="true"' in html  # sorting links and filter form


def test_outbox_empty_state(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.PURCHASING).get(reverse("outbox"))

    assert EMPTY_TEXT in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "failed"}, {"failed"}),
        ({"kind": NotificationKind.SHIPPED}, {"shipped"}),
        ({"customer": "grace"}, {"grace"}),
        ({"customer": "HOPPER@EXAMPLE"}, {"grace"}),
        ({"order": "so-42"}, {"order42"}),
        ({"status": "sent", "customer": "grace"}, {"grace"}),
    ],
)
def test_outbox_filters(
    client_as: Callable[..., Client], query: dict[str, str], expected: set[str]
) -> None:
    # given
    grace = CustomerFactory.create(name="Grace Hopper", email="hopper@example.com")
    make_notification(subject="subject-failed", status=NotificationStatus.FAILED)
    make_notification(subject="subject-shipped", kind=NotificationKind.SHIPPED)
    make_notification(subject="subject-grace", customer=grace)
    make_notification(subject="subject-order42", order=SalesOrderFactory.create(number="SO-4242"))

    # when
    response = client_as(Role.CUSTOMER_SERVICE).get(reverse("outbox"), query, headers=HX)

    # then
    html = response.content.decode()
    shown = {
        name for name in ("failed", "shipped", "grace", "order42") if f"subject-{name}" in html
    }
    assert shown == expected


def test_outbox_filter_without_match_says_so(client_as: Callable[..., Client]) -> None:
    make_notification()

    response = client_as(Role.CUSTOMER_SERVICE).get(reverse("outbox"), {"customer": "nobody"})

    html = response.content.decode()
    assert "No messages match these filters." in html
    assert EMPTY_TEXT not in html


def test_outbox_htmx_request_gets_the_table_fragment_only(client_as: Callable[..., Client]) -> None:
    make_notification(subject="In the fragment")
    client = client_as(Role.CUSTOMER_SERVICE)

    page = client.get(reverse("outbox")).content.decode()
    fragment = client.get(reverse("outbox"), headers=HX).content.decode()

    assert "<html" in page and 'id="outbox-container"' in page
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<div class="table-container" id="outbox-container"')
    assert "In the fragment" in fragment
    assert "<form" not in fragment  # the filters stay on the page


def test_outbox_pages_without_counting(
    client_as: Callable[..., Client],
) -> None:
    customer = CustomerFactory.create()
    for _ in range(51):
        make_notification(customer=customer, with_order=False)
    client = client_as(Role.CUSTOMER_SERVICE)

    with CaptureQueriesContext(connection) as queries:
        first = client.get(reverse("outbox"), headers=HX).content.decode()
    second = client.get(reverse("outbox"), {"page": 2}, headers=HX).content.decode()

    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)
    assert first.count('id="message-row-') == 50
    assert 'rel="next"' in first
    assert second.count('id="message-row-') == 1
    assert 'rel="next"' not in second


@pytest.mark.parametrize("page", ["3", str(10**30), "9" * 5000])
@pytest.mark.parametrize("headers", [{}, HX])
def test_outbox_page_past_the_end_shows_the_last_page(
    client_as: Callable[..., Client], page: str, headers: dict[str, str]
) -> None:
    customer = CustomerFactory.create()
    for _ in range(51):
        make_notification(customer=customer, with_order=False)

    response = client_as(Role.CUSTOMER_SERVICE).get(
        reverse("outbox"), {"page": page}, headers=headers
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('id="message-row-') == 1
    assert "Page 2" in html


@pytest.mark.parametrize(
    ("per_page", "rows"),
    [("7", 7), ("100000", MAX_PAGE_SIZE), (str(10**30), MAX_PAGE_SIZE), ("0", 50), ("x", 50)],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_outbox_page_size_is_capped(
    client_as: Callable[..., Client], per_page: str, rows: int, headers: dict[str, str]
) -> None:
    customer = CustomerFactory.create()
    for _ in range(MAX_PAGE_SIZE + 1):
        make_notification(customer=customer, with_order=False)

    response = client_as(Role.CUSTOMER_SERVICE).get(
        reverse("outbox"), {"per_page": per_page}, headers=headers
    )

    assert response.status_code == 200
    assert response.content.decode().count('id="message-row-') == rows


def count_outbox_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("outbox"))
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_outbox_query_count_is_fixed(
    client_as: Callable[..., Client], django_assert_max_num_queries: Any, settings: Any
) -> None:
    # The page itself, as in production (the embedded mode's sweep-on-open is off).
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # given: a warm session, then 2 messages, then 200 across many customers and orders
    client = client_as(Role.CUSTOMER_SERVICE)
    client.get(reverse("outbox"))
    for _ in range(2):
        make_notification()
    few = count_outbox_queries(client)
    for index in range(198):
        make_notification(with_order=index % 3 != 0)

    # when / then
    with django_assert_max_num_queries(5):
        response = client.get(reverse("outbox"))
    assert response.status_code == 200
    assert count_outbox_queries(client) == few


# --- message page ----------------------------------------------------------------


def test_message_page_shows_bodies_and_facts(client_as: Callable[..., Client]) -> None:
    notification = make_notification(
        subject="Your order ships later",
        body_text="Dear Ada,\n<we are sorry>\n",
        body_html='<p>Dear Ada</p><script>alert("x")</script>',
        status=NotificationStatus.FAILED,
        attempts=6,
        last_error="550 mailbox unavailable",
        dedup_key="promise:SO-1:3",
    )

    response = client_as(Role.PURCHASING).get(reverse("outbox-message", args=[notification.pk]))

    html = response.content.decode()
    assert "<html" in html
    assert "<pre" in html and "Dear Ada,\n&lt;we are sorry&gt;" in html
    assert 'sandbox=""' in html
    # the HTML body only inside the sandboxed iframe, escaped into srcdoc
    assert 'srcdoc="&lt;p&gt;Dear Ada&lt;/p&gt;&lt;script&gt;alert(&quot;x&quot;)' in html
    assert "<script>alert" not in html
    assert "550 mailbox unavailable" in html
    assert "promise:SO-1:3" in html
    assert 'data-status="failed">Failed<' in html
    # purchasing may not send again
    assert "Send again" not in html
    assert reverse("outbox-message-resend", args=[notification.pk]) not in html


def test_message_fragment_for_htmx(client_as: Callable[..., Client]) -> None:
    notification = make_notification(status=NotificationStatus.FAILED)

    response = client_as(Role.CUSTOMER_SERVICE).get(
        reverse("outbox-message", args=[notification.pk]), headers=HX
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith(
        f'<article class="card message-card" id="message-{notification.pk}"'
    )
    assert 'sandbox=""' in html and "<pre" in html
    assert "Send again" in html


def test_message_pages_allow_the_email_styles_but_no_script(
    client_as: Callable[..., Client],
) -> None:
    notification = make_notification()
    client = client_as(Role.CUSTOMER_SERVICE)

    for url in (reverse("outbox"), reverse("outbox-message", args=[notification.pk])):
        policy = client.get(url)["Content-Security-Policy"]
        assert "style-src-attr 'unsafe-inline'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline' ;" not in policy
    assert "style-src-attr" not in client.get(reverse("policy"))["Content-Security-Policy"]


def test_unknown_message_is_404(client_as: Callable[..., Client]) -> None:
    response = client_as(Role.CUSTOMER_SERVICE).get(reverse("outbox-message", args=[999_999]))

    assert response.status_code == 404


def test_sent_message_has_no_send_again_button(client_as: Callable[..., Client]) -> None:
    notification = make_notification(status=NotificationStatus.SENT)

    response = client_as(Role.CUSTOMER_SERVICE).get(
        reverse("outbox-message", args=[notification.pk])
    )

    assert "Send again" not in response.content.decode()


# --- resend ----------------------------------------------------------------------


def test_resend_puts_a_failed_message_back_and_triggers_the_event(
    client_as: Callable[..., Client],
) -> None:
    # given
    notification = make_notification(
        status=NotificationStatus.FAILED, attempts=6, last_error="timed out"
    )

    # when
    response = client_as(Role.CUSTOMER_SERVICE).post(
        reverse("outbox-message-resend", args=[notification.pk]), headers=HX
    )

    # then
    assert response.status_code == 200
    assert "notificationResent" in response["HX-Trigger"]
    html = response.content.decode()
    assert "<html" not in html
    assert f'id="message-{notification.pk}"' in html
    assert 'data-status="pending">Pending<' in html
    assert "Send again" not in html
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING


def test_resend_sends_the_message_once_committed(
    client_as: Callable[..., Client], django_capture_on_commit_callbacks: Any
) -> None:
    notification = make_notification(status=NotificationStatus.FAILED, attempts=6)
    client = client_as(Role.CUSTOMER_SERVICE)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("outbox-message-resend", args=[notification.pk]), headers=HX)

    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert [message.to for message in mail.outbox] == [[notification.to_email]]


def test_resend_of_a_sent_message_changes_nothing(client_as: Callable[..., Client]) -> None:
    notification = make_notification(status=NotificationStatus.SENT)

    response = client_as(Role.CUSTOMER_SERVICE).post(
        reverse("outbox-message-resend", args=[notification.pk]), headers=HX
    )

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT


def test_resend_without_htmx_redirects_to_the_message(client_as: Callable[..., Client]) -> None:
    notification = make_notification(status=NotificationStatus.FAILED)

    response = client_as(Role.CUSTOMER_SERVICE).post(
        reverse("outbox-message-resend", args=[notification.pk]), follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("outbox-message", args=[notification.pk])
    assert "goes out again" in response.content.decode()


def test_resend_by_purchasing_is_forbidden(client_as: Callable[..., Client]) -> None:
    notification = make_notification(status=NotificationStatus.FAILED)

    response = client_as(Role.PURCHASING).post(
        reverse("outbox-message-resend", args=[notification.pk]), headers=HX
    )

    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED


def test_resend_is_post_only(client_as: Callable[..., Client]) -> None:
    notification = make_notification(status=NotificationStatus.FAILED)

    response = client_as(Role.CUSTOMER_SERVICE).get(
        reverse("outbox-message-resend", args=[notification.pk])
    )

    assert response.status_code == 405


# --- the embedded inbox ------------------------------------------------------------


def test_the_embedded_inbox_sends_combined_updates_whose_window_closed(client_as) -> None:
    import datetime as dt

    from django.core import mail
    from django.utils import timezone

    from config.roles import Role
    from notifications.models import Notification
    from tests.factories import CustomerFactory

    customer = CustomerFactory.create()
    held = Notification.objects.create(
        kind="promise_later",
        customer=customer,
        language="en",
        to_email=customer.email,
        subject="Your order is delayed",
        body_text="text",
        body_html="<p>html</p>",
        dedup_key="promise:test:1",
        not_before=timezone.now() - dt.timedelta(minutes=1),
    )
    # given eager tasks (the embedded mode and the test settings)
    response = client_as(Role.CUSTOMER_SERVICE).get("/outbox/")
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.status == "sent"
    assert [m.subject for m in mail.outbox] == ["Your order is delayed"]
