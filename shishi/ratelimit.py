"""Rate limits: so many events per minute for one client address or one API token.

Each limit is a fixed-window counter in the ``limits`` cache (``CACHES["limits"]``, chosen by
``RATE_LIMIT_CACHE``): the first event of a minute adds the key, each event increments it, and the
key expires with its minute. Past the limit an event is refused until the minute ends, and the
refusal says when (``Retry-After``). With the database cache every web process and machine shares
the counters; with each process's memory (the default) each process counts its own, so N
processes allow N times the limit.

A client is its address (``REMOTE_ADDR`` after ``TrustedProxyMiddleware``); an IPv6 address counts
by its /64, the block one customer is given, so that stepping through one's own block does not
escape a limit.

What the public page cache serves (``shishi/pagecache.py``) is never counted: it is answered
before any of this runs, and counting would cost more than the answer.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from ipaddress import IPv6Address, ip_address, ip_network

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

ALIAS = "limits"


@dataclass(frozen=True)
class Limit:
    """``setting`` names how many events of this kind one subject may make per ``window``
    seconds (0: no limit)."""

    name: str
    setting: str
    window: int = 60

    @property
    def allowed(self) -> int:
        return getattr(settings, self.setting)


# The limits, by what they protect (the settings say the numbers; docs/security.md says why).
API_READS = Limit("api-read", "RATE_LIMIT_API_READS")
BAD_TOKENS = Limit("bad-token", "RATE_LIMIT_BAD_TOKENS")
API_WRITES = Limit("api-write", "RATE_LIMIT_API_WRITES")
FORMS = Limit("form", "RATE_LIMIT_FORMS")


class RateLimited(Exception):
    """A limit is reached: try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message(retry_after))


def message(retry_after: int) -> str:
    """The refusal, in the active language."""
    return ngettext(
        "Too many requests: please wait %(n)d second and try again.",
        "Too many requests: please wait %(n)d seconds and try again.",
        retry_after,
    ) % {"n": retry_after}


def client(request: HttpRequest) -> str:
    """The subject an address-based limit counts: the address, or its /64 for IPv6."""
    raw = request.META.get("REMOTE_ADDR") or "unknown"
    try:
        address = ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/64", strict=False))
    return str(address)


def _window(limit: Limit, subject: str) -> tuple[str, int]:
    """The key of the subject's current window, and the seconds left in it (at least 1)."""
    now = time.time()
    index = int(now // limit.window)
    left = max(1, math.ceil((index + 1) * limit.window - now))
    return f"rl:{limit.name}:{index}:{subject}", left


def hit(limit: Limit, subject: str) -> None:
    """Count one event of ``subject``; raise ``RateLimited`` when it goes past the limit."""
    allowed = limit.allowed
    if not allowed:
        return
    key, left = _window(limit, subject)
    cache = caches[ALIAS]
    # add() then incr(): atomic in memory; on the database cache two processes may both read the
    # same count, so a burst may get one or two events more than the limit, never fewer.
    cache.add(key, 0, limit.window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, limit.window + 1)
        count = 1
    if count > allowed:
        raise RateLimited(left)


def check(limit: Limit, subject: str) -> None:
    """Raise ``RateLimited`` if ``subject`` has used up the limit, without counting an event."""
    allowed = limit.allowed
    if not allowed:
        return
    key, left = _window(limit, subject)
    if (caches[ALIAS].get(key) or 0) >= allowed:
        raise RateLimited(left)


def refused_page(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    """The 429 page, saying when to try again."""
    response = render(
        request,
        "429.html",
        {"message": str(exc), "retry_after": exc.retry_after},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


def limit_form(limit: Limit = FORMS, methods: tuple[str, ...] = ("POST",)):
    """Count each submission (``methods``) of a public form per client address, and answer the
    429 page past ``limit``. Each view decorated has its own count."""

    def decorate(view):
        name = f"{view.__module__}.{view.__qualname__}"

        @functools.wraps(view)
        def limited(request: HttpRequest, *args, **kwargs):
            if request.method in methods:
                try:
                    hit(limit, f"{name}:{client(request)}")
                except RateLimited as exc:
                    return refused_page(request, exc)
            return view(request, *args, **kwargs)

        return limited

    return decorate


def forget() -> None:
    """Empty every counter (tests)."""
    caches[ALIAS].clear()


def create_table(**kwargs) -> None:
    """Create the database cache's table when ``RATE_LIMIT_CACHE=database`` (run after every
    ``migrate``: ``createcachetable`` does nothing when the table is there)."""
    if settings.CACHES[ALIAS]["BACKEND"].endswith("DatabaseCache"):
        from django.core.management import call_command

        call_command(
            "createcachetable",
            settings.CACHES[ALIAS]["LOCATION"],
            database=kwargs.get("using", "default"),
            verbosity=0,
        )
