"""Writes and internal reads: a token acts as its login, and the services decide."""

import datetime as dt

import pytest

from shishi.audit.models import Entry
from shishi.commitments import services as cs
from shishi.commitments.models import Adjustment, ProgressReport, Status
from shishi.testing import commitment_data, error_of, make_programme, number

REPORT = {"text": "主体完工", "percent_complete": 60}


def reports_path(programme, n=1):
    return f"/commitments/{number(programme, n).pk}/reports"


def test_a_write_without_a_token_is_401_in_the_error_shape(api, programme):
    response = api().post(reports_path(programme), REPORT)
    error = error_of(response, 401)
    assert error["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not ProgressReport.objects.exists()


def test_a_write_with_a_bad_token_is_401(api, programme):
    error = error_of(
        api(token="shishi_not-a-real-token").post(reports_path(programme), REPORT), 401
    )
    assert "not valid" in error["message"]


def test_a_signed_in_browser_session_is_not_a_token(api, programme, users, client_for):
    client_for(users["county_admin"])
    error_of(api().post(reports_path(programme), REPORT), 401)
    error_of(api().get("/reports"), 401)


def test_a_cadres_token_is_403_in_the_error_shape(api, programme):
    error = error_of(api("cadre").post(reports_path(programme), REPORT), 403)
    assert error["code"] == "forbidden"
    assert not ProgressReport.objects.exists()


def test_a_unit_officer_reports_and_the_county_admin_accepts_and_the_public_sees_it(api, programme):
    commitment = number(programme, 1)
    target = commitment.targets.get()
    officer, admin, public = api("unit_officer"), api("county_admin"), api()

    response = officer.post(
        reports_path(programme), {**REPORT, "target_values": {str(target.pk): "300.5"}}
    )
    assert response.status_code == 201, response.content
    report = response.json()
    assert (report["state"], report["submitted_by"]) == ("submitted", "unit_officer")
    assert report["target_values"] == {str(target.pk): "300.50"}
    # Submitted is not yet public.
    assert public.get(f"/commitments/{commitment.pk}").json()["percent_complete"] == 0

    response = admin.post(f"/reports/{report['id']}/review", {"accept": True})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "accepted"
    assert response.json()["reviewed_by"] == "county_admin"

    body = public.get(f"/commitments/{commitment.pk}").json()
    assert (body["percent_complete"], body["status"]) == (60, "in_progress")
    assert body["targets"][0]["actual_value"] == "300.50"
    # The service wrote the audit trail, in the token user's name.
    entry = Entry.objects.get(action="commitments.report.accepted")
    assert entry.actor_label == "county_admin"


def test_a_negative_target_value_is_400_with_the_field_named(api, programme):
    target = number(programme, 1).targets.get()
    response = api("unit_officer").post(
        reports_path(programme), {**REPORT, "target_values": {str(target.pk): "-5"}}
    )
    error = error_of(response, 400)
    assert error["code"] == "invalid"
    assert "negative" in error["fields"][f"target_{target.pk}"]
    assert not ProgressReport.objects.exists()


def test_a_percentage_that_is_not_a_number_is_422_in_the_error_shape(api, programme):
    response = api("unit_officer").post(
        reports_path(programme), {"text": "x", "percent_complete": "a"}
    )
    error = error_of(response, 422)
    assert "percent_complete" in error["fields"]


def test_a_body_that_is_not_json_is_400_in_the_error_shape(api, client, token_for, programme):
    response = client.post(
        f"/api/v1{reports_path(programme)}",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for('unit_officer')}"},
    )
    error_of(response, 400)


def test_reviewing_a_report_twice_is_409(api, programme, users):
    report = cs.submit_progress(
        users["unit_officer"], number(programme, 1), text="x", percent_complete=10
    )
    admin = api("county_admin")
    assert admin.post(f"/reports/{report.pk}/review", {"accept": True}).status_code == 200
    error = error_of(
        admin.post(f"/reports/{report.pk}/review", {"accept": False, "reason": "r"}), 409
    )
    assert error["code"] == "conflict"


def test_returning_a_report_without_a_reason_is_400_not_409(api, programme, users):
    report = cs.submit_progress(
        users["unit_officer"], number(programme, 1), text="x", percent_complete=10
    )
    error = error_of(
        api("county_admin").post(f"/reports/{report.pk}/review", {"accept": False}), 400
    )
    assert "reason" in error["fields"]


def test_the_author_of_a_report_cannot_review_it(api, programme, users):
    report = cs.submit_progress(
        users["unit_officer"], number(programme, 1), text="x", percent_complete=10
    )
    error_of(api("unit_officer").post(f"/reports/{report.pk}/review", {"accept": True}), 403)


def test_a_report_outside_the_scope_is_404(api, programme, users):
    report = cs.submit_progress(
        users["unit_officer"], number(programme, 1), text="x", percent_complete=10
    )
    error_of(api("west_admin").post(f"/reports/{report.pk}/review", {"accept": True}), 404)
    assert Entry.objects.filter(action="access.denied").exists()


def test_reports_are_listed_within_the_scope_of_the_token(api, programme, users):
    cs.submit_progress(users["unit_officer"], number(programme, 1), text="a", percent_complete=10)
    cs.submit_progress(users["east_admin"], number(programme, 2), text="b", percent_complete=20)

    def texts(name, **params):
        return sorted(r["text"] for r in api(name).get("/reports", **params).json()["items"])

    assert texts("county_admin") == ["a", "b"]
    assert texts("unit_officer") == ["a"]
    assert texts("east_admin") == ["b"]
    assert texts("west_admin") == []
    assert texts("county_admin", state="accepted") == []
    error_of(api().get("/reports"), 401)


def test_an_adjustment_is_proposed_and_approved_through_the_api(api, programme):
    commitment = number(programme, 1)
    deadline = commitment.deadline + dt.timedelta(days=60)
    response = api("unit_officer").post(
        f"/programmes/{programme.pk}/adjustments",
        {
            "kind": "defer",
            "commitments": [commitment.pk],
            "payload": {"deadline": deadline.isoformat()},
            "reason": "受汛期影响，工期顺延",
        },
    )
    assert response.status_code == 201, response.content
    proposal = response.json()
    assert (proposal["state"], proposal["proposed_by"]) == ("proposed", "unit_officer")
    # Not applied yet: the public list has not moved.
    assert api().get(f"/programmes/{programme.pk}/changes").json()["count"] == 0

    response = api("county_admin").post(
        f"/adjustments/{proposal['id']}/decision", {"approve": True}
    )
    assert response.status_code == 200, response.content
    decided = response.json()
    assert decided["state"] == "approved"
    assert decided["decisions"][0]["decided_by"] == "county_admin"

    public = api().get(f"/commitments/{commitment.pk}").json()
    assert (public["status"], public["deadline"]) == ("deferred", deadline.isoformat())
    changes = api().get(f"/programmes/{programme.pk}/changes").json()["items"]
    assert [c["reason"] for c in changes] == ["受汛期影响，工期顺延"]


def test_deciding_an_adjustment_twice_is_409(api, programme, users):
    adjustment = cs.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="cancel",
        commitments=[number(programme, 1)],
        payload={},
        reason="不再需要",
    )
    admin = api("county_admin")
    assert (
        admin.post(f"/adjustments/{adjustment.pk}/decision", {"approve": True}).status_code == 200
    )
    error_of(admin.post(f"/adjustments/{adjustment.pk}/decision", {"approve": True}), 409)
    assert Adjustment.objects.get().state == Adjustment.State.APPROVED


def test_a_unit_officer_cannot_approve_an_adjustment(api, programme, users):
    adjustment = cs.propose_adjustment(
        users["county_admin"],
        programme,
        kind="cancel",
        commitments=[number(programme, 1)],
        payload={},
        reason="不再需要",
    )
    # The officer sees an adjustment of their unit's commitment, but may not decide it.
    error_of(
        api("unit_officer").post(f"/adjustments/{adjustment.pk}/decision", {"approve": True}), 403
    )
    error_of(api("auditor").post(f"/adjustments/{adjustment.pk}/decision", {"approve": True}), 403)
    assert number(programme, 1).status == Status.PLANNED


def test_an_adjustment_naming_a_commitment_of_another_list_is_400(api, tree, programme):
    other = make_programme(tree["county"], 2023, [commitment_data(tree["dept"], "别的清单")])
    response = api("county_admin").post(
        f"/programmes/{programme.pk}/adjustments",
        {"kind": "cancel", "commitments": [number(other, 1).pk], "reason": "x"},
    )
    assert "commitments" in error_of(response, 400)["fields"]


def test_an_adjustment_without_a_reason_is_400(api, programme):
    response = api("county_admin").post(
        f"/programmes/{programme.pk}/adjustments",
        {"kind": "cancel", "commitments": [number(programme, 1).pk], "reason": " "},
    )
    assert "reason" in error_of(response, 400)["fields"]
    assert not Adjustment.objects.exists()


def test_adjustments_are_listed_within_the_scope_of_the_token(api, programme, users):
    cs.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="cancel",
        commitments=[number(programme, 1)],
        payload={},
        reason="不再需要",
    )

    def count(name):
        return api(name).get("/adjustments").json()["count"]

    assert count("county_admin") == 1
    assert count("unit_officer") == 1  # their own proposal
    assert count("west_admin") == 0
    error_of(api().get("/adjustments"), 401)


def test_errors_come_in_the_language_the_client_asks_for(client, programme):
    url = f"/api/v1/commitments/{number(programme, 1).pk}/reports"
    chinese = client.post(
        url, {}, content_type="application/json", headers={"Accept-Language": "zh-hans"}
    )
    english = client.post(
        url, {}, content_type="application/json", headers={"Accept-Language": "en"}
    )
    assert chinese.status_code == english.status_code == 401
    assert chinese.json()["error"]["message"] != english.json()["error"]["message"]
    assert "token" in english.json()["error"]["message"].lower()


def test_reports_and_adjustments_made_by_the_system_list_with_no_person(api, programme):
    # Imported and generated data have no person behind them: null, never a server error.
    commitment = number(programme, 1)
    cs.submit_progress(None, commitment, text="系统导入", percent_complete=10)
    adjustment = cs.propose_adjustment(
        None, programme, kind="cancel", commitments=[commitment], payload={}, reason="系统"
    )
    cs.decide_adjustment(None, adjustment, approve=True, note="系统")
    admin = api("county_admin")
    reports = admin.get("/reports")
    assert reports.status_code == 200, reports.content
    assert [r["submitted_by"] for r in reports.json()["items"]] == [None]
    adjustments = admin.get("/adjustments")
    assert adjustments.status_code == 200, adjustments.content
    (listed,) = adjustments.json()["items"]
    assert listed["proposed_by"] is None
    assert [d["decided_by"] for d in listed["decisions"]] == [None]


@pytest.mark.parametrize(
    "kind, payload",
    [
        ("add", {"commitment": "新建公办幼儿园"}),
        ("add", {"commitment": {"title": "新建", "targets": "三所"}}),
        ("add", {"commitment": {"title": "新建", "milestones": [["2026-05-01", "开工"]]}}),
        ("add", {"commitment": {"title": "新建", "co_units": {"a": 1}}}),
        ("change", {"fields": ["title", "新名"]}),
        ("change", {"fields": {"targets": [1, 2]}}),
        ("split", {"parts": "两项"}),
        ("merge", {"into": 7}),
    ],
)
def test_an_adjustment_payload_of_the_wrong_shape_is_refused_in_words(
    api, programme, kind, payload
):
    commitments = [] if kind == "add" else [number(programme, 1).pk]
    if kind == "merge":
        commitments.append(number(programme, 2).pk)
    response = api("county_admin").post(
        f"/programmes/{programme.pk}/adjustments",
        {"kind": kind, "commitments": commitments, "payload": payload, "reason": "理由"},
    )
    error = error_of(response, 400)
    assert error["fields"], error
    assert not Adjustment.objects.exists()


def test_the_state_filters_take_their_own_states_only(api, programme):
    commitment = number(programme, 1)
    cs.submit_progress(None, commitment, text="进展", percent_complete=10)
    admin = api("county_admin")
    assert admin.get("/reports", state="submitted").json()["count"] == 1
    assert admin.get("/reports", state="accepted").json()["count"] == 0
    error_of(admin.get("/reports", state="proposed"), 422)
    assert admin.get("/adjustments", state="proposed").status_code == 200
    error_of(admin.get("/adjustments", state="submitted"), 422)
