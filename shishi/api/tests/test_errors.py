"""One error shape everywhere under /api/v1/: unknown paths, wrong methods, refused CSRF checks."""

import json

import pytest
from django.test import Client, RequestFactory

from shishi.api.common import csrf_failure
from shishi.testing import commitment_data, make_programme, sign_in_second_factor

pytestmark = pytest.mark.django_db


def shape(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_an_unknown_path_answers_json_404_whatever_the_method(client, method):
    error = shape(getattr(client, method)("/api/v1/no/such/path"), 404)
    assert error["code"] == "not_found"


def test_an_unknown_path_answers_json_even_with_a_session_and_no_csrf_token(
    tree, users, client_for
):
    """A signed-in browser posting to a path that is no endpoint: the CSRF check would refuse it
    with an HTML page before any view ran; the API answers in its own shape instead."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["county_admin"], backend="shishi.orgs.backends.UsernameOrPhoneBackend")
    sign_in_second_factor(client, users["county_admin"])
    error = shape(client.post("/api/v1/no/such/path", {"x": "1"}), 404)
    assert error["code"] == "not_found"


def test_a_wrong_method_answers_json_405(tree, client):
    programme = make_programme(tree["county"], 2026, [commitment_data(tree["dept"], "事项")])
    response = client.delete(f"/api/v1/programmes/{programme.pk}")
    error = shape(response, 405)
    assert error["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]


def test_a_refused_csrf_check_under_the_api_answers_in_its_shape(db):
    request = RequestFactory().post("/api/v1/programmes/1/adjustments")
    error = shape(csrf_failure(request, reason="CSRF cookie not set."), 403)
    assert error["code"] == "csrf"
    assert "CSRF cookie not set." in error["message"]


def test_a_refused_csrf_check_elsewhere_is_the_usual_page(db):
    request = RequestFactory().post("/work/orgs/")
    response = csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
