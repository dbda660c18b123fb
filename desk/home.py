from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from config.roles import Role, user_roles
from desk.navigation import items_for
from desk.roles import role_required_for


@role_required_for("home")
def home(request: HttpRequest) -> HttpResponse:
    """The desk: who you are and the pages your roles open."""
    roles = [role for role in Role if role.value in user_roles(request.user)]
    pages = [item for item in items_for(request.user) if item["url"] != "/"]
    return render(request, "desk/home.html", {"roles": roles, "pages": pages})
