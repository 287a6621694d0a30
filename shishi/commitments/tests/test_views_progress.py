"""The unit reports progress with evidence, the county office reviews it; the workspace lists
what is due soon, overdue and waiting; evidence is served only within scope."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shishi.audit.models import Entry
from shishi.commitments import services
from shishi.commitments.lights import COMMITMENT
from shishi.commitments.models import Adjustment, Evidence, ProgressReport, Status
from shishi.notifications.models import Notification
from shishi.notifications.services import render
from shishi.orgs import services as org_services
from shishi.orgs.models import RoleKind
from shishi.workdays import services as workdays

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, mid-morning in the county. No holidays are loaded in these tests.
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()
HOME = reverse("commitments:home")


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def isolated(settings, tmp_path):
    """Evidence goes to a temporary folder; the cached calendar starts empty and ends empty."""
    settings.MEDIA_ROOT = tmp_path / "media"
    workdays.set_policy(None, COMMITMENT, counting="workdays", due_soon=3)
    yield


@pytest.fixture
def programme(tree):
    return services.create_programme(None, county=tree["county"], year=2026, title="2026年民生实事")


def add(programme, unit, title="新增高中学位", deadline=dt.date(2026, 10, 31), targets=1):
    return services.add_commitment(
        None,
        programme,
        {
            "title": title,
            "responsible_unit": unit.code,
            "category": "education",
            "start_date": dt.date(2026, 1, 1),
            "deadline": deadline,
            "targets": [
                {"name": f"学位{i}", "unit": "个", "target_value": 535, "actual_value": 100}
                for i in range(targets)
            ],
        },
    )


@pytest.fixture
def commitment(programme, tree):
    c = add(programme, tree["dept"])
    services.publish_programme(None, programme)
    return c


def jpeg(name="site.jpg", size=(64, 48)) -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def pdf(name="acceptance.pdf") -> SimpleUploadedFile:
    data = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def report_url(c):
    return reverse("commitments:report", args=[c.pk])


def review_url(report):
    return reverse("commitments:review", args=[report.pk])


def submit(user, c, **kwargs):
    data = {"text": "完成主体工程", "percent_complete": 40, **kwargs}
    return services.submit_progress(user, c, **data)


def nothing_written(before: int) -> None:
    assert not ProgressReport.objects.exists()
    assert not Evidence.objects.exists()
    assert Entry.objects.count() == before


# --- the progress form ---------------------------------------------------------------------------


def test_the_form_is_made_for_a_phone_camera_and_says_the_size_limit(users, commitment, client_for):
    response = english(client_for(users["unit_officer"])).get(report_url(commitment))
    assert response.status_code == 200
    html = response.text
    assert 'enctype="multipart/form-data"' in html
    tag = html[html.index('<input type="file"') :].split(">", 1)[0]
    for attr in ['name="files"', "multiple", 'accept="image/*,.heic,.heif,application/pdf"']:
        assert attr in tag
    assert 'capture="environment"' in tag
    assert "at most 10 MB each" in html
    assert 'type="number"' in html and 'max="100"' in html
    target = commitment.targets.get()
    assert f'name="target_{target.pk}"' in html
    assert '<label for="id_files">' in html


def test_the_officer_reports_progress_with_a_photo(users, commitment, client_for):
    client = english(client_for(users["unit_officer"]))
    target = commitment.targets.get()
    response = client.post(
        report_url(commitment),
        {
            "text": "主体完工",
            "percent_complete": "60",
            f"target_{target.pk}": "300",
            "files": [jpeg()],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("commitments:commitment", args=[commitment.pk])
    report = ProgressReport.objects.get()
    assert (report.state, report.percent_complete, report.submitted_by) == (
        ProgressReport.State.SUBMITTED,
        60,
        users["unit_officer"],
    )
    assert report.target_values == {str(target.pk): "300.00"}
    evidence = report.evidence.get()
    assert evidence.content_type == Evidence.Kind.JPEG
    assert evidence.original_name == "site.jpg"
    assert evidence.file.storage.exists(evidence.file.name)
    page = client.get(response["Location"])
    assert "Progress reported. The county office will review it." in page.text
    # Nothing public changes before review.
    commitment.refresh_from_db()
    assert commitment.percent_complete == 0


def test_a_report_can_carry_several_photos_and_a_pdf(users, commitment, client_for):
    client = client_for(users["unit_officer"])
    response = client.post(
        report_url(commitment),
        {
            "text": "验收",
            "percent_complete": "100",
            "delivered": "on",
            "files": [jpeg("a.jpg"), jpeg("b.jpg"), pdf()],
        },
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert report.mark_delivered
    kinds = sorted(report.evidence.values_list("content_type", flat=True))
    assert kinds == ["application/pdf", "image/jpeg", "image/jpeg"]
    assert not report.evidence.get(content_type="application/pdf").is_public


def test_a_text_file_named_jpg_is_refused_by_its_content(users, commitment, client_for):
    client = english(client_for(users["unit_officer"]))
    before = Entry.objects.count()
    fake = SimpleUploadedFile("site.jpg", b"just some text, not a photo", content_type="image/jpeg")
    response = client.post(
        report_url(commitment), {"text": "主体完工", "percent_complete": "60", "files": [fake]}
    )
    assert response.status_code == 200
    assert "site.jpg is not a photo (JPEG, PNG, WebP, HEIC) or a PDF." in response.text
    assert "choose the files again" in response.text
    nothing_written(before)
    assert not Notification.objects.exists()


def test_an_oversize_file_is_refused(users, commitment, client_for, settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    client = english(client_for(users["unit_officer"]))
    before = Entry.objects.count()
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * (1024 * 1024), "image/jpeg")
    response = client.post(
        report_url(commitment), {"text": "主体完工", "percent_complete": "60", "files": [big]}
    )
    assert response.status_code == 200
    assert "big.jpg is larger than 1 MB." in response.text
    assert "at most 1 MB each" in response.text
    nothing_written(before)


def test_an_empty_file_is_refused(users, commitment, client_for):
    client = english(client_for(users["unit_officer"]))
    before = Entry.objects.count()
    empty = SimpleUploadedFile("empty.jpg", b"", "image/jpeg")
    response = client.post(
        report_url(commitment), {"text": "主体完工", "percent_complete": "60", "files": [empty]}
    )
    assert "empty.jpg is empty." in response.text
    nothing_written(before)


@pytest.mark.parametrize(
    ("value", "message"),
    [("-5", "-5 is negative; amounts and targets cannot be."), ("many", "many is not a number.")],
)
def test_a_negative_or_non_numeric_target_value_is_refused(
    users, commitment, client_for, value, message
):
    client = english(client_for(users["unit_officer"]))
    before = Entry.objects.count()
    target = commitment.targets.get()
    response = client.post(
        report_url(commitment),
        {"text": "主体完工", "percent_complete": "60", f"target_{target.pk}": value},
    )
    assert response.status_code == 200
    field = response.context["form"][f"target_{target.pk}"]
    assert field.errors == [message]
    assert message in response.text
    nothing_written(before)


@pytest.mark.parametrize("percent", ["101", "-1", "half"])
def test_a_percentage_outside_0_to_100_is_refused(users, commitment, client_for, percent):
    before = Entry.objects.count()
    response = client_for(users["unit_officer"]).post(
        report_url(commitment), {"text": "主体完工", "percent_complete": percent}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["percent_complete"]
    nothing_written(before)


def test_a_report_without_text_is_refused(users, commitment, client_for):
    before = Entry.objects.count()
    response = client_for(users["unit_officer"]).post(
        report_url(commitment), {"text": "", "percent_complete": "10"}
    )
    assert response.context["form"].errors["text"]
    nothing_written(before)


def test_the_west_town_admin_cannot_open_the_report_page(users, commitment, client_for):
    client = client_for(users["west_admin"])
    assert client.get(report_url(commitment)).status_code == 404
    response = client.post(report_url(commitment), {"text": "x", "percent_complete": "10"})
    assert response.status_code == 404
    assert not ProgressReport.objects.exists()
    assert Entry.objects.filter(action="access.denied").count() == 2


def test_an_auditor_sees_the_commitment_but_cannot_report(users, commitment, client_for):
    client = client_for(users["auditor"])
    assert client.get(reverse("commitments:commitment", args=[commitment.pk])).status_code == 200
    assert client.get(report_url(commitment)).status_code == 404


def test_submitting_notifies_the_county_admins(users, commitment, client_for):
    client_for(users["unit_officer"]).post(
        report_url(commitment), {"text": "主体完工", "percent_complete": "60"}
    )
    report = ProgressReport.objects.get()
    note = Notification.objects.get(user=users["county_admin"])
    assert note.kind == "commitments.report_submitted"
    assert note.url == reverse("commitments:review", args=[report.pk])
    assert not Notification.objects.filter(user=users["unit_officer"]).exists()


def test_the_reviewer_finds_the_report_in_notifications_and_marks_it_read(
    users, commitment, client_for
):
    report = submit(users["unit_officer"], commitment)
    client = english(client_for(users["county_admin"]))
    page = client.get(reverse("notifications:list"))
    assert f'href="{review_url(report)}"' in page.text
    assert "Progress on commitment 1 to review: 新增高中学位" in page.text
    client.post(reverse("notifications:list"))
    assert "Notifications (" not in client.get(HOME).text
    assert Notification.objects.get(user=users["county_admin"]).read_at is not None


# --- review --------------------------------------------------------------------------------------


def test_the_reviewer_sees_text_figures_target_changes_and_evidence(users, commitment, client_for):
    target = commitment.targets.get()
    report = submit(
        users["unit_officer"],
        commitment,
        target_values={target.pk: "300"},
        files=[jpeg(), pdf()],
    )
    response = english(client_for(users["county_admin"])).get(review_url(report))
    assert response.status_code == 200
    html = response.text
    assert "完成主体工程" in html and "0% → 40%" in html
    assert response.context["changes"] == [(target, "300.00")]
    assert "100 个" in html and "<strong>300 个</strong>" in html
    document, photo = report.evidence.order_by("content_type")
    assert f'href="{reverse("commitments:evidence", args=[document.pk])}"' in html
    assert f'src="{reverse("commitments:evidence_thumbnail", args=[photo.pk])}"' in html
    assert f'href="{reverse("commitments:evidence", args=[photo.pk])}"' in html
    assert "测试unit_officer" in html
    assert 'value="accept"' in html and 'value="return"' in html


def test_the_reviewer_accepts_and_the_figures_change(users, commitment, client_for):
    target = commitment.targets.get()
    report = submit(users["unit_officer"], commitment, target_values={target.pk: "300"})
    client = english(client_for(users["county_admin"]))
    response = client.post(review_url(report), {"decision": "accept", "reason": ""})
    assert response.status_code == 302
    assert response["Location"] == HOME
    report.refresh_from_db()
    commitment.refresh_from_db()
    target.refresh_from_db()
    assert report.state == ProgressReport.State.ACCEPTED
    assert report.reviewed_by == users["county_admin"]
    assert commitment.percent_complete == 40
    assert commitment.status == Status.IN_PROGRESS
    assert target.actual_value == 300
    assert "Report accepted" in client.get(HOME).text
    note = Notification.objects.get(user=users["unit_officer"])
    assert note.kind == "commitments.report_accepted"


def test_returning_without_a_reason_is_refused_with_a_message(users, commitment, client_for):
    report = submit(users["unit_officer"], commitment)
    before = Entry.objects.count()
    response = english(client_for(users["county_admin"])).post(
        review_url(report), {"decision": "return", "reason": "  "}
    )
    assert response.status_code == 200
    assert "Say why the report is returned." in response.text
    report.refresh_from_db()
    assert report.state == ProgressReport.State.SUBMITTED
    assert report.reviewed_by is None
    assert Entry.objects.count() == before
    assert not Notification.objects.filter(user=users["unit_officer"]).exists()


def test_returning_with_a_reason_tells_the_author(users, commitment, client_for):
    report = submit(users["unit_officer"], commitment)
    response = client_for(users["county_admin"]).post(
        review_url(report), {"decision": "return", "reason": "照片看不清"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.return_reason) == (ProgressReport.State.RETURNED, "照片看不清")
    commitment.refresh_from_db()
    assert commitment.percent_complete == 0
    note = Notification.objects.get(user=users["unit_officer"])
    assert note.kind == "commitments.report_returned" and "照片看不清" in render(note)


def test_accepting_twice_says_the_report_was_already_reviewed(users, commitment, client_for):
    report = submit(users["unit_officer"], commitment)
    client = english(client_for(users["county_admin"]))
    client.post(review_url(report), {"decision": "accept"})
    before = Entry.objects.count()
    response = client.post(review_url(report), {"decision": "accept"})
    assert response.status_code == 200
    assert "This report has already been reviewed." in response.text
    assert 'value="accept"' not in response.text
    assert Entry.objects.count() == before


def test_a_reviewed_report_shows_its_outcome_and_no_buttons(users, commitment, client_for):
    report = submit(users["unit_officer"], commitment)
    services.review_progress(users["county_admin"], report, accept=False, reason="缺少照片")
    response = english(client_for(users["county_admin"])).get(review_url(report))
    assert "Returned" in response.text and "Reason: 缺少照片" in response.text
    assert 'name="decision"' not in response.text


def test_the_author_cannot_review_their_own_report(users, commitment, client_for):
    report = submit(users["county_admin"], commitment)
    client = english(client_for(users["county_admin"]))
    page = client.get(review_url(report))
    assert "You wrote this report" in page.text
    assert 'value="accept"' not in page.text
    response = client.post(review_url(report), {"decision": "accept"})
    assert response.status_code == 200
    assert "A report is reviewed by someone other than its author." in response.text
    report.refresh_from_db()
    assert report.state == ProgressReport.State.SUBMITTED


@pytest.mark.parametrize("role", ["unit_officer", "auditor", "west_admin"])
def test_only_a_reviewer_opens_the_review_page(users, commitment, client_for, role):
    report = submit(users["unit_officer"], commitment)
    client = client_for(users[role])
    assert client.get(review_url(report)).status_code == 404
    assert client.post(review_url(report), {"decision": "accept"}).status_code == 404
    report.refresh_from_db()
    assert report.state == ProgressReport.State.SUBMITTED


# --- the commitment page -------------------------------------------------------------------------


def detail_url(c):
    return reverse("commitments:commitment", args=[c.pk])


def test_the_commitment_page_shows_every_report_with_its_author_and_evidence(
    users, commitment, client_for
):
    accepted = submit(users["unit_officer"], commitment, files=[jpeg()])
    services.review_progress(users["county_admin"], accepted, accept=True)
    returned = submit(users["unit_officer"], commitment, text="第二次")
    services.review_progress(users["county_admin"], returned, accept=False, reason="太简略")
    submit(users["unit_officer"], commitment, text="第三次")
    response = english(client_for(users["county_admin"])).get(detail_url(commitment))
    assert response.status_code == 200
    html = response.text
    assert html.count("测试unit_officer") == 3
    assert "Returned: 太简略" in html and "awaiting review" in html and "accepted" in html
    photo = accepted.evidence.get()
    assert f'src="{reverse("commitments:evidence_thumbnail", args=[photo.pk])}"' in html
    assert f'href="{report_url(commitment)}"' in html
    for kind in ["change", "defer", "cancel", "split"]:
        url = reverse("commitments:adjustment_new", args=[commitment.programme_id, kind])
        assert f'href="{url}?commitment={commitment.pk}"' in html
    assert reverse("commitments:accept_delivery", args=[commitment.pk]) not in html
    assert "on track" in html
    assert "<dd>Education</dd>" in html


def test_accept_delivery_is_offered_to_the_reviewer_once_delivered(users, commitment, client_for):
    report = submit(users["unit_officer"], commitment, percent_complete=100, delivered=True)
    services.review_progress(users["county_admin"], report, accept=True)
    accept_url = reverse("commitments:accept_delivery", args=[commitment.pk])
    html = english(client_for(users["county_admin"])).get(detail_url(commitment)).text
    assert f'action="{accept_url}"' in html
    assert "done on time" in html
    html = client_for(users["unit_officer"]).get(detail_url(commitment)).text
    assert accept_url not in html


def test_a_reader_sees_the_page_without_actions(users, commitment, client_for):
    html = client_for(users["auditor"]).get(detail_url(commitment)).text
    assert report_url(commitment) not in html
    assert "/adjust/" not in html


@pytest.mark.parametrize("role", ["west_admin", "cadre"])
def test_the_commitment_page_is_not_found_outside_the_scope(users, commitment, client_for, role):
    assert client_for(users[role]).get(detail_url(commitment)).status_code == 404


# --- evidence ------------------------------------------------------------------------------------


def test_evidence_is_served_to_those_who_may_see_the_commitment(users, commitment, client_for):
    report = submit(users["unit_officer"], commitment, files=[jpeg()])
    services.review_progress(users["county_admin"], report, accept=False, reason="重拍")
    photo = report.evidence.get()
    url = reverse("commitments:evidence", args=[photo.pk])
    for role in ["unit_officer", "auditor", "county_admin"]:
        response = client_for(users[role]).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")


def test_evidence_is_not_found_outside_the_scope(users, commitment, client_for):
    photo = submit(users["unit_officer"], commitment, files=[jpeg()]).evidence.get()
    url = reverse("commitments:evidence", args=[photo.pk])
    assert client_for(users["west_admin"]).get(url).status_code == 404
    assert client_for(users["sysadmin"]).get(url).status_code == 404


def test_evidence_asks_for_sign_in(users, commitment, client):
    photo = submit(users["unit_officer"], commitment, files=[jpeg()]).evidence.get()
    response = client.get(reverse("commitments:evidence", args=[photo.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- the workspace of commitments ----------------------------------------------------------------


def test_the_home_lists_due_soon_and_overdue_by_unit(users, programme, tree, client_for):
    # Three working days (the setting above) after Monday 2 March: Tue, Wed, Thu.
    overdue = add(programme, tree["dept"], "逾期", deadline=dt.date(2026, 2, 27))
    soon = add(programme, tree["dept"], "临期", deadline=dt.date(2026, 3, 5))
    add(programme, tree["dept"], "正常", deadline=dt.date(2026, 3, 6))
    east = add(programme, tree["east"], "东镇临期", deadline=TODAY)
    done = add(programme, tree["dept"], "已完成", deadline=dt.date(2026, 2, 27))
    services.publish_programme(None, programme)
    report = submit(users["unit_officer"], done, percent_complete=100, delivered=True)
    services.review_progress(users["county_admin"], report, accept=True)
    response = english(client_for(users["county_admin"])).get(HOME)
    assert response.status_code == 200
    ctx = response.context
    assert [c.pk for c in ctx["overdue"]] == [overdue.pk]
    assert {c.pk for c in ctx["due_soon"]} == {soon.pk, east.pk}
    assert (ctx["overdue_count"], ctx["due_soon_count"]) == (1, 2)
    rows = {r["responsible_unit__name"]: (r["overdue"], r["due_soon"]) for r in ctx["by_unit"]}
    assert rows == {"测试县教育局": (1, 1), "东镇": (0, 1)}
    assert all(c.light == "due_soon" for c in ctx["due_soon"])
    assert "Overdue and due soon, by unit" in response.text


def test_the_due_soon_list_follows_the_calendar(users, programme, tree, client_for):
    thursday = add(programme, tree["dept"], "周四到期", deadline=dt.date(2026, 3, 5))
    friday = add(programme, tree["dept"], "周五到期", deadline=dt.date(2026, 3, 6))
    services.publish_programme(None, programme)
    client = client_for(users["county_admin"])
    assert [c.pk for c in client.get(HOME).context["due_soon"]] == [thursday.pk]
    # Tuesday and Wednesday off: Friday is now two working days away, within the three.
    for day in (3, 4):
        workdays.set_day(None, dt.date(2026, 3, day), is_workday=False)
    due = [c.pk for c in client.get(HOME).context["due_soon"]]
    assert due == [thursday.pk, friday.pk]


def test_the_officer_sees_their_units_commitments_and_no_review_queue(
    users, programme, tree, client_for
):
    mine = add(programme, tree["dept"], "教育局的")
    add(programme, tree["west"], "西镇的")
    services.publish_programme(None, programme)
    response = client_for(users["unit_officer"]).get(HOME)
    assert [c.pk for c in response.context["mine"]] == [mine.pk]
    assert "to_review" not in response.context
    assert f'href="{report_url(mine)}"' in response.text


def test_the_reviewer_sees_reports_awaiting_review_but_not_their_own(users, commitment, client_for):
    theirs = submit(users["unit_officer"], commitment)
    submit(users["county_admin"], commitment)
    done = submit(users["unit_officer"], commitment)
    services.review_progress(users["county_admin"], done, accept=True)
    response = client_for(users["county_admin"]).get(HOME)
    assert [r.pk for r in response.context["to_review"]] == [theirs.pk]
    assert response.context["review_count"] == 1
    assert f'href="{review_url(theirs)}"' in response.text


def make_leader(tree):
    person = org_services.create_person(None, org=tree["county"], name="测试县长")
    user = org_services.create_login(None, person, username="leader", password="Correct-horse-42")
    org_services.grant_role(None, user, tree["county"], RoleKind.LEADER)
    return user


def test_adjustments_awaiting_approval_at_each_level(users, commitment, tree, client_for):
    programme = commitment.programme
    programme.approval_levels = 2
    programme.save(update_fields=["approval_levels"])
    leader = make_leader(tree)
    adjustment = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind=Adjustment.Kind.DEFER,
        commitments=[commitment],
        payload={"deadline": "2026-12-31"},
        reason="资金未到位",
    )
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    admin_home = client_for(users["county_admin"]).get(HOME)
    assert [a.pk for a in admin_home.context["to_approve"]] == [adjustment.pk]
    assert f'href="{url}"' in admin_home.text
    assert client_for(leader).get(HOME).context["to_approve"] == []
    services.decide_adjustment(users["county_admin"], adjustment, approve=True)
    assert client_for(users["county_admin"]).get(HOME).context["to_approve"] == []
    assert [a.pk for a in client_for(leader).get(HOME).context["to_approve"]] == [adjustment.pk]
    officer_home = client_for(users["unit_officer"]).get(HOME)
    assert "to_approve" not in officer_home.context


@pytest.mark.parametrize("role", ["sysadmin", "nobody"])
def test_the_home_is_forbidden_without_a_view_of_commitments(users, client_for, role):
    assert client_for(users[role]).get(HOME).status_code == 403


def test_the_navigation_offers_commitments_to_those_who_see_them(users, client_for):
    link = f'href="{HOME}"'
    assert link in client_for(users["cadre"]).get(reverse("workspace:home")).text
    assert link not in client_for(users["sysadmin"]).get(reverse("workspace:home")).text


# --- fixed query counts --------------------------------------------------------------------------


def grow(programme, tree, users, n):
    """``n`` more commitments on the published list, each with a submitted report and a photo,
    all due soon or overdue, so every list on every page grows."""
    made = []
    for i in range(n):
        adjustment = services.propose_adjustment(
            None,
            programme,
            kind=Adjustment.Kind.ADD,
            commitments=[],
            payload={
                "commitment": {
                    "title": f"项目{i}",
                    "responsible_unit": tree["dept" if i % 2 else "east"].code,
                    "category": "education",
                    "start_date": "2026-01-01",
                    "deadline": "2026-02-27" if i % 3 else "2026-03-04",
                    "targets": [{"name": "学位", "unit": "个", "target_value": 10}],
                }
            },
            reason="新增",
        )
        services.decide_adjustment(None, adjustment, approve=True)
        made.append(adjustment.results.get())
        submit(None, made[-1], files=[jpeg()])
        services.propose_adjustment(
            None,
            programme,
            kind=Adjustment.Kind.CANCEL,
            commitments=[made[-1]],
            payload={},
            reason="取消",
        )
    return made


def counts_at_two_sizes(ceiling, more, fetch, assert_max):
    """The page's queries after ``more(2)`` and again after ``more(10)``: the same, at most
    ``ceiling``."""
    counts = []
    for n in (2, 10):
        more(n)
        fetch()  # the calendar is kept per process: warm it, then a request checks its version
        with assert_max(ceiling) as ctx:
            response = fetch()
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    return response


def test_the_home_costs_the_same_queries_at_two_sizes(
    users, commitment, tree, client_for, django_assert_max_num_queries
):
    client = client_for(users["county_admin"])
    # Fourteen for the page, one for the calendar's version (the lights).
    response = counts_at_two_sizes(
        15,
        lambda n: grow(commitment.programme, tree, users, n),
        lambda: client.get(HOME),
        django_assert_max_num_queries,
    )
    assert response.context["review_count"] == 12
    assert response.context["approve_count"] == 12
    assert response.context["overdue_count"] + response.context["due_soon_count"] == 12


def test_the_commitment_page_costs_the_same_queries_at_two_sizes(
    users, commitment, client_for, django_assert_max_num_queries
):
    def more(n):
        for i in range(n):
            submit(users["unit_officer"], commitment, files=[jpeg(), jpeg(f"{i}.jpg")])

    client = client_for(users["county_admin"])
    # Twelve for the page, one for the calendar's version (the light).
    response = counts_at_two_sizes(
        13, more, lambda: client.get(detail_url(commitment)), django_assert_max_num_queries
    )
    assert response.context["reports"].paginator.count == 12


def test_the_review_page_costs_the_same_queries_at_two_sizes(
    users, commitment, client_for, django_assert_max_num_queries
):
    reports = []

    def more(n):
        photos = [jpeg(f"{i}.jpg") for i in range(n)]
        reports.append(submit(users["unit_officer"], commitment, files=photos))

    client = client_for(users["county_admin"])
    response = counts_at_two_sizes(
        9, more, lambda: client.get(review_url(reports[-1])), django_assert_max_num_queries
    )
    assert len(response.context["photos"]) == 10


def test_the_report_page_costs_the_same_queries_at_two_sizes(
    users, programme, tree, client_for, django_assert_max_num_queries
):
    small = add(programme, tree["dept"], "两个指标", targets=2)
    large = add(programme, tree["dept"], "十个指标", targets=10)
    services.publish_programme(None, programme)
    client = client_for(users["unit_officer"])
    counts = []
    for c in (small, large):
        url = report_url(c)
        client.get(url)
        # Seven for the page, one for the calendar's version (the light).
        with django_assert_max_num_queries(8) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
