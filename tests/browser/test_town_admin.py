"""The town administrator, on a phone: signs in, walks their town's tree, switches language."""

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from shishi.orgs.demo import DEMO_PASSWORD
from shishi.orgs.models import Org, OrgKind, Person

from .support import sign_in

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360


def zh(text) -> str:
    """``text`` (a msgid or a lazy string) as the Chinese page shows it."""
    with translation.override("zh-hans"):
        return translation.gettext(str(text)) if isinstance(text, str) else str(text)


def assert_fits_a_phone(page: Page) -> None:
    page.wait_for_load_state("load")  # the stylesheet applied
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH + 1, f"{page.url} scrolls sideways: {width}px wide"


def assert_landmarks(page: Page) -> None:
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("navigation").first).to_be_attached()
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)


def expect_figures(page: Page, *numbers: int) -> None:
    """The numbers at the top of an organisation page, in the order shown: organisations by kind
    (towns, villages, communities, departments, branches), then people."""
    expect(page.locator(".figures li strong")).to_have_text([str(n) for n in numbers])


def child_link(page: Page, kind: OrgKind):
    """The first link in "Organisations under it" to a child of ``kind``."""
    row = page.locator("#h-children + .rows > li").filter(
        has=page.locator(".tag", has_text=zh(kind.label))
    )
    return row.first.get_by_role("link")


def test_town_admin_walks_their_town_down_to_a_branch_on_a_phone(phone, live_server, demo):
    town = demo.town
    in_town = Org.objects.filter(path__startswith=town.path, is_active=True)
    villages = in_town.filter(kind=OrgKind.VILLAGE).count()
    communities = in_town.filter(kind=OrgKind.COMMUNITY).count()
    branches = in_town.filter(kind=OrgKind.BRANCH).count()
    people = Person.objects.filter(org__path__startswith=town.path, is_active=True).count()
    assert villages and communities and branches

    response = sign_in(phone, live_server.url, "town_admin", DEMO_PASSWORD)
    assert response.status == 200
    assert phone.url == f"{live_server.url}/work/"
    assert_landmarks(phone)
    assert_fits_a_phone(phone)

    # Organisations: the tree starts at the town, and nothing above it shows.
    phone.get_by_role("navigation").get_by_role("link", name=zh("Organisations")).click()
    expect(phone.locator("h1")).to_contain_text(town.name)
    assert phone.url == f"{live_server.url}/work/orgs/{town.pk}/"
    expect(phone.locator("main")).not_to_contain_text(demo.county.name)
    expect(phone.locator(".crumbs li")).to_have_count(1)
    expect_figures(phone, villages, communities, branches, people)
    assert_landmarks(phone)
    assert_fits_a_phone(phone)

    # Town → village → branch, by tapping links.
    link = child_link(phone, OrgKind.VILLAGE)
    village = Org.objects.get(parent=town, name=link.inner_text())
    link.click()
    expect(phone.locator("h1")).to_contain_text(village.name)
    expect(phone.locator(".crumbs").get_by_role("link", name=town.name)).to_be_visible()
    village_branches = village.children.filter(kind=OrgKind.BRANCH, is_active=True)
    village_people = Person.objects.filter(org__path__startswith=village.path, is_active=True)
    expect_figures(phone, village_branches.count(), village_people.count())
    assert_fits_a_phone(phone)

    link = child_link(phone, OrgKind.BRANCH)
    branch = Org.objects.get(parent=village, name=link.inner_text())
    link.click()
    expect(phone.locator("h1")).to_contain_text(branch.name)
    expect(phone.locator(".crumbs").get_by_role("link", name=village.name)).to_be_visible()
    # A branch's roster: its people, with masked mobile numbers.
    expect(phone.locator("#h-people")).to_be_visible()
    roster = phone.locator("main table tbody tr")
    expect(roster).to_have_count(branch.people.filter(is_active=True).count())
    expect(roster.first.locator("td").nth(3)).to_contain_text("****")
    assert_landmarks(phone)
    assert_fits_a_phone(phone)


def test_town_admin_cannot_open_another_towns_village(phone, live_server, demo):
    village = (
        Org.objects.filter(parent__parent=demo.county, kind=OrgKind.VILLAGE)
        .exclude(parent=demo.town)
        .order_by("path")
        .first()
    )
    sign_in(phone, live_server.url, "town_admin", DEMO_PASSWORD)

    response = phone.goto(f"{live_server.url}/work/orgs/{village.pk}/")

    assert response.status == 404
    expect(phone.locator("h1")).to_have_text(zh("Not found"))
    expect(phone.locator("main")).not_to_contain_text(village.name)
    assert_landmarks(phone)
    assert_fits_a_phone(phone)


def test_town_admin_switches_to_english_and_back_on_the_same_page(phone, live_server, demo):
    sign_in(phone, live_server.url, "town_admin", DEMO_PASSWORD)
    town_page = f"{live_server.url}/work/orgs/{demo.town.pk}/"
    phone.goto(town_page)
    html = phone.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")
    expect(phone.locator("button[name=language][value=zh-hans]")).to_have_attribute(
        "aria-current", "true"
    )

    phone.locator("button[name=language][value=en]").click()

    expect(html).to_have_attribute("lang", "en")
    expect(phone.locator("button[name=language][value=en]")).to_have_attribute(
        "aria-current", "true"
    )
    expect(phone.locator("button[name=language][value=zh-hans]")).not_to_have_attribute(
        "aria-current", "true"
    )
    assert phone.url == town_page
    expect(phone.locator("h1")).to_contain_text(demo.town.name)
    expect(
        phone.get_by_role("navigation").get_by_role("link", name="Organisations")
    ).to_be_visible()
    assert_fits_a_phone(phone)

    phone.locator("button[name=language][value=zh-hans]").click()

    expect(html).to_have_attribute("lang", "zh-hans")
    expect(phone.locator("button[name=language][value=zh-hans]")).to_have_attribute(
        "aria-current", "true"
    )
    assert phone.url == town_page
