"""What customer service does on the delays page: a personal note, a discount,
an internal note, a substitute, cancelling the remainder. Each with and
without htmx, with bad input, for the wrong role, and submitted twice."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications import updates
from notifications.models import CompensationPolicy, DiscountCode, Notification, NotificationKind
from orders.models import Cancellation, FormSubmission, OrderLine, OrderNote, SalesOrder
from orders.services.intake import LineRequest
from tests.conftest import Shop
from tests.factories import CustomerFactory, OrderLineFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def delayed(shop: Shop) -> SimpleNamespace:
    """Ayu waits for 2 rattan chairs whose purchase order slipped four days (an
    apology, not yet a discount); a black one (the alternative) is in stock."""
    chair = shop.product(sku="RT-CHAIR", name="Rattan lounge chair", price=Decimal("40.00"))
    black = shop.product(sku="RT-CHAIR-BLK", name="Rattan lounge chair, black")
    chair.alternatives.add(black)
    shop.receive(black, 5)
    po = shop.purchase(chair, 10, days=6)
    order = updates.order_place(
        customer=shop.customer(name="Ayu Lestari", email="ayu@example.com"),
        warehouse=shop.warehouse,
        lines=[LineRequest(chair, 2)],
        by=shop.clerk,
    )
    updates.purchase_order_move_expected_date(
        purchase_order=po,
        new_date=timezone.localdate() + dt.timedelta(days=10),
        reason="port delay",
        by=shop.clerk,
    )
    line = order.lines.get()
    assert line.times_slipped == 1
    assert not DiscountCode.objects.exists()
    return SimpleNamespace(
        order=order, customer=order.customer, line=line, chair=chair, black=black
    )


def token() -> str:
    return uuid.uuid4().hex


def card_id(delayed: SimpleNamespace) -> str:
    return f'id="delay-customer-{delayed.customer.pk}"'


def event_of(response: Any) -> dict[str, Any]:
    return json.loads(response["HX-Trigger"])["delaysChanged"]


def note_url(d: SimpleNamespace) -> str:
    return reverse("delay-customer-note", args=[d.customer.pk])


def discount_url(d: SimpleNamespace) -> str:
    return reverse("delay-discount", args=[d.customer.pk])


def internal_url(d: SimpleNamespace) -> str:
    return reverse("delay-order-note", args=[d.customer.pk])


def substitute_url(d: SimpleNamespace) -> str:
    return reverse("delay-line-substitute", args=[d.customer.pk, d.line.pk])


def cancel_url(d: SimpleNamespace) -> str:
    return reverse("delay-line-cancel", args=[d.customer.pk, d.line.pk])


@pytest.fixture
def agent(client_as: Callable[..., Client]) -> Client:
    return client_as(Role.CUSTOMER_SERVICE)


# --- roles ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.PURCHASING])
@pytest.mark.parametrize("url", [note_url, discount_url, internal_url, substitute_url, cancel_url])
def test_only_customer_service_acts(
    client_as: Callable[..., Client], delayed: SimpleNamespace, role: Role, url: Any
) -> None:
    data = {"order": delayed.order.number, "note": "hi", "body": "x", "reason": "x"}
    data.update(percent="10", product=str(delayed.black.pk), token=token())
    before = (Notification.objects.count(), DiscountCode.objects.count(), OrderNote.objects.count())
    response = client_as(role).post(url(delayed), data, headers=HX)
    assert response.status_code == 403
    after = (Notification.objects.count(), DiscountCode.objects.count(), OrderNote.objects.count())
    assert after == before
    delayed.line.refresh_from_db()
    assert delayed.line.backordered == 2


def test_actions_are_post_only(agent: Client, delayed: SimpleNamespace) -> None:
    assert agent.get(note_url(delayed)).status_code == 405


def test_csrf_is_required(make_user: Any, delayed: SimpleNamespace) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.CUSTOMER_SERVICE))
    data = {"order": delayed.order.number, "note": "hi", "token": token()}
    assert client.post(note_url(delayed), data, headers=HX).status_code == 403
    assert not Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).exists()


def test_another_customers_line_is_404(agent: Client, delayed: SimpleNamespace) -> None:
    stranger = OrderLineFactory.create(order=SalesOrderFactory.create())
    url = reverse("delay-line-cancel", args=[delayed.customer.pk, stranger.pk])
    assert agent.post(url, {"reason": "x"}, headers=HX).status_code == 404
    assert agent.post(reverse("delay-customer-note", args=[999999]), {}).status_code == 404


# --- a personal note ---------------------------------------------------------------


def test_a_personal_note_is_emailed(agent: Client, delayed: SimpleNamespace) -> None:
    data = {
        "order": delayed.order.number,
        "subject": "About your chairs",
        "note": "The truck is at the port.\nWe call you when it lands.",
        "token": token(),
        "return_query": "passed=&min_days=1",
    }
    response = agent.post(note_url(delayed), data, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f"<article {card_id(delayed)}")
    assert "<html" not in html
    assert "Your note to Ayu Lestari about" in html and 'role="status"' in html
    assert event_of(response) == {
        "customer": delayed.customer.pk,
        "message": f"Your note to Ayu Lestari about {delayed.order.number} is in the outbox.",
        "action": "personal_note",
        "order": delayed.order.number,
    }
    note = Notification.objects.get(kind=NotificationKind.PERSONAL_NOTE)
    assert (note.order, note.customer, note.subject) == (
        delayed.order,
        delayed.customer,
        "About your chairs",
    )
    assert "The truck is at the port." in note.body_text
    assert note.context["agent_name"]
    # the card now lists it, and the forms carry the page's filters back
    assert "About your chairs" in html
    assert 'name="return_query" value="passed=&amp;min_days=1"' in html


def test_without_htmx_a_note_redirects_back_to_the_page(
    agent: Client, delayed: SimpleNamespace
) -> None:
    data = {
        "order": delayed.order.number,
        "note": "Sorry!",
        "token": token(),
        "return_query": "customer=ayu",
    }
    response = agent.post(note_url(delayed), data)
    assert response.status_code == 302
    assert response["Location"] == f"/delays/?customer=ayu#delay-customer-{delayed.customer.pk}"
    page = agent.get(response["Location"]).content.decode()
    assert "Your note to Ayu Lestari" in page and "message-success" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"note": ""}, "note-text", "Write the message to the customer."),
        ({"note": " \n "}, "note-text", "Write the message to the customer."),
        ({"note": "x" * 5001}, "note-text", "At most 5000 characters."),
        ({"subject": "s" * 201}, "note-subject", "At most 200 characters."),
        ({"order": "SO-NOPE"}, "note-order", "Choose one of this customer"),
        ({"order": ""}, "note-order", "Choose the order it is about."),
    ],
)
def test_a_bad_note_gets_a_message_beside_the_field(
    agent: Client, delayed: SimpleNamespace, data: dict[str, str], field: str, message: str
) -> None:
    posted = {"order": delayed.order.number, "note": "Hello", "token": token(), **data}
    response = agent.post(note_url(delayed), posted, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    error_id = f'id="{field}-{delayed.customer.pk}-error"'
    assert error_id in html
    assert message.replace("'", "&#x27;") in html.split(error_id, 1)[1].split("</p>", 1)[0]
    assert '<details class="delay-action" open>' in html  # the form stays open
    assert not Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).exists()
    assert not FormSubmission.objects.exists()


def test_an_out_of_date_form_is_refused(agent: Client, delayed: SimpleNamespace) -> None:
    data = {"order": delayed.order.number, "note": "Hi", "token": "forged"}
    html = agent.post(note_url(delayed), data, headers=HX).content.decode()
    assert "This form is out of date: reload the page and try again." in html
    assert not Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).exists()


def test_a_note_to_an_opted_out_customer_is_refused(
    agent: Client, delayed: SimpleNamespace
) -> None:
    delayed.customer.email_opt_out = True
    delayed.customer.save()
    data = {"order": delayed.order.number, "note": "Hi", "token": token()}
    html = agent.post(note_url(delayed), data, headers=HX).content.decode()
    assert "opted out of update emails, so no email would reach them" in html
    assert not Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).exists()
    assert not FormSubmission.objects.exists()


@pytest.mark.parametrize("headers", [HX, {}])
def test_a_note_submitted_twice_is_sent_once(
    agent: Client, delayed: SimpleNamespace, headers: dict[str, str]
) -> None:
    data = {"order": delayed.order.number, "note": "Hello", "token": token()}
    agent.post(note_url(delayed), data, headers=headers)
    second = agent.post(note_url(delayed), data, headers=headers)
    assert Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).count() == 1
    assert "HX-Trigger" not in second
    if headers:
        assert "already submitted: nothing was done a second time" in second.content.decode()
    else:
        page = agent.get(second["Location"]).content.decode()
        assert "already submitted" in page


# --- a discount ---------------------------------------------------------------------


def test_a_discount_is_issued_and_emailed(agent: Client, delayed: SimpleNamespace) -> None:
    data = {
        "order": delayed.order.number,
        "percent": "7.5",
        "note": "Thank you for your patience.",
        "token": token(),
    }
    response = agent.post(discount_url(delayed), data, headers=HX)
    html = response.content.decode()
    code = DiscountCode.objects.get()
    assert (code.customer, code.order, code.percent) == (
        delayed.customer,
        delayed.order,
        Decimal("7.50"),
    )
    assert (
        code.issued_by is not None
        and code.issued_by.groups.filter(name="customer_service").exists()
    )
    assert code.expires_on == timezone.localdate() + dt.timedelta(
        days=CompensationPolicy.current().discount_valid_days
    )
    email = Notification.objects.get(kind=NotificationKind.PERSONAL_NOTE)
    assert code.code in email.body_text and "7.5% off your next order" in email.body_text
    assert "Thank you for your patience." in email.body_text
    assert "7.5% off your next order" in email.subject
    assert event_of(response)["action"] == "discount"
    assert event_of(response)["code"] == code.code
    assert f"Discount code {code.code} (7.5%)" in html
    assert f"<code>{code.code}</code>" in html  # listed on the card


def test_the_percent_defaults_to_the_policy(agent: Client, delayed: SimpleNamespace) -> None:
    policy = CompensationPolicy.current()
    policy.discount_percent = Decimal("15")
    policy.save()
    actions = reverse("delay-customer-actions", args=[delayed.customer.pk])
    html = agent.get(actions).content.decode()
    assert 'min="1" max="15"' in html and 'value="15"' in html
    assert "From 1 to 15 % under the compensation policy" in html


@pytest.mark.parametrize(
    ("percent", "message"),
    [
        ("25", "Enter a percentage from 1 to 10 (the compensation policy"),
        ("0", "Enter a percentage from 1 to 10"),
        ("-5", "Enter a percentage from 1 to 10"),
        ("abc", "Enter a number, e.g. 10 or 7.5."),
        ("NaN", "Enter a number, e.g. 10 or 7.5."),
        ("1e400", "Enter a number, e.g. 10 or 7.5."),
        ("5.555", "At most two decimals, e.g. 7.5."),
        ("", "Enter a percentage."),
    ],
)
def test_a_discount_outside_the_policy_is_refused(
    agent: Client, delayed: SimpleNamespace, percent: str, message: str
) -> None:
    data = {"order": delayed.order.number, "percent": percent, "token": token()}
    response = agent.post(discount_url(delayed), data, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    error_id = f'id="discount-percent-{delayed.customer.pk}-error"'
    assert message in html.split(error_id, 1)[1].split("</p>", 1)[0]
    assert f'value="{percent}"' in html  # what was typed stays
    assert not DiscountCode.objects.exists()
    assert not Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).exists()


def test_one_discount_per_order(agent: Client, delayed: SimpleNamespace) -> None:
    data = {"order": delayed.order.number, "percent": "10", "token": token()}
    agent.post(discount_url(delayed), data, headers=HX)
    code = DiscountCode.objects.get()
    html = agent.post(
        discount_url(delayed), {**data, "token": token()}, headers=HX
    ).content.decode()
    error_id = f'id="discount-order-{delayed.customer.pk}-error"'
    assert f"already has discount code {code.code}" in html.split(error_id, 1)[1]
    assert DiscountCode.objects.count() == 1


def test_a_discount_submitted_twice_is_issued_once(agent: Client, delayed: SimpleNamespace) -> None:
    policy = CompensationPolicy.current()
    policy.one_discount_per_order = False  # only the token stops the second
    policy.save()
    data = {"order": delayed.order.number, "percent": "10", "token": token()}
    first = agent.post(discount_url(delayed), data, headers=HX)
    second = agent.post(discount_url(delayed), data, headers=HX)
    assert "HX-Trigger" in first and "HX-Trigger" not in second
    assert DiscountCode.objects.count() == 1
    assert Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).count() == 1
    # a new form (a new token) may give a second code
    agent.post(discount_url(delayed), {**data, "token": token()}, headers=HX)
    assert DiscountCode.objects.count() == 2


def test_an_opted_out_customer_gets_the_code_from_the_agent(
    agent: Client, delayed: SimpleNamespace
) -> None:
    delayed.customer.email_opt_out = True
    delayed.customer.save()
    data = {"order": delayed.order.number, "percent": "10", "token": token()}
    html = agent.post(discount_url(delayed), data, headers=HX).content.decode()
    code = DiscountCode.objects.get()
    assert f"Discount code {code.code} (10%) issued" in html
    assert "opted out of update emails: tell them the code yourself" in html
    assert not Notification.objects.filter(kind=NotificationKind.PERSONAL_NOTE).exists()


def test_without_htmx_a_discount_redirects_and_a_refusal_shows_the_card(
    agent: Client, delayed: SimpleNamespace
) -> None:
    data = {"order": delayed.order.number, "percent": "10", "token": token()}
    response = agent.post(discount_url(delayed), data)
    assert response.status_code == 302
    refused = agent.post(discount_url(delayed), {**data, "percent": "99", "token": token()})
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "<html" in html and html.count('class="card delay-card"') == 1
    assert "Enter a percentage from 1 to 10" in html
    assert "All delayed customers" in html


# --- an internal note --------------------------------------------------------------------


def test_an_internal_note_is_kept_and_never_emailed(
    agent: Client, delayed: SimpleNamespace
) -> None:
    before = Notification.objects.count()
    data = {"order": delayed.order.number, "body": "Called her: keeps waiting", "token": token()}
    response = agent.post(internal_url(delayed), data, headers=HX)
    note = OrderNote.objects.get()
    assert (note.order, note.body) == (delayed.order, "Called her: keeps waiting")
    assert note.author is not None
    assert Notification.objects.count() == before
    html = response.content.decode()
    assert "Called her: keeps waiting" in html and note.author.get_username() in html
    assert event_of(response)["action"] == "internal_note"
    order_page = agent.get(reverse("order", args=[delayed.order.number])).content.decode()
    assert "Called her: keeps waiting" in order_page


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write the note first."), ("   ", "Write the note first."), ("x" * 2001, "At most 2000")],
)
def test_a_bad_internal_note_is_refused(
    agent: Client, delayed: SimpleNamespace, body: str, message: str
) -> None:
    data = {"order": delayed.order.number, "body": body, "token": token()}
    html = agent.post(internal_url(delayed), data, headers=HX).content.decode()
    error_id = f'id="internal-body-{delayed.customer.pk}-error"'
    assert message in html.split(error_id, 1)[1].split("</p>", 1)[0]
    assert not OrderNote.objects.exists()


def test_an_internal_note_submitted_twice_is_kept_once(
    agent: Client, delayed: SimpleNamespace
) -> None:
    data = {"order": delayed.order.number, "body": "Once", "token": token()}
    agent.post(internal_url(delayed), data, headers=HX)
    agent.post(internal_url(delayed), data, headers=HX)
    assert OrderNote.objects.count() == 1


def test_no_order_of_another_customer(agent: Client, delayed: SimpleNamespace) -> None:
    other = updates.order_place(
        customer=CustomerFactory.create(),
        warehouse=delayed.order.warehouse,
        lines=[LineRequest(delayed.chair, 1)],
        by=None,
    )
    data = {"order": other.number, "body": "x", "token": token()}
    html = agent.post(internal_url(delayed), data, headers=HX).content.decode()
    assert "Choose one of this customer" in html
    assert not OrderNote.objects.exists()


# --- substitute -----------------------------------------------------------------------


def test_a_substitute_replaces_the_line_and_tells_the_customer(
    agent: Client, delayed: SimpleNamespace
) -> None:
    response = agent.post(substitute_url(delayed), {"product": str(delayed.black.pk)}, headers=HX)
    html = response.content.decode()
    new = OrderLine.objects.get(substitute_for=delayed.line)
    assert (new.product, new.ordered, new.allocated) == (delayed.black, 2, 2)
    cancellation = Cancellation.objects.get(order_line=delayed.line)
    assert cancellation.reason == "Substituted with RT-CHAIR-BLK"
    assert cancellation.cancelled_by is not None
    email = Notification.objects.filter(kind=NotificationKind.SUBSTITUTED).get()
    assert "Rattan lounge chair, black" in email.body_text
    # no "ready to ship" on top: one email
    assert not Notification.objects.filter(kind=NotificationKind.READY_TO_SHIP).exists()
    assert event_of(response)["action"] == "substitute"
    assert event_of(response)["line"] == new.pk
    assert "2 × RT-CHAIR replaced with RT-CHAIR-BLK (2 allocated now, 0 waiting)" in html
    # the customer is no longer delayed
    assert "is delayed any more" in html


def test_a_substitute_is_emailed_even_to_an_opted_out_customer(
    agent: Client, delayed: SimpleNamespace
) -> None:
    # given a customer who wants no update emails
    delayed.customer.email_opt_out = True
    delayed.customer.save(update_fields=["email_opt_out"])
    # when their line is swapped for an alternative
    response = agent.post(substitute_url(delayed), {"product": str(delayed.black.pk)}, headers=HX)
    # then they still learn what changed on their order
    assert response.status_code == 200
    email = Notification.objects.filter(kind=NotificationKind.SUBSTITUTED).get()
    assert email.customer == delayed.customer
    assert "The customer is told by email." in response.content.decode()


def test_only_an_alternative_may_substitute(agent: Client, delayed: SimpleNamespace, shop) -> None:
    stranger = shop.product(sku="NOT-ALT")
    html = agent.post(
        substitute_url(delayed), {"product": str(stranger.pk)}, headers=HX
    ).content.decode()
    error_id = f'id="substitute-{delayed.line.pk}-error"'
    assert "Choose one of the product" in html.split(error_id, 1)[1].split("</p>", 1)[0]
    assert not OrderLine.objects.filter(substitute_for__isnull=False).exists()
    for junk in ("", "abc", "-1", "99999999999999999999"):
        response = agent.post(substitute_url(delayed), {"product": junk}, headers=HX)
        assert response.status_code == 200
    assert not OrderLine.objects.filter(substitute_for__isnull=False).exists()


def test_a_substitute_submitted_twice_applies_once(agent: Client, delayed: SimpleNamespace) -> None:
    data = {"product": str(delayed.black.pk)}
    agent.post(substitute_url(delayed), data, headers=HX)
    second = agent.post(substitute_url(delayed), data, headers=HX)
    assert "Nothing on this line is waiting on backorder." in second.content.decode()
    assert "HX-Trigger" not in second
    assert OrderLine.objects.filter(substitute_for=delayed.line).count() == 1
    assert Cancellation.objects.count() == 1


def test_without_htmx_a_substitute_redirects(agent: Client, delayed: SimpleNamespace) -> None:
    response = agent.post(substitute_url(delayed), {"product": str(delayed.black.pk)})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#delay-customer-{delayed.customer.pk}")


# --- cancel the remainder ----------------------------------------------------------------


def test_cancelling_the_remainder(agent: Client, delayed: SimpleNamespace) -> None:
    response = agent.post(cancel_url(delayed), {"reason": "asked by phone"}, headers=HX)
    html = response.content.decode()
    delayed.line.refresh_from_db()
    assert (delayed.line.cancelled, delayed.line.backordered) == (2, 0)
    assert Notification.objects.filter(
        kind=NotificationKind.CANCELLED, order=delayed.order
    ).exists()
    assert event_of(response) == {
        "customer": delayed.customer.pk,
        "message": (
            f"{delayed.order.number}: cancelled 2 × RT-CHAIR; refund due 0.00. "
            "The customer is told by email."
        ),
        "action": "cancel",
        "order": delayed.order.number,
        "line": delayed.line.pk,
    }
    assert f'id="delay-line-{delayed.line.pk}"' not in html  # no longer delayed
    queue = agent.get("/queue/").content.decode()
    assert delayed.order.number not in queue


def test_cancelling_needs_a_reason(agent: Client, delayed: SimpleNamespace) -> None:
    response = agent.post(cancel_url(delayed), {"reason": "  "}, headers=HX)
    html = response.content.decode()
    error_id = f'id="delay-cancel-reason-{delayed.line.pk}-error"'
    assert "Say why" in html.split(error_id, 1)[1].split("</p>", 1)[0]
    delayed.line.refresh_from_db()
    assert delayed.line.backordered == 2


def test_cancelling_twice_cancels_once(agent: Client, delayed: SimpleNamespace) -> None:
    agent.post(cancel_url(delayed), {"reason": "asked"}, headers=HX)
    second = agent.post(cancel_url(delayed), {"reason": "asked"}, headers=HX)
    assert "Nothing on this line is waiting on backorder." in second.content.decode()
    assert Cancellation.objects.count() == 1
    assert Notification.objects.filter(kind=NotificationKind.CANCELLED).count() == 1


def test_without_htmx_a_refused_cancel_shows_the_page(
    agent: Client, delayed: SimpleNamespace
) -> None:
    response = agent.post(cancel_url(delayed), {"reason": ""})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert "Say why" in html
    assert 'aria-current="page">Delays' in html


def test_a_posted_return_query_only_rebuilds_the_delays_url(
    agent: Client, delayed: SimpleNamespace
) -> None:
    data = {"reason": "x", "return_query": "next=https://evil.example/&page=2"}
    response = agent.post(cancel_url(delayed), data)
    assert response["Location"].startswith("/delays/?next=https%3A%2F%2Fevil.example")
    assert SalesOrder.objects.filter(pk=delayed.order.pk).exists()
