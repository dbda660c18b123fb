"""The shipping desk as a warehouse lead uses it: every line of an order, ship
what is ready (chosen lines and quantities) or hold, the warehouse filter,
the pick list and the packing slip."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from inventory.models import Warehouse
from notifications import updates
from orders.models import OrderLine, SalesOrder, Shipment, ShipPreference
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]

HX = {"HX-Request": "true"}


@pytest.fixture
def mixed(shop: Shop) -> tuple[SalesOrder, list[OrderLine]]:
    """LAMP-1 × 2 ready, CHAIR-1 × 5 with 3 allocated, RUG-1 × 2 waiting (nothing allocated)."""
    lamp = shop.product(sku="LAMP-1", name="Desk lamp")
    chair = shop.product(sku="CHAIR-1", name="Oak chair")
    rug = shop.product(sku="RUG-1", name="Wool rug")
    shop.receive(lamp, 2)
    shop.receive(chair, 3)
    order = updates.order_place(
        customer=shop.customer(name="Ada Lovelace"),
        warehouse=shop.warehouse,
        lines=[LineRequest(lamp, 2), LineRequest(chair, 5), LineRequest(rug, 2)],
        by=shop.clerk,
    )
    return order, list(order.lines.order_by("pk"))


def card(html: str, order: SalesOrder) -> str:
    return html.split(f'id="ship-order-{order.pk}"')[1].split("</article>")[0]


def ship(client: Client, order: SalesOrder, data: Mapping[str, object], headers=HX):
    return client.post(reverse("order-ship", args=[order.number]), data, headers=headers)


def test_every_line_is_shown_with_what_waits_and_its_promise(
    mixed: tuple[SalesOrder, list[OrderLine]], client_as: Callable[..., Client]
) -> None:
    order, (_lamp, chair, rug) = mixed

    html = card(client_as(Role.WAREHOUSE).get("/shipping/").content.decode(), order)

    assert "LAMP-1" in html and "CHAIR-1" in html and "RUG-1" in html
    rug_row = html.split(f'id="ship-line-{rug.pk}"')[1].split("</tr>")[0]
    assert "2 waiting" in rug_row and 'name="line_' not in rug_row
    rug.refresh_from_db()
    assert rug.promised_date is not None and rug.promise_is_estimate
    assert f'datetime="{rug.promised_date.isoformat()}"' in rug_row and "estimate" in rug_row
    chair_row = html.split(f'id="ship-line-{chair.pk}"')[1].split("</tr>")[0]
    assert "2 waiting" in chair_row and f'name="line_{chair.pk}"' in chair_row
    assert 'max="3"' in chair_row and 'value="3"' in chair_row
    assert "some lines still waiting" in html
    assert 'name="ship_choice" value="ready" checked' in html
    assert "has not said whether to wait" in html


def test_ships_the_chosen_lines_and_quantities(
    mixed: tuple[SalesOrder, list[OrderLine]], client_as: Callable[..., Client]
) -> None:
    # given
    order, (lamp, chair, _rug) = mixed

    # when: one lamp, no chair
    response = ship(
        client_as(Role.WAREHOUSE),
        order,
        {
            "ship_choice": "ready",
            "tracking_number": "TRK-7",
            f"line_{lamp.pk}": "1",
            f"line_{chair.pk}": "0",
        },
    )

    # then
    assert response.status_code == 200
    assert "Shipped" in response.content.decode() and "1 unit" in response.content.decode()
    shipment = Shipment.objects.get()
    assert [(s.order_line_id, s.quantity) for s in shipment.lines.all()] == [(lamp.pk, 1)]
    chair.refresh_from_db()
    assert (chair.allocated, chair.shipped) == (3, 0)


def test_hold_until_complete_ships_nothing_and_is_remembered(
    mixed: tuple[SalesOrder, list[OrderLine]], client_as: Callable[..., Client]
) -> None:
    # given
    order, _lines = mixed
    client = client_as(Role.WAREHOUSE)

    # when
    response = ship(client, order, {"ship_choice": "hold"})

    # then: nothing shipped, the order held, the desk and the pick list know it
    html = response.content.decode()
    assert response.status_code == 200
    assert "held until complete: nothing shipped" in html
    assert 'name="ship_choice" value="hold" checked' in html
    assert not Shipment.objects.exists()
    order.refresh_from_db()
    assert order.ship_preference == ShipPreference.HOLD
    desk = card(client.get("/shipping/").content.decode(), order)
    assert "held until complete" in desk and 'value="hold" checked' in desk
    assert order.number not in client.get(reverse("shipping-pick-list")).content.decode()
    # staff may still ship what is ready (the customer agreed on the phone)
    shipped = ship(client, order, {"ship_choice": "ready", "tracking_number": "TRK-1"})
    assert "Shipped" in shipped.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tracking_number": ""}, "Enter the carrier"),
        ({"tracking_number": "T", "ship_choice": "maybe"}, "Choose to ship what is ready"),
        ({"tracking_number": "T", "lamp": "abc"}, "Enter a whole number"),
        ({"tracking_number": "T", "lamp": "-1"}, "Enter 0 or more"),
        ({"tracking_number": "T", "lamp": "3"}, "Only 2 units are ready"),
        ({"tracking_number": "T", "lamp": "0", "chair": ""}, "Choose at least one unit"),
        ({"tracking_number": "x" * 65}, "at most 64 characters"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(
    mixed: tuple[SalesOrder, list[OrderLine]],
    client_as: Callable[..., Client],
    unchanged,
    data: dict[str, str],
    message: str,
) -> None:
    order, (lamp, chair, _rug) = mixed
    names = {"lamp": f"line_{lamp.pk}", "chair": f"line_{chair.pk}"}
    posted = {names.get(key, key): value for key, value in data.items()}

    with unchanged():
        response = ship(client_as(Role.WAREHOUSE), order, posted)
        plain = ship(client_as(Role.WAREHOUSE), order, posted, headers={})

    assert response.status_code == 200 and message in response.content.decode()
    assert plain.status_code == 302
    page = client_as(Role.WAREHOUSE).get("/shipping/")
    assert page.status_code == 200


def test_the_warehouse_filter_is_remembered(
    shop: Shop, mixed: tuple[SalesOrder, list[OrderLine]], client_as: Callable[..., Client]
) -> None:
    # given: a second warehouse with nothing ready
    order, _lines = mixed
    Warehouse.objects.create(code="NORTH", name="North depot")
    client = client_as(Role.WAREHOUSE)

    # when / then: chosen, remembered, shared with receiving, cleared
    assert order.number not in client.get("/shipping/?warehouse=NORTH").content.decode()
    later = client.get("/shipping/").content.decode()
    assert order.number not in later and "Nothing in North depot is ready to ship" in later
    assert '<option value="NORTH" selected>' in client.get("/receiving/").content.decode()
    assert order.number in client.get("/shipping/?warehouse=").content.decode()
    assert order.number in client.get("/shipping/").content.decode()
    assert (
        order.number in client.get(f"/shipping/?warehouse={shop.warehouse.code}").content.decode()
    )


def test_an_unknown_warehouse_shows_all_and_says_so(
    mixed: tuple[SalesOrder, list[OrderLine]], client_as: Callable[..., Client]
) -> None:
    order, _lines = mixed

    html = client_as(Role.WAREHOUSE).get("/shipping/", {"warehouse": "NOPE" * 500}).content.decode()

    assert order.number in html and "showing all warehouses" in html


def test_pick_list_by_warehouse_product_and_order(
    shop: Shop, mixed: tuple[SalesOrder, list[OrderLine]], client_as: Callable[..., Client]
) -> None:
    # given: a second order for the lamp
    order, _lines = mixed
    lamp = _lines[0].product
    shop.receive(lamp, 1)
    second = shop.order(lamp, 1)

    # when
    response = client_as(Role.WAREHOUSE).get(reverse("shipping-pick-list"))

    # then
    html = response.content.decode()
    assert response.status_code == 200
    rows = [
        row.split("</tr>")[0]
        for row in html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    ]
    assert [("CHAIR-1" in r, "LAMP-1" in r) for r in rows] == [
        (True, False),
        (False, True),
        (False, True),
    ]
    assert order.number in rows[0] and order.number in rows[1] and second.number in rows[2]
    assert "RUG-1" not in html
    assert f"{shop.warehouse.name}" in html and "6 units" in html


def test_packing_slip_lists_the_parcel_and_what_follows(
    mixed: tuple[SalesOrder, list[OrderLine]], client_as: Callable[..., Client]
) -> None:
    order, _lines = mixed

    response = client_as(Role.WAREHOUSE).get(reverse("shipping-packing-slip", args=[order.number]))

    html = response.content.decode()
    parcel, later = html.split("In this parcel")[1].split("Following later")
    assert "LAMP-1" in parcel and "CHAIR-1" in parcel and "RUG-1" not in parcel
    assert "CHAIR-1" in later and "RUG-1" in later and "LAMP-1" not in later
    assert "Ada Lovelace" in html


@pytest.mark.parametrize("url", ["/shipping/pick-list/", "/shipping/{number}/packing-slip/"])
@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.WAREHOUSE, 200), (Role.CUSTOMER_SERVICE, 403), (Role.PURCHASING, 403)],
)
def test_print_pages_are_the_warehouses(
    mixed: tuple[SalesOrder, list[OrderLine]],
    client_as: Callable[..., Client],
    url: str,
    role: Role,
    status: int,
) -> None:
    order, _lines = mixed

    assert client_as(role).get(url.format(number=order.number)).status_code == status


def test_packing_slip_of_an_unknown_order_is_404(client_as: Callable[..., Client]) -> None:
    assert client_as(Role.WAREHOUSE).get("/shipping/SO-NOPE/packing-slip/").status_code == 404
