"""The queue's CSV export (/queue/export.csv): no cell runs as a spreadsheet formula.

The export's columns, filters, sort and query count are in test_queue.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest
from django.test import Client

from config.roles import Role
from desk.queue import _spreadsheet_safe
from tests.factories import CustomerFactory, OrderLineFactory, ProductFactory, SalesOrderFactory

pytestmark = pytest.mark.django_db

EXPORT = "/queue/export.csv"

HOSTILE = [
    '=HYPERLINK("http://evil.example")',
    " =1+1",
    "  +cmd",
    "\t=1+1",
    "\n=1+1",
    "\r\n@SUM(A1)",
    " \t -2+3",
    "\u00a0=1",  # a no-break space
    "\u3000@x",  # an ideographic space
]


@pytest.mark.parametrize("value", HOSTILE)
def test_text_that_could_run_as_a_formula_goes_out_as_text(value: str) -> None:
    assert _spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("Ann Example", "Ann Example"),
        (" Ann", " Ann"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (3, 3),
        (-2, -2),  # a number stays a number, negative or not
        (0, 0),
    ],
)
def test_other_cells_are_unchanged(value: object, cell: object) -> None:
    assert _spreadsheet_safe(value) == cell


@pytest.mark.parametrize("name", HOSTILE)
def test_the_export_quotes_a_customer_name_with_blanks_before_a_formula(
    client_as: Callable[..., Client], name: str
) -> None:
    customer = CustomerFactory.create(name=name)
    OrderLineFactory.create(
        order=SalesOrderFactory.create(customer=customer),
        product=ProductFactory.create(sku="LMP-1", name=f"{name} lamp"),
    )

    response = client_as(Role.PURCHASING).get(EXPORT)

    body = response.getvalue().decode()
    row = next(csv.DictReader(io.StringIO(body)))
    assert row["Customer"] == "'" + name
    assert row["Product name"] == "'" + name + " lamp"
    assert row["Units"].lstrip("-").isdigit()  # numbers are not quoted
