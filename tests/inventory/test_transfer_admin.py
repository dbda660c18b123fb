"""Transfer routes are edited in the admin; transfers are read only there."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from inventory.models import Transfer, TransferRoute
from inventory.transfers import transit_days
from tests.factories import WarehouseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client_as: Callable[..., Client]) -> Client:
    return client_as(superuser=True)


def test_an_admin_adds_a_route_and_transfers_take_its_days(superuser_client: Client) -> None:
    jkt, sub = WarehouseFactory.create(code="JKT"), WarehouseFactory.create(code="SUB")
    assert transit_days(from_warehouse_id=jkt.pk, to_warehouse_id=sub.pk) == 3
    response = superuser_client.post(
        reverse("admin:inventory_transferroute_add"),
        {"from_warehouse": jkt.pk, "to_warehouse": sub.pk, "transit_days": "2"},
    )
    assert response.status_code == 302
    assert transit_days(from_warehouse_id=jkt.pk, to_warehouse_id=sub.pk) == 2
    # one way only: the way back still takes the default
    assert transit_days(from_warehouse_id=sub.pk, to_warehouse_id=jkt.pk) == 3


@pytest.mark.parametrize("same", [True, False])
def test_a_route_to_itself_or_with_a_bad_number_of_days_is_refused(
    superuser_client: Client, same: bool
) -> None:
    jkt, sub = WarehouseFactory.create(code="JKT"), WarehouseFactory.create(code="SUB")
    response = superuser_client.post(
        reverse("admin:inventory_transferroute_add"),
        {
            "from_warehouse": jkt.pk,
            "to_warehouse": (jkt if same else sub).pk,
            "transit_days": "2" if same else "-1",
        },
    )
    assert response.status_code == 200
    assert not TransferRoute.objects.exists()


def test_transfers_are_not_added_in_the_admin(superuser_client: Client) -> None:
    assert superuser_client.get(reverse("admin:inventory_transfer_add")).status_code == 403
    assert superuser_client.get(reverse("admin:inventory_transfer_changelist")).status_code == 200
    assert not Transfer.objects.exists()
