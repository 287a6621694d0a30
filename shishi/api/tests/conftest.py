"""A published programme of four commitments with lights of every kind, and API clients."""

import datetime as dt

import pytest
from django.utils import timezone

from shishi.api.services import create_token
from shishi.testing import commitment_data, make_programme

# The fixture programme was published on this morning, which the list-on-a-date tests read.
PUBLISHED_AT = timezone.make_aware(dt.datetime(2021, 1, 5, 9, 0))


@pytest.fixture
def programme(tree):
    return make_programme(
        tree["county"],
        2021,
        [
            commitment_data(
                tree["dept"],
                "新增高中学位",
                targets=[{"name": "高中学位", "unit": "个", "target_value": "535"}],
                milestones=[
                    {"title": "开工", "planned_date": timezone.localdate() - dt.timedelta(days=30)}
                ],
            ),
            commitment_data(tree["east"], "老年人绿色通道", category="health", due_in=-10),
            commitment_data(tree["dept"], "新建公办幼儿园", due_in=3),
            commitment_data(tree["west_village"], "农家书屋", category="culture", due_in=100),
        ],
        published_at=PUBLISHED_AT,
    )


@pytest.fixture
def draft(tree):
    return make_programme(
        tree["county"], 2022, [commitment_data(tree["dept"], "草稿事项")], publish=False
    )


@pytest.fixture
def token_for(users):
    """``token_for("unit_officer")``: a fresh plain token for one of the named users."""

    def make(name):
        user = users[name]
        return create_token(user, user)[1]

    return make


class Api:
    """The test client speaking JSON to /api/v1/, with or without a token."""

    def __init__(self, client, token=None):
        self.client, self.token = client, token

    def _headers(self):
        # Messages in English, as the tests read them; the API follows Accept-Language.
        headers = {"Accept-Language": "en"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self._headers())

    def post(self, path, data):
        return self.client.post(
            f"/api/v1{path}", data, content_type="application/json", headers=self._headers()
        )


@pytest.fixture
def api(client, token_for):
    """``api()`` without a token, ``api("county_admin")`` with that user's token."""

    def make(name=None, *, token=None):
        return Api(client, token or (token_for(name) if name else None))

    return make
