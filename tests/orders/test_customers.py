"""customer_find_or_create: the storefront's customer, found by email whatever its case."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from orders.models import Customer, Tier
from orders.services.customers import customer_find_or_create

pytestmark = pytest.mark.django_db


def test_an_existing_customer_is_found_whatever_the_case_of_the_email() -> None:
    # given
    ada = Customer.objects.create(name="Ada", email="Ada@Example.com", tier=Tier.VIP)

    # when
    found = customer_find_or_create(email=" ada@example.COM ", name="Someone else")

    # then: the staff's record, untouched
    assert found.pk == ada.pk
    assert (found.name, found.tier) == ("Ada", Tier.VIP)
    assert Customer.objects.count() == 1


def test_a_new_email_makes_a_customer_with_the_storefront_values() -> None:
    made = customer_find_or_create(email="new@example.com", name=" New ", language="nl")

    assert (made.email, made.name, made.language, made.tier) == (
        "new@example.com",
        "New",
        "nl",
        Tier.STANDARD,
    )


@pytest.mark.postgres
def test_the_lookup_by_email_can_use_an_index() -> None:
    """Every storefront order looks its customer up by email: without the
    UPPER(email) index that was a scan of the whole customer table (60 ms at
    100,000 customers)."""
    Customer.objects.create(name="Ada", email="ada@example.com")
    lookup = Customer.objects.filter(email__iexact="ADA@example.com")

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
        plan = lookup.explain()

    assert "customer_email_upper" in plan
