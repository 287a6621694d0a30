"""The environment readers: defaults when unset, a clear error naming the variable when unusable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shishi.lib.env import (
    ConfigError,
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_networks,
    env_path,
    env_secret,
    env_str,
)


@pytest.fixture
def env(monkeypatch):
    """``env(NAME=value)`` sets variables for one test; they are removed afterwards."""

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    for name in ["SHISHI_T", "DATABASE_URL_T", "SECRET_T"]:
        monkeypatch.delenv(name, raising=False)
    return set_


def test_unset_and_empty_variables_give_the_default(env):
    env(SHISHI_T="   ")
    assert env_str("SHISHI_T", "fallback") == "fallback"
    assert env_bool("SHISHI_T", True) is True
    assert env_int("SHISHI_T", 7) == 7
    assert env_list("SHISHI_T", ["a"]) == ["a"]
    assert env_path("SHISHI_T", Path("/x")) == Path("/x")
    assert env_int("SHISHI_UNSET_FOR_SURE", 3, minimum=1) == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), ("yes", True), (" on ", True), ("0", False), ("Off", False)],
)
def test_bool_reads_common_spellings(env, raw, expected):
    env(SHISHI_T=raw)
    assert env_bool("SHISHI_T", not expected) is expected


def test_a_bad_bool_names_the_variable_and_the_value(env):
    env(SHISHI_T="maybe")
    with pytest.raises(ConfigError, match=r"SHISHI_T='maybe' is not a yes/no value"):
        env_bool("SHISHI_T", False)


def test_a_bad_int_names_the_variable(env):
    env(SHISHI_T="ten")
    with pytest.raises(ConfigError, match=r"SHISHI_T='ten' is not a whole number"):
        env_int("SHISHI_T", 10)


def test_an_int_below_its_minimum_names_the_variable_and_the_minimum(env):
    env(SHISHI_T="4")
    with pytest.raises(ConfigError, match=r"SHISHI_T=4 is below the minimum of 8"):
        env_int("SHISHI_T", 10, minimum=8)
    env(SHISHI_T="8")
    assert env_int("SHISHI_T", 10, minimum=8) == 8


def test_an_int_above_its_maximum_names_the_variable_and_the_maximum(env):
    env(SHISHI_T="65536")
    with pytest.raises(ConfigError, match=r"SHISHI_T=65536 is above the maximum of 65535"):
        env_int("SHISHI_T", 25, maximum=65535)


def test_networks_are_read_from_addresses_and_prefixes(env):
    env(SHISHI_T="127.0.0.1, ::1, 10.1.0.0/16")
    assert [str(n) for n in env_networks("SHISHI_T")] == ["127.0.0.1/32", "::1/128", "10.1.0.0/16"]
    assert env_networks("SHISHI_UNSET_FOR_SURE") == []


def test_a_network_with_host_bits_set_is_refused_not_widened(env):
    env(SHISHI_T="10.1.2.3/16")
    with pytest.raises(ConfigError, match=r"SHISHI_T: '10.1.2.3/16' is not an IP address or netw"):
        env_networks("SHISHI_T")


def test_a_list_is_split_on_commas_without_blanks(env):
    env(SHISHI_T="a.example, b.example,,")
    assert env_list("SHISHI_T", []) == ["a.example", "b.example"]


def test_a_choice_outside_the_list_names_the_choices(env):
    env(SHISHI_T="redis")
    with pytest.raises(ConfigError, match=r"SHISHI_T='redis' is not one of: immediate, database"):
        env_choice("SHISHI_T", "immediate", ["immediate", "database"])


def test_sqlite_urls_give_absolute_and_relative_paths(env, tmp_path):
    env(DATABASE_URL_T=f"sqlite:///{tmp_path}/db/shishi.sqlite3")
    db = env_database("DATABASE_URL_T", "sqlite:///unused")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == f"{tmp_path}/db/shishi.sqlite3"
    assert (tmp_path / "db").is_dir()
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_a_sqlite_url_without_a_path_is_refused(env):
    env(DATABASE_URL_T="sqlite:///")
    with pytest.raises(ConfigError, match=r"DATABASE_URL_T='sqlite:///': an SQLite URL needs a"):
        env_database("DATABASE_URL_T", "sqlite:///x")


def test_a_postgres_url_gives_each_part(env):
    env(DATABASE_URL_T="postgres://shishi:p%40ss@db.example:6543/shishi_prod?sslmode=require")
    db = env_database("DATABASE_URL_T", "sqlite:///x")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("shishi_prod", "shishi", "p@ss")
    assert (db["HOST"], db["PORT"]) == ("db.example", "6543")
    assert db["OPTIONS"] == {"sslmode": "require"}


@pytest.mark.parametrize("url", ["postgres://u@db.example:5432", "postgresql://u@db.example/"])
def test_a_postgres_url_without_a_database_name_is_refused(env, url):
    env(DATABASE_URL_T=url)
    with pytest.raises(ConfigError, match=r"DATABASE_URL_T=.*needs a database name"):
        env_database("DATABASE_URL_T", "sqlite:///x")


def test_a_postgres_url_with_a_bad_port_names_the_variable(env):
    env(DATABASE_URL_T="postgres://u@db.example:port/shishi")
    with pytest.raises(ConfigError, match=r"DATABASE_URL_T=.*the port is not a number"):
        env_database("DATABASE_URL_T", "sqlite:///x")


def test_a_postgres_url_with_a_bad_conn_max_age_names_the_variable(env):
    env(DATABASE_URL_T="postgres://u@db.example/shishi?conn_max_age=forever")
    with pytest.raises(ConfigError, match=r"DATABASE_URL_T=.*conn_max_age"):
        env_database("DATABASE_URL_T", "sqlite:///x")


def test_an_unknown_database_scheme_is_refused_with_examples(env):
    env(DATABASE_URL_T="mysql://u@db.example/shishi")
    with pytest.raises(ConfigError) as exc:
        env_database("DATABASE_URL_T", "sqlite:///x")
    assert "DATABASE_URL_T='mysql://u@db.example/shishi'" in str(exc.value)
    assert "unknown database" in str(exc.value)


def test_a_short_secret_is_refused_naming_the_variable(env, tmp_path):
    env(SECRET_T="too-short")
    with pytest.raises(ConfigError, match=r"SECRET_T is too short"):
        env_secret("SECRET_T", tmp_path / "secret")
    assert not (tmp_path / "secret").exists()


def test_a_given_secret_is_used_as_it_is(env, tmp_path):
    env(SECRET_T="x" * 40)
    assert env_secret("SECRET_T", tmp_path / "secret") == "x" * 40
    assert not (tmp_path / "secret").exists()


def test_a_missing_secret_is_generated_once_and_kept(env, tmp_path):
    keep = tmp_path / "var" / "secret_key"
    first = env_secret("SECRET_T", keep)
    assert len(first) >= 50
    assert keep.read_text() == first
    assert keep.stat().st_mode & 0o777 == 0o600
    assert env_secret("SECRET_T", keep) == first


def test_a_secret_that_cannot_be_written_names_the_variable(env, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"SECRET_T is not set and .* cannot be read or written"):
        env_secret("SECRET_T", blocker / "secret_key")


def test_shishi_stops_at_start_with_the_variable_named(tmp_path):
    """The console command turns a ConfigError into one readable line and exit status 2."""
    shishi = Path(sys.executable).with_name("shishi")
    environ = {**os.environ, "SHISHI_VAR_DIR": str(tmp_path), "DEBUG": "perhaps"}
    done = subprocess.run(  # noqa: S603 (our own console script)
        [str(shishi), "check"], env=environ, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "shishi: configuration error: DEBUG='perhaps' is not a yes/no value" in done.stderr


@pytest.mark.parametrize("content", ["", "   \n", "short"])
def test_a_kept_secret_file_without_a_usable_secret_is_refused(env, tmp_path, content):
    """An empty file (say, from a crash while it was written) must not become the key."""
    keep = tmp_path / "field_key"
    keep.write_text(content)
    with pytest.raises(ConfigError, match=r"SECRET_T is not set and .* holds no usable secret"):
        env_secret("SECRET_T", keep)


def test_generating_a_secret_leaves_no_draft_file_behind(env, tmp_path):
    env_secret("SECRET_T", tmp_path / "secret_key")
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


def test_a_secret_kept_by_another_process_first_wins(env, tmp_path, monkeypatch):
    """Two processes starting at once: the one that links second keeps the first one's secret."""
    keep = tmp_path / "secret_key"
    real_link = os.link

    def link_after_a_rival(src, dst):
        keep.write_text("r" * 50)
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", link_after_a_rival)
    assert env_secret("SECRET_T", keep) == "r" * 50
    assert keep.read_text() == "r" * 50
