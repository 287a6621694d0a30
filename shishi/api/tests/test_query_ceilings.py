"""Every public read of the API makes a fixed number of queries, whatever the size of the data:
measured on a small programme and on one with ten times the commitments, reports and
adjustments."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from shishi.commitments import services as cs
from shishi.testing import commitment_data, make_programme, number
from shishi.workdays.services import calendar

pytestmark = pytest.mark.django_db

# The ceiling of each read; the paths are filled with the programme and its first commitment.
# A read that shows lights checks the calendar's version once (workdays.services).
CEILINGS = {
    "/programmes": 2,
    "/programmes/{p}": 2,
    "/programmes/{p}/summary": 2,
    "/programmes/{p}/changes": 5,
    "/programmes/{p}/list?on=2026-01-01": 4,
    "/commitments?programme={p}&limit=50": 3,
    "/commitments/{c}": 6,
}


def grow(tree, year: int, n: int):
    """A programme of ``n`` commitments, a third with an accepted report, a fifth deferred."""
    programme = make_programme(
        tree["county"],
        year,
        [commitment_data(tree["dept"], f"事项{i}", due_in=i * 9 - 40) for i in range(n)],
    )
    for i in range(1, n + 1, 3):
        report = cs.submit_progress(
            None, number(programme, i), text=f"进展{i}", percent_complete=50
        )
        cs.review_progress(None, report, accept=True)
    for i in range(1, n + 1, 5):
        commitment = number(programme, i)
        cs.decide_adjustment(
            None,
            cs.propose_adjustment(
                None,
                programme,
                kind="defer",
                commitments=[commitment],
                payload={"deadline": (commitment.deadline + dt.timedelta(days=90)).isoformat()},
                reason=f"延期{i}",
            ),
            approve=True,
        )
    return programme


def counts(api, programme) -> dict[str, int]:
    first = number(programme, 1)
    out = {}
    for template, ceiling in CEILINGS.items():
        path = template.format(p=programme.pk, c=first.pk)
        with CaptureQueriesContext(connection) as ctx:
            response = api().get(path)
        assert response.status_code == 200, (path, response.content)
        out[template] = len(ctx.captured_queries)
        assert out[template] <= ceiling, f"{path}: {out[template]} queries, ceiling {ceiling}"
    return out


def test_every_public_read_costs_the_same_queries_at_two_sizes(api, tree):
    calendar()  # the working-day calendar is read once per process, then kept
    small = counts(api, grow(tree, 2025, 3))
    large = counts(api, grow(tree, 2026, 30))
    assert small == large, (small, large)
