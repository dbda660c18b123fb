"""The navigation: each role sees the pages it may open.

Pages register here with the roles that may see them. An entry whose URL is not
installed (yet) is left out, so the menu never links to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from config.roles import ALL_ROLES, Role, has_role


@dataclass(frozen=True)
class NavItem:
    label: Any
    url_name: str
    roles: tuple[Role, ...]


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_("Desk"), "home", ALL_ROLES),
    NavItem(_("Dashboard"), "dashboard", ALL_ROLES),
    NavItem(_("Backorder queue"), "queue", ALL_ROLES),
    NavItem(_("Receiving"), "receiving", (Role.WAREHOUSE, Role.PURCHASING)),
    NavItem(_("Ready to ship"), "shipping", (Role.WAREHOUSE,)),
    NavItem(_("Purchase orders"), "purchase-orders", ALL_ROLES),
    NavItem(_("Delays"), "delays", (Role.CUSTOMER_SERVICE, Role.PURCHASING)),
    NavItem(_("Outbox"), "outbox", (Role.CUSTOMER_SERVICE, Role.PURCHASING)),
    NavItem(_("Policy"), "policy", (Role.CUSTOMER_SERVICE, Role.PURCHASING)),
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
