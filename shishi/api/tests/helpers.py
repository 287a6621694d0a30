"""Helpers shared by the API tests."""

import datetime as dt

from django.utils import timezone

from shishi.commitments import services as cs

PUBLISHED_AT = timezone.make_aware(dt.datetime(2021, 1, 5, 9, 0))


def commitment_data(tree, title, *, unit="dept", category="education", due_in=200, **extra):
    today = timezone.localdate()
    return {
        "title": title,
        "category": category,
        "responsible_unit": tree[unit],
        "lead_official": "副县长",
        "start_date": today - dt.timedelta(days=400),
        "deadline": today + dt.timedelta(days=due_in),
        "budget_planned": "68690000",
        **extra,
    }


def make_programme(tree, year, rows, *, publish=True):
    programme = cs.create_programme(
        None, county=tree["county"], year=year, title=f"{year}年民生实事"
    )
    for row in rows:
        cs.add_commitment(None, programme, row)
    if publish:
        cs.publish_programme(None, programme, at=PUBLISHED_AT)
    programme.refresh_from_db()
    return programme


def number(programme, n):
    return programme.commitments.get(number=n)


def error_of(response, status):
    """The error body, after checking the status and the one shape every failure has."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]
