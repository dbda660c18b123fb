from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from api.keys import NewApiKey, api_key_create
from api.models import Scope
from inventory.models import BackorderPolicy
from orders.models import Channel
from tests.conftest import Shop


@pytest.fixture
def new_key(db: None) -> Callable[..., NewApiKey]:
    def make(scopes: list[str] | None = None, channel: str = Channel.WEB) -> NewApiKey:
        return api_key_create(name="Shop", channel=channel, scopes=scopes, by=None)

    return make


@pytest.fixture
def api_key(new_key: Callable[..., NewApiKey]) -> NewApiKey:
    return new_key()


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": "WEB-1001",
        "customer": {"email": "ada@example.com", "name": "Ada Lovelace", "language": "en"},
        "lines": [{"sku": "LAMP", "quantity": 2}, {"sku": "CHAIR", "quantity": 3}],
        "payment_status": "paid",
    }
    body.update(overrides)
    return body


def post_order(key: str | None, body: dict[str, Any], idempotency_key: str | None = "auto") -> Any:
    """POST /api/v1/orders with this key (None: no Authorization) and a fresh
    Idempotency-Key unless one is given (None: no header)."""
    headers: dict[str, str] = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if idempotency_key is not None:
        headers["Idempotency-Key"] = (
            str(uuid.uuid4()) if idempotency_key == "auto" else idempotency_key
        )
    return Client().post(
        "/api/v1/orders", json.dumps(body), content_type="application/json", headers=headers
    )


@pytest.fixture
def stocked(shop: Shop) -> Shop:
    """LAMP: 5 in stock; CHAIR: none, on backorder, 10 coming in 9 days; DESK: none, denied."""
    shop.receive(shop.product(sku="LAMP", name="Lamp"), 5)
    chair = shop.product(sku="CHAIR", name="Chair")
    shop.purchase(chair, 10, days=9)
    shop.product(sku="DESK", name="Desk", backorder_policy=BackorderPolicy.DENY)
    return shop


ALL_SCOPES = Scope.values
