"""A flood of notices of one kind is one digest: a unit that reports on twelve commitments at once
gives the reviewer one unread notice, "12 progress reports to review", and one mail; the digest
waits until the last of its reports is reviewed, and a new one starts once it has been read."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from conftest import make_user
from shishi.commitments import notices, services
from shishi.notifications.models import Notification
from shishi.notifications.notices import TEXT
from shishi.notifications.services import mark_read, notify, render, still_waiting, waiting
from shishi.orgs.models import RoleKind
from shishi.testing import commitment_data, english, make_programme, number

pytestmark = pytest.mark.django_db

URL = reverse("notifications:list")


@pytest.fixture
def programme(tree):
    return make_programme(
        tree["county"], 2026, [commitment_data(tree["dept"], f"事项{n}") for n in range(1, 13)]
    )


@pytest.fixture
def mailed(users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reviewer = users["county_admin"]
    reviewer.email = "review@example.org"
    reviewer.save(update_fields=["email"])
    return reviewer


def report_on(users, programme, n):
    return services.submit_progress(
        users["unit_officer"], number(programme, n), text="已开工", percent_complete=10
    )


def flood(users, programme, count=12):
    return [report_on(users, programme, n) for n in range(1, count + 1)]


def shown_to(user):
    return list(Notification.objects.filter(user=user, head__isnull=True))


def test_twelve_reports_are_one_notice_saying_twelve(users, programme, mailed):
    flood(users, programme)
    [digest] = shown_to(mailed)
    assert waiting(mailed).count() == 1
    assert digest.items == 12
    with translation.override("en"):
        assert (
            render(digest) == "12 progress reports to review; the latest on commitment 12: 事项12"
        )
    # It leads to the list of reports waiting for review, not to one of them.
    assert digest.url == reverse("commitments:home")
    # Every report keeps its own notice, gathered in the digest, for handled().
    assert Notification.objects.filter(user=mailed, head=digest).count() == 12


def test_a_flood_sends_one_mail(users, programme, mailed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reports = flood(users, programme)
    # The first report's notice, which started the digest; none for the eleven gathered.
    assert [m.to for m in mail.outbox] == [["review@example.org"]]
    assert mail.outbox[0].body.endswith(reverse("commitments:review", args=[reports[0].pk]))


def test_the_digest_waits_until_its_last_report_is_reviewed(users, programme):
    reviewer = users["county_admin"]
    reports = flood(users, programme, 3)
    services.review_progress(reviewer, reports[0], accept=True)
    services.review_progress(reviewer, reports[1], accept=False, reason="照片看不清")
    [digest] = shown_to(reviewer)
    assert digest.handled_at is None and waiting(reviewer).count() == 1
    # It says how many still wait.
    assert still_waiting([digest]) == {digest.pk: 1}
    with translation.override("en"):
        assert render(digest, 1).startswith("1 progress report to review;")
    services.review_progress(reviewer, reports[2], accept=True)
    digest.refresh_from_db()
    assert digest.handled_at is not None
    assert waiting(reviewer).count() == 0


def test_once_the_digest_is_read_the_next_report_is_news_again(users, programme, mailed):
    flood(users, programme, 3)
    [digest] = shown_to(mailed)
    assert mark_read(mailed, [digest.pk]) == 1
    # Its items are read with it.
    assert not Notification.objects.filter(head=digest, read_at__isnull=True).exists()
    services.submit_progress(
        users["unit_officer"], number(programme, 4), text="再报", percent_complete=20
    )
    news = waiting(mailed).get()
    assert news.items == 1 and news.head is None and news.kind == notices.REPORT_SUBMITTED


def test_each_reader_has_their_own_digest(users, programme, tree):
    second = make_user(tree, "second_admin", RoleKind.COUNTY_ADMIN, "county")
    reports = flood(users, programme, 2)
    digests = Notification.objects.filter(items=2, head__isnull=True)
    assert sorted(d.user_id for d in digests) == sorted([users["county_admin"].pk, second.pk])
    # Reviewing a report closes its item for every reader it was sent to.
    for report in reports:
        services.review_progress(users["county_admin"], report, accept=True)
    assert not waiting(users["county_admin"]).exists() and not waiting(second).exists()


def test_a_kind_that_does_not_gather_stays_one_notice_each(users):
    for text in ["一", "二", "三"]:
        notify(users["cadre"], TEXT, {"text": text})
    assert waiting(users["cadre"]).count() == 3
    assert not Notification.objects.filter(items__gt=1).exists()


def test_the_page_and_the_bell_show_the_digest_once(users, programme, client_for):
    flood(users, programme, 5)
    client = english(client_for(users["county_admin"]))
    page = client.get(URL).text
    assert "5 progress reports to review; the latest on commitment 5: 事项5" in page
    assert f'href="{reverse("commitments:home")}"' in page
    assert "Progress on commitment 1 to review" not in page
    assert "1 unread notification." in page
    home = client.get(reverse("workspace:home")).text
    assert f'href="{URL}">Notifications (1 new)</a>' in home


def test_the_page_shows_how_many_still_wait_and_done_at_the_end(users, programme, client_for):
    reviewer = users["county_admin"]
    reports = flood(users, programme, 3)
    services.review_progress(reviewer, reports[0], accept=True)
    client = english(client_for(reviewer))
    assert "2 progress reports to review;" in client.get(URL).text
    for report in reports[1:]:
        services.review_progress(reviewer, report, accept=True)
    page = client.get(URL).text
    assert "3 progress reports to review;" in page and ">done</span>" in page


def test_marking_all_read_counts_a_digest_once(users, programme, client_for):
    flood(users, programme, 4)
    notify(users["county_admin"], TEXT, {"text": "另一条"})
    client = english(client_for(users["county_admin"]))
    response = client.post(URL, follow=True)
    assert "2 notifications marked read." in response.text
    assert not Notification.objects.filter(
        user=users["county_admin"], read_at__isnull=True
    ).exists()


def test_the_latest_item_fills_the_digest(users, programme):
    reviewer = users["county_admin"]
    flood(users, programme, 2)
    services.submit_progress(
        users["unit_officer"], number(programme, 7), text="第三份", percent_complete=30
    )
    [digest] = shown_to(reviewer)
    assert digest.items == 3
    assert digest.params == {"n": 7, "title": "事项7"}
    assert digest.created_at == Notification.objects.filter(head=digest).latest("pk").created_at
