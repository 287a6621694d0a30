"""Commitments in Chromium: progress from a phone to the public page, and an adjustment from its
proposal to the public change log."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, expect

from shishi.commitments import services
from shishi.commitments.models import Adjustment, ProgressReport, Status
from shishi.orgs.demo import DEMO_PASSWORD
from shishi.orgs.models import Org, OrgKind, Person

from .support import DESKTOP, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def listing(demo):
    """A published programme of the demo county with one commitment of the education bureau,
    where the demo ``unit_officer`` works."""
    today = timezone.localdate()
    unit = Org.objects.get(county=demo.county, kind=OrgKind.DEPARTMENT, short_name="县教育局")
    programme = services.create_programme(
        None, county=demo.county, year=today.year, title=f"{today.year}年为民办实事项目清单"
    )
    commitment = services.add_commitment(
        None,
        programme,
        {
            "title": "新增高中学位",
            "category": "education",
            "responsible_unit": unit.code,
            "start_date": today - dt.timedelta(days=60),
            "deadline": today + dt.timedelta(days=90),
            "targets": [{"name": "新增高中学位", "unit": "个", "target_value": "535"}],
        },
    )
    services.publish_programme(None, programme)
    return programme, commitment


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_unit_officer_reports_from_a_phone_and_the_public_sees_it_once_accepted(
    browser: Browser, phone, live_server, listing
):
    programme, commitment = listing
    base = live_server.url
    target = commitment.targets.get()

    # On site, on a phone: the unit officer reports progress with a photo.
    sign_in(phone, base, "unit_officer", DEMO_PASSWORD)
    phone.goto(f"{base}/work/commitments/{commitment.pk}/report/")
    phone.locator("textarea[name=text]").fill("教学楼主体完工，新增学位 300 个。")
    phone.locator("input[name=percent_complete]").fill("60")
    phone.locator(f"input[name=target_{target.pk}]").fill("300")
    phone.locator("input[type=file][name=files]").set_input_files(
        files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    phone.locator("main form button[type=submit]").click()
    expect(phone).to_have_url(f"{base}/work/commitments/{commitment.pk}/")
    report = ProgressReport.objects.get(commitment=commitment)
    assert report.state == ProgressReport.State.SUBMITTED
    assert report.evidence.count() == 1

    # Not public before review.
    public = browser.new_context(**DESKTOP).new_page()
    public.goto(f"{base}/commitments/{programme.pk}/{commitment.number}/")
    expect(public.locator("main")).not_to_contain_text("教学楼主体完工")

    # The county office reviews at a desktop and accepts.
    office = browser.new_context(**DESKTOP).new_page()
    sign_in(office, base, "county_admin", DEMO_PASSWORD)
    office.goto(f"{base}/work/commitments/")
    office.locator(f"a[href='/work/commitments/reports/{report.pk}/']").first.click()
    expect(office.locator("main")).to_contain_text("教学楼主体完工")
    office.locator("button[name=decision][value=accept]").click()
    expect(office.locator(".messages")).to_be_visible()
    report.refresh_from_db()
    assert report.state == ProgressReport.State.ACCEPTED

    # The public page shows the progress, the new figure and the photo.
    public.goto(f"{base}/commitments/{programme.pk}/{commitment.number}/")
    main = public.locator("main")
    expect(main).to_contain_text("教学楼主体完工")
    expect(main).to_contain_text("300")
    photo = public.locator("main img").first
    expect(photo).to_be_visible()
    # The page loads a 96-pixel thumbnail; the 640-pixel photo only when the visitor follows it.
    evidence = report.evidence.get()
    assert photo.get_attribute("src") == f"/evidence/{evidence.pk}/thumbnail/"
    photo.scroll_into_view_if_needed()
    public.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    assert photo.evaluate("img => img.naturalWidth") == 96
    response = public.request.get(base + photo.get_attribute("src"))
    assert response.status == 200
    assert response.headers["content-type"] == "image/jpeg"
    link = photo.locator("xpath=..")
    assert link.get_attribute("href") == f"/evidence/{evidence.pk}/"
    full = public.request.get(base + link.get_attribute("href"))
    assert Image.open(io.BytesIO(full.body())).size == (640, 480)
    # No personal data: neither the officer's nor the reviewer's name.
    for person in Person.objects.filter(user__username__in=["unit_officer", "county_admin"]):
        expect(main).not_to_contain_text(person.name)


def test_a_deferral_goes_from_proposal_to_the_public_change_log(
    browser: Browser, phone, live_server, listing
):
    programme, commitment = listing
    base = live_server.url
    new_deadline = commitment.deadline + dt.timedelta(days=120)

    # The unit officer proposes to defer, with a reason.
    sign_in(phone, base, "unit_officer", DEMO_PASSWORD)
    phone.goto(
        f"{base}/work/commitments/programmes/{programme.pk}/adjust/defer/"
        f"?commitment={commitment.pk}"
    )
    phone.locator("input[name=deadline]").fill(new_deadline.isoformat())
    phone.locator("textarea[name=reason]").fill("用地手续延后，主体工程顺延")
    phone.locator("main form button[type=submit]").click()
    adjustment = Adjustment.objects.get(programme=programme)
    assert adjustment.state == Adjustment.State.PROPOSED

    # Nothing public yet.
    public = browser.new_context(**DESKTOP).new_page()
    public.goto(f"{base}/commitments/{programme.pk}/changes/")
    expect(public.locator("main")).not_to_contain_text("用地手续延后")

    # The county office approves with a note.
    office = browser.new_context(**DESKTOP).new_page()
    sign_in(office, base, "county_admin", DEMO_PASSWORD)
    office.goto(f"{base}/work/commitments/adjustments/{adjustment.pk}/")
    office.locator("textarea[name=note]").fill("同意延期")
    office.locator("button[name=action][value=approve]").click()
    expect(office.locator(".messages")).to_be_visible()
    commitment.refresh_from_db()
    assert (commitment.status, commitment.deadline) == (Status.DEFERRED, new_deadline)

    # The public change log shows what changed, why and when, the same minute.
    public.goto(f"{base}/commitments/{programme.pk}/changes/")
    main = public.locator("main")
    expect(main).to_contain_text("用地手续延后，主体工程顺延")
    expect(main).to_contain_text(new_deadline.isoformat())
    expect(main).to_contain_text("新增高中学位")
