"""Staff pages in the reader's language: their own choice, else Accept-Language,
else English; customer link pages in the customer's language.

PAGES names one English string per staff page (a msgid of the catalogues); a
Dutch and an Indonesian reader must see its translation, and not the English.
Every URL of desk/urls.py that answers GET with HTML must be in PAGES.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext, trans_real

from api.hooks.services import shop_connection_create
from api.models import InboundEvent
from desk import urls as desk_urls
from desk.access import ACCESS
from desk.models import StaffPreference
from desk.staff_language import SESSION_KEY
from desk.templatetags.desk_causes import promise_cause
from notifications.models import BulkJob, BulkJobKind, ImportJob, Notification
from orders.links import customer_link_token
from orders.models import CustomerChoice, OrderLine, SalesOrder
from suppliers.models import PurchaseOrder
from tests.conftest import Shop, missing

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.fixture(autouse=True, scope="module")
def compiled_catalogues() -> None:
    """`make test` compiles the catalogues; a bare `pytest` run may find them
    missing or older than the .po files: compile them here then."""
    stale = [
        po
        for po in LOCALE.glob("*/LC_MESSAGES/django.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if not stale:
        return
    if shutil.which("msgfmt") is None:
        missing("needs GNU gettext's msgfmt to compile the catalogues (apt-get install gettext)")
    call_command("compilemessages", locale=["id", "nl"], verbosity=0)
    # forget catalogues loaded before they were compiled
    trans_real._translations = {}  # type: ignore[attr-defined]
    trans_real._default = None  # type: ignore[attr-defined]


# GET URLs that answer with something other than an HTML page.
NOT_HTML = {
    "queue-export",
    "shortfall-export",
    "products-export",
    "stock-counts-export",
    "customers-export",
    "purchase-orders-export",
}

# url name → (English msgid the page shows, its placeholders' values or None).
PAGES: dict[str, tuple[str, dict[str, Any] | None]] = {
    "home": ("You are an administrator: every page and action is open to you.", None),
    "dashboard": ("Backordered now", None),
    "queue": (
        "Every order line still waiting for units, in the order incoming stock goes to them.",
        None,
    ),
    "queue-job": ("Bulk action on the queue", None),
    "receiving": (
        "Open purchase orders, the soonest expected first. Open one to receive "
        "what arrived; the units go to the backorder queue at once.",
        None,
    ),
    "purchase-order-receive": ("Receive all outstanding", None),
    "purchase-order-new": (
        "What to order from which supplier, where it is delivered and when it should arrive.",
        None,
    ),
    "purchase-order-sku": ("%(free)s free · %(waiting)s waiting in all", {"free": 0, "waiting": 6}),
    "purchase-orders": (
        "What we have ordered from suppliers and when it is due. Open an order "
        "to move its expected date.",
        None,
    ),
    "purchase-order": ("Move the expected date", None),
    "purchase-order-cancel-preview": ("No, keep it", None),
    "shortfall": ("Filter the shortfall", None),
    "suppliers": ("Filter suppliers", None),
    "supplier": ("Purchase terms", None),
    "shipping": ("Pick list for this page", None),
    "shipping-pick-list": ("Print with your browser (Ctrl+P): the navigation is left out.", None),
    "shipping-packing-slip": ("In this parcel", None),
    "products": (
        "Stock, waiting units and inbound supply, over every warehouse or at "
        "the one chosen; short is what no stock or purchase order covers, "
        "warehouse by warehouse.",
        None,
    ),
    "orders": ("Every order, newest first, with what still waits for stock.", None),
    "customers": ("Every customer, with their orders and the units they wait for.", None),
    "search": ("An order number, a customer's name or email, or a SKU. One match opens it.", None),
    "product": ("Stock per warehouse", None),
    "order-new": ("Place order", None),
    "order-new-availability": (
        "Type a SKU and a quantity to see what the customer would get.",
        None,
    ),
    "order": ("Promise history", None),
    "customer": ("Customer since", None),
    "order-messages": ("Subject", None),
    "customer-messages": ("Subject", None),
    "delays": ("Filter the delays", None),
    "shop-events": ("Connected shops", None),
    "shop-event": ("The body as the shop sent it", None),
    "shop-deliveries": (
        "The order events sent to the shops' storefronts, newest first: "
        "backordered, promise changed, ready, shipped, cancelled. A failed one "
        "says why; send it again once the shop answers.",
        None,
    ),
    "outbox": (
        "Every email to customers, newest first. Open a subject to see the "
        "message as the customer got it.",
        None,
    ),
    "outbox-message": ("Plain text version", None),
    "policy": ("Apologies and discounts", None),
    "refunds": ("Still owed", None),
    "transfers": ("Ship a transfer", None),
    "imports": ("Upload a file", None),
    "import-job": ("Unchanged", None),
    "order-delivery": ("Save the delivery", None),
    "delay-customer-actions": ("Filter the delays", None),
}


@pytest.fixture
def world(shop: Shop, queue: dict[str, list[OrderLine]]) -> dict[str, str]:
    """One row of each kind the pages name, and the URL of every page."""
    ready = shop.product(sku="READY-1")
    shop.order(ready, 2)
    shop.receive(ready, 2)
    ready_order = SalesOrder.objects.get(lines__product=ready)
    waiting = queue["ann"][0]
    po = PurchaseOrder.objects.filter(lines__product=waiting.product).order_by("pk").first()
    assert po is not None
    message = Notification.objects.order_by("pk").first()
    assert message is not None, "placing the queue's orders wrote messages"
    job = BulkJob.objects.create(kind=BulkJobKind.NOTIFY, line_ids=[waiting.pk], total=1)
    connection = shop_connection_create(
        platform="shopify", domain="desk.myshopify.com", secret="s", channel="web"
    )
    event = InboundEvent.objects.create(
        connection=connection,
        topic="orders/create",
        delivery_id="wh-1",
        dedup_key="wh-1",
        raw_body="{}",
        received_at=timezone.now(),
    )
    import_job = ImportJob.objects.create(
        kind="customers",
        filename="customers.csv",
        content="email,name\n",
        status="checked",
        result={"rows": []},
    )
    number, sku, customer_id = waiting.order.number, waiting.product.sku, waiting.order.customer_id
    return {
        "home": reverse("home"),
        "dashboard": reverse("dashboard"),
        "queue": reverse("queue"),
        "queue-job": reverse("queue-job", args=[job.pk]),
        "receiving": reverse("receiving"),
        "purchase-order-receive": reverse("purchase-order-receive", args=[po.number]),
        "purchase-order-new": reverse("purchase-order-new"),
        # LAMP: 2 units each for Ann, Ben and Dee, none free
        "purchase-order-sku": reverse("purchase-order-sku") + f"?sku_0={sku}",
        "purchase-orders": reverse("purchase-orders"),
        "purchase-order": reverse("purchase-order", args=[po.number]),
        "purchase-order-cancel-preview": reverse("purchase-order-cancel-preview", args=[po.number]),
        "shortfall": reverse("shortfall"),
        "suppliers": reverse("suppliers"),
        "supplier": reverse("supplier", args=[shop.supplier.pk]),
        "shipping": reverse("shipping"),
        "shipping-pick-list": reverse("shipping-pick-list"),
        "shipping-packing-slip": reverse("shipping-packing-slip", args=[ready_order.number]),
        "products": reverse("products"),
        "orders": reverse("orders"),
        "customers": reverse("customers"),
        "search": reverse("search") + "?q=zz-nothing",
        "product": reverse("product", args=[sku]),
        "order-new": reverse("order-new"),
        "order-new-availability": reverse("order-new-availability"),
        "order": reverse("order", args=[number]),
        "customer": reverse("customer", args=[customer_id]),
        "order-messages": reverse("order-messages", args=[number]),
        "customer-messages": reverse("customer-messages", args=[customer_id]),
        "delays": reverse("delays"),
        "shop-events": reverse("shop-events"),
        "shop-event": reverse("shop-event", args=[event.pk]),
        "shop-deliveries": reverse("shop-deliveries"),
        "outbox": reverse("outbox"),
        "outbox-message": reverse("outbox-message", args=[message.pk]),
        "policy": reverse("policy"),
        "refunds": reverse("refunds"),
        "transfers": reverse("transfers"),
        "imports": reverse("imports"),
        "import-job": reverse("import-job", args=[import_job.pk]),
        "order-delivery": reverse("order-delivery", args=[number]),
        "delay-customer-actions": reverse("delay-customer-actions", args=[customer_id]),
    }


def reader(make_user: Callable[..., User], language: str) -> Client:
    """A superuser (every page open) who chose `language`, logged in."""
    user = make_user(superuser=True)
    StaffPreference.objects.create(user=user, language=language)
    client = Client()
    client.force_login(user)
    return client


def page_text(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.content.decode())


def expected(msgid: str, params: dict[str, Any] | None, language: str) -> str:
    with translation.override(language):
        text = gettext(msgid)
    return text % params if params else text


def test_every_html_page_of_the_desk_has_a_known_string() -> None:
    names = [getattr(pattern, "name", None) or "" for pattern in desk_urls.urlpatterns]
    html_pages = {
        name for name in names if name in ACCESS and ACCESS[name].get and name not in NOT_HTML
    }
    assert sorted(html_pages - set(PAGES)) == [], "add these pages to PAGES"
    assert sorted(set(PAGES) - html_pages) == [], "PAGES names pages that are not HTML GET pages"


@pytest.mark.parametrize("language", ["nl", "id"])
def test_a_reader_sees_every_page_in_their_language(
    make_user: Callable[..., User], world: dict[str, str], language: str
) -> None:
    # given a staff member who chose the language, and a browser asking for English
    client = reader(make_user, language)
    wrong: list[str] = []
    for name, (msgid, params) in PAGES.items():
        # when they open the page
        text = page_text(client, world[name], accept_language="en")
        # then it shows the known string in their language, not in English
        translated = expected(msgid, params, language)
        assert translated != expected(msgid, params, "en"), f"{name}: {msgid!r} is untranslated"
        if translated not in text:
            wrong.append(f"{name}: {translated!r} not on {world[name]}")
    assert wrong == []


def test_the_switch_remembers_the_choice_and_returns_to_the_page(
    make_user: Callable[..., User],
) -> None:
    user = make_user(superuser=True)
    client = Client()
    client.force_login(user)
    queue = reverse("queue")

    response = client.post(reverse("language"), {"language": "nl", "next": queue})

    assert response.status_code == 302 and response["Location"] == queue
    assert StaffPreference.objects.get(user=user).language == "nl"
    assert client.session[SESSION_KEY] == "nl"
    text = page_text(client, queue)
    assert expected("Backorder queue", None, "nl") in text
    assert '<html lang="nl">' in text
    # a new session (another browser) reads the choice back when they log in
    other = Client()
    other.force_login(user)
    assert expected("Backorder queue", None, "nl") in page_text(other, queue)


def test_the_switch_refuses_other_sites_and_unknown_languages(
    make_user: Callable[..., User],
) -> None:
    user = make_user(superuser=True)
    client = Client()
    client.force_login(user)

    response = client.post(
        reverse("language"), {"language": "xx", "next": "https://evil.example.com/"}
    )

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert StaffPreference.objects.get(user=user).language == ""
    assert client.get(reverse("language")).status_code == 405


def test_the_switch_needs_a_login() -> None:
    response = Client().post(reverse("language"), {"language": "nl"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not StaffPreference.objects.exists()


@pytest.mark.parametrize("language", ["nl", "id"])
def test_without_a_choice_the_browser_language_is_used(
    make_user: Callable[..., User], language: str
) -> None:
    client = Client()
    client.force_login(make_user(superuser=True))
    text = page_text(client, reverse("queue"), accept_language=f"{language},en;q=0.5")
    assert expected("Backorder queue", None, language) in text
    # and with no Accept-Language, LANGUAGE_CODE (English)
    assert "Backorder queue" in page_text(client, reverse("queue"))


def test_the_login_page_follows_the_browser() -> None:
    text = page_text(Client(), reverse("login"), accept_language="id")
    assert expected("Password", None, "id") in text


def test_a_choice_of_english_wins_over_the_browser(make_user: Callable[..., User]) -> None:
    client = reader(make_user, "en")
    text = page_text(client, reverse("queue"), accept_language="nl")
    assert "Backorder queue" in text
    assert expected("Backorder queue", None, "nl") not in text


def test_dates_and_money_follow_the_reader_language(
    make_user: Callable[..., User], world: dict[str, str]
) -> None:
    line = OrderLine.objects.select_related("order").first()
    assert line is not None
    OrderLine.objects.filter(pk=line.pk).update(unit_price="1234.50")
    url = reverse("order", args=[line.order.number])
    placed = timezone.localtime(line.order.placed_at)
    shown = {}
    for language in ("en", "nl", "id"):
        text = page_text(reader(make_user, language), url)
        with translation.override(language):
            shown[language] = date_format(placed, "SHORT_DATETIME_FORMAT")
        assert shown[language] in text, language
        assert {"en": "1,234.50", "nl": "1.234,50", "id": "1.234,50"}[language] in text
    # English is the back office's day-first "4 Dec 2026, 10:39"; Dutch "4-12-2026 10:39";
    # Indonesian "04-12-2026 10.39"
    assert len(set(shown.values())) == 3, shown


@pytest.mark.parametrize(("customer_language", "browser"), [("nl", "en"), ("id", "nl")])
def test_the_customer_link_page_follows_the_customer_language(
    queue: dict[str, list[OrderLine]], customer_language: str, browser: str
) -> None:
    order = queue["ben"][0].order
    order.customer.language = customer_language
    order.customer.save()
    token = customer_link_token(order=order, action=CustomerChoice.Choice.KEEP_WAITING)

    response = Client().get(
        reverse("customer-link", args=[token]), headers={"accept-language": browser}
    )

    assert response.status_code == 200
    assert response["Content-Language"] == customer_language
    text = html.unescape(response.content.decode())
    assert (
        expected("Confirm that you are happy to wait for these items.", None, customer_language)
        in text
    )
    assert f'<html lang="{customer_language}">' in text
    assert "Confirm that you are happy to wait" not in text  # fmt: skip


def test_what_moved_a_promise_reads_in_the_reader_language(
    make_user: Callable[..., User], queue: dict[str, list[OrderLine]]
) -> None:
    # given an order whose lines were promised when it was placed (cause "<number> placed")
    order = queue["ben"][0].order
    assert order.lines.filter(promise_revisions__cause=f"{order.number} placed").exists()
    # when a Dutch reader opens it, then the cause is in Dutch
    text = page_text(reader(make_user, "nl"), reverse("order", args=[order.number]))
    assert f"{order.number} geplaatst" in text
    assert f"{order.number} placed" not in text


@pytest.mark.parametrize(
    ("cause", "dutch"),
    [
        ("PO-000025 expected date moved", "verwachte datum van PO-000025 verschoven"),
        ("SO-1: LAMP substituted with LAMP-2", "SO-1: LAMP vervangen door LAMP-2"),
        ("SO-1 cancelled in part", "SO-1 deels geannuleerd"),
        ("SO-1 cancelled", "SO-1 geannuleerd"),
        ("stock adjusted", "voorraad gecorrigeerd"),
        ("something the services never wrote", "something the services never wrote"),
    ],
)
def test_promise_causes_the_services_write_are_recognised(cause: str, dutch: str) -> None:
    with translation.override("nl"):
        assert promise_cause(cause) == dutch
