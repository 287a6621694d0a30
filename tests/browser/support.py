"""What the browser tests share besides fixtures: the windows of the phones and desktops they
open, and signing in. Test modules import from here (never from conftest or each other)."""

from __future__ import annotations

from playwright.sync_api import Page, Response

# The phones and desktops of a county in China. The site itself ignores the browser's language
# and opens in Chinese until the switcher says otherwise.
LOCALE = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    **LOCALE,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, **LOCALE}


def sign_in(page: Page, base_url: str, username: str, password: str) -> Response:
    """Fill in the sign-in form and submit it, then give the second factor when asked, as its
    owner would: set up the authenticator from the key the page shows (an administrator's first
    sign-in), or type the code the app shows now. The response of the page it ends on."""
    page.goto(f"{base_url}/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").click()
    response = navigation.value
    if "/work/account/two-factor/" not in page.url:
        return response
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from shishi.orgs.models import User
    from shishi.orgs.services import find_user_by_phone
    from shishi.testing import totp_code

    user = User.objects.filter(username=username).first() or find_user_by_phone(username)
    setting_up = page.locator("code.secret").count() > 0
    device = TOTPDevice.objects.filter(user=user, confirmed=not setting_up).latest("id")
    page.locator("input[name=code]").fill(totp_code(device))
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").first.click()
    if setting_up:  # the recovery codes, shown once: "kept", continue
        with page.expect_navigation() as navigation:
            page.locator("main a.button.primary").click()
    return navigation.value


# Reported to the page's console for each Content-Security-Policy violation, by a listener that
# Playwright adds before the page's own scripts (and that the policy itself does not govern).
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
});
"""


def watch_policy(page: Page) -> list[str]:
    """The Content-Security-Policy violations on ``page`` from now on, as they happen: the
    document's securitypolicyviolation events, and Chromium's own console reports (which also
    name what the policy refused before any script ran)."""
    violations: list[str] = []
    page.context.add_init_script(CSP_LISTENER)

    def seen(message) -> None:
        text = message.text
        if "CSP violation" in text or "Content Security Policy" in text:
            violations.append(text)

    page.on("console", seen)
    return violations
