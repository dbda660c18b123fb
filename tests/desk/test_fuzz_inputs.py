"""Hostile input on every staff URL: no 5xx, and a refused post changes nothing.

The URLs are walked from the URL patterns (every view of the desk), the field
names from the form and filter classes the views bind (desk/forms/, desk/filters.py)
plus the query parameters of the lists (page, per_page, sort: the table columns)
and the queue actions' `query`. Values are drawn by the kind of field (numbers,
dates, choices, ids of the rows the shop has) mixed with hostile ones: huge and
negative numbers, non-numbers, Unicode, very long text, far dates, nothing.

Each example logs in as a superuser or as one of the roles, sends a GET and a
POST with or without `HX-Request`, inside a savepoint rolled back
afterwards (so examples do not see each other's writes). A POST that is
refused (4xx, a form shown again with errors, an error message) must leave
every row count, the rows the use cases own and `stock_check()` as they were.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import django_filters
import django_tables2
import pytest
from django import forms
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import desk.filters
import desk.forms
import desk.tables
from config.roles import Role
from inventory.models import Product
from notifications.models import BulkJob, BulkJobKind, Notification, NotificationKind
from notifications.selectors import compensation_policy_get
from orders.checks import stock_check
from orders.links import customer_link_token
from orders.models import Customer, CustomerChoice, OrderLine, SalesOrder
from suppliers.models import PurchaseOrder, PurchaseOrderLine
from tests.conftest import Shop, db_snapshot
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queue")]

FUZZ_SETTINGS = settings(
    max_examples=2,
    derandomize=True,
    database=None,
    deadline=None,
    # No shrinking: a failing example is reported as drawn (its URL and data are
    # in the assertion), and a failure cannot make the run take minutes.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
DOMAIN_APPS = ("inventory", "suppliers", "orders", "notifications")
ERROR_MARKS = ('aria-invalid="true"', 'class="errorlist', "row-invalid", 'role="alert"')


# --- what there is to send: the URL patterns, the forms' fields ---------------------


def desk_patterns() -> list[tuple[str, URLPattern]]:
    """Every named URL pattern whose view is in the desk, with its full route."""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif entry.name and entry.callback.__module__.startswith("desk."):
                found.append((prefix + str(entry.pattern), entry))

    walk(get_resolver().url_patterns, "")
    return sorted(found, key=lambda item: item[1].name or "")


def _modules(package: Any) -> Iterator[Any]:
    yield package
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        yield importlib.import_module(f"{package.__name__}.{info.name}")


def _blank_argument(annotation: str) -> Any:
    """A harmless value for a required keyword of a form's __init__ (by its annotation)."""
    for prefix, value in (("list", []), ("dict", {}), ("Decimal", Decimal(0)), ("bool", False)):
        if annotation.startswith(prefix):
            return value
    return None


def _form_fields(cls: Any) -> dict[str, forms.Field]:
    """The fields of a form as a view binds it: those __init__ adds too."""
    needed = {
        name: _blank_argument(str(parameter.annotation))
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty
    }
    try:
        return dict(cls(**needed).fields)
    except Exception:  # a form that needs real data to build: its declared fields
        return dict(cls.base_fields)


def bound_fields(view_module: str) -> dict[str, list[Any]]:
    """The fields of the forms and filters a page binds: the classes of
    desk/forms/ and desk/filters.py its module (desk/<page>.py) imports."""
    fields: dict[str, list[Any]] = {}
    value: Any
    for value in vars(importlib.import_module(view_module)).values():
        if not inspect.isclass(value):
            continue
        if not value.__module__.startswith(("desk.forms", "desk.filters")):
            continue
        if issubclass(value, forms.BaseForm):
            bound = _form_fields(value)
        elif issubclass(value, django_filters.FilterSet):
            filters: dict[str, Any] = getattr(value, "base_filters", {})
            bound = {name: each.field for name, each in filters.items()}
        else:
            continue
        for name, field in bound.items():
            fields.setdefault(name, []).append(field)
    return fields


def sortable_columns() -> list[str]:
    names: set[str] = set()
    for module in _modules(desk.tables):
        cls: Any
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, django_tables2.Table):
                names.update(cls.base_columns)
    return sorted(names)


# --- values ------------------------------------------------------------------------

TODAY = timezone.localdate()
HUGE = [str(10**30), str(2**63), str(2**63 - 1), str(2**31), "9" * 5000, "1e309"]
FAR_DATES = ["9999-12-31", "9999-01-01", "0001-01-01", "10000-01-01", "2024-02-30"]
hostile = st.one_of(
    st.sampled_from(["", " ", "0", "-1", "abc", "NaN", "Infinity", "\x00", *HUGE, *FAR_DATES]),
    st.sampled_from(HUGE).map(lambda number: "-" + number),
    st.text(st.characters(blacklist_categories=["Cs"]), max_size=30),
    st.sampled_from(["x" * 10_000, "\u202e" * 300, "=1+1", "<script>alert(1)</script>"]),
)
small_ints = st.integers(-3, 120).map(str)
near_dates = st.integers(-30, 400).map(lambda days: (TODAY + dt.timedelta(days=days)).isoformat())


def plausible(field: Any, ids: list[str]) -> st.SearchStrategy[Any]:
    """Values a person could type into `field` (some valid, some not)."""
    if isinstance(field, forms.DateField):
        return near_dates
    if isinstance(field, forms.ModelChoiceField):
        return st.sampled_from(ids)
    choices: Any = getattr(field, "choices", None)
    if isinstance(field, forms.ChoiceField) and list(choices):
        return st.sampled_from([str(value) for value, _label in choices])
    if isinstance(field, forms.BooleanField):
        return st.sampled_from(["on", "true", "false", "1"])
    if isinstance(field, forms.IntegerField | forms.DecimalField):
        return st.one_of(small_ints, st.sampled_from(ids), st.sampled_from(["1.5", "-0.01"]))
    if not isinstance(field, forms.CharField):  # several ids (the queue's ticked lines)
        return st.lists(st.sampled_from(ids), min_size=1, max_size=3)
    return st.text(string.ascii_letters + string.digits + " -", min_size=1, max_size=12)


def boundary(field: Any) -> st.SearchStrategy[str]:
    """Values just past what `field` takes, and far past it."""
    if isinstance(field, forms.DateField):
        return st.one_of(st.just(FAR_DATES[0]), st.sampled_from(FAR_DATES))
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.ModelChoiceField):
        return st.sampled_from([*HUGE, *("-" + number for number in HUGE)])
    return hostile


def value_of(fields: list[Any]) -> st.SearchStrategy[Any]:
    """A value out of bounds for one of `fields`, or hostile for any field."""
    return st.one_of(
        st.one_of(*(boundary(field) for field in fields)),
        st.one_of(hostile, st.lists(hostile, min_size=2, max_size=3)),  # sent several times
    )


# --- the shop the requests land on ------------------------------------------------


@pytest.fixture
def world(shop: Shop, queue: dict[str, list[OrderLine]]) -> dict[str, Any]:
    """The rows the URLs name: a waiting queue, a ready order, an outbox, a job."""
    ready = shop.product(sku="READY-1")
    shop.order(ready, 2)
    shop.receive(ready, 2)
    order = SalesOrder.objects.order_by("pk").first()
    assert order is not None
    Notification.objects.create(
        customer=order.customer,
        order=order,
        kind=NotificationKind.PROMISE_LATER,
        language="en",
        to_email=order.customer.email,
        subject="News",
        body_text="Hello",
        dedup_key="fuzz:1",
    )
    lines = list(OrderLine.objects.order_by("pk"))
    BulkJob.objects.create(kind=BulkJobKind.NOTIFY, line_ids=[lines[0].pk], total=1)
    CustomerFactory.create(name="Nobody Waiting")
    # The policy is one row made on first read; made here, it is not a post's doing.
    compensation_policy_get()
    ids = sorted(
        {
            str(pk)
            for model in (OrderLine, Customer, PurchaseOrderLine, BulkJob, Notification, Product)
            for pk in model.objects.values_list("pk", flat=True)
        }
        | {str(shop.warehouse.pk), str(shop.supplier.pk)}
    )
    sort = [f"{sign}{name}" for name in sortable_columns() for sign in ("", "-")]
    return {
        "ids": ids,
        # The receive form names its fields by the purchase order's lines.
        "receive_fields": [
            f"line_{pk}" for pk in PurchaseOrderLine.objects.values_list("pk", flat=True)
        ],
        "sort": sort,
        "line_id": [str(line.pk) for line in lines],
        "customer_id": [str(pk) for pk in Customer.objects.values_list("pk", flat=True)],
        "supplier_id": [str(shop.supplier.pk)],
        "job_id": [str(pk) for pk in BulkJob.objects.values_list("pk", flat=True)],
        "notification_id": [str(pk) for pk in Notification.objects.values_list("pk", flat=True)],
        "purchase_order": list(PurchaseOrder.objects.values_list("number", flat=True)),
        "order": list(SalesOrder.objects.values_list("number", flat=True)),
        "sku": [line.product.sku for line in lines],
        "token": [
            customer_link_token(order=order, action=action)
            for action in CustomerChoice.Choice.values
        ],
    }


def real_values(route: str, name: str, world: dict[str, Any]) -> list[str]:
    """The shop's own values for a URL's `<name>`."""
    if name == "number":
        return world["purchase_order" if "purchase-orders" in route else "order"]
    return world.get(name, ["1"])


def world_value(route: str, name: str, world: dict[str, Any]) -> str:
    return real_values(route, name, world)[0]


def path_values(route: str, name: str, world: dict[str, Any]) -> st.SearchStrategy[str]:
    """Values for a URL's `<name>`: the shop's own, and hostile ones."""
    odd = ["0", str(10**30), str(2**63)] if f"<id:{name}>" in route else ["x" * 300, "ü"]
    return st.one_of(st.sampled_from(real_values(route, name, world)), st.sampled_from(odd))


def counts() -> dict[str, Any]:
    """Row counts of the domain tables (one query), the rows the use cases own,
    and what the stock check finds."""
    tables = [
        model._meta.db_table
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models()
    ]
    # The names come from the app registry, quoted: nothing from a request.
    sql = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql}")
        row = cursor.fetchone()
    return {
        **dict(zip(tables, row, strict=True)),
        **db_snapshot(),
        "stock_check": stock_check().problems,
    }


def refused(response: Any) -> bool:
    """A 4xx, a form shown again with its errors, or an error message queued."""
    if 400 <= response.status_code < 500:
        return True
    if response.headers.get("HX-Retarget"):
        return True
    body = b"" if response.streaming else response.content
    if any(mark.encode() in body for mark in ERROR_MARKS):
        return True
    return any(message.level_tag == "error" for message in get_messages(response.wsgi_request))


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


PATTERNS = desk_patterns()


def page_fields(route: str, pattern: URLPattern, world: dict[str, Any]) -> dict[str, list[Any]]:
    """What a URL's page reads: its forms' and filters' fields and the list parameters."""
    fields = bound_fields(pattern.callback.__module__)
    if "receipt_state" in fields:
        fields.update({name: [forms.IntegerField()] for name in world["receive_fields"]})
    fields["page"] = fields["per_page"] = [forms.IntegerField()]
    fields["sort"] = [forms.ChoiceField(choices=[(name, name) for name in world["sort"]])]
    return fields


class _FormValues(HTMLParser):
    """The inputs of the forms in a page that post to `url`, as the page fills them."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url, self.inside = url, False
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        if tag == "form":
            self.inside = self.url in (given.get("action"), given.get("hx-post"))
        elif self.inside and tag == "input" and (name := given.get("name")) and given.get("value"):
            # what the page itself puts there (hidden ids, tokens); an empty
            # box is left to the plausible values
            self.values.setdefault(name, given["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def page_values(url: str, client: Client) -> dict[str, Any]:
    """What the page a form lives on would post to `url`: the form's own
    hidden ids and tokens (the page is found by cutting the URL's path back)."""
    parser = _FormValues(url)
    parts = url.strip("/").split("/")
    for end in range(len(parts) - 1, 0, -1):
        response = client.get("/" + "/".join(parts[:end]) + "/")
        if response.status_code == 200 and not response.streaming:
            parser.feed(response.content.decode())
    return parser.values


def roles_let_in(url: str, users: dict[Role, User]) -> list[User]:
    """The users whose role the view lets in (an empty GET or POST is not a 403)."""
    let_in = []
    for user in users.values():
        client = Client()
        client.force_login(user)
        with rolled_back():
            if any(getattr(client, method)(url).status_code != 403 for method in ("get", "post")):
                let_in.append(user)
    return let_in


@pytest.mark.parametrize(("route", "pattern"), PATTERNS, ids=[p.name for _r, p in PATTERNS])
def test_hostile_input_is_never_a_500(
    world: dict[str, Any], make_user: Any, route: str, pattern: URLPattern
) -> None:
    names = list(pattern.pattern.converters)
    fields, ids = page_fields(route, pattern, world), world["ids"]
    first_url = "/" + re.sub(
        r"<\w+:(\w+)>", lambda match: world_value(route, match[1], world), route
    )
    # given: a superuser (past every role check) and the roles the view lets in
    roles = {role: make_user(role) for role in Role}
    superuser = make_user(superuser=True)
    users = [superuser, *roles_let_in(first_url, roles)]
    admin = Client()
    admin.force_login(superuser)
    # what the page's own form sends, for the names it has (the rest: plausible values)
    filled = {name: st.just(value) for name, value in page_values(first_url, admin).items()}

    @FUZZ_SETTINGS
    @given(
        user=st.sampled_from(users),
        htmx=st.booleans(),
        kwargs=st.fixed_dictionaries({name: path_values(route, name, world) for name in names}),
        # what a person would send, and for each name a value out of bounds
        background=st.fixed_dictionaries(
            {name: st.one_of(*(plausible(f, ids) for f in each)) for name, each in fields.items()}
            | filled
        ),
        odd=st.fixed_dictionaries({name: value_of(each) for name, each in fields.items()}),
        query=st.fixed_dictionaries({"page": hostile, "sort": hostile}),
    )
    def hit(
        user: User,
        htmx: bool,
        kwargs: dict[str, str],
        background: dict[str, Any],
        odd: dict[str, Any],
        query: dict[str, str],
    ) -> None:
        url = "/" + re.sub(r"<\w+:(\w+)>", lambda match: kwargs[match[1]], route)
        client = Client()
        client.force_login(user)
        headers = {"HX-Request": "true"} if htmx else {}
        with rolled_back():
            response = client.get(url, odd, headers=headers)
            assert response.status_code < 500, ("GET", url, odd)
        background["query"] = ""
        odd["query"] = urlencode(query)  # the queue page's query an action carries
        before = counts()
        # One name out of bounds at a time, so the post gets past the others.
        for name in odd:
            posted = {**background, name: odd[name]}
            with rolled_back():
                response = client.post(url, posted, headers=headers)
                assert response.status_code < 500, ("POST", url, posted)
                if refused(response):
                    assert counts() == before, (url, posted, response.status_code)

    hit()
