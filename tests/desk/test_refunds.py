"""The refunds worklist: roles, oldest first, the open/refunded filter, mark
refunded (reference required, a second mark refused clearly), bad input, and
a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.roles import Role
from notifications import updates
from orders.models import PaymentStatus, RefundDue, SalesOrder
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def owed(shop: Shop, *, price: str = "25.00", reason: str = "Changed my mind") -> RefundDue:
    order: SalesOrder = updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(shop.product(price=Decimal(price)), 2)],
        by=shop.clerk,
        payment_status=PaymentStatus.PAID,
    )
    updates.order_backorders_cancel(order=order, reason=reason, by=shop.clerk)
    return RefundDue.objects.get(order=order)


@pytest.fixture
def service(client_as: Callable[..., Client]) -> Client:
    return client_as(Role.CUSTOMER_SERVICE)


def mark_url(refund: RefundDue) -> str:
    return reverse("refund-mark-refunded", args=[refund.pk])


@pytest.mark.parametrize("role", [Role.CUSTOMER_SERVICE, Role.WAREHOUSE, Role.PURCHASING])
def test_everyone_reads_the_worklist_only_service_gets_the_form(
    shop: Shop, client_as: Callable[..., Client], role: Role
) -> None:
    refund = owed(shop)
    html = client_as(role).get(reverse("refunds")).content.decode()
    assert refund.order.number in html and "Changed my mind" in html
    assert ('name="reference"' in html) == (role == Role.CUSTOMER_SERVICE)


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.PURCHASING])
def test_others_may_not_mark_refunded(
    shop: Shop, client_as: Callable[..., Client], role: Role
) -> None:
    refund = owed(shop)
    response = client_as(role).post(mark_url(refund), {"reference": "re_1"})
    assert response.status_code == 403
    refund.refresh_from_db()
    assert not refund.is_refunded


def test_anonymous_is_sent_to_log_in(shop: Shop) -> None:
    response = Client().get(reverse("refunds"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_oldest_first_with_amount_currency_and_age(shop: Shop, service: Client) -> None:
    newer = owed(shop, price="10.00", reason="newer")
    older = owed(shop, price="30.00", reason="older")
    RefundDue.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    html = service.get(reverse("refunds")).content.decode()
    assert html.index(older.order.number) < html.index(newer.order.number)
    assert "EUR\xa060.00" in html and "EUR\xa020.00" in html
    assert "3\xa0days ago" in html or "3 days ago" in html
    # what is still owed, per currency
    assert "EUR\xa080.00" in html and "2 refunds" in html


def test_the_filter_shows_open_or_refunded(shop: Shop, service: Client) -> None:
    done, still = owed(shop, reason="done"), owed(shop, reason="still")
    updates.refund_mark_refunded(refund_id=done.pk, reference="re_done", by=None)
    open_html = service.get(reverse("refunds")).content.decode()
    assert still.order.number in open_html and done.order.number not in open_html
    refunded = service.get(reverse("refunds") + "?state=refunded", headers=HX).content.decode()
    assert done.order.number in refunded and still.order.number not in refunded
    assert "re_done" in refunded and "<html" not in refunded
    # an unknown state is the default (still owed), never a 500
    odd = service.get(reverse("refunds") + "?state=bogus&page=zzz")
    assert odd.status_code == 200 and still.order.number in odd.content.decode()


def test_mark_refunded_with_htmx_answers_the_row_and_an_event(shop: Shop, service: Client) -> None:
    refund = owed(shop)
    response = service.post(mark_url(refund), {"reference": "  re_42 "}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="refund-{refund.pk}"' in html and "re_42" in html and "Refunded" in html
    assert "refundRecorded" in response["HX-Trigger"]
    refund.refresh_from_db()
    assert (refund.reference, refund.refunded_by_id, refund.is_refunded) == (
        "re_42",
        response.wsgi_request.user.pk,
        True,
    )


def test_mark_refunded_without_htmx_redirects_with_a_message(shop: Shop, service: Client) -> None:
    refund = owed(shop)
    response = service.post(mark_url(refund), {"reference": "re_1"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("refunds")
    assert "marked refunded" in response.content.decode()


@pytest.mark.parametrize("reference", ["", "   ", "x" * 101])
def test_a_bad_reference_is_asked_for_again_and_nothing_changes(
    shop: Shop, service: Client, reference: str
) -> None:
    refund = owed(shop)
    response = service.post(mark_url(refund), {"reference": reference}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist"' in html and 'aria-invalid="true"' in html
    assert "HX-Trigger" not in response
    refund.refresh_from_db()
    assert not refund.is_refunded


def test_a_refund_already_marked_says_so_and_changes_nothing(shop: Shop, service: Client) -> None:
    refund = owed(shop)
    service.post(mark_url(refund), {"reference": "re_first"}, headers=HX)
    response = service.post(mark_url(refund), {"reference": "re_second"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "already marked refunded" in html and "re_first" in html
    assert "HX-Trigger" not in response
    refund.refresh_from_db()
    assert refund.reference == "re_first"
    plain = service.post(mark_url(refund), {"reference": "re_third"}, follow=True)
    assert "already marked refunded" in plain.content.decode()


def test_an_unknown_refund_is_404(service: Client) -> None:
    assert (
        service.post(reverse("refund-mark-refunded", args=[999999]), {"reference": "x"}).status_code
        == 404
    )


def test_the_page_runs_a_fixed_number_of_queries(
    shop: Shop, service: Client, django_assert_max_num_queries: Callable[..., object]
) -> None:
    owed(shop)
    service.get(reverse("refunds"))  # session and user warmed
    with django_assert_max_num_queries(8) as few:  # type: ignore[attr-defined]
        service.get(reverse("refunds"))
    for n in range(6):
        owed(shop, reason=f"r{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):  # type: ignore[attr-defined]
        html = service.get(reverse("refunds")).content.decode()
    assert html.count('name="reference"') == 7


def test_the_order_page_shows_its_refunds(shop: Shop, service: Client) -> None:
    refund = owed(shop)
    html = service.get(reverse("order", args=[refund.order.number])).content.decode()
    assert 'id="order-refunds"' in html and f'id="order-refund-{refund.pk}"' in html
    assert "Still owed" in html and "Paid" in html


def test_the_totals_card_refreshes_alone(shop: Shop, service: Client) -> None:
    refund = owed(shop)
    updates.refund_mark_refunded(refund_id=refund.pk, reference="re_1", by=None)
    html = service.get(reverse("refunds") + "?part=totals", headers=HX).content.decode()
    assert 'id="refund-totals-card"' in html and "<table" not in html
    assert "Nothing is owed" in html
