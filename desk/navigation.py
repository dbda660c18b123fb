"""The navigation: each role sees the pages it may open.

Pages register here; who sees each is its GET roles in `desk.access`. An entry whose URL is not
installed (yet) is left out, so the menu never links to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from config.roles import Role, has_role
from desk.access import ACCESS


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str

    @property
    def roles(self) -> frozenset[Role]:
        """Who may open the page: its entry in `desk.access.ACCESS`."""
        return ACCESS[self.url_name].get


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Desk"), "home"),
    NavItem(_("Dashboard"), "dashboard"),
    NavItem(_("Backorder queue"), "queue"),
    NavItem(_("Receiving"), "receiving"),
    NavItem(_("Ready to ship"), "shipping"),
    NavItem(_("Purchase orders"), "purchase-orders"),
    NavItem(_("Shortfall"), "shortfall"),
    NavItem(_("Suppliers"), "suppliers"),
    NavItem(_("Delays"), "delays"),
    NavItem(_("New order"), "order-new"),
    NavItem(_("Outbox"), "outbox"),
    NavItem(_("Shop events"), "shop-events"),
    NavItem(_("Webhook deliveries"), "shop-deliveries"),
    NavItem(_("Policy"), "policy"),
    NavItem(_("Transfers"), "transfers"),
    NavItem(_("Refunds"), "refunds"),
    NavItem(_("Imports"), "imports"),
)


def items_for(user: Any, current_path: str = "") -> list[dict[str, Any]]:
    """The entries `user` may open, with their URLs and which one is current."""
    entries = []
    for item in NAV_ITEMS:
        if not has_role(user, *item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        current = current_path == url if url == "/" else current_path.startswith(url)
        entries.append({"label": item.label, "url": url, "current": current})
    return entries


def navigation(request: HttpRequest) -> dict[str, Any]:
    """Context processor: `nav_items` for the base template, and the shop's
    name for the pages customers see."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "shop_name": settings.SHOP_NAME}
    # A page under another section's URL (a purchase order's receive form is
    # part of receiving) names its section in `request.nav_path`.
    current = getattr(request, "nav_path", request.path)
    return {"nav_items": items_for(user, current), "shop_name": settings.SHOP_NAME}
