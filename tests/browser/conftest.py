"""Browser tests: Debian's Chromium, driven by Playwright's sync API, against pytest-django's
live server.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium. Without it the
tests skip, unless SHISHI_STRICT=1 (CI), where a missing browser is a failure.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Browser, Page, sync_playwright

from shishi.orgs.demo import build_province, ensure_demo_logins
from shishi.orgs.models import Org, Role, RoleKind

from .support import DESKTOP, PHONE, watch_policy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
STRICT = os.environ.get("SHISHI_STRICT") == "1"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: the browser tests need Debian's chromium package"
        if STRICT:
            pytest.fail(f"{reason}, and SHISHI_STRICT=1 requires them.")
        pytest.skip(f"{reason} (SHISHI_STRICT=1 makes this a failure).")
    # Playwright's sync API keeps an event loop in the main thread, where Django then refuses
    # database calls; the tests' own database calls are synchronous and safe.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


def _page(browser: Browser, options: dict) -> Iterator[Page]:
    """A page that fails its test on any JavaScript error and on any Content-Security-Policy
    violation: every journey proves that its pages need nothing the policy forbids."""
    context = browser.new_context(**options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    violations = watch_policy(page)
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def phone(browser: Browser, live_server) -> Iterator[Page]:
    """A page in a phone-sized window: 360 x 740, touch, twice the pixel density."""
    yield from _page(browser, PHONE)


@pytest.fixture
def desktop(browser: Browser, live_server) -> Iterator[Page]:
    """A page in an office desktop's window: 1280 x 800."""
    yield from _page(browser, DESKTOP)


@pytest.fixture(autouse=True)
def _public_pages_cached(page_cache) -> None:
    """The public page cache is on, as in production: a journey that changes the list and then
    reads the public page checks that the change reaches the page at once."""


@pytest.fixture(autouse=True)
def _audit_log_flushable(transactional_db) -> Iterator[None]:
    """Let the flush after each live-server test empty the append-only audit log.

    Migration audit/0003 installs triggers that refuse DELETE (SQLite) and TRUNCATE
    (PostgreSQL) on ``audit_entry``, and pytest-django empties every table with exactly those
    statements after a transactional test. The triggers stay in force while each test runs;
    they are lifted just for the flush and put back before the next test.
    """
    migration = importlib.import_module("shishi.audit.migrations.0003_append_only")
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only")
        else:
            for sql in migration.SQLITE:
                cursor.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
    yield
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
        else:
            for sql in migration.SQLITE_DROP:
                cursor.execute(sql.replace("DROP TRIGGER", "DROP TRIGGER IF EXISTS", 1))


@dataclass
class Demo:
    county: Org
    town: Org  # where ``town_admin`` is the town administrator


@pytest.fixture
def demo(transactional_db) -> Demo:
    """The demo county with its logins (password ``DEMO_PASSWORD``): about two seconds."""
    [(county, _created)] = build_province(2021, 1)
    ensure_demo_logins(county)
    town = Role.objects.get(user__username="town_admin", kind=RoleKind.TOWN_ADMIN).org
    return Demo(county=county, town=town)
