"""Signing in: by mobile number, the lockout after repeated failures, and an accessible form."""

import pytest
from django.conf import settings
from django.utils import translation
from playwright.sync_api import expect

from shishi.orgs.demo import DEMO_PASSWORD
from shishi.orgs.models import User

from .support import sign_in

pytestmark = pytest.mark.browser

WRONG_PASSWORD = "Not-the-password-1"


def zh(msgid: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def lock_out(page, base_url: str, username: str):
    """Fail to sign in as ``username`` as often as the limit allows; the last response."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(page, base_url, username, WRONG_PASSWORD)
    return response


def test_town_admin_signs_in_with_their_mobile_number(phone, live_server, demo):
    mobile = User.objects.get(username="town_admin").person.phone
    assert mobile

    response = sign_in(phone, live_server.url, mobile, DEMO_PASSWORD)

    assert response.status == 200
    assert phone.url == f"{live_server.url}/work/"
    expect(phone.get_by_role("link", name=demo.town.name)).to_be_visible()


def test_a_wrong_password_keeps_the_sign_in_page_with_an_error(phone, live_server, demo):
    response = sign_in(phone, live_server.url, "town_admin", WRONG_PASSWORD)

    assert response.status == 200
    assert phone.url == f"{live_server.url}/login/"
    expect(phone.locator(".errors[role=alert]")).to_be_visible()


def test_five_wrong_passwords_lock_the_login_even_against_the_right_password(
    phone, live_server, demo
):
    assert settings.AXES_FAILURE_LIMIT == 5

    response = lock_out(phone, live_server.url, "town_admin")

    assert response.status == 429
    expect(phone.locator("h1")).to_have_text(zh("Login locked"))
    expect(phone.get_by_role("alert")).to_contain_text(
        str(settings.AXES_COOLOFF_TIME.seconds // 60)
    )

    response = sign_in(phone, live_server.url, "town_admin", DEMO_PASSWORD)

    assert response.status == 429
    expect(phone.locator("h1")).to_have_text(zh("Login locked"))
    # Not signed in: the workspace still sends the visitor to the sign-in page.
    phone.goto(f"{live_server.url}/work/")
    assert phone.url.startswith(f"{live_server.url}/login/")


def test_a_locked_login_stays_locked_however_the_account_is_named(phone, live_server, demo):
    # The backend accepts the username in any case and with spaces around it, and the mobile
    # number with or without +86; the lockout must count all of them as the same account.
    mobile = User.objects.get(username="town_admin").person.phone
    lock_out(phone, live_server.url, "town_admin")

    let_in = []
    for name in ["TOWN_ADMIN", " town_admin ", mobile, f"+86 {mobile}"]:
        phone.context.clear_cookies()
        response = sign_in(phone, live_server.url, name, DEMO_PASSWORD)
        if response.status != 429:
            let_in.append((name, response.status, phone.url))
    assert not let_in, f"signed in past the lockout as: {let_in}"


def test_every_control_on_the_sign_in_page_has_a_label(desktop, live_server):
    desktop.goto(f"{live_server.url}/login/")

    unlabelled = desktop.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea")]
            .filter((el) => el.type !== "hidden")
            .filter((el) => !(
                (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`))
                || el.getAttribute("aria-label")
                || el.getAttribute("aria-labelledby")
            ))
            .map((el) => el.outerHTML)"""
    )
    assert unlabelled == []
    expect(desktop.get_by_label(zh("Username or mobile number"))).to_be_visible()
    expect(desktop.get_by_label(zh("Password"))).to_be_visible()
    # Buttons carry their own text.
    nameless = desktop.evaluate(
        """() => [...document.querySelectorAll("button")]
            .filter((el) => !(el.textContent.trim() || el.getAttribute("aria-label")))
            .map((el) => el.outerHTML)"""
    )
    assert nameless == []


def test_keyboard_focus_is_visible_on_the_sign_in_page(desktop, live_server):
    desktop.goto(f"{live_server.url}/login/")
    # Start from the top of the page, not from the autofocused username field.
    desktop.evaluate(
        "document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex')"
    )
    stops = []

    # Tab through the page until focus leaves it: every stop shows an outline, on screen.
    for _ in range(30):
        desktop.keyboard.press("Tab")
        focused = desktop.evaluate(
            """() => {
                const el = document.activeElement;
                if (el === document.body) return null;
                const style = getComputedStyle(el);
                const box = el.getBoundingClientRect();
                return {
                    name: el.name || el.getAttribute("href") || el.tagName,
                    outline: style.outlineStyle,
                    width: parseFloat(style.outlineWidth),
                    onScreen: box.right > 0 && box.bottom > 0 && box.width > 0,
                };
            }"""
        )
        if focused is None:
            break
        assert focused["outline"] != "none" and focused["width"] > 0, focused
        assert focused["onScreen"], focused
        stops.append(focused["name"])
    assert stops[0] == "#main", "the first stop is the skip link"
    assert {"language", "username", "password"} <= set(stops)
