"""Typed readers for environment variables that fail loudly, naming the variable.

Each reader returns the default when the variable is unset or empty, and raises
``ConfigError`` with the variable's name when the value cannot be used.
"""

from __future__ import annotations

import os
import secrets
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit


class ConfigError(Exception):
    """A setting from the environment is unusable; the message names the variable."""


TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value and value.strip() else None


def env_str(name: str, default: str) -> str:
    return _raw(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value; use true or false.")


def env_int(name: str, default: int, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > maximum:
        raise ConfigError(f"{name}={number} is above the maximum of {maximum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_networks(name: str) -> list[IPv4Network | IPv6Network]:
    """Comma-separated addresses and networks (``127.0.0.1,::1,10.1.0.0/16``); none when unset.

    A network with host bits set (``10.1.2.3/16``) is refused rather than widened silently: it is
    usually a typing mistake, and this list decides whose word about client addresses is taken.
    """
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ip_network(item))
        except ValueError as exc:
            raise ConfigError(
                f"{name}: {item!r} is not an IP address or network (such as 127.0.0.1 or "
                f"10.1.0.0/16): {exc}."
            ) from None
    return networks


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = _raw(name) or default
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return Path(value).expanduser().resolve() if value else default


def env_secret(name: str, keep_at: Path) -> str:
    """The variable's value, or a random secret generated once and kept in ``keep_at``."""
    value = _raw(name)
    if value is not None:
        if len(value) < 32:
            raise ConfigError(f"{name} is too short: use at least 32 random characters.")
        return value
    try:
        try:
            return _kept_secret(name, keep_at)
        except FileNotFoundError:
            pass
        keep_at.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a private name, then linked into place: the link fails when another
        # process got there first (both then keep its secret), and nobody reads a half-written file.
        draft = keep_at.with_name(f".{keep_at.name}.{os.getpid()}.{secrets.token_hex(4)}")
        with open(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, keep_at)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
        return _kept_secret(name, keep_at)
    except OSError as exc:
        raise ConfigError(
            f"{name} is not set and {keep_at} cannot be read or written: {exc}"
        ) from None


def _kept_secret(name: str, keep_at: Path) -> str:
    secret = keep_at.read_text().strip()
    if len(secret) < 32:
        raise ConfigError(
            f"{name} is not set and {keep_at} holds no usable secret: delete the file or set {name}."
        )
    return secret


def env_database(name: str, default: str) -> dict:
    """A Django DATABASES entry from a URL: ``sqlite:///path`` or ``postgres://u:p@h:port/db``."""
    url = _raw(name) or default
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "sqlite":
        # sqlite:////abs/path is absolute, sqlite:///rel/path relative to the working directory.
        path = unquote(parts.path)
        path = "/" + path.lstrip("/") if url.startswith("sqlite:////") else path[1:]
        if not path:
            raise ConfigError(
                f"{name}={url!r}: an SQLite URL needs a file path, e.g. sqlite:///var/shishi.sqlite3"
            )
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # IMMEDIATE transactions serialise writers, so the audit chain never forks, and a
            # busy timeout waits for a writer instead of failing with "database is locked".
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            "TEST": {"NAME": options.get("test_name") or None},
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise ConfigError(f"{name}={url!r}: a PostgreSQL URL needs a database name.")
        try:
            port = parts.port
        except ValueError:
            raise ConfigError(f"{name}={url!r}: the port is not a number.") from None
        try:
            conn_max_age = int(options.pop("conn_max_age", 60))
        except ValueError:
            raise ConfigError(f"{name}={url!r}: conn_max_age is not a whole number.") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": dbname,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ConfigError(
        f"{name}={url!r}: unknown database; use sqlite:///path or postgres://user@host:port/name."
    )
