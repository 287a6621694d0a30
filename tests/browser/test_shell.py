"""The workspace shell in Chromium: the home page's panels from each mechanism, a notification
followed from a phone to the thing it asks for and closed when done, and the shared pages (the
notifications, the calendar and its deadline policies, API tokens) on a phone without sideways
scrolling, in Chinese and in English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from shishi.commitments import services
from shishi.commitments.models import Adjustment
from shishi.orgs.demo import DEMO_PASSWORD
from shishi.orgs.models import Org, OrgKind, User

from .support import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def listing(demo):
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
        },
    )
    services.publish_programme(None, programme)
    return programme, commitment


def no_sideways_scrolling(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px window"


def english(page: Page) -> None:
    page.locator("form.lang button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_an_approval_request_is_followed_from_the_phone_and_closes_when_decided(
    phone, live_server, listing
):
    programme, commitment = listing
    base = live_server.url
    officer = User.objects.get(username="unit_officer")
    adjustment = services.propose_adjustment(
        officer,
        programme,
        kind=Adjustment.Kind.DEFER,
        commitments=[commitment],
        payload={"deadline": (commitment.deadline + dt.timedelta(days=60)).isoformat()},
        reason="用地手续延后",
    )

    # The county office, on a phone: the home page says what waits, the bell counts one.
    sign_in(phone, base, "county_admin", DEMO_PASSWORD)
    phone.goto(f"{base}/work/")
    panel = phone.locator("section.panel").first
    expect(panel).to_contain_text("项动态调整待审批")
    bell = phone.get_by_role("navigation").get_by_role("link", name="通知（1 条新）")
    expect(bell).to_be_visible()
    no_sideways_scrolling(phone)

    # The notification, written when a Chinese reader was not even there, reads in English too.
    bell.click()
    expect(phone.locator("main")).to_contain_text("有一项动态调整待审批")
    no_sideways_scrolling(phone)
    english(phone)
    request = phone.locator("main ul.rows li").first
    expect(request).to_contain_text("An adjustment to approve: defer to a new deadline (No. 1)")
    no_sideways_scrolling(phone)

    # Following it leads to the decision; once decided it no longer waits.
    request.get_by_role("link").click()
    expect(phone).to_have_url(f"{base}/work/commitments/adjustments/{adjustment.pk}/")
    phone.locator("textarea[name=note]").fill("同意延期")
    phone.locator("button[name=action][value=approve]").click()
    expect(phone.locator(".messages")).to_be_visible()
    phone.goto(f"{base}/work/notifications/")
    expect(phone.locator("main ul.rows li").first.locator(".tag-done")).to_have_text("done")
    expect(phone.get_by_role("navigation")).not_to_contain_text("new)")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_shared_pages_fit_a_phone(phone, live_server, demo, language):
    base = live_server.url
    sign_in(phone, base, "sysadmin", DEMO_PASSWORD)
    if language == "en":
        phone.goto(f"{base}/work/")
        english(phone)
    for path in ["/work/", "/work/notifications/", "/work/calendar/", "/work/tokens/"]:
        response = phone.goto(base + path)
        assert response.status == 200, path
        no_sideways_scrolling(phone)
    # The deadline policies are set on the calendar page, from the phone.
    phone.goto(f"{base}/work/calendar/")
    form = phone.locator("form.inline-form").first
    form.locator("input[name=due_soon]").fill("5")
    form.locator("button[type=submit]").click()
    expect(phone.locator(".messages")).to_be_visible()
    expect(phone.locator("form.inline-form").first.locator("input[name=due_soon]")).to_have_value(
        "5"
    )
    no_sideways_scrolling(phone)
    # An API token, made and shown once.
    phone.goto(f"{base}/work/tokens/")
    phone.locator("main form.card button[type=submit]").click()
    expect(phone.locator("code.secret")).to_contain_text("shishi_")
    no_sideways_scrolling(phone)
