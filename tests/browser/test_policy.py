"""The Content-Security-Policy in Chromium: every page fixture fails its test on a violation
(conftest.py), so every journey proves its pages need nothing the policy forbids; here, that
the watch sees a violation when there is one, and that the pages no journey visits (the API's
documentation, the error pages) keep to the policy too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from .support import DESKTOP, watch_policy

pytestmark = pytest.mark.browser


def test_the_watch_sees_an_inline_script_and_an_inline_style_refused(browser: Browser, live_server):
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    violations = watch_policy(page)
    response = page.goto(f"{live_server.url}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # What a template with inline code would do: a script element and a style element with their
    # content in the page. The style's report comes last; waiting for it, the script's is in.
    with page.expect_console_message(lambda message: "style-src" in message.text):
        page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.ranInline = true";
              document.head.append(script);
              const style = document.createElement("style");
              style.textContent = "body { color: red }";
              document.head.append(style);
            }"""
        )
    assert page.evaluate("() => window.ranInline === undefined")
    context.close()
    assert any("script-src" in v for v in violations), violations
    assert any("style-src" in v for v in violations), violations


def test_htmx_loads_without_adding_its_style(desktop: Page, live_server):
    desktop.goto(f"{live_server.url}/")
    desktop.wait_for_function("() => window.htmx !== undefined")
    assert desktop.evaluate("() => htmx.config.includeIndicatorStyles") is False
    assert desktop.evaluate("() => document.querySelectorAll('style').length") == 0


def test_the_api_documentation_keeps_to_the_policy(desktop: Page, live_server):
    desktop.goto(f"{live_server.url}/api/v1/docs")
    desktop.wait_for_selector(".swagger-ui .info")


def test_the_error_pages_keep_to_the_policy(desktop: Page, live_server):
    assert desktop.goto(f"{live_server.url}/no-such-page/").status == 404
