"""Ids and positions in requests that ``str.isdigit`` passes but ``int`` or the database refuses
(``²``, full-width digits, more digits than 2⁶³ holds): a page or an answer, never a server
error (issue 9, item 5)."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from shishi.commitments import services as cs
from shishi.testing import commitment_data, make_programme, number, sign_in_second_factor

pytestmark = pytest.mark.django_db

ODD = ["²", "１２", "9" * 30]


@pytest.fixture
def programme(tree):
    return make_programme(tree["county"], 2026, [commitment_data(tree["dept"], "新建公办幼儿园")])


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    sign_in_second_factor(client, user)
    return client


@pytest.mark.parametrize("odd", ODD)
def test_public_pages_and_the_api_take_odd_ids(odd, programme):
    client = Client(raise_request_exception=False)
    changes = client.get(f"/commitments/{programme.pk}/changes/", {"adjustment": odd})
    assert changes.status_code == 200
    api = client.get("/api/v1/commitments", {"programme": odd})
    assert api.status_code in (200, 422) and api["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/commitments/" + "9" * 30,
        "/api/v1/programmes/" + "9" * 19 + "/summary",
        "/api/v1/programmes?offset=" + str(2**64),
        "/api/v1/commitments?offset=" + str(2**63 - 1),
    ],
)
def test_api_ids_and_offsets_past_what_the_database_keeps_are_the_one_error(path, programme):
    answer = Client(raise_request_exception=False).get(path)
    assert answer.status_code in (404, 422)
    assert set(answer.json()) == {"error"}


@pytest.mark.parametrize("odd", ODD)
def test_signed_in_pages_take_odd_ids(odd, users, programme):
    admin = signed_in(users["county_admin"])
    assert admin.get("/work/audit/", {"before": odd}).status_code == 200
    assert admin.get("/work/orgs/export.xlsx", {"org": odd}).status_code in (403, 404)
    defer = f"/work/commitments/programmes/{programme.pk}/adjust/defer/"
    assert admin.get(defer, {"commitment": odd}).status_code == 200
    marked = admin.post("/work/notifications/", {"ids": [odd]})
    assert marked.status_code == 302
    tokens = admin.post("/work/tokens/", {"action": "revoke", "token": odd})
    assert tokens.status_code in (200, 302)


@pytest.mark.parametrize("odd", ODD)
def test_a_progress_report_naming_an_odd_target_is_refused_in_words(odd, users, programme):
    commitment = number(programme, 1)
    with pytest.raises(ValidationError) as refused:
        cs.submit_progress(
            users["unit_officer"],
            commitment,
            text="进展",
            percent_complete=10,
            target_values={odd: "1"},
        )
    assert "target_values" in refused.value.message_dict


def test_a_number_too_large_for_the_list_is_refused_in_words(tree):
    data = commitment_data(tree["dept"], "新建公办幼儿园", number=10**12)
    with pytest.raises(ValidationError) as refused:
        cs.clean_commitment(data, tree["county"])
    assert "number" in refused.value.message_dict


@pytest.mark.parametrize("on", ["0", "1700000000", "20260501", "2026-02-30"])
def test_a_day_is_only_ever_read_as_year_month_day(on, programme):
    # Pydantic alone reads a number as seconds since 1970: ?on=0 would be the list of 1970.
    path = f"/api/v1/programmes/{programme.pk}/list"
    answer = Client(raise_request_exception=False).get(path, {"on": on})
    assert answer.status_code == 422 and set(answer.json()) == {"error"}
    assert Client().get(path, {"on": "2026-05-01"}).status_code == 200


def test_the_openapi_document_says_the_day_is_a_date(programme):
    schema = Client().get("/api/v1/openapi.json").json()
    parameters = schema["paths"]["/api/v1/programmes/{programme_id}/list"]["get"]["parameters"]
    on = next(p for p in parameters if p["name"] == "on")
    assert on["schema"]["format"] == "date" and on["required"]


def test_each_state_filter_names_its_own_states_in_the_openapi_document():
    schema = Client().get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    assert components["ReportState"]["enum"] == ["submitted", "accepted", "returned"]
    assert "proposed" in components["AdjustmentState"]["enum"]
    assert "State" not in components
