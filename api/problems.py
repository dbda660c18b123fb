"""RFC 9457 problem details: every 4xx of the API is `application/problem+json`.

`type` is a URN naming the kind of problem (stable, for clients to branch on);
`about:blank` where the HTTP status says it all. Field errors go in `errors`,
each with the JSON pointer (body), the parameter (query, path) or the header
it is about, as the RFC's own example does.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from django.http import HttpResponse
from ninja import Schema

PROBLEM_CONTENT_TYPE = "application/problem+json"
MAX_BODY_BYTES = 1024 * 1024


class FieldError(Schema):
    detail: str
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    order_url: str | None = None


class ProblemError(Exception):
    """Raised by a view: answered as a problem with this status."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        kind: str | None = None,
        title: str | None = None,
        errors: list[dict[str, str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.body = problem_body(status, detail, kind=kind, title=title, errors=errors, **extra)


class PayloadTooLarge(Exception):
    pass


def problem_body(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:backorder-desk:problem:{kind}" if kind else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body), status=body["status"], content_type=PROBLEM_CONTENT_TYPE
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem(status: int, detail: str, **kwargs: Any) -> HttpResponse:
    return problem_response(problem_body(status, detail, **kwargs))


def field_errors(pydantic_errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """ninja's validation errors (loc = source, parameter name, path…) as RFC 9457's."""
    errors = []
    for error in pydantic_errors:
        source, *path = [str(part) for part in error.get("loc", ())] or ["body"]
        message = str(error.get("msg", "invalid"))
        if source == "body":
            # ninja puts the body under its parameter's name: drop it
            pointer = "/".join(path[1:]) if len(path) > 1 else ""
            errors.append({"detail": message, "pointer": f"#/{pointer}"})
        elif source == "header":
            errors.append({"detail": message, "header": "/".join(path)})
        else:
            errors.append({"detail": message, "parameter": "/".join(path)})
    return errors
