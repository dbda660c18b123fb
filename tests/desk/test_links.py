"""Where a page names an order, the name is a link to it: no dead ends."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from notifications import updates
from notifications.models import Notification
from orders.services.intake import LineRequest
from tests.conftest import Shop

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("run_on_commit_at_once")]


def test_order_numbers_link_to_their_orders(shop: Shop, client_as: Callable[..., Client]) -> None:
    # given an order waiting on a purchase order, and one ready to ship
    chair, lamp = shop.product(sku="CHAIR-1"), shop.product(sku="LAMP-1")
    po = shop.purchase(chair, 5, days=6)
    waiting = updates.order_place(
        customer=shop.customer(),
        warehouse=shop.warehouse,
        lines=[LineRequest(chair, 2)],
        by=shop.clerk,
    )
    shop.receive(lamp, 1)
    ready = shop.order(lamp, 1)
    message = Notification.objects.get(order=waiting)

    pages = {
        "purchase order": (Role.PURCHASING, reverse("purchase-order", args=[po.number]), waiting),
        "product": (Role.WAREHOUSE, reverse("product", args=[chair.sku]), waiting),
        "shipping": (Role.WAREHOUSE, reverse("shipping"), ready),
        "outbox message": (
            Role.CUSTOMER_SERVICE,
            reverse("outbox-message", args=[message.pk]),
            waiting,
        ),
    }
    for page, (role, url, order) in pages.items():
        html = client_as(role).get(url).content.decode()
        link = f'<a href="{reverse("order", args=[order.number])}">{order.number}</a>'
        assert link in html, page
