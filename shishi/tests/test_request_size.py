"""The size of a request: a body larger than MAX_REQUEST_BYTES is refused from its Content-Length
with 413 before anything reads it, so nothing of it is kept in memory or written to disk; a
multipart body past the limit whose length was not declared stops at the limit."""

import io

import pytest
from django.core.exceptions import RequestDataTooBig
from django.http.multipartparser import MultiPartParser
from django.test import Client, RequestFactory
from django.test.client import encode_multipart

from shishi.commitments.models import Evidence, ProgressReport
from shishi.middleware import BodyLimitHandler
from shishi.testing import commitment_data, make_programme, number

pytestmark = pytest.mark.django_db

GB = 1024**3


class Unread(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.fixture
def programme(tree):
    return make_programme(tree["county"], 2026, [commitment_data(tree["dept"], "新建公办幼儿园")])


def test_the_limit_fits_ten_evidence_files_and_the_form(settings):
    assert settings.MAX_REQUEST_BYTES == (10 * 10 + 5) * 1024 * 1024


def test_a_gigabyte_upload_is_refused_before_its_body_is_read(programme, users, client_for):
    url = f"/work/commitments/{number(programme, 1).pk}/report/"
    client = client_for(users["unit_officer"])
    client.cookies["django_language"] = "en"
    response = client.post(
        url,
        content_type="multipart/form-data; boundary=BoUnDaRy",
        data=b"",
        CONTENT_LENGTH=str(GB),
        **{"wsgi.input": Unread()},
    )
    assert response.status_code == 413
    text = response.content.decode()
    assert "<html" in text and "larger than 105 MB" in text
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()


def test_the_refusal_is_in_the_users_language(programme, users, client_for):
    client = client_for(users["unit_officer"])
    client.cookies["django_language"] = "zh-hans"
    response = client.post(
        f"/work/commitments/{number(programme, 1).pk}/report/",
        content_type="multipart/form-data; boundary=BoUnDaRy",
        data=b"",
        CONTENT_LENGTH=str(GB),
        **{"wsgi.input": Unread()},
    )
    assert response.status_code == 413
    assert "超过 105 MB" in response.content.decode()


def test_the_api_refuses_in_its_error_shape(programme):
    response = Client().post(
        f"/api/v1/commitments/{number(programme, 1).pk}/reports",
        data=b"",
        content_type="application/json",
        CONTENT_LENGTH=str(GB),
        **{"wsgi.input": Unread()},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_request_within_the_limit_goes_through(programme, users, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MAX_REQUEST_BYTES = 64 * 1024
    client = client_for(users["unit_officer"])
    url = f"/work/commitments/{number(programme, 1).pk}/report/"
    form = {"text": "主体完工", "percent_complete": "40"}
    assert client.post(url, form).status_code == 302
    big = io.BytesIO(b"%PDF-1.4\n" + b"\0" * (128 * 1024) + b"%%EOF\n")
    big.name = "scan.pdf"
    assert client.post(url, {**form, "files": big}).status_code == 413
    assert ProgressReport.objects.count() == 1 and not Evidence.objects.exists()


def test_an_undeclared_body_stops_at_the_limit():
    body = encode_multipart("BoUnDaRy", {"file": io.BytesIO(b"x" * 300_000)})
    request = RequestFactory().post("/", data=body, content_type="multipart/form-data")
    handler = BodyLimitHandler(request, limit=100_000)
    meta = {**request.META, "CONTENT_TYPE": "multipart/form-data; boundary=BoUnDaRy"}
    parser = MultiPartParser(meta, io.BytesIO(body), [handler])
    with pytest.raises(RequestDataTooBig):
        parser.parse()
    assert handler.received <= 100_000 + 64 * 1024  # one chunk at most past the limit
