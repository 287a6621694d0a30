"""The OpenAPI document and the docs page, served by the app itself."""

import re

from django.conf import settings


def test_the_openapi_document_lists_every_path(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Shishi API"
    assert set(schema["paths"]) == {
        f"/api/v1{p}"
        for p in [
            "/programmes",
            "/programmes/{programme_id}",
            "/programmes/{programme_id}/summary",
            "/programmes/{programme_id}/changes",
            "/programmes/{programme_id}/list",
            "/programmes/{programme_id}/adjustments",
            "/commitments",
            "/commitments/{commitment_id}",
            "/commitments/{commitment_id}/reports",
            "/reports",
            "/reports/{report_id}/review",
            "/adjustments",
            "/adjustments/{adjustment_id}/decision",
        ]
    }
    post = schema["paths"]["/api/v1/commitments/{commitment_id}/reports"]["post"]
    assert post["security"] == [{"BearerToken": []}]
    assert "web app" in post["description"]  # evidence files are not sent as JSON
    assert "security" not in schema["paths"]["/api/v1/commitments"]["get"]


def test_the_docs_page_loads_nothing_from_outside_the_site(client):
    """Fails until "ninja" is in INSTALLED_APPS: without it django-ninja serves Swagger UI from a
    CDN (ninja/openapi/docs.py), and an intranet deployment has no internet."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "cdn" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", page)
    assert "swagger-ui-bundle.js" in page
    assert f"{settings.STATIC_URL}ninja/" in page
