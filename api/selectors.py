"""What the staff pages read of the shop plumbing: connections and inbound events."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from api.models import InboundEvent, ShopConnection


def shop_connections_list() -> list[ShopConnection]:
    return list(ShopConnection.objects.select_related("warehouse").order_by("platform", "domain"))


def inbound_events_list() -> QuerySet[InboundEvent]:
    """Every inbound event, newest first, with its connection and order (one query a page)."""
    return (
        InboundEvent.objects.select_related("connection", "order")
        .defer("raw_body")
        .order_by("-received_at", "-pk")
    )


def inbound_event_get(*, event_id: int) -> InboundEvent:
    """One event with its raw body; 404 if there is none."""
    return get_object_or_404(
        InboundEvent.objects.select_related("connection", "order"), pk=event_id
    )
