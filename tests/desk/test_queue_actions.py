"""Row actions on the backorder queue /queue/: change a line's priority, cancel
its backordered remainder; the checkbox and action columns, and the links."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications import updates
from notifications.models import Notification, NotificationKind
from orders.models import Cancellation, OrderLine
from orders.services.intake import LineRequest
from tests.conftest import Shop
from tests.desk.test_queue import FRAGMENT_QUERIES, PAGE_QUERIES, long_queue, rows_of

__all__ = ["long_queue"]  # the fixture, shared with the queue view tests

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
QUEUE = "/queue/"


@pytest.fixture
def waiting(shop: Shop) -> list[OrderLine]:
    """Three customers waiting for a chair, promised from a purchase order."""
    chair = shop.product(sku="CH-RAT", name="Rattan lounge chair")
    shop.purchase(chair, 10, days=6)
    lines = []
    for name in ("Ayu Lestari", "Mia Carter", "Budi Halim"):
        order = updates.order_place(
            customer=shop.customer(name=name),
            warehouse=shop.warehouse,
            lines=[LineRequest(chair, 2)],
            by=shop.clerk,
        )
        lines.append(order.lines.get())
    return lines


def priority_url(line: OrderLine) -> str:
    return reverse("queue-line-priority", args=[line.pk])


def cancel_url(line: OrderLine) -> str:
    return reverse("queue-line-cancel", args=[line.pk])


def trigger(response) -> dict:
    return json.loads(response["HX-Trigger"])


def error_beside(html: str, field_id: str) -> str:
    return html.split(f'id="{field_id}-error"', 1)[1].split("</ul>", 1)[0]


# --- who sees what ----------------------------------------------------------------


def test_urls() -> None:
    assert reverse("queue-line-priority", args=[7]) == "/queue/lines/7/priority/"
    assert reverse("queue-line-cancel", args=[7]) == "/queue/lines/7/cancel/"


def test_warehouse_sees_no_checkboxes_and_no_actions(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    html = client_as(Role.WAREHOUSE).get(QUEUE).content.decode()

    assert len(rows_of_html(html)) == 3
    assert 'name="lines"' not in html
    assert 'id="queue-bulk"' not in html
    assert "queue-line-priority" not in html and "/priority/" not in html
    assert "/cancel/" not in html
    assert "Select all on this page" not in html


def test_purchasing_may_change_priority_but_not_cancel_or_email(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    html = client_as(Role.PURCHASING).get(QUEUE).content.decode()

    assert html.count('name="lines"') == 3
    assert priority_url(waiting[0]) in html
    assert cancel_url(waiting[0]) not in html
    assert 'value="reprioritise"' in html
    assert 'value="notify"' not in html


def test_customer_service_sees_every_action(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    html = client_as(Role.CUSTOMER_SERVICE).get(QUEUE).content.decode()

    line = waiting[0]
    row = html.split(f'<tr id="line-row-{line.pk}"', 1)[1].split("</tr>", 1)[0]
    assert f'name="lines" value="{line.pk}" form="queue-bulk"' in row
    assert f'action="{priority_url(line)}"' in row
    assert f'hx-post="{cancel_url(line)}"' in row
    assert "Cancel 2 units, tell the customer" in row  # the confirm step says what it does
    assert 'value="notify"' in html and 'value="reprioritise"' in html
    assert 'id="queue-select-page"' in html


@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.WAREHOUSE, priority_url),
        (Role.WAREHOUSE, cancel_url),
        (Role.PURCHASING, cancel_url),
    ],
)
@pytest.mark.parametrize("headers", [{}, HX])
def test_other_roles_get_403_and_nothing_changes(
    client_as: Callable[..., Client],
    waiting: list[OrderLine],
    unchanged,
    role: Role,
    url: Callable[[OrderLine], str],
    headers: dict[str, str],
) -> None:
    with unchanged():
        response = client_as(role).post(
            url(waiting[0]), {"priority": "50", "reason": "asked"}, headers=headers
        )

    assert response.status_code == 403


def test_an_unknown_line_is_404(client_as: Callable[..., Client]) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)

    assert client.post("/queue/lines/999999/priority/", {"priority": "5"}).status_code == 404
    assert client.post("/queue/lines/999999/cancel/", {"reason": "x"}).status_code == 404


def test_order_number_and_sku_link_to_their_pages(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    html = client_as(Role.WAREHOUSE).get(QUEUE).content.decode()

    line = waiting[0]
    number = line.order.number
    assert f' class="order-number"><a href="/orders/{number}/">{number}</a></td>' in html
    assert '<a class="sku" href="/products/CH-RAT/">CH-RAT</a>' in html


# --- change priority ----------------------------------------------------------------


def test_priority_with_htmx_answers_the_table_of_the_same_filters_and_an_event(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    # given: the page shows Budi only, sorted by age
    budi = waiting[2]

    # when
    response = client_as(Role.CUSTOMER_SERVICE).post(
        priority_url(budi),
        {"priority": "50", "query": "customer=Budi&sort=-age"},
        headers=HX,
    )

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert 'id="queue-table-container"' in html
    assert rows_of(response) == [budi.order.number]  # the filter still applies
    assert '<input type="hidden" name="sort" value="-age" form="queue-filters">' in html
    assert 'name="query" value="customer=Budi&amp;sort=-age"' in html
    assert f"{budi.order.number} · CH-RAT now has priority 50 in the queue." in html
    event = trigger(response)["priorityChanged"]
    assert event["line"] == budi.pk and event["priority"] == 50
    assert "now has priority 50" in event["message"]
    budi.refresh_from_db()
    assert budi.priority == 50


def test_priority_moves_the_line_to_the_front_of_its_queue(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)

    response = client.post(priority_url(waiting[2]), {"priority": "10"}, headers=HX)

    assert rows_of(response) == [line.order.number for line in (waiting[2], *waiting[:2])]


def test_priority_without_htmx_redirects_back_to_the_queue_with_its_query(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)

    response = client.post(
        priority_url(waiting[0]), {"priority": "-5", "query": "slipped=on&page=2"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/queue/?slipped=on&page=2"
    page = client.get(response["Location"]).content.decode()
    assert "now has priority -5 in the queue." in page
    waiting[0].refresh_from_db()
    assert waiting[0].priority == -5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter a whole number from -100 to 100."),
        ("abc", "Enter a whole number from -100 to 100."),
        ("101", "Enter a whole number from -100 to 100."),
        ("1.5", "Enter a whole number from -100 to 100."),
    ],
)
def test_bad_priority_shows_a_message_beside_the_field_and_changes_nothing(
    client_as: Callable[..., Client],
    waiting: list[OrderLine],
    unchanged,
    value: str,
    message: str,
) -> None:
    line = waiting[0]

    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(
            priority_url(line), {"priority": value}, headers=HX
        )

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert message in error_beside(html, f"queue-priority-{line.pk}")
    row = html.split(f'<tr id="line-row-{line.pk}"', 1)[1].split("</tr>", 1)[0]
    assert '<details class="line-action" open>' in row  # the form stays open
    assert f'value="{value}"' in row  # with what was typed


def test_bad_priority_without_htmx_shows_the_page_with_the_message(
    client_as: Callable[..., Client], waiting: list[OrderLine], unchanged
) -> None:
    line = waiting[0]

    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(priority_url(line), {"priority": "x"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "Enter a whole number" in error_beside(html, f"queue-priority-{line.pk}")


def test_setting_the_same_priority_twice_changes_it_once(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    line = waiting[1]

    first = client.post(priority_url(line), {"priority": "7"}, headers=HX)
    second = client.post(priority_url(line), {"priority": "7"}, headers=HX)

    assert "priorityChanged" in trigger(first)
    assert "HX-Trigger" not in second
    assert "already has priority 7; nothing changed." in second.content.decode()
    assert line.history.filter(priority=7).count() == 1  # one change in the audit trail


def test_purchasing_may_change_priority(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    response = client_as(Role.PURCHASING).post(
        priority_url(waiting[0]), {"priority": "3"}, headers=HX
    )

    assert response.status_code == 200
    assert "priorityChanged" in trigger(response)


# --- cancel the remainder -------------------------------------------------------------


def test_cancel_with_htmx_answers_the_table_without_the_line_and_an_event(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    line = waiting[0]

    response = client_as(Role.CUSTOMER_SERVICE).post(
        cancel_url(line), {"reason": "Customer phoned", "query": "sort=age"}, headers=HX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert line.order.number not in rows_of(response)
    assert len(rows_of(response)) == 2
    assert "Cancelled 2 waiting × " in html and "refund due" in html
    event = trigger(response)["orderLineCancelled"]
    assert event == {
        "order": line.order.number,
        "line": line.pk,
        "units": 2,
        "message": event["message"],
    }
    line.refresh_from_db()
    assert line.cancelled == 2 and line.backordered == 0
    cancellation = Cancellation.objects.get(order_line=line)
    assert cancellation.reason == "Customer phoned"
    assert (
        Notification.objects.filter(kind=NotificationKind.CANCELLED, order=line.order).count() == 1
    )


def test_cancel_without_htmx_redirects_back_with_the_query(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)

    response = client.post(
        cancel_url(waiting[0]), {"reason": "Customer phoned", "query": "product=chair"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/queue/?product=chair"
    assert "refund due" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("headers", [{}, HX])
def test_cancel_without_a_reason_shows_a_message_beside_the_field(
    client_as: Callable[..., Client], waiting: list[OrderLine], unchanged, headers
) -> None:
    line = waiting[0]

    with unchanged():
        response = client_as(Role.CUSTOMER_SERVICE).post(
            cancel_url(line), {"reason": "   "}, headers=headers
        )

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    html = response.content.decode()
    assert "Say why" in error_beside(html, f"queue-cancel-reason-{line.pk}")
    assert not Notification.objects.filter(kind=NotificationKind.CANCELLED).exists()


@pytest.mark.parametrize("headers", [{}, HX])
def test_a_second_cancel_answers_already_cancelled(
    client_as: Callable[..., Client], waiting: list[OrderLine], headers
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    line = waiting[0]
    client.post(cancel_url(line), {"reason": "Customer phoned"}, headers=HX)

    second = client.post(cancel_url(line), {"reason": "Customer phoned"}, headers=headers)

    if headers:
        assert second.status_code == 200
        assert "HX-Trigger" not in second
        html = second.content.decode()
    else:
        assert second.status_code == 302
        html = client.get(second["Location"]).content.decode()
    assert "the remainder is already cancelled; nothing changed." in html
    assert Cancellation.objects.filter(order_line=line).count() == 1
    assert Notification.objects.filter(kind=NotificationKind.CANCELLED).count() == 1


# --- selecting -------------------------------------------------------------------------


def test_select_all_ticks_every_row_of_the_page_and_keeps_the_filters(
    client_as: Callable[..., Client], waiting: list[OrderLine]
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)

    plain = client.get(QUEUE, {"sort": "-age"}, headers=HX).content.decode()
    selected = client.get(QUEUE, {"sort": "-age", "select": "page"}, headers=HX)

    assert 'hx-get="/queue/?sort=-age&amp;select=page"' in plain
    html = selected.content.decode()
    assert html.count('form="queue-bulk" class="queue-select" aria-label=') == 3
    assert html.count(" checked>") == 4  # three rows and the header box
    assert "Clear selection" in html
    assert 'name="query" value="sort=-age"' in html  # "select" is not part of the slice


# --- queries --------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.PURCHASING])
def test_queries_stay_fixed_with_the_action_columns(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    long_queue: list[OrderLine],
    role: Role,
) -> None:
    client = client_as(role)

    with django_assert_max_num_queries(PAGE_QUERIES):
        page = client.get(QUEUE, {"select": "page"})
    with django_assert_max_num_queries(FRAGMENT_QUERIES):
        fragment = client.get(QUEUE, {"sort": "-promised_date"}, headers=HX)

    assert len(rows_of(page)) == 50
    assert page.content.decode().count('name="lines"') == 50
    assert fragment.content.decode().count('class="row-actions"') == 50


def test_an_action_answer_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client],
    django_assert_max_num_queries,
    long_queue: list[OrderLine],
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    line = long_queue[0]

    # the line, then the priority change (locks, recompute of one queue), then the table
    with django_assert_max_num_queries(40):
        response = client.post(priority_url(line), {"priority": "9"}, headers=HX)

    assert len(rows_of(response)) == 50


def rows_of_html(html: str) -> list[str]:
    return [chunk for chunk in html.split('<tr id="line-row-')[1:]]


@pytest.mark.parametrize("line_id", [str(10**30), str(2**63)])
@pytest.mark.parametrize("action", ["priority", "cancel"])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_line_id_no_row_can_have_is_404(
    client_as: Callable[..., Client], unchanged, line_id: str, action: str, headers: dict
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)

    with unchanged():
        response = client.post(
            f"/queue/lines/{line_id}/{action}/", {"priority": 1, "reason": "x"}, headers=headers
        )

    assert response.status_code == 404
