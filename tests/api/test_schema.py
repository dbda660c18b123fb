"""Schemathesis against the API's own OpenAPI document, in-process (WSGI): every
operation, generated positive and negative cases, no 5xx, and every answer
conforms to the document (status, content type, body). Deterministic
(derandomized), a bounded number of examples per operation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config._checks import PositiveDataAcceptanceConfig

from api.keys import NewApiKey
from tests.conftest import Shop

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=40,
    deterministic=True,
)
# A schema-valid order may still be refused by the shop's rules: a SKU or a
# warehouse that does not exist, a line its policy denies (422, documented), or an
# external id already placed (409). Everything else valid must be accepted.
schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
    expected_statuses=["2xx", "401", "403", "404", "409", "422"]
)


@pytest.fixture
def catalogue(stocked: Shop, api_key: NewApiKey) -> Iterator[NewApiKey]:
    """The shop and a key, served through the real WSGI handler. Like Django's test
    client, keep the handler from closing the test's connection at each request's
    end (it would, on PostgreSQL: the test's transaction is open)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield api_key
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)
def test_the_api_keeps_its_schema(case: schemathesis.Case, catalogue: NewApiKey) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {catalogue.key}"})
