"""Rate limits on the API: anonymous requests per address, bad tokens per address, writes per
token; each refusal is a 429 in the error shape with Retry-After, in the caller's language."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shishi.commitments.models import ProgressReport
from shishi.testing import error_of, number

REPORT = {"text": "主体完工", "percent_complete": 60}
# Ten seconds into a minute: 50 seconds are left in the window.
START = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0, 10))


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def limits(settings):
    settings.RATE_LIMIT_API_READS = 3
    settings.RATE_LIMIT_BAD_TOKENS = 2
    settings.RATE_LIMIT_API_WRITES = 2
    return settings


def read(client, address="203.0.113.7", language="en", **headers):
    return client.get(
        "/api/v1/programmes", headers={"Accept-Language": language, **headers}, REMOTE_ADDR=address
    )


def test_anonymous_reads_past_the_limit_are_429_with_retry_after(client, programme, limits, clock):
    for _ in range(3):
        assert read(client).status_code == 200
    response = read(client)
    error = error_of(response, 429)
    assert error["code"] == "rate_limited"
    assert response["Retry-After"] == "50"
    assert error["message"] == "Too many requests: please wait 50 seconds and try again."


def test_the_refusal_speaks_the_callers_language(client, programme, limits, clock):
    for _ in range(3):
        read(client)
    error = error_of(read(client, language="zh-hans"), 429)
    assert "50" in error["message"] and "请求" in error["message"]


def test_the_limit_opens_again_when_the_minute_ends(client, programme, limits, clock):
    for _ in range(3):
        read(client)
    error_of(read(client), 429)
    clock.shift(50)
    assert read(client).status_code == 200


def test_each_address_has_its_own_count_and_an_ipv6_block_shares_one(
    client, programme, limits, clock
):
    for _ in range(3):
        read(client, address="203.0.113.7")
    error_of(read(client), 429)
    assert read(client, address="203.0.113.8").status_code == 200
    for n in range(3):
        assert read(client, address=f"2001:db8:1:2::{n + 1}").status_code == 200
    # Another address of the same /64 is the same customer.
    error_of(read(client, address="2001:db8:1:2:ffff::9"), 429)
    assert read(client, address="2001:db8:1:3::1").status_code == 200


def test_a_token_sent_to_a_public_read_does_not_escape_the_count(client, programme, limits, clock):
    for _ in range(3):
        read(client, Authorization="Bearer shishi_whatever")
    error_of(read(client, Authorization="Bearer shishi_whatever"), 429)


def test_reads_served_by_the_page_cache_are_not_counted(
    client, programme, limits, clock, page_cache
):
    responses = [read(client) for _ in range(10)]
    assert [r.status_code for r in responses] == [200] * 10
    assert responses[-1]["X-Page-Cache"] == "hit"


def test_zero_turns_a_limit_off(client, programme, limits, clock):
    limits.RATE_LIMIT_API_READS = 0
    assert all(read(client).status_code == 200 for _ in range(10))


def test_bad_tokens_past_the_limit_stop_any_token_from_that_address(
    client, programme, limits, clock, token_for
):
    good = token_for("unit_officer")

    def reports(token, address="203.0.113.7"):
        return client.get(
            "/api/v1/reports",
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
            REMOTE_ADDR=address,
        )

    for _ in range(2):
        error_of(reports("shishi_guess"), 401)
    # Past the limit even a good token is not checked from this address: the flood costs a
    # cache read, not a database query.
    with CaptureQueriesContext(connection) as queries:
        response = reports(good)
    assert error_of(response, 429)["code"] == "rate_limited"
    assert response["Retry-After"] == "50"
    assert not [q for q in queries.captured_queries if "api_token" in q["sql"]]
    assert reports(good, address="203.0.113.8").status_code == 200
    clock.shift(50)
    assert reports(good).status_code == 200


def test_writes_past_the_limit_per_token_are_429_and_write_nothing(
    api, programme, limits, clock, token_for
):
    token = token_for("unit_officer")
    officer = api(token=token)
    path = f"/commitments/{number(programme, 1).pk}/reports"
    assert [officer.post(path, REPORT).status_code for _ in range(2)] == [201, 201]
    response = officer.post(path, REPORT)
    assert error_of(response, 429)["code"] == "rate_limited"
    assert response["Retry-After"] == "50"
    assert ProgressReport.objects.count() == 2
    # Reads with the same token go on; another token has its own count.
    assert officer.get("/reports").status_code == 200
    assert api(token=token_for("unit_officer")).post(path, REPORT).status_code == 201


def test_the_openapi_document_names_the_429_answer(client):
    doc = client.get("/api/v1/openapi.json").json()
    responses = doc["paths"]["/api/v1/programmes"]["get"]["responses"]
    assert "429" in responses
    assert "429" in doc["paths"]["/api/v1/reports"]["get"]["responses"]
