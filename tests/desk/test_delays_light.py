"""The delays page as issue 16 asks: a page of 15 customers stays light (the
action forms load on demand), those nobody told come first across pages (in
SQL), and a substitute shows its free stock and price and starts unselected."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications.models import Notification, NotificationKind
from orders.models import Customer
from orders.selectors.delays import DELAYS_PAGE_SIZE
from tests.conftest import delayed_line
from tests.desk.test_delays import many_delays  # noqa: F401 (a fixture)
from tests.desk.test_delays_actions import delayed  # noqa: F401 (a fixture)
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

DELAYS = "/delays/"
HX = {"HX-Request": "true"}
MAX_ELEMENTS = 1500


class ElementCounter(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.elements += 1

    def handle_startendtag(self, tag: str, attrs: object) -> None:
        self.elements += 1


def elements(html: str) -> int:
    counter = ElementCounter()
    counter.feed(html)
    return counter.elements


@pytest.mark.usefixtures("many_delays")
def test_fifteen_customers_make_at_most_1500_elements(client_as: Callable[..., Client]) -> None:
    html = client_as(Role.CUSTOMER_SERVICE).get(DELAYS).content.decode()

    assert html.count('class="card delay-card"') == DELAYS_PAGE_SIZE
    assert elements(html) <= MAX_ELEMENTS, elements(html)


@pytest.mark.usefixtures("many_delays")
def test_one_customers_forms_load_in_a_fixed_number_of_queries(
    client_as: Callable[..., Client], django_assert_max_num_queries
) -> None:
    client = client_as(Role.CUSTOMER_SERVICE)
    client.get(DELAYS)
    customer = Customer.objects.order_by("pk").first()
    assert customer is not None
    url = reverse("delay-customer-actions", args=[customer.pk])

    # the page's 12, less the page of customers' extras, plus the customer, the
    # alternatives and their free stock
    with django_assert_max_num_queries(14):
        fragment = client.get(url, headers=HX)
    page = client.get(url)

    assert fragment.status_code == 200 and 'name="token"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()
    assert page.status_code == 200 and "<h1>Delays</h1>" in page.content.decode()
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]


@pytest.mark.parametrize("role", [Role.PURCHASING, Role.WAREHOUSE])
def test_only_customer_service_loads_the_forms(
    client_as: Callable[..., Client], role: Role
) -> None:
    ada = CustomerFactory.create()
    delayed_line(ada, first=-3, promised=4, slipped=1)

    response = client_as(role).get(reverse("delay-customer-actions", args=[ada.pk]), headers=HX)

    assert response.status_code == 403


def test_substitutes_show_free_stock_and_price_and_start_unselected(
    client_as: Callable[..., Client],
    delayed: SimpleNamespace,  # noqa: F811 (the fixture imported above)
) -> None:
    url = reverse("delay-customer-actions", args=[delayed.customer.pk])

    html = client_as(Role.CUSTOMER_SERVICE).get(url, headers=HX).content.decode()

    select = html.split(f'id="substitute-{delayed.line.pk}"')[1].split("</select>")[0]
    assert " required" in select
    first, second = select.split("<option")[1:3]
    assert first.startswith(' value=""') and "selected" not in select
    price = Decimal(delayed.black.price).quantize(Decimal("0.01"))
    assert "RT-CHAIR-BLK" in second and "5 free" in second and f"{price:,}" in second


def test_those_not_told_come_first_across_pages(client_as: Callable[..., Client]) -> None:
    # given: 16 customers told (their dates moved, no slip recorded, no date
    # passed), and one who opted out with the fewest days late
    told = [CustomerFactory.create(name=f"Told {i:02d}") for i in range(DELAYS_PAGE_SIZE + 1)]
    for i, customer in enumerate(told):
        delayed_line(customer, first=1, promised=10 + i)
    quiet = CustomerFactory.create(name="Quiet Opted-Out", email_opt_out=True)
    delayed_line(quiet, first=1, promised=2)

    html = client_as(Role.CUSTOMER_SERVICE).get(DELAYS).content.decode()

    cards = html.split('class="card delay-card"')
    assert "Quiet Opted-Out" in cards[1]
    assert "not told" in cards[1] and "call or write" in cards[1]
    assert "not told" not in "".join(cards[2:])


def test_a_card_shows_the_newest_four_messages_and_links_to_all(
    client_as: Callable[..., Client],
) -> None:
    ada = CustomerFactory.create(name="Ada Many")
    delayed_line(ada, first=-3, promised=4, slipped=1)
    Notification.objects.bulk_create(
        Notification(
            kind=NotificationKind.PROMISE_LATER,
            customer=ada,
            language="en",
            to_email=ada.email,
            subject=f"Update {k}",
            body_text="x",
            body_html="x",
            dedup_key=f"many:{k}",
        )
        for k in range(6)
    )

    html = client_as(Role.CUSTOMER_SERVICE).get(DELAYS).content.decode()

    assert html.count('class="delay-message-subject"') == 4
    assert "All 6 messages" in html and reverse("customer", args=[ada.pk]) in html
