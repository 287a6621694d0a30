"""The open data: a published programme's whole list as CSV and JSON, from which anyone can
recompute the published figures, with nothing personal in it."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shishi.commitments import services
from shishi.commitments.models import Commitment
from shishi.lib.masking import mask_phone
from shishi.orgs.models import Person
from shishi.testing import approved, commitment_data, make_programme, number
from shishi.workdays.services import calendar

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(tree, users):
    programme = make_programme(
        tree["county"],
        2026,
        [
            commitment_data(tree["dept"], "新建公办幼儿园", budget_planned="68690000"),
            commitment_data(tree["dept"], '=HYPERLINK("http://x")', "health"),
            commitment_data(tree["east"], "农贸市场改造", "culture", due_in=-3),
            commitment_data(tree["dept"], "农村书屋提质"),
        ],
    )
    officer, admin = users["unit_officer"], users["county_admin"]
    approved(officer, admin, programme, "cancel", [number(programme, 4)], reason="并入县级项目")
    report = services.submit_progress(
        officer, number(programme, 1), text="已交付", percent_complete=100, delivered=True
    )
    services.review_progress(admin, report, accept=True)
    return programme


def download(client, programme, fmt):
    response = client.get(reverse("portal:data", args=[programme.pk, fmt]))
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content).decode("utf-8")


def test_the_csv_recomputes_the_published_figures(client, programme):
    assert services.summary(programme)["delivered"] == 1
    rows = list(csv.DictReader(io.StringIO(download(client, programme, "csv").lstrip("\ufeff"))))
    assert [int(r["number"]) for r in rows] == [1, 2, 3, 4]
    summary = services.summary(programme)
    on_list = sum(int(r["on_list"]) for r in rows)
    delivered = sum(int(r["delivered"]) for r in rows)
    assert (on_list, delivered) == (summary["on_list"], summary["delivered"])
    assert rows[3]["status"] == "cancelled" and rows[3]["light"] == ""
    assert rows[2]["light"] == "overdue"
    assert rows[0]["budget_planned"] == "68690000.00"


def test_text_a_spreadsheet_would_run_is_neutralised_in_the_csv(client, programme):
    text = download(client, programme, "csv")
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text


def test_the_json_ends_with_the_figures_computed_from_its_own_rows(client, programme):
    body = json.loads(download(client, programme, "json"))
    assert body["county"]["code"] == "990101000000"
    assert len(body["commitments"]) == 4
    assert set(body["fields"]) == set(body["commitments"][0])
    summary = services.summary(programme)
    for name in ("on_list", "delivered", "removed", "rate"):
        assert body["figures"][name] == summary[name]
    assert set(body["formulas"]) >= {"on_list", "delivered", "rate"}


def test_nothing_personal_is_in_the_open_data(client, programme, tree):
    people = list(Person.objects.filter(county=tree["county"]))
    assert people
    for fmt in ("csv", "json"):
        text = download(client, programme, fmt)
        for person in people:
            assert person.name not in text
            if person.phone:
                assert person.phone not in text and mask_phone(person.phone) not in text


def test_a_draft_programme_has_no_open_data(client, tree, users):
    draft = services.create_programme(
        users["county_admin"], county=tree["county"], year=2030, title="草稿"
    )
    assert client.get(reverse("portal:data", args=[draft.pk, "csv"])).status_code == 404


def test_an_unknown_format_is_not_found(client, programme):
    assert client.get(reverse("portal:data", args=[programme.pk, "xml"])).status_code == 404


def test_the_export_reads_in_chunks_with_a_fixed_number_of_queries(client, programme, tree, users):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            download(client, programme, "json")
        return len(ctx.captured_queries)

    count()  # the calendar is kept per process: warm it
    small = count()
    # The programme, and its commitments with their category, unit and merge target, in one;
    # and the calendar's version, for the lights.
    assert small <= 3
    admin = users["county_admin"]
    bigger = services.create_programme(admin, county=tree["county"], year=2031, title="更大")
    for n in range(40):
        services.add_commitment(admin, bigger, commitment_data(tree["dept"], f"事项{n}"))
    services.publish_programme(None, bigger)
    assert Commitment.objects.filter(programme=bigger).count() == 40
    # The export streams after the request's memo is gone, so the calendar is the process's,
    # rechecked after a few seconds: warm it again, as the first count did, however long the
    # 40 commitments took to make on a loaded machine.
    calendar()
    with CaptureQueriesContext(connection) as ctx:
        download(client, bigger, "json")
    assert len(ctx.captured_queries) == small
