"""Moving a purchase order's expected date: the exact impact first, then the move."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications import updates
from notifications.models import DiscountCode, Notification
from orders.models import OrderLine, PromiseRevision
from orders.services.intake import LineRequest
from suppliers.limits import MAX_EXPECTED_DAYS_AHEAD, latest_expected_date
from suppliers.models import ExpectedDateRevision, PurchaseOrder, PurchaseOrderLine
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


def preview_url(po: PurchaseOrder) -> str:
    return reverse("purchase-order-move-preview", args=[po.number])


def move_url(po: PurchaseOrder) -> str:
    return reverse("purchase-order-move", args=[po.number])


@pytest.fixture
def waiting(shop: Shop) -> PurchaseOrder:
    """A purchase order due in 6 days with three customers waiting on it."""
    product = shop.product(name="Rattan lounge chair")
    po = shop.purchase(product, 10, days=6)
    for _ in range(3):
        updates.order_place(
            customer=shop.customer(),
            warehouse=shop.warehouse,
            lines=[LineRequest(product, 2)],
            by=shop.clerk,
        )
    return po


def snapshot() -> dict[str, object]:
    return {
        "notifications": sorted(
            Notification.objects.values_list("pk", "kind", "subject", "status")
        ),
        "date_revisions": ExpectedDateRevision.objects.count(),
        "promise_revisions": PromiseRevision.objects.count(),
        "discounts": DiscountCode.objects.count(),
        "po_lines": sorted(PurchaseOrderLine.objects.values_list("pk", "expected_date")),
        "po": sorted(PurchaseOrder.objects.values_list("pk", "expected_date")),
        "promises": sorted(OrderLine.objects.values_list("pk", "promised_date", "times_slipped")),
    }


# --- roles -------------------------------------------------------------------


@pytest.mark.parametrize("view", ["preview", "move"])
def test_anonymous_is_sent_to_log_in(client: Client, waiting: PurchaseOrder, view: str) -> None:
    url = preview_url(waiting) if view == "preview" else move_url(waiting)
    response = client.post(url, {"new_date": days(8), "reason": "late"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.CUSTOMER_SERVICE])
@pytest.mark.parametrize("view", ["preview", "move"])
def test_other_roles_may_not_move_a_date(
    client_as: Callable[..., Client], waiting: PurchaseOrder, role: Role, view: str
) -> None:
    url = preview_url(waiting) if view == "preview" else move_url(waiting)
    before = snapshot()
    for headers in ({}, HX):
        response = client_as(role).post(
            url, {"new_date": days(8), "reason": "late"}, headers=headers
        )
        assert response.status_code == 403
    assert snapshot() == before


def test_a_get_is_not_allowed(client_as: Callable[..., Client], waiting: PurchaseOrder) -> None:
    assert client_as(Role.PURCHASING).get(preview_url(waiting)).status_code == 405


# --- the preview -----------------------------------------------------------------


def test_the_preview_of_a_two_day_move_shows_three_apologies_and_changes_nothing(
    client_as: Callable[..., Client], waiting: PurchaseOrder
) -> None:
    before = snapshot()
    response = client_as(Role.PURCHASING).post(
        preview_url(waiting), {"new_date": days(8), "reason": "port delay"}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="move-impact"' in html
    assert "<strong>3 lines</strong> of 3 customer(s) will ship later by 2 days" in html
    assert "<strong>3</strong> apologies" in html
    assert "<strong>0</strong> apologies with a discount code" in html
    assert "Confirm and tell customers" in html
    assert f'value="{days(8).isoformat()}"' in html and 'value="port delay"' in html
    assert snapshot() == before


def test_the_preview_service_returns_plain_values(shop: Shop, waiting: PurchaseOrder) -> None:
    before = snapshot()
    preview = updates.purchase_order_move_preview(
        purchase_order=waiting, new_date=days(8), reason="port delay", by=shop.clerk
    )
    assert snapshot() == before
    assert (preview.old_date, preview.new_date, preview.days) == (days(6), days(8), 2)
    assert len(preview.later) == 3 and preview.later_customers == 3
    assert {change.days for change in preview.changes} == {2}
    assert (preview.apologies, preview.discounts, preview.good_news) == (3, 0, 0)
    assert not preview.unchanged


def test_the_preview_of_a_ten_day_move_shows_discounts_and_issues_no_code(
    client_as: Callable[..., Client], waiting: PurchaseOrder
) -> None:
    before = snapshot()
    html = (
        client_as(Role.PURCHASING)
        .post(preview_url(waiting), {"new_date": days(16), "reason": "factory fire"}, headers=HX)
        .content.decode()
    )
    assert "<strong>3</strong> apologies with a discount code" in html
    assert "<strong>0</strong> apologies," in html
    assert not DiscountCode.objects.exists()
    assert snapshot() == before


def test_the_preview_names_customers_who_opted_out(
    client_as: Callable[..., Client],
    shop: Shop,
    waiting: PurchaseOrder,
) -> None:
    product = waiting.lines.get().product
    updates.order_place(
        customer=shop.customer(name="Quiet Customer", email_opt_out=True),
        warehouse=shop.warehouse,
        lines=[LineRequest(product, 1)],
        by=shop.clerk,
    )
    html = (
        client_as(Role.PURCHASING)
        .post(preview_url(waiting), {"new_date": days(8), "reason": "late"}, headers=HX)
        .content.decode()
    )
    assert "1 customer opted out of update emails and is not told: Quiet Customer" in html
    assert "<strong>3</strong> apologies" in html


def test_a_bad_form_answers_200_with_messages_beside_the_fields(
    client_as: Callable[..., Client], waiting: PurchaseOrder
) -> None:
    client = client_as(Role.PURCHASING)
    before = snapshot()
    for url in (preview_url(waiting), move_url(waiting)):
        response = client.post(url, {"new_date": "31/02/2025", "reason": " "}, headers=HX)
        html = response.content.decode()
        assert response.status_code == 200
        assert response["HX-Retarget"] == "#move-form"
        assert 'id="move-new-date-error"' in html and "Enter a valid date." in html
        assert 'id="move-reason-error"' in html and "Say why the date moves" in html
        page = client.post(url, {"new_date": "", "reason": "late"})
        assert page.status_code == 200
        assert "Enter the new expected date." in page.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("new_date", ["9999-12-31", "LATEST+1"])
@pytest.mark.parametrize("headers", [{}, HX])
def test_a_date_past_the_horizon_is_refused_beside_the_field(
    client_as: Callable[..., Client],
    waiting: PurchaseOrder,
    new_date: str,
    headers: dict[str, str],
) -> None:
    if new_date == "LATEST+1":
        new_date = (latest_expected_date() + dt.timedelta(days=1)).isoformat()
    client = client_as(Role.PURCHASING)
    before = snapshot()
    for url in (preview_url(waiting), move_url(waiting)):
        response = client.post(url, {"new_date": new_date, "reason": "typo"}, headers=headers)
        assert response.status_code == 200
        html = response.content.decode()
        error = html.split('id="move-new-date-error"', 1)[1].split("</", 1)[0]
        assert f"at most {MAX_EXPECTED_DAYS_AHEAD} days ahead" in error
        assert "check the year" in error
    assert snapshot() == before


# --- confirming ------------------------------------------------------------------


def test_confirm_moves_the_date_writes_the_messages_and_triggers_the_event(
    client_as: Callable[..., Client], waiting: PurchaseOrder
) -> None:
    client = client_as(Role.PURCHASING)
    response = client.post(
        move_url(waiting), {"new_date": days(8), "reason": "port delay"}, headers=HX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="po-detail"' in html
    assert "expectedDateMoved" in response["HX-Trigger"]
    assert "3 customer promise(s) moved" in html
    revision = ExpectedDateRevision.objects.get()
    assert (revision.old_date, revision.new_date, revision.reason) == (
        days(6),
        days(8),
        "port delay",
    )
    assert Notification.objects.filter(kind="promise_later").count() == 3
    assert "port delay" in html.split('id="po-history"', 1)[1]

    # The same confirm again: nothing moves, nobody is emailed.
    again = client.post(
        move_url(waiting), {"new_date": days(8), "reason": "port delay"}, headers=HX
    )
    assert "The date was already" in again.content.decode()
    assert "HX-Trigger" not in again
    assert ExpectedDateRevision.objects.count() == 1
    assert Notification.objects.filter(kind="promise_later").count() == 3


def test_confirm_without_htmx_redirects_with_a_message(
    client_as: Callable[..., Client], waiting: PurchaseOrder
) -> None:
    client = client_as(Role.PURCHASING)
    response = client.post(move_url(waiting), {"new_date": days(9), "reason": "late"})
    assert response.status_code == 302
    assert response["Location"] == reverse("purchase-order", args=[waiting.number])
    page = client.get(response["Location"]).content.decode()
    assert "is now expected on" in page


def test_a_superuser_may_move_a_date(
    client_as: Callable[..., Client], waiting: PurchaseOrder
) -> None:
    response = client_as(superuser=True).post(
        move_url(waiting), {"new_date": days(9), "reason": "late"}, headers=HX
    )
    assert response.status_code == 200
    assert ExpectedDateRevision.objects.exists()


def test_a_received_order_cannot_be_moved(
    client_as: Callable[..., Client], waiting: PurchaseOrder
) -> None:
    PurchaseOrder.objects.filter(pk=waiting.pk).update(status="cancelled")
    before = snapshot()
    response = client_as(Role.PURCHASING).post(
        move_url(waiting), {"new_date": days(9), "reason": "late"}, headers=HX
    )
    assert response.status_code == 200
    assert "is cancelled; its dates no longer matter" in response.content.decode()
    assert snapshot() == before
