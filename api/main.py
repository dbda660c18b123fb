"""The storefront API: django-ninja under /api/v1/, every error a problem document."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.parser import Parser

from api import availability, orders, products
from api.problems import (
    MAX_BODY_BYTES,
    PROBLEM_CONTENT_TYPE,
    PayloadTooLarge,
    ProblemError,
    field_errors,
    problem,
    problem_response,
)
from config.db import ConcurrencyConflict


class SizeLimitedParser(Parser):
    """JSON bodies up to MAX_BODY_BYTES (1 MiB); larger ones are answered 413."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if (declared.isdigit() and int(declared) > MAX_BODY_BYTES) or len(
            request.body
        ) > MAX_BODY_BYTES:
            raise PayloadTooLarge
        return super().parse_body(request)


class StorefrontApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Error answers are documented as what they are: application/problem+json."""
        schema = super().get_openapi_schema(**kwargs)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {PROBLEM_CONTENT_TYPE: content["application/json"]}
        return schema


api = StorefrontApi(
    title="Backorder Desk storefront API",
    version="1",
    description=(
        "Orders in from the shop, with what each line got and its promised ship date; "
        "availability of a SKU or a cart, with the ship date a line would get now. "
        "Authenticate with `Authorization: Bearer <API key>` (`manage.py api_key_create`). "
        "Errors are RFC 9457 problem details. POSTs that place or change something need an "
        "`Idempotency-Key`; answers are kept 24 hours."
    ),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs=Swagger(settings={"validatorUrl": None}),
    docs_url="/docs",
    parser=SizeLimitedParser(),
)
api.add_router("", orders.router)
api.add_router("", availability.router)
api.add_router("", products.router)


@api.exception_handler(ProblemError)
def _problem(request: HttpRequest, error: ProblemError) -> HttpResponse:
    return problem_response(error.body)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, error: Exception) -> HttpResponse:
    response = problem(
        401, "Send a valid, unrevoked API key: Authorization: Bearer <key>.", title="Unauthorized"
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, error: AuthorizationError) -> HttpResponse:
    return problem(403, error.message, kind="scope", title="Forbidden")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
    errors = field_errors(list(error.errors))
    if any(
        item.get("header", "").lower().replace("_", "-") == "idempotency-key" for item in errors
    ):
        return problem(
            400,
            "Send an Idempotency-Key header (1 to 255 characters, e.g. a UUID) with every POST.",
            kind="idempotency-key",
            title="Idempotency-Key required",
            errors=errors,
        )
    return problem(
        422,
        "The request does not match the schema.",
        kind="validation",
        title="Invalid request",
        errors=errors,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    if isinstance(error.__cause__, PayloadTooLarge | RequestDataTooBig):
        return _too_large(request, error)
    if error.status_code == 400:
        return problem(400, "The request body is not valid JSON.", kind="malformed-body")
    return problem(error.status_code, str(error))


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem(413, f"Request bodies may have at most {MAX_BODY_BYTES} bytes (1 MiB).")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem(404, "Nothing here.")


@api.exception_handler(ConcurrencyConflict)
def _conflict(request: HttpRequest, error: Exception) -> HttpResponse:
    return problem(409, str(error), kind="conflict", title="Busy; try again")
