"""The dashboard (`/dashboard/`): KPIs with charts, for every role, over a date
range (`?period=7|30|90|custom&from=&to=`); each figure links to the orders it counts."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from desk.forms.dashboard import DashboardRangeForm
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from notifications.accuracy import promise_accuracy
from notifications.dashboard import dashboard_charts, dashboard_kpis
from notifications.dashboard_charts import range_charts
from notifications.fill_rate import line_fill_rate


@role_required_for("dashboard")
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """KPIs over the whole shop; the KPI grid alone for htmx (the Refresh button).
    A range that does not make sense is said so, and the last 90 days are shown."""
    form = DashboardRangeForm(request.GET)
    span = form.span
    range_errors = [str(error) for errors in form.errors.values() for error in errors]
    kpis = dashboard_kpis(span=span)
    accuracy = promise_accuracy(span)
    fill = line_fill_rate(span)
    range_query = urlencode(
        {"shipped_from": span.first_day.isoformat(), "shipped_to": span.last_day.isoformat()}
    )
    context = {
        "form": form,
        "range_errors": range_errors,
        "span": span,
        "kpis": kpis,
        "charts": dashboard_charts(kpis),
        "accuracy": accuracy,
        "fill": fill,
        "weeks": list(zip(accuracy.weeks, fill.weeks, strict=True)),
        "range_charts": range_charts(accuracy, fill),
        "range_query": range_query,
        "refresh_url": request.get_full_path(),
    }
    template = "desk/dashboard.html"
    if is_fragment_request(request):
        template += "#kpis"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
