from __future__ import annotations

from django.contrib.staticfiles import finders
from django.test import Client


def test_the_openapi_document_is_served_and_errors_are_problem_json() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    create = document["paths"]["/api/v1/orders"]["post"]
    assert set(create["responses"]) >= {"201", "400", "401", "403", "409", "413", "422"}
    assert list(create["responses"]["422"]["content"]) == ["application/problem+json"]
    assert list(create["responses"]["201"]["content"]) == ["application/json"]
    line = document["components"]["schemas"]["LineIn"]["properties"]
    assert line["quantity"]["maximum"] == 1_000_000
    assert line["sku"]["pattern"].startswith("^")


def test_the_docs_page_loads_only_local_files_and_no_inline_script() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn" not in html.lower()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert finders.find("ninja/swagger-ui-bundle.js")
    assert finders.find("ninja/swagger-ui-init.js")
    # the only inline <script> is the JSON settings block, which CSP does not run
    for chunk in html.split("<script")[1:]:
        assert 'src="' in chunk.split(">")[0] or 'type="application/json"' in chunk.split(">")[0]
    assert "script-src 'self'" in response["Content-Security-Policy"]
