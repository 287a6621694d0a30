"""Rate limits on public forms: each form's submissions are counted per client address, and past
the limit the 429 page says when to try again (Retry-After)."""

import datetime as dt

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db

START = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0, 15))


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(START, tick=False)
    return time_machine


def switch(client, language="zh-hans", address="198.51.100.4"):
    return client.post("/language/", {"language": language, "next": "/"}, REMOTE_ADDR=address)


def test_the_language_form_past_the_limit_answers_the_429_page(client, settings, clock):
    settings.RATE_LIMIT_FORMS = 2
    assert [switch(client).status_code for _ in range(2)] == [302, 302]
    page = switch(client)
    assert page.status_code == 429
    assert page["Retry-After"] == "45"
    assert "45" in page.text and "<h1>" in page.text
    # The page carries the same headers as any other.
    assert "script-src 'self'" in page["Content-Security-Policy"]


def test_the_429_page_speaks_the_visitors_language(client, settings, clock):
    settings.RATE_LIMIT_FORMS = 1
    switch(client, "en")
    assert "Too many requests: please wait 45 seconds" in switch(client, "en").text


def test_another_address_and_the_next_minute_may_submit_again(client, settings, clock):
    settings.RATE_LIMIT_FORMS = 1
    switch(client)
    assert switch(client).status_code == 429
    assert switch(client, address="198.51.100.5").status_code == 302
    clock.shift(45)
    assert switch(client).status_code == 302


def test_reading_a_public_page_is_not_a_form_submission(client, settings, clock):
    settings.RATE_LIMIT_FORMS = 1
    assert all(client.get("/").status_code == 200 for _ in range(5))
    assert switch(client).status_code == 302
