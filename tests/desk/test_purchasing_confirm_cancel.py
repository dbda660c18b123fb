"""Confirming and cancelling a purchase order from its page (purchasing).

Confirm sends a draft to the supplier: the waiting lines it covers get a firm
date. Cancel first shows who loses the supply (exact, nothing saved), then
cancels: the lines it covered fall back to other supply or an estimate. Both
tell the customers as the compensation policy says, and apply once per form.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications import updates
from notifications.models import DiscountCode, Notification, NotificationKind
from notifications.services.outbox import notifications_sweep
from orders.models import FormSubmission, OrderLine, PromiseRevision
from orders.services.intake import LineRequest
from suppliers.models import PurchaseOrder, PurchaseOrderStatus
from suppliers.services import PurchaseLineRequest, purchase_order_create
from tests.conftest import Shop
from tests.desk.test_purchasing import DETAIL_QUERIES

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def page_url(po: PurchaseOrder) -> str:
    return reverse("purchase-order", args=[po.number])


def confirm_url(po: PurchaseOrder) -> str:
    return reverse("purchase-order-confirm", args=[po.number])


def step_url(po: PurchaseOrder) -> str:
    return reverse("purchase-order-cancel-preview", args=[po.number])


def cancel_url(po: PurchaseOrder) -> str:
    return reverse("purchase-order-cancel", args=[po.number])


def token() -> dict[str, str]:
    return {"token": uuid.uuid4().hex}


def place(shop: Shop, product: Any, quantity: int = 2, **customer: Any) -> OrderLine:
    order = updates.order_place(
        customer=shop.customer(**customer),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, quantity)],
        by=shop.clerk,
    )
    return order.lines.get()


@pytest.fixture
def draft(shop: Shop) -> PurchaseOrder:
    """Two customers waiting on an estimate (no purchase order covers them),
    and a draft of 10 units due in 6 days."""
    product = shop.product(name="Rattan lounge chair")
    place(shop, product)
    place(shop, product)
    return purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, 10)],
        expected_date=days(6),
        by=shop.clerk,
    )


@pytest.fixture
def ordered(shop: Shop) -> PurchaseOrder:
    """A purchase order due in 3 days with three customers promised from it."""
    product = shop.product(name="Teak bench")
    po = shop.purchase(product, 10, days=3)
    for _ in range(3):
        place(shop, product)
    return po


def snapshot() -> dict[str, object]:
    """Everything a refused confirm or cancel must leave as it was."""
    return {
        "po": sorted(PurchaseOrder.objects.values_list("pk", "status", "ordered_at")),
        "promises": sorted(
            OrderLine.objects.values_list(
                "pk", "promised_date", "promise_is_estimate", "times_slipped"
            )
        ),
        "promise_revisions": PromiseRevision.objects.count(),
        "notifications": sorted(Notification.objects.values_list("pk", "kind", "subject")),
        "discounts": DiscountCode.objects.count(),
        "submissions": FormSubmission.objects.count(),
    }


def notices(response: Any) -> list[str]:
    """The messages shown on the page a followed redirect ended on."""
    return [str(message) for message in response.context["messages"]]


def promises(po: PurchaseOrder) -> list[tuple[dt.date | None, bool]]:
    product_ids = po.lines.values_list("product_id", flat=True)
    return list(
        OrderLine.objects.filter(product_id__in=product_ids)
        .order_by("pk")
        .values_list("promised_date", "promise_is_estimate")
    )


# --- roles ---------------------------------------------------------------------

VIEWS = {
    "confirm": ("post", confirm_url),
    "cancel-step": ("get", step_url),
    "cancel": ("post", cancel_url),
}


@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_is_sent_to_log_in(client: Client, draft: PurchaseOrder, view: str) -> None:
    method, url = VIEWS[view]
    response = getattr(client, method)(url(draft), token() if method == "post" else None)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER_SERVICE])
@pytest.mark.parametrize("view", VIEWS)
def test_warehouse_and_customer_service_get_403_and_nothing_changes(
    client_as: Callable[..., Client], draft: PurchaseOrder, role: Role, view: str
) -> None:
    method, url = VIEWS[view]
    client = client_as(role)
    before = snapshot()
    for headers in ({}, HX):
        data = token() if method == "post" else None
        response = getattr(client, method)(url(draft), data, headers=headers)
        assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    "who", [Role.PURCHASING, "superuser", Role.WAREHOUSE, Role.CUSTOMER_SERVICE]
)
def test_the_draft_page_offers_confirm_and_cancel_to_purchasing_only(
    client_as: Callable[..., Client], draft: PurchaseOrder, who: Any
) -> None:
    client = client_as(superuser=True) if who == "superuser" else client_as(who)
    html = client.get(page_url(draft)).content.decode()
    allowed = who in (Role.PURCHASING, "superuser")
    assert ('id="po-actions"' in html) == allowed
    assert ("Confirm (send to supplier)" in html) == allowed
    assert ("Cancel purchase order…" in html) == allowed
    if allowed:
        actions = html.split('id="po-actions"', 1)[1].split('id="cancel-step"', 1)[0]
        assert f'action="{confirm_url(draft)}"' in actions
        assert re.search(r'name="token" value="[0-9a-f]{32}"', actions)
        assert 'name="csrfmiddlewaretoken"' in actions
        # The cancel button is a link to the cancel step (works without JavaScript).
        assert f'href="{step_url(draft)}"' in actions and f'hx-get="{step_url(draft)}"' in actions
        assert 'hx-target="#cancel-step"' in actions
        assert "confirm(" not in html  # no JavaScript dialogs


@pytest.mark.parametrize("status", ["ordered", "partially_received"])
def test_an_open_order_offers_cancel_but_not_confirm(
    client_as: Callable[..., Client], ordered: PurchaseOrder, status: str
) -> None:
    PurchaseOrder.objects.filter(pk=ordered.pk).update(status=status)
    html = client_as(Role.PURCHASING).get(page_url(ordered)).content.decode()
    assert "Cancel purchase order…" in html
    assert "Confirm (send to supplier)" not in html


@pytest.mark.parametrize("status", ["received", "cancelled"])
def test_a_received_or_cancelled_order_offers_neither(
    client_as: Callable[..., Client], ordered: PurchaseOrder, status: str
) -> None:
    PurchaseOrder.objects.filter(pk=ordered.pk).update(status=status)
    html = client_as(Role.PURCHASING).get(page_url(ordered)).content.decode()
    assert 'id="po-actions"' not in html
    assert "Cancel purchase order…" not in html and "Confirm (send to supplier)" not in html


def test_the_draft_page_with_its_buttons_runs_a_fixed_number_of_queries(
    client_as: Callable[..., Client], draft: PurchaseOrder, django_assert_max_num_queries: Any
) -> None:
    client = client_as(Role.PURCHASING)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(page_url(draft))
    assert "Confirm (send to supplier)" in response.content.decode()


# --- confirm -------------------------------------------------------------------


def test_confirming_a_draft_gives_the_waiting_lines_a_firm_date_and_tells_the_customers(
    client_as: Callable[..., Client], draft: PurchaseOrder
) -> None:
    # given: two lines promised on an estimate (today + 14 days' lead + 1 handling day)
    assert promises(draft) == [(days(15), True), (days(15), True)]
    before = Notification.objects.count()

    # when
    response = client_as(Role.PURCHASING).post(confirm_url(draft), token())

    # then: the PO date + 1 handling day, firm, and each customer gets the good news
    assert response.status_code == 302
    assert response["Location"] == page_url(draft)
    draft.refresh_from_db()
    assert draft.status == PurchaseOrderStatus.ORDERED and draft.ordered_at is not None
    assert promises(draft) == [(days(7), False), (days(7), False)]
    latest = PromiseRevision.objects.order_by("-pk").first()
    assert latest is not None and latest.covered_by == draft.number
    assert latest.cause == f"{draft.number} confirmed"
    news = Notification.objects.filter(kind=NotificationKind.PROMISE_EARLIER)
    assert Notification.objects.count() - before == news.count() == 2


def test_the_confirm_message_says_what_happened(
    client_as: Callable[..., Client], draft: PurchaseOrder
) -> None:
    response = client_as(Role.PURCHASING).post(confirm_url(draft), token(), follow=True)
    assert response.redirect_chain == [(page_url(draft), 302)]
    assert notices(response) == [
        f"{draft.number} is ordered from {draft.supplier.name}. 2 waiting lines now have a "
        "firm date from it. 2 customers get an email about it."
    ]
    html = response.content.decode()
    assert "Ordered</span>" in html  # the status badge, with its text
    assert "Confirm (send to supplier)" not in html and "Cancel purchase order…" in html
    waiting = html.split('id="po-waiting"', 1)[1].split("</section>", 1)[0]
    assert waiting.count('id="waiting-line-') == 2


def test_confirm_by_htmx_answers_a_client_redirect(
    client_as: Callable[..., Client], draft: PurchaseOrder
) -> None:
    response = client_as(Role.PURCHASING).post(confirm_url(draft), token(), headers=HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == page_url(draft)
    draft.refresh_from_db()
    assert draft.status == PurchaseOrderStatus.ORDERED


def test_the_same_confirm_submitted_twice_applies_once(
    client_as: Callable[..., Client], draft: PurchaseOrder
) -> None:
    client = client_as(Role.PURCHASING)
    data = token()
    first = client.post(confirm_url(draft), data, follow=True)
    assert notices(first)[0].startswith(f"{draft.number} is ordered from")
    after_first = snapshot()
    assert after_first["submissions"] == 1

    again = client.post(confirm_url(draft), data, follow=True)
    by_htmx = client.post(confirm_url(draft), data, headers=HX)

    assert snapshot() == after_first
    assert notices(again) == ["This form was already submitted: nothing was done a second time."]
    assert by_htmx["HX-Redirect"] == page_url(draft)


@pytest.mark.parametrize("status", ["ordered", "partially_received", "received", "cancelled"])
def test_confirming_an_order_that_is_no_draft_is_refused_and_changes_nothing(
    client_as: Callable[..., Client], ordered: PurchaseOrder, status: str
) -> None:
    PurchaseOrder.objects.filter(pk=ordered.pk).update(status=status)
    client = client_as(Role.PURCHASING)
    before = snapshot()
    response = client.post(confirm_url(ordered), token(), follow=True)
    by_htmx = client.post(confirm_url(ordered), token(), headers=HX)
    assert response.status_code == 200
    label = PurchaseOrderStatus(status).label.lower()
    assert notices(response) == [f"{ordered.number} is {label}; only a draft can be confirmed."]
    assert by_htmx.status_code == 200 and by_htmx["HX-Redirect"] == page_url(ordered)
    assert snapshot() == before


@pytest.mark.parametrize("data", [{}, {"token": "not-a-token"}])
def test_a_confirm_without_its_token_is_refused(
    client_as: Callable[..., Client], draft: PurchaseOrder, data: dict[str, str]
) -> None:
    before = snapshot()
    response = client_as(Role.PURCHASING).post(confirm_url(draft), data, follow=True)
    assert notices(response) == ["This form is out of date: reload the page and try again."]
    assert snapshot() == before


def test_an_unknown_purchase_order_is_a_404(client_as: Callable[..., Client]) -> None:
    client = client_as(Role.PURCHASING)
    missing = PurchaseOrder(number="PO-NOPE")
    assert client.post(confirm_url(missing), token()).status_code == 404
    assert client.get(step_url(missing)).status_code == 404
    assert client.post(cancel_url(missing), token()).status_code == 404


# --- the cancel step -----------------------------------------------------------------


def test_the_cancel_step_shows_who_loses_the_supply_and_changes_nothing(
    client_as: Callable[..., Client], ordered: PurchaseOrder
) -> None:
    before = snapshot()
    response = client_as(Role.PURCHASING).get(step_url(ordered), headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<div id="cancel-step"')
    assert f"Cancel {ordered.number}?" in html
    assert "The 10 units still outstanding are no longer expected from" in html
    assert (
        "<strong>3 waiting lines</strong> of 3 customer(s) lose this supply and will ship "
        "later by 11 days." in html
    )
    assert "3 lines will only have an estimate: no other purchase order covers them." in html
    # 11 days later is past the policy's 7: an apology with a discount code each.
    assert "<strong>0</strong> apologies," in html
    assert "<strong>3</strong> apologies with a discount code" in html
    assert html.count('<span class="badge badge-estimate">estimate</span>') == 3
    assert f'action="{cancel_url(ordered)}"' in html
    assert re.search(r'name="token" value="[0-9a-f]{32}"', html)
    assert f"Yes, cancel {ordered.number}" in html and "No, keep it" in html
    assert snapshot() == before
    assert response["Vary"].count("HX-Request")


def test_the_cancel_step_without_htmx_is_the_page_with_the_step(
    client_as: Callable[..., Client], ordered: PurchaseOrder
) -> None:
    html = client_as(Role.PURCHASING).get(step_url(ordered)).content.decode()
    assert "<html" in html and f"Purchase order {ordered.number}" in html
    step = html.split('id="cancel-step"', 1)[1]
    assert f"Yes, cancel {ordered.number}" in step
    assert 'id="po-waiting"' in html  # the rest of the page is there too


def test_the_cancel_preview_service_returns_plain_values(
    shop: Shop, ordered: PurchaseOrder
) -> None:
    before = snapshot()
    preview = updates.purchase_order_cancel_preview(purchase_order=ordered, by=shop.clerk)
    assert snapshot() == before
    assert (preview.purchase_order, preview.units_outstanding, preview.units_received) == (
        ordered.number,
        10,
        0,
    )
    assert len(preview.later) == 3 and preview.later_customers == 3
    assert {(c.old_date, c.new_date, c.new_is_estimate) for c in preview.changes} == {
        (days(4), days(15), True)
    }
    assert len(preview.estimated) == 3
    assert (preview.apologies, preview.discounts, preview.good_news) == (0, 3, 0)


def test_the_cancel_step_of_a_draft_says_nobody_is_told(
    client_as: Callable[..., Client], draft: PurchaseOrder
) -> None:
    html = client_as(Role.PURCHASING).get(step_url(draft), headers=HX).content.decode()
    assert f"The draft (10 units) is never sent to {draft.supplier.name}." in html
    assert "No customer's promised date changes: a draft promises nothing." in html
    assert "Nobody is emailed." in html
    assert f"Yes, cancel {draft.number}" in html


# --- cancel ------------------------------------------------------------------------


@pytest.fixture
def flush_combine_window() -> Callable[[], int]:
    def flush() -> int:
        """Close every combine window now and let the sweep send what is due."""
        Notification.objects.filter(not_before__isnull=False).update(
            not_before=timezone.now() - dt.timedelta(seconds=1)
        )
        return notifications_sweep()

    return flush


def test_cancelling_an_ordered_po_falls_back_to_estimates_and_emails_the_customers(
    client_as: Callable[..., Client],
    ordered: PurchaseOrder,
    flush_combine_window: Callable[[], int],
) -> None:
    # given: three lines promised from the purchase order (due in 3 days + 1 handling day)
    assert promises(ordered) == [(days(4), False)] * 3
    customers = set(
        OrderLine.objects.filter(promised_date=days(4)).values_list(
            "order__customer__email", flat=True
        )
    )
    mail.outbox.clear()

    # when
    response = client_as(Role.PURCHASING).post(cancel_url(ordered), token(), follow=True)

    # then: an estimate (the supplier's 14 days' lead + 1), 11 days later: past the
    # policy's 7 days, so each customer gets an apology with a discount code
    ordered.refresh_from_db()
    assert ordered.status == PurchaseOrderStatus.CANCELLED
    assert promises(ordered) == [(days(15), True)] * 3
    assert set(OrderLine.objects.values_list("times_slipped", flat=True)) == {1}
    messages = Notification.objects.filter(kind=NotificationKind.PROMISE_LATER_DISCOUNT)
    assert messages.count() == 3 and DiscountCode.objects.count() == 3
    assert notices(response) == [
        f"{ordered.number} is cancelled. 3 waiting lines have a new promised date. 3 are "
        "estimates now: no other purchase order covers them. 3 customers get an email about it."
    ]
    assert "none (10 cancelled)" in response.content.decode()
    assert flush_combine_window() == 3
    assert {address for message in mail.outbox for address in message.to} == customers
    assert len(mail.outbox) == 3


def test_cancel_by_htmx_answers_a_client_redirect(
    client_as: Callable[..., Client], ordered: PurchaseOrder
) -> None:
    response = client_as(Role.PURCHASING).post(cancel_url(ordered), token(), headers=HX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == page_url(ordered)
    ordered.refresh_from_db()
    assert ordered.status == PurchaseOrderStatus.CANCELLED


def test_the_same_cancel_submitted_twice_applies_once(
    client_as: Callable[..., Client], ordered: PurchaseOrder
) -> None:
    client = client_as(Role.PURCHASING)
    data = token()
    first = client.post(cancel_url(ordered), data, follow=True)
    assert notices(first)[0].startswith(f"{ordered.number} is cancelled.")
    after_first = snapshot()
    assert Notification.objects.filter(kind=NotificationKind.PROMISE_LATER_DISCOUNT).count() == 3

    again = client.post(cancel_url(ordered), data, follow=True)

    assert snapshot() == after_first
    assert notices(again) == ["This form was already submitted: nothing was done a second time."]


@pytest.mark.parametrize("status", ["received", "cancelled"])
def test_cancelling_a_received_or_cancelled_order_is_refused_and_changes_nothing(
    client_as: Callable[..., Client], ordered: PurchaseOrder, status: str
) -> None:
    PurchaseOrder.objects.filter(pk=ordered.pk).update(status=status)
    client = client_as(Role.PURCHASING)
    before = snapshot()
    expected = [f"{ordered.number} is already {status}."]

    step = client.get(step_url(ordered), follow=True)
    cancel = client.post(cancel_url(ordered), token(), follow=True)
    step_by_htmx = client.get(step_url(ordered), headers=HX)
    cancel_by_htmx = client.post(cancel_url(ordered), token(), headers=HX)

    assert notices(step) == expected and notices(cancel) == expected
    assert step.redirect_chain == cancel.redirect_chain == [(page_url(ordered), 302)]
    assert step_by_htmx["HX-Redirect"] == cancel_by_htmx["HX-Redirect"] == page_url(ordered)
    assert snapshot() == before


def test_cancelling_a_draft_changes_no_promise_and_emails_nobody(
    client_as: Callable[..., Client], draft: PurchaseOrder
) -> None:
    before = snapshot()
    response = client_as(Role.PURCHASING).post(cancel_url(draft), token(), follow=True)
    draft.refresh_from_db()
    assert draft.status == PurchaseOrderStatus.CANCELLED
    after = snapshot()
    assert after["promises"] == before["promises"]
    assert after["notifications"] == before["notifications"]
    assert notices(response) == [
        f"{draft.number} is cancelled. No waiting customer's date changed. Nobody is emailed."
    ]


def test_cancelling_a_partially_received_order_keeps_the_received_units(
    client_as: Callable[..., Client], shop: Shop, ordered: PurchaseOrder
) -> None:
    line = ordered.lines.get()
    updates.purchase_order_receive(purchase_order=ordered, quantities={line.pk: 4}, by=shop.clerk)
    ordered.refresh_from_db()
    assert ordered.status == PurchaseOrderStatus.PARTIALLY_RECEIVED
    level = shop.level(line.product)
    client = client_as(Role.PURCHASING)

    step = client.get(step_url(ordered), headers=HX).content.decode()
    assert "The 6 units still outstanding are no longer expected" in step
    assert "The 4 units already received stay in stock." in step

    client.post(cancel_url(ordered), token())
    ordered.refresh_from_db()
    line.refresh_from_db()
    assert ordered.status == PurchaseOrderStatus.CANCELLED
    assert line.received == 4
    assert shop.level(line.product).on_hand == level.on_hand


# --- two submits at once (PostgreSQL) ------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("same_form", [True, False], ids=["double-click", "two-tabs"])
def test_two_confirms_at_once_confirm_once(shop: Shop, same_form: bool) -> None:
    """A double click reaching two workers together waits on the token's unique
    index; two tabs (two tokens) wait on the purchase order's row lock. Either
    way one confirms and the other is refused, writing nothing."""
    import threading

    from django.db import connection

    product = shop.product()
    place(shop, product)
    po = purchase_order_create(
        supplier=shop.supplier,
        warehouse=shop.warehouse,
        lines=[PurchaseLineRequest(product, 5)],
        expected_date=days(5),
        by=shop.clerk,
    )
    tokens = [uuid.uuid4().hex] * 2 if same_form else [uuid.uuid4().hex, uuid.uuid4().hex]
    start = threading.Barrier(2)
    answers: list[str] = []

    def submit(form_token: str) -> None:
        try:
            start.wait(timeout=10)
            updates.purchase_order_confirm(purchase_order=po, by=shop.clerk, token=form_token)
            answers.append("confirmed")
        except ValidationError as error:
            answers.append(str(error.code) if error.code else "refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == sorted(["already_submitted" if same_form else "refused", "confirmed"])
    po.refresh_from_db()
    assert po.status == PurchaseOrderStatus.ORDERED
    assert PromiseRevision.objects.filter(cause=f"{po.number} confirmed").count() == 1
    assert Notification.objects.filter(kind=NotificationKind.PROMISE_EARLIER).count() == 1
