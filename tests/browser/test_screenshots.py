"""The README's screenshots: ``make screenshots`` writes them to docs/screenshots.

With SHISHI_SCREENSHOTS set to a directory the pages are photographed into it; without it the
same pages are still visited and checked, so the test always tests something.
"""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, Response, expect

from shishi.orgs.demo import DEMO_PASSWORD

from .support import sign_in

pytestmark = pytest.mark.browser


def shoot(page: Page, response: Response, name: str) -> None:
    """Check the page rendered; photograph the window when screenshots are asked for."""
    assert response.status == 200, f"{page.url} answered {response.status}"
    expect(page.locator("h1")).to_be_visible()
    # The stylesheet arrived: the header bar is the programme's red, not the browser's default.
    expect(page.get_by_role("banner")).to_have_css("background-color", "rgb(163, 32, 27)")
    directory = os.environ.get("SHISHI_SCREENSHOTS")
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(directory) / name, full_page=False, animations="disabled")


def test_screenshot_pages(desktop, phone, live_server, demo):
    # The public front page, as a resident sees it.
    response = desktop.goto(f"{live_server.url}/")
    expect(desktop.locator("main table")).to_contain_text(demo.county.name)
    shoot(desktop, response, "portal.png")

    # The county office's workspace: the county's organisation page.
    sign_in(desktop, live_server.url, "county_admin", DEMO_PASSWORD)
    response = desktop.goto(f"{live_server.url}/work/orgs/{demo.county.pk}/")
    expect(desktop.locator("h1")).to_contain_text(demo.county.name)
    shoot(desktop, response, "workspace.png")

    # A town administrator on a phone, on their town's page.
    sign_in(phone, live_server.url, "town_admin", DEMO_PASSWORD)
    response = phone.goto(f"{live_server.url}/work/orgs/{demo.town.pk}/")
    expect(phone.locator("h1")).to_contain_text(demo.town.name)
    shoot(phone, response, "phone-tree.png")


def test_screenshot_commitments(desktop, phone, live_server, demo):
    from shishi.commitments.demo import build_programme
    from shishi.commitments.models import Programme

    build_programme(demo.county, 2021)
    programme = Programme.objects.get(county=demo.county)

    # The public list, with its figures and their formulas.
    response = desktop.goto(f"{live_server.url}/commitments/{programme.pk}/")
    expect(desktop.locator("main")).to_contain_text("132")
    shoot(desktop, response, "commitments.png")

    # One commitment on a phone, as a resident opens it from a chat group.
    response = phone.goto(f"{live_server.url}/commitments/{programme.pk}/3/")
    shoot(phone, response, "phone-commitment.png")

    # The county office's commitments desk: overdue, due soon, reviews and approvals waiting.
    sign_in(desktop, live_server.url, "county_admin", DEMO_PASSWORD)
    response = desktop.goto(f"{live_server.url}/work/commitments/")
    shoot(desktop, response, "work-commitments.png")
