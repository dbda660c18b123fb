"""What the staff pages share: htmx fragment requests, client redirects, form errors."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django_htmx.http import (
    HttpResponseClientRedirect,
)


def query_without(query: QueryDict, *names: str) -> QueryDict:
    copy = query.copy()
    for name in names:
        copy.pop(name, None)
    return copy


def is_fragment_request(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def client_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """After a post: a redirect, or for htmx a full page load of `url`
    (the form's target is not where the answer belongs)."""
    if is_fragment_request(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def form_errors_from(form: Any, error: ValidationError) -> None:
    """A use case's ValidationError onto the form: by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def validation_messages(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def already_submitted(error: ValidationError) -> bool:
    return getattr(error, "code", None) == "already_submitted"
