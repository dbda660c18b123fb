"""The receive page's scan box: its markup for receive-scan.js, and the form
working without it (the scan box is hidden until the script runs)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from config.roles import Role
from tests.conftest import Shop

pytestmark = pytest.mark.django_db


def test_the_receive_form_carries_the_scan_box_and_each_lines_sku(
    shop: Shop, client_as: Callable[..., Client]
) -> None:
    # given
    po = shop.purchase(shop.product(sku="LAMP-1"), 10)
    line = po.lines.get()

    # when
    response = client_as(Role.WAREHOUSE).get(reverse("purchase-order-receive", args=[po.number]))

    # then
    html = response.content.decode()
    assert '<script src="/static/js/receive-scan.js" defer></script>' in html
    assert 'id="scan-sku" class="scan-input"' in html
    assert f'id="receive-line-{line.pk}" data-sku="LAMP-1"' in html
    assert 'data-ok="+1 %(sku)s (%(count)s of %(outstanding)s)"' in html
    assert "is not on this purchase order" in html
    # the scan box's input has no name: a receipt posted without JavaScript is as before
    scan_input = (
        html.split('id="scan-sku"')[0].rsplit("<input", 1)[1]
        + html.split('id="scan-sku"')[1].split(">", 1)[0]
    )
    assert "name=" not in scan_input


def test_the_fragment_keeps_the_scan_box(shop: Shop, client_as: Callable[..., Client]) -> None:
    po = shop.purchase(shop.product(sku="LAMP-1"), 10)

    response = client_as(Role.WAREHOUSE).get(
        reverse("purchase-order-receive", args=[po.number]) + "?fill=all",
        headers={"HX-Request": "true"},
    )

    html = response.content.decode()
    assert "<html" not in html and 'class="scan-box"' in html and 'value="10"' in html
