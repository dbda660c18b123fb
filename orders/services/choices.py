"""Customers' own choices from their signed links: keep waiting, or cancel;
ship what is ready, or wait for everything."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config.db import retry_on_conflict
from orders.links import CustomerLink, LinkError
from orders.models import (
    Cancellation,
    CustomerChoice,
    SalesOrder,
    ShipPreference,
)
from orders.services.cancelling import order_line_cancel
from orders.services.shipping import order_ship_preference_set

# A ship choice from the backorder confirmation: the order's ship preference.
SHIP_CHOICES: dict[str, str] = {
    CustomerChoice.Choice.SHIP_READY: ShipPreference.SHIP_READY,
    CustomerChoice.Choice.WAIT_ALL: ShipPreference.HOLD,
}


@dataclass(frozen=True)
class CustomerChoiceResult:
    order: SalesOrder
    choice: str
    cancellations: list[Cancellation]

    @property
    def refund_due(self) -> Decimal:
        return sum((c.refund_due for c in self.cancellations), Decimal("0.00"))


def order_customer_choose(*, link: CustomerLink) -> CustomerChoiceResult:
    """Carry out what a customer chose through a signed link, once.

    Keep waiting is recorded; cancel cancels the backordered remainder of every
    line (allocated units stay: they are on their way); ship what is ready and
    wait for everything set the order's ship preference (the shipping desk's
    default). A link used before, or for an order with nothing left waiting,
    raises LinkError and changes nothing.
    """
    try:
        return _order_customer_choose(link=link)
    except IntegrityError as error:
        # Two clicks on the same link at once: the unique link id let one through.
        raise LinkError(_("This link has already been used.")) from error


@retry_on_conflict()
@transaction.atomic
def _order_customer_choose(*, link: CustomerLink) -> CustomerChoiceResult:
    try:
        order = SalesOrder.objects.get(pk=link.order_id)
    except SalesOrder.DoesNotExist as error:
        raise LinkError(_("We could not find this order. Please contact us.")) from error
    if CustomerChoice.objects.filter(link_id=link.link_id).exists():
        raise LinkError(_("This link has already been used."))
    # Written first: a second use of the same link waits here and then fails.
    CustomerChoice.objects.create(order=order, choice=link.action, link_id=link.link_id)
    cancellations: list[Cancellation] = []
    if link.action in SHIP_CHOICES:
        if not any(line.backordered for line in order.lines.all()):
            raise LinkError(
                _("Nothing on order %(number)s is waiting any more: it is ready or on its way.")
                % {"number": order.number}
            )
        order_ship_preference_set(order=order, preference=SHIP_CHOICES[link.action], by=None)
    if link.action == CustomerChoice.Choice.CANCEL:
        waiting = [line for line in order.lines.order_by("pk") if line.backordered]
        if not waiting:
            raise LinkError(
                _("Nothing on order %(number)s is waiting any more: it is ready or on its way.")
                % {"number": order.number}
            )
        for line in waiting:
            cancellations.append(
                order_line_cancel(line=line, reason=_("Cancelled by the customer"), by=None)
            )
    return CustomerChoiceResult(order=order, choice=link.action, cancellations=cancellations)
