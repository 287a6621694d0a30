"""Served over HTTPS (SITE_URL starting with https://), secure cookies, the redirect to HTTPS and
HSTS are on unless a variable turns one off; otherwise they are off, as a plain-HTTP intranet
demo needs. Each case runs the settings file afresh with the variables it gives."""

import runpy
from pathlib import Path

import pytest

import shishi.settings
from shishi.lib.env import ConfigError

SETTINGS_FILE = Path(shishi.settings.__file__)
READ_HERE = ["SITE_URL", "SECURE_COOKIES", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "DEBUG"]


@pytest.fixture
def settings_with(monkeypatch, tmp_path):
    def run(**variables) -> dict:
        for name in READ_HERE:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SHISHI_VAR_DIR", str(tmp_path))
        monkeypatch.delenv("DATABASE_URL", raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return run


def secure(s: dict) -> tuple:
    return (
        s["SESSION_COOKIE_SECURE"],
        s["CSRF_COOKIE_SECURE"],
        s["SECURE_SSL_REDIRECT"],
        s["SECURE_HSTS_SECONDS"],
    )


def test_served_over_https_cookies_are_secure_and_hsts_is_on(settings_with):
    s = settings_with(SITE_URL="https://shishi.example.org/")
    assert s["SITE_URL"] == "https://shishi.example.org"
    assert secure(s) == (True, True, True, 365 * 24 * 3600)
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] and s["SECURE_HSTS_PRELOAD"]


def test_without_https_they_are_off(settings_with):
    assert secure(settings_with()) == (False, False, False, 0)
    assert secure(settings_with(SITE_URL="http://10.1.2.3:8000")) == (False, False, False, 0)


def test_each_can_be_turned_off_over_https(settings_with):
    s = settings_with(
        SITE_URL="https://shishi.example.org",
        SECURE_COOKIES="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="3600",
    )
    assert secure(s) == (False, False, False, 3600)


def test_probes_over_plain_http_are_not_redirected(settings_with):
    s = settings_with(SITE_URL="https://shishi.example.org")
    assert s["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$", r"^livez$"]


def test_a_site_url_that_is_not_an_address_stops_the_start(settings_with):
    with pytest.raises(ConfigError, match="SITE_URL='shishi.example.org' is not an address"):
        settings_with(SITE_URL="shishi.example.org")


def test_the_rate_limit_cache_is_memory_or_the_database(settings_with):
    assert settings_with()["CACHES"]["limits"]["BACKEND"].endswith("LocMemCache")
    s = settings_with(RATE_LIMIT_CACHE="database")
    assert s["CACHES"]["limits"]["BACKEND"].endswith("DatabaseCache")
    with pytest.raises(ConfigError, match="RATE_LIMIT_CACHE='redis' is not one of"):
        settings_with(RATE_LIMIT_CACHE="redis")
