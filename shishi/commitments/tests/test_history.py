"""The list's history: as first published, on any date, the diff between dates, and its figures."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shishi.commitments import services
from shishi.commitments.models import Status
from shishi.testing import item_2026, number

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")


def moment(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, 0, tzinfo=TZ)


@pytest.fixture
def year(programme, tree, users):
    """A list published on 20 January; in May a deferral of item 1 and an accepted report on
    item 2; in August item 3 is cancelled and an item added; in September item 2 is delivered."""
    admin, officer = users["county_admin"], users["unit_officer"]
    with time_machine.travel(moment(1, 10), tick=False):
        services.add_commitment(admin, programme, item_2026(tree, title="新建公办幼儿园"))
        services.add_commitment(admin, programme, item_2026(tree, title="新增高中学位"))
        services.add_commitment(admin, programme, item_2026(tree, title="农贸市场改造"))
    with time_machine.travel(moment(1, 20), tick=False):
        services.publish_programme(admin, programme)
    with time_machine.travel(moment(5, 6), tick=False):
        defer = services.propose_adjustment(
            officer,
            programme,
            kind="defer",
            commitments=[number(programme, 1)],
            payload={"deadline": "2027-01-31"},
            reason="选址调整",
        )
    with time_machine.travel(moment(5, 8), tick=False):
        services.decide_adjustment(admin, defer, approve=True)
        c2 = number(programme, 2)
        report = services.submit_progress(
            officer,
            c2,
            text="完成主体",
            percent_complete=60,
            target_values={str(c2.targets.get().pk): "3"},
        )
    with time_machine.travel(moment(5, 12), tick=False):
        services.review_progress(admin, report, accept=True)
    with time_machine.travel(moment(8, 3), tick=False):
        cancel = services.propose_adjustment(
            officer,
            programme,
            kind="cancel",
            commitments=[number(programme, 3)],
            payload={},
            reason="不具备实施条件",
        )
        services.decide_adjustment(admin, cancel, approve=True)
        add = services.propose_adjustment(
            None,
            programme,
            kind="add",
            commitments=[],
            payload={"commitment": item_2026(tree, title="城区新增停车位")},
            reason="群众诉求集中",
        )
        services.decide_adjustment(admin, add, approve=True)
    with time_machine.travel(moment(9, 15), tick=False):
        done = services.submit_progress(
            officer, number(programme, 2), text="全部完成", percent_complete=100, delivered=True
        )
        services.review_progress(admin, done, accept=True)
    programme.refresh_from_db()
    return programme


def by_number(listing: dict) -> dict:
    return {row["number"]: row for row in listing.values()}


def test_before_publication_the_public_list_is_empty(year):
    assert services.list_on(year, moment(1, 19)) == {}


def test_the_list_at_publication_is_the_list_as_first_published(year):
    first = by_number(services.list_on(year, year.published_at))
    assert sorted(first) == [1, 2, 3]
    assert first[1]["deadline"] == "2026-10-31"
    assert first[2]["percent_complete"] == 0
    assert {row["status"] for row in first.values()} == {Status.PLANNED}


def test_the_list_on_a_later_date_reflects_the_deferral_and_the_accepted_report(year):
    june = by_number(services.list_on(year, moment(6, 1)))
    assert (june[1]["status"], june[1]["deadline"]) == ("deferred", "2027-01-31")
    assert (june[2]["status"], june[2]["percent_complete"]) == ("in_progress", 60)
    assert june[2]["targets"][0]["actual_value"] == "3.00"
    assert june[3]["status"] == "planned"
    assert 4 not in june


def test_a_report_counts_from_its_acceptance_not_its_submission(year):
    assert by_number(services.list_on(year, moment(5, 10)))[2]["percent_complete"] == 0
    assert by_number(services.list_on(year, moment(5, 12)))[2]["percent_complete"] == 60


def test_the_list_today_matches_the_commitments(year):
    today = by_number(services.list_on(year, moment(12, 1)))
    for c in year.commitments.all():
        assert today[c.number] == services.public_fields(c)


def test_the_diff_between_two_dates_names_each_change(year):
    changes = {row["number"]: row for row in services.list_diff(year, moment(2, 1), moment(8, 31))}
    assert sorted(changes) == [1, 2, 3, 4]
    assert changes[1]["fields"]["deadline"] == ["2026-10-31", "2027-01-31"]
    assert changes[1]["fields"]["status"] == ["planned", "deferred"]
    assert changes[2]["fields"]["percent_complete"] == [0, 60]
    assert changes[3]["fields"] == {"status": ["planned", "cancelled"]}
    assert changes[4]["added"] is True and changes[4]["title"] == "城区新增停车位"
    assert not any(row["added"] for n, row in changes.items() if n != 4)


def test_there_is_no_diff_between_two_quiet_dates(year):
    assert services.list_diff(year, moment(6, 1), moment(7, 1)) == []


def test_the_summary_counts_the_list_and_what_is_delivered(year):
    figures = services.summary(year)
    assert figures["on_list"] == 3  # three published, one cancelled, one added
    assert figures["delivered"] == 1
    assert figures["open"] == 2
    assert figures["removed"] == 1
    assert figures["rate"] == 33.3
    assert figures["counts"]["deferred"] == 1 and figures["counts"]["cancelled"] == 1


def test_the_summary_of_an_empty_programme_is_zero(programme):
    assert services.summary(programme)["rate"] == 0.0
    assert services.summary(programme)["on_list"] == 0
