"""The NUL character, which PostgreSQL cannot store and nobody types: a request carrying it in its
query string, form or JSON body is refused with 400 before any view reads it (issue 9, item 5)."""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from shishi.commitments.models import ProgressReport
from shishi.testing import commitment_data, make_programme, number, sign_in_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(tree):
    return make_programme(tree["county"], 2026, [commitment_data(tree["dept"], "新建公办幼儿园")])


def test_a_page_with_nul_in_its_query_string_is_the_400_page(programme):
    answer = Client().get(f"/commitments/{programme.pk}/changes/", {"adjustment": "1\x00"})
    assert answer.status_code == 400
    assert "NUL" in answer.content.decode() and "<html" in answer.content.decode()


def test_the_api_with_nul_in_a_filter_answers_in_its_error_shape(programme):
    answer = Client().get("/api/v1/commitments", {"category": "edu\x00"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"


def test_a_json_body_with_nul_writes_nothing(programme, users):
    from shishi.api.services import create_token

    token = create_token(users["unit_officer"], users["unit_officer"])[1]
    answer = Client().post(
        f"/api/v1/commitments/{number(programme, 1).pk}/reports",
        json.dumps({"text": "主体\u0000完工", "percent_complete": 60}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
    assert not ProgressReport.objects.exists()
    # A backslash written before "u0000" is text, not NUL: the report is written.
    answer = Client().post(
        f"/api/v1/commitments/{number(programme, 1).pk}/reports",
        json.dumps({"text": "路径 C:\\u0000", "percent_complete": 60}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 201, answer.content
    assert ProgressReport.objects.get().text == "路径 C:\\u0000"


def test_a_form_with_nul_in_a_field_is_refused(users):
    client = Client()
    client.force_login(users["county_admin"])
    sign_in_second_factor(client, users["county_admin"])
    # As a browser sends a form without files.
    body = urlencode({"ids": "1\x00"})
    answer = client.post("/work/notifications/", body, "application/x-www-form-urlencoded")
    assert answer.status_code == 400
