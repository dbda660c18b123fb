"""Who may use each staff URL: DESIGN.md's role table, URL by URL, in one place.

Every staff view checks its own entry (`desk.roles.role_required_for(url name)`),
the pages hide a control its role may not use (`may`), the navigation lists the
pages a role may open, and tests/test_url_roles.py walks this table against
every URL pattern. A new URL without an entry fails that test, so no page ships
without a decision about who may use it. Superusers may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.roles import Role, has_role

W, CS, P = Role.WAREHOUSE, Role.CUSTOMER_SERVICE, Role.PURCHASING
ALL = frozenset({W, CS, P})
NONE: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Access:
    """The roles that may GET (and HEAD) a URL, and those that may POST to it.

    No roles for a method means the view does not answer it: the check then
    uses the other method's roles, and the view itself answers 405.
    """

    get: frozenset[Role] = NONE
    post: frozenset[Role] = NONE

    def roles_for(self, method: str) -> frozenset[Role]:
        if method in ("GET", "HEAD"):
            roles = self.get
        elif method == "POST":
            roles = self.post
        else:
            roles = NONE
        return roles or (self.get | self.post)


def _view(*roles: Role) -> Access:
    return Access(get=frozenset(roles))


def _act(*roles: Role) -> Access:
    return Access(post=frozenset(roles))


ACCESS: dict[str, Access] = {
    "home": _view(*ALL),
    "dashboard": _view(*ALL),
    # /queue/: everyone views; customer service cancels, sets priority and
    # notifies; purchasing sets priority (the queue-jobs view keeps "notify"
    # to customer service: the kind is in the form, not the URL).
    "queue": _view(*ALL),
    "queue-export": _view(*ALL),
    "queue-line-priority": _act(CS, P),
    "queue-line-cancel": _act(CS),
    "queue-jobs": _act(CS, P),
    "queue-job": _view(CS, P),
    # /receiving/: warehouse receives, purchasing views.
    "receiving": _view(W, P),
    "purchase-order-receive": _view(W),
    "purchase-order-receive-submit": _act(W),
    # /purchase-orders/…: warehouse and customer service view; purchasing
    # creates, confirms, cancels and moves dates.
    "purchase-orders": _view(*ALL),
    "purchase-order": _view(*ALL),
    "purchase-order-new": Access(get=frozenset({P}), post=frozenset({P})),
    "purchase-order-sku": _view(P),
    "purchase-order-move-preview": _act(P),
    "purchase-order-move": _act(P),
    "purchase-order-confirm": _act(P),
    "purchase-order-cancel-preview": _view(P),
    "purchase-order-cancel": _act(P),
    # /purchasing/shortfall/: everyone reads; purchasing drafts purchase orders.
    "shortfall": _view(*ALL),
    "shortfall-export": _view(*ALL),
    "shortfall-draft": _act(P),
    # /suppliers/…: everyone reads the scorecards; purchasing edits purchase terms.
    "suppliers": _view(*ALL),
    "supplier": _view(*ALL),
    "supplier-terms": _act(P),
    # Lists and search: everyone views.
    "products": _view(*ALL),
    "orders": _view(*ALL),
    "customers": _view(*ALL),
    "search": _view(*ALL),
    # /shipping/: warehouse only.
    "shipping": _view(W),
    "order-ship": _act(W),
    "shipping-pick-list": _view(W),
    "shipping-packing-slip": _view(W),
    # /products/<sku>/: everyone views; warehouse adjusts stock.
    "product": _view(*ALL),
    "product-adjust": _act(W),
    # /orders/<number>/, /customers/<id>/: everyone views; customer service
    # does everything there (purchasing sets priority on /queue/ only).
    "order": _view(*ALL),
    "customer": _view(*ALL),
    "order-messages": _view(*ALL),
    "customer-messages": _view(*ALL),
    "order-line-cancel": _act(CS),
    "order-line-priority": _act(CS),
    # /orders/new/: customer service takes phone and email orders.
    "order-new": Access(get=frozenset({CS}), post=frozenset({CS})),
    "order-new-availability": _view(CS),
    # /delays/: customer service acts, purchasing views.
    "delays": _view(CS, P),
    "delay-customer-note": _act(CS),
    "delay-discount": _act(CS),
    "delay-order-note": _act(CS),
    "delay-line-substitute": _act(CS),
    "delay-line-cancel": _act(CS),
    # /outbox/: customer service and purchasing view. Sending a failed message
    # again is customer service's, though DESIGN.md's table says "view" only.
    "outbox": _view(CS, P),
    "outbox-message": _view(CS, P),
    "outbox-message-resend": _act(CS),
    # /shop/events/: the shops' webhook deliveries. Customer service and
    # purchasing view (DESIGN.md: "admins edit" the connections, in the admin);
    # both may retry a failed event: it is "visible and retryable" plumbing,
    # and a retry only runs the same processing again.
    "shop-events": _view(CS, P),
    "shop-event": _view(CS, P),
    "shop-event-retry": _act(CS, P),
    # /shop/deliveries/: the events sent to the shops (outbound webhooks).
    # Customer service and purchasing view and may send a failed one again,
    # as with the inbound events: a retry only posts the same event again.
    "shop-deliveries": _view(CS, P),
    "shop-delivery-retry": _act(CS, P),
    # /policy/: customer service views, purchasing edits.
    "policy": Access(get=frozenset({CS, P}), post=frozenset({P})),
    # /transfers/: warehouse ships and receives; everyone else views.
    "transfers": Access(get=ALL, post=frozenset({W})),
    "transfer-receive": _act(W),
    # /refunds/: money owed back for cancelled units that were paid for.
    # Everyone reads; customer service marks a refund paid back.
    "refunds": _view(*ALL),
    "refund-mark-refunded": _act(CS),
    # /imports/: each role imports its own kinds (IMPORT_KIND_ROLES; the views
    # check the kind, which is in the form or the job, not the URL). Exports
    # of the lists: everyone who sees the lists.
    "imports": Access(get=ALL, post=ALL),
    "import-job": _view(*ALL),
    "import-job-apply": _act(*ALL),
    "products-export": _view(*ALL),
    "stock-counts-export": _view(*ALL),
    "customers-export": _view(*ALL),
    "purchase-orders-export": _view(*ALL),
    # /orders/<number>/delivery/: address and carrier; customer service and
    # the warehouse correct them. /products/<sku>/bin/: the warehouse's shelves.
    "order-delivery": Access(get=frozenset({CS, W}), post=frozenset({CS, W})),
    "product-bin": _act(W),
    # /delays/customers/<id>/actions/: one customer's action forms, on demand.
    "delay-customer-actions": _view(CS),
    # /language/: every staff member chooses the language they read the pages in.
    "language": _act(*ALL),
}

# Who imports which kind of file (DESIGN.md's role table, "imports").
IMPORT_KIND_ROLES: dict[str, frozenset[Role]] = {
    "products": frozenset({P}),
    "purchase_orders": frozenset({P}),
    "stock_counts": frozenset({W}),
    "customers": frozenset({CS}),
}


def may_import(user: Any, kind: str) -> bool:
    """True if `user` may import files of `kind` (superusers every kind)."""
    return has_role(user, *IMPORT_KIND_ROLES.get(kind, NONE))


def may(user: Any, url_name: str, method: str = "POST") -> bool:
    """True if the table lets `user` use `url_name` with `method`: for showing
    a control only to those whom its view will let through."""
    return has_role(user, *ACCESS[url_name].roles_for(method))
