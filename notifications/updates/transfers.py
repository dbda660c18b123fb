"""Transfers between warehouses as customers feel them: shipped (promises at
the destination move earlier, their customers hear once) and received (the
units go to the queue; customers whose lines became ready are told)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from config.db import retry_on_conflict
from notifications.updates.telling import telling_customers
from orders.services import transfers


@retry_on_conflict()
@transaction.atomic
def transfer_ship(**kwargs: Any) -> transfers.TransferShipped:
    """`orders.services.transfers.transfer_ship`, telling the customers whose
    promise it moved."""
    return telling_customers(transfers.transfer_ship, **kwargs)


@retry_on_conflict()
@transaction.atomic
def transfer_receive(**kwargs: Any) -> transfers.TransferReceived:
    """`orders.services.transfers.transfer_receive`, telling the customers
    whose lines became ready to ship."""
    return telling_customers(transfers.transfer_receive, **kwargs)
