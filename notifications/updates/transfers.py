"""Transfers between warehouses as customers feel them: shipped (promises at
the destination move earlier, their customers hear once) and received (the
units go to the queue; customers whose lines became ready are told)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from config.db import retry_on_conflict
from notifications.updates.telling import telling_customers
from orders.services import transfers
from orders.services.notes import form_submission_record


@retry_on_conflict()
@transaction.atomic
def transfer_ship(*, token: str = "", **kwargs: Any) -> transfers.TransferShipped:
    """`orders.services.transfers.transfer_ship`, telling the customers whose
    promise it moved. With a form's `token` the same form sent twice ships
    once (ValidationError, code "already_submitted", the second time)."""
    if token:
        form_submission_record(token=token, action="transfer_ship", by=kwargs.get("by"))
    return telling_customers(transfers.transfer_ship, **kwargs)


@retry_on_conflict()
@transaction.atomic
def transfer_receive(**kwargs: Any) -> transfers.TransferReceived:
    """`orders.services.transfers.transfer_receive`, telling the customers
    whose lines became ready to ship."""
    return telling_customers(transfers.transfer_receive, **kwargs)
