"""Public reads: no token, published programmes only."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shishi.commitments import services as cs
from shishi.commitments.models import ProgressReport
from shishi.lib.workdays import Light
from shishi.testing import commitment_data, error_of, make_programme, number
from shishi.workdays.services import calendar


def test_published_programmes_are_listed_without_a_token(api, programme, draft):
    body = api().get("/programmes").json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["id"] == programme.pk
    assert item["county"]["code"] == "990101000000"
    assert item["status"] == "published"


def test_a_programme_is_read_without_a_token(api, programme):
    body = api().get(f"/programmes/{programme.pk}").json()
    assert body["title"] == "2021年民生实事"
    assert body["published_at"].startswith("2021-01-05")


@pytest.mark.parametrize("suffix", ["", "/summary", "/changes", "/list?on=2021-06-01"])
def test_a_draft_programme_is_not_found(api, draft, suffix):
    error = error_of(api().get(f"/programmes/{draft.pk}{suffix}"), 404)
    assert error["code"] == "not_found"


def test_a_commitment_of_a_draft_programme_is_not_found(api, draft):
    error_of(api().get(f"/commitments/{number(draft, 1).pk}"), 404)
    assert api().get("/commitments", programme=draft.pk).json()["count"] == 0


def test_the_summary_gives_each_figure_with_its_formula(api, programme):
    cs.decide_adjustment(
        None,
        cs.propose_adjustment(
            None,
            programme,
            kind="cancel",
            commitments=[number(programme, 4)],
            payload={},
            reason="并入县级项目",
        ),
        approve=True,
    )
    body = api().get(f"/programmes/{programme.pk}/summary").json()
    assert (body["on_list"], body["delivered"], body["removed"]) == (3, 0, 1)
    assert body["rate"] == 0.0
    assert body["counts"]["cancelled"] == 1
    assert set(body["formulas"]) >= {"on_list", "delivered", "rate"}
    assert "÷" in body["formulas"]["rate"]


def test_commitments_are_filtered_by_programme_category_status_and_unit(
    api, tree, programme, draft
):
    def numbers(**params):
        return [c["number"] for c in api().get("/commitments", **params).json()["items"]]

    assert numbers() == [1, 2, 3, 4]
    assert numbers(programme=programme.pk) == [1, 2, 3, 4]
    assert numbers(category="education") == [1, 3]
    assert numbers(category="health", status="planned") == [2]
    assert numbers(status="delivered") == []
    # A town's code finds its own commitments and its villages'.
    assert numbers(unit=tree["west"].code) == [4]
    assert numbers(unit=tree["east"].code) == [2]
    assert numbers(unit="no-such-org") == []


def test_the_light_filter_agrees_with_each_commitments_own_light(api, programme):
    seen = {}
    for value in Light:
        items = api().get("/commitments", light=value.value).json()["items"]
        assert all(item["light"] == value.value for item in items)
        seen.update({item["number"]: value.value for item in items})
    assert seen == {1: "on_track", 2: "overdue", 3: "due_soon", 4: "on_track"}


def test_an_unknown_light_is_a_schema_error(api, programme):
    error = error_of(api().get("/commitments", light="purple"), 422)
    assert "light" in error["fields"]


def test_commitments_are_paginated_by_limit_and_offset(api, programme):
    body = api().get("/commitments", limit=2, offset=1).json()
    assert (body["count"], body["limit"], body["offset"]) == (4, 2, 1)
    assert [c["number"] for c in body["items"]] == [2, 3]


def test_a_limit_above_200_is_refused(api, programme):
    error = error_of(api().get("/commitments", limit=201), 422)
    assert error["code"] == "schema"
    assert "limit" in error["fields"]


def test_the_commitment_list_takes_the_same_queries_at_any_page_size(
    api, tree, django_assert_max_num_queries
):
    rows = [commitment_data(tree["dept"], f"事项{i}", due_in=i * 7 - 50) for i in range(30)]
    make_programme(tree["county"], 2023, rows)
    calendar()  # the working-day calendar is cached per process: load it before counting

    def count(limit):
        with CaptureQueriesContext(connection) as ctx:
            response = api().get("/commitments", limit=limit)
        assert len(response.json()["items"]) == limit
        return len(ctx.captured_queries)

    small, large = count(2), count(30)
    assert small == large
    # The unit, the count, the page; and the calendar's version, checked once per request.
    with django_assert_max_num_queries(4):
        api().get("/commitments", limit=30, unit=tree["dept"].code, light="overdue")


def test_amounts_are_decimal_strings_and_dates_iso(api, programme):
    item = api().get("/commitments", limit=1).json()["items"][0]
    assert item["budget_planned"] == "68690000.00"
    assert dt.date.fromisoformat(item["deadline"])


def test_a_commitment_shows_targets_milestones_light_and_a_timeline_without_names(
    api, programme, users
):
    commitment = number(programme, 1)
    target = commitment.targets.get()
    report = cs.submit_progress(
        users["unit_officer"],
        commitment,
        text="已完成主体工程",
        percent_complete=60,
        target_values={str(target.pk): "300"},
    )
    cs.review_progress(users["county_admin"], report, accept=True)
    cs.submit_progress(users["unit_officer"], commitment, text="待审核", percent_complete=80)

    response = api().get(f"/commitments/{commitment.pk}")
    body = response.json()
    assert body["light"] == "on_track"
    assert body["percent_complete"] == 60
    assert body["targets"][0] | {"id": None} == {
        "id": None,
        "name": "高中学位",
        "unit": "个",
        "baseline": "0.00",
        "target_value": "535.00",
        "actual_value": "300.00",
        "percent": 56,
    }
    assert body["milestones"][0]["light"] == "overdue"
    # Only the accepted report is public, and nobody's name comes with it.
    assert [(e["text"], e["percent_complete"]) for e in body["timeline"]] == [
        ("已完成主体工程", 60)
    ]
    assert ProgressReport.objects.count() == 2
    content = response.content.decode()
    assert "unit_officer" not in content and "county_admin" not in content
    assert "测试" not in content  # the fixture people's names all start with 测试


def test_the_change_log_lists_applied_adjustments_only(api, programme, users):
    first = cs.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="defer",
        commitments=[number(programme, 1)],
        payload={"deadline": (number(programme, 1).deadline + dt.timedelta(days=30)).isoformat()},
        reason="受汛期影响",
    )
    cs.decide_adjustment(users["county_admin"], first, approve=True)
    cs.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="cancel",
        commitments=[number(programme, 3)],
        payload={},
        reason="尚未批准",
    )
    body = api().get(f"/programmes/{programme.pk}/changes").json()
    assert body["count"] == 1
    [change] = body["items"]
    assert (change["kind"], change["reason"]) == ("defer", "受汛期影响")
    assert [c["number"] for c in change["commitments"]] == [1]
    assert change["applied_at"]
    assert "unit_officer" not in str(body)


def test_the_list_on_a_date_is_the_list_as_it_stood_that_day(api, programme):
    cs.decide_adjustment(
        None,
        cs.propose_adjustment(
            None,
            programme,
            kind="cancel",
            commitments=[number(programme, 4)],
            payload={},
            reason="并入县级项目",
        ),
        approve=True,
    )
    path = f"/programmes/{programme.pk}/list"
    assert api().get(path, on="2021-01-04").json()["items"] == []
    first = api().get(path, on="2021-01-05").json()["items"]
    assert [(c["number"], c["status"]) for c in first][-1] == (4, "planned")
    today = api().get(path, on=dt.date.today().isoformat()).json()["items"]
    assert [c["number"] for c in today] == [1, 2, 3, 4]
    assert today[-1]["status"] == "cancelled"


def test_a_list_date_that_is_not_a_date_is_a_schema_error(api, programme):
    error = error_of(api().get(f"/programmes/{programme.pk}/list", on="2021-13-01"), 422)
    assert "on" in error["fields"]


def test_an_unknown_path_answers_in_the_error_shape(api):
    assert error_of(api().get("/nothing/here"), 404)["code"] == "not_found"


def test_a_wrong_method_answers_in_the_error_shape(api, programme):
    assert error_of(api().post("/programmes", {}), 405)["code"] == "method_not_allowed"


def test_an_unexpected_error_is_500_without_internals(api, programme, monkeypatch):
    def boom(programme):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(cs, "summary", boom)
    error = error_of(api().get(f"/programmes/{programme.pk}/summary"), 500)
    assert "secret" not in error["message"]
