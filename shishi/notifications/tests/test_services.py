"""Notifications are kinds with parameters, read in the reader's language; they name their item
and close when what they ask for is done."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import translation

from shishi.commitments import notices, services
from shishi.commitments.models import Adjustment
from shishi.notifications.models import Notification
from shishi.notifications.notices import TEXT
from shishi.notifications.services import handled, notify, render, waiting

pytestmark = pytest.mark.django_db

URL = reverse("notifications:list")


@pytest.fixture
def published(tree, users):
    admin = users["county_admin"]
    programme = services.create_programme(
        admin, county=tree["county"], year=2026, title="2026年民生实事"
    )
    services.add_commitment(
        admin,
        programme,
        {
            "title": "新建公办幼儿园",
            "category": "old-young",
            "responsible_unit": tree["dept"],
            "start_date": "2026-01-01",
            "deadline": "2026-12-31",
        },
    )
    return services.publish_programme(admin, programme)


def test_a_notification_sent_in_chinese_reads_in_english_to_an_english_reader(
    published, users, client_for
):
    with translation.override("zh-hans"):
        services.submit_progress(
            users["unit_officer"],
            published.commitments.get(),
            text="已开工",
            percent_complete=20,
        )
    note = Notification.objects.get(user=users["county_admin"])
    assert note.kind == notices.REPORT_SUBMITTED
    assert note.params == {"n": 1, "title": "新建公办幼儿园"}
    with translation.override("zh-hans"):
        chinese = render(note)
    with translation.override("en"):
        english = render(note)
    assert english == "Progress on commitment 1 to review: 新建公办幼儿园"
    assert chinese != english and "新建公办幼儿园" in chinese
    client = client_for(users["county_admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert english in client.get(URL).text


def test_a_notification_names_the_item_it_is_about(published, users):
    report = services.submit_progress(
        users["unit_officer"], published.commitments.get(), text="已开工", percent_complete=20
    )
    note = Notification.objects.get(user=users["county_admin"])
    assert (note.target_type, note.target_id) == ("commitments.progressreport", str(report.pk))
    assert note.county_id == published.county_id
    assert note.url == reverse("commitments:review", args=[report.pk])


def test_an_approval_request_is_handled_once_the_adjustment_is_decided(
    published, users, client_for
):
    adjustment = services.propose_adjustment(
        users["unit_officer"],
        published,
        kind=Adjustment.Kind.DEFER,
        commitments=[published.commitments.get()],
        payload={"deadline": "2027-03-31"},
        reason="资金未到位",
    )
    request = Notification.objects.get(user=users["county_admin"])
    assert request.kind == notices.ADJUSTMENT_PROPOSED
    assert waiting(users["county_admin"]).count() == 1
    with translation.override("en"):
        assert render(request) == "An adjustment to approve: defer to a new deadline (No. 1)"
    services.decide_adjustment(users["county_admin"], adjustment, approve=True)
    request.refresh_from_db()
    assert request.handled_at is not None and request.read_at is None
    assert waiting(users["county_admin"]).count() == 0
    client = client_for(users["county_admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(URL).text
    assert "An adjustment to approve" in page and ">done</span>" in page
    assert ">Notifications</a>" in page and "new)</a>" not in page
    # The proposer hears of the decision, which waits for them.
    decided = Notification.objects.get(user=users["unit_officer"])
    assert decided.kind == notices.ADJUSTMENT_DECIDED and decided.handled_at is None
    with translation.override("en"):
        assert render(decided) == (
            "Your adjustment (defer to a new deadline (No. 1)) is now: approved and applied"
        )


def test_a_withdrawn_proposal_stops_asking_for_approval(published, users):
    adjustment = services.propose_adjustment(
        users["unit_officer"],
        published,
        kind=Adjustment.Kind.CANCEL,
        commitments=[published.commitments.get()],
        payload={},
        reason="重复",
    )
    services.withdraw_adjustment(users["unit_officer"], adjustment)
    assert not waiting(users["county_admin"]).exists()


def test_handled_closes_only_the_kinds_named_about_the_item_named(published, users):
    programme = published
    one = notify(users["cadre"], TEXT, {"text": "一"}, about=programme)
    two = notify(users["cadre"], TEXT, {"text": "二"}, about=programme.county)
    assert handled(programme, [notices.REPORT_SUBMITTED]) == 0
    assert handled(programme, [TEXT]) == 1
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.handled_at is not None and two.handled_at is None


def test_an_unknown_kind_is_refused(users):
    with pytest.raises(ValueError, match="unknown notice kind"):
        notify(users["cadre"], "commitments.nonsense", {})


def test_a_key_already_sent_sends_nothing(users):
    assert notify(users["cadre"], TEXT, {"text": "一"}, key="k1") is not None
    assert notify(users["cadre"], TEXT, {"text": "一"}, key="k1") is None
    assert Notification.objects.filter(user=users["cadre"]).count() == 1


def test_a_notice_whose_text_lost_a_parameter_still_renders(users):
    note = notify(users["cadre"], notices.REPORT_ACCEPTED, {})
    with translation.override("en"):
        assert render(note) == "Your progress report on commitment"


def test_mail_carries_the_same_text_after_the_change_commits(
    users, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = users["cadre"]
    user.email = "cadre@example.org"
    user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        note = notify(user, TEXT, {"text": "请于周五前上报"}, url="/work/")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body == f"{render(note)}\n\n/work/"


def test_an_inactive_login_is_not_notified(users):
    user = users["cadre"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert notify(user, TEXT, {"text": "一"}) is None


def test_a_notification_dated_in_the_past_is_history(published, users):
    past = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
    services.submit_progress(
        None, published.commitments.get(), text="补录", percent_complete=10, at=past
    )
    assert not Notification.objects.exists()
