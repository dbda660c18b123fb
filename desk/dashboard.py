"""The dashboard (`/dashboard/`): KPIs with charts, for every role."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from desk.roles import role_required_for
from desk.shared import is_fragment_request
from notifications.dashboard import dashboard_charts, dashboard_kpis


@role_required_for("dashboard")
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """KPIs over the whole shop; the KPI grid alone for htmx (the Refresh button)."""
    kpis = dashboard_kpis()
    context = {"kpis": kpis, "charts": dashboard_charts(kpis)}
    template = "desk/dashboard.html"
    if is_fragment_request(request):
        template += "#kpis"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
