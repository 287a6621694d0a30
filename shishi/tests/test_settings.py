"""Settings read from the environment: mail, trusted proxies and static files, each from the
settings file itself, run afresh with the variables a test gives it."""

import runpy
from ipaddress import ip_network
from pathlib import Path

import pytest

import shishi.settings
from shishi.lib.env import ConfigError

SETTINGS_FILE = Path(shishi.settings.__file__)
READ_HERE = [
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "DEFAULT_FROM_EMAIL",
    "SERVER_EMAIL",
    "TRUSTED_PROXIES",
]


@pytest.fixture
def settings_with(monkeypatch, tmp_path):
    """``settings_with(NAME=value, …)``: the settings module's names with only these variables
    set among the ones tested here (keys and the database are kept under ``tmp_path``)."""

    def run(**variables) -> dict:
        for name in READ_HERE:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SHISHI_VAR_DIR", str(tmp_path))
        monkeypatch.delenv("DATABASE_URL", raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return run


# --- mail ----------------------------------------------------------------------------------------


def test_without_a_mail_server_mail_goes_to_the_log(settings_with):
    s = settings_with()
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert (s["DEFAULT_FROM_EMAIL"], s["SERVER_EMAIL"]) == ("shishi@localhost", "shishi@localhost")


def test_naming_a_mail_server_sends_by_smtp_on_port_25(settings_with):
    s = settings_with(EMAIL_HOST="mail.example.org")
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"]) == ("mail.example.org", 25)
    assert (s["EMAIL_USE_TLS"], s["EMAIL_USE_SSL"]) == (False, False)
    assert (s["EMAIL_HOST_USER"], s["EMAIL_HOST_PASSWORD"]) == ("", "")


def test_an_explicit_backend_wins_over_the_mail_server(settings_with):
    s = settings_with(
        EMAIL_HOST="mail.example.org",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_the_smtp_backend_alone_sends_through_a_relay_on_this_machine(settings_with):
    """The deployment guide's earlier advice (a local postfix) keeps working."""
    s = settings_with(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"]) == ("localhost", 25)


def test_starttls_defaults_to_port_587_and_tls_from_the_start_to_465(settings_with):
    assert settings_with(EMAIL_HOST="m.example", EMAIL_USE_TLS="true")["EMAIL_PORT"] == 587
    assert settings_with(EMAIL_HOST="m.example", EMAIL_USE_SSL="true")["EMAIL_PORT"] == 465
    given = settings_with(EMAIL_HOST="m.example", EMAIL_USE_TLS="true", EMAIL_PORT="2525")
    assert given["EMAIL_PORT"] == 2525


def test_a_mail_server_with_a_login_and_its_own_senders(settings_with):
    s = settings_with(
        EMAIL_HOST="smtp.example.org",
        EMAIL_USE_SSL="yes",
        EMAIL_HOST_USER="shishi@example.org",
        EMAIL_HOST_PASSWORD="p@ss w$rd",
        DEFAULT_FROM_EMAIL="实事 <shishi@example.org>",
        SERVER_EMAIL="errors@example.org",
    )
    assert (s["EMAIL_HOST_USER"], s["EMAIL_HOST_PASSWORD"]) == ("shishi@example.org", "p@ss w$rd")
    assert s["DEFAULT_FROM_EMAIL"] == "实事 <shishi@example.org>"
    assert s["SERVER_EMAIL"] == "errors@example.org"
    assert s["EMAIL_USE_SSL"] is True


def test_the_sender_of_error_mail_defaults_to_the_sender_of_all_mail(settings_with):
    s = settings_with(DEFAULT_FROM_EMAIL="shishi@example.org")
    assert s["SERVER_EMAIL"] == "shishi@example.org"


def test_tls_and_ssl_together_are_refused(settings_with):
    with pytest.raises(ConfigError, match="EMAIL_USE_TLS and EMAIL_USE_SSL are both true"):
        settings_with(EMAIL_HOST="m.example", EMAIL_USE_TLS="true", EMAIL_USE_SSL="true")


@pytest.mark.parametrize(
    "given", [{"EMAIL_HOST_USER": "shishi"}, {"EMAIL_HOST_PASSWORD": "secret-word"}]
)
def test_a_mail_login_without_its_password_or_the_reverse_is_refused(settings_with, given):
    with pytest.raises(ConfigError, match="EMAIL_HOST_USER and EMAIL_HOST_PASSWORD go together"):
        settings_with(EMAIL_HOST="m.example", **given)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("smtp", r"EMAIL_PORT='smtp' is not a whole number"),
        ("70000", r"EMAIL_PORT=70000 is above the maximum of 65535"),
        ("0", r"EMAIL_PORT=0 is below the minimum of 1"),
    ],
)
def test_a_bad_mail_port_names_the_variable(settings_with, value, message):
    with pytest.raises(ConfigError, match=message):
        settings_with(EMAIL_HOST="m.example", EMAIL_PORT=value)


def test_a_bad_tls_flag_names_the_variable(settings_with):
    with pytest.raises(ConfigError, match=r"EMAIL_USE_TLS='sometimes' is not a yes/no value"):
        settings_with(EMAIL_USE_TLS="sometimes")


# --- trusted proxies and static files ----------------------------------------------------------


def test_trusted_proxies_are_read_as_networks(settings_with):
    s = settings_with(TRUSTED_PROXIES="127.0.0.1, ::1,10.1.0.0/16")
    assert s["TRUSTED_PROXIES"] == [
        ip_network("127.0.0.1/32"),
        ip_network("::1/128"),
        ip_network("10.1.0.0/16"),
    ]
    assert settings_with()["TRUSTED_PROXIES"] == []


@pytest.mark.parametrize("value", ["nginx", "10.1.2.3/16", "127.0.0.1;::1"])
def test_a_trusted_proxy_that_is_not_an_address_or_network_is_refused(settings_with, value):
    with pytest.raises(ConfigError, match=r"TRUSTED_PROXIES: .* is not an IP address or network"):
        settings_with(TRUSTED_PROXIES=value)


def test_static_files_are_stored_under_hashed_names_in_production(settings_with):
    storage = settings_with()["STORAGES"]["staticfiles"]["BACKEND"]
    assert storage == "whitenoise.storage.CompressedManifestStaticFilesStorage"
