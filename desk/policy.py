"""The compensation policy (`/policy/`): purchasing edits, customer service reads."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import (
    trigger_client_event,
)

from desk.access import may
from desk.forms.policy import CompensationPolicyForm
from desk.roles import role_required_for
from desk.shared import is_fragment_request
from notifications.selectors import compensation_policy_get


@role_required_for("policy")
@require_http_methods(["GET", "POST"])
def policy(request: HttpRequest) -> HttpResponse:
    """The compensation policy: purchasing edits it, customer service reads it."""
    # Only purchasing may POST here: role_required_for refused anyone else.
    can_edit = may(request.user, "policy", "POST")
    current = compensation_policy_get()
    if request.method == "POST":
        form = CompensationPolicyForm(request.POST, instance=current)
        if form.is_valid():
            changed = form.has_changed()
            if changed:
                saved = form.save(commit=False)
                saved._history_user = request.user
                saved.save()
            notice = (
                _("The compensation policy is saved. It applies to the next date change.")
                if changed
                else _("Nothing changed: the policy was already set like this.")
            )
            if not is_fragment_request(request):
                messages.success(request, notice)
                return redirect("policy")
            form = CompensationPolicyForm(instance=compensation_policy_get())
            response = render(
                request,
                "desk/policy.html#policy-form",
                {"form": form, "can_edit": True, "notice": notice},
            )
            trigger_client_event(response, "policySaved", {"changed": changed})
            return response
    else:
        form = CompensationPolicyForm(instance=current, read_only=not can_edit)
    template = "desk/policy.html"
    if is_fragment_request(request):
        template += "#policy-form"
    response = render(request, template, {"form": form, "can_edit": can_edit})
    patch_vary_headers(response, ("HX-Request",))
    return response
