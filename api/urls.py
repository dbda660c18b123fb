"""/api/v1/: the storefront API. Whatever the API itself does not answer (an
unknown path, a method a path does not take) is a problem document too."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt

from api.main import api
from api.problems import PROBLEM_CONTENT_TYPE, problem


def _problems_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A 4xx that is not a problem document yet (405 from the router) becomes one;
    answers about orders are nobody else's: no shared or browser cache keeps them."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            PROBLEM_CONTENT_TYPE
        ):
            replaced = problem(response.status_code, "This path does not take this method.")
            if response.has_header("Allow"):
                replaced["Allow"] = response["Allow"]
            response = replaced
        patch_cache_control(response, private=True, no_store=True)
        return response

    return wrapper


def _wrapped(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = _problems_only(pattern.callback)
    return patterns


@csrf_exempt
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problem(404, "The storefront API has no such path.")


ninja_patterns, app_name, namespace = api.urls
urlpatterns = [
    *_wrapped(list(ninja_patterns)),
    re_path(r"^(?P<rest>.*)$", not_found, name="api-not-found"),
]
app_name = namespace
