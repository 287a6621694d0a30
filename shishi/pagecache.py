"""The public page cache: a public page is rendered once per change of the data, not per visitor.

A public page (the portal, the public API) reads only published data, and every change to the
data goes through a service that appends to the audit log in the same transaction. So the audit
head's sequence number is a generation counter kept exactly current by construction: a page
rendered at generation N is the page any visitor would get until entry N + 1 is written. The
lights on a page also move with the calendar, so the day is part of the generation too.

A visitor's request is served from the cache only when nothing about it is personal: no session
cookie (a signed-in user sees their own name and forms), no Authorization header (an API token),
no flash messages waiting. A response is stored only when it is a plain 200 that set no cookie and
used no CSRF token, so a page that one day carries a public form is simply never cached.

Each web process keeps its own cache (Django's ``CACHES["default"]``, in memory by default): the
generation check is one primary-key read of the audit head, so processes never serve a page
older than the last committed change, and need not tell each other anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

T = TypeVar("T")

# Headers the cached copy does not carry: they belong to one response, not to the page.
_PER_RESPONSE = {"set-cookie", "x-request-id", "x-page-cache"}


def generation() -> str:
    """The data's current generation: the audit head's sequence and today's date."""
    with connection.cursor() as cursor:
        # One indexed read of one row; cheaper through the cursor than through the ORM.
        cursor.execute("SELECT seq FROM audit_head WHERE id = 1")
        row = cursor.fetchone()
    return f"{row[0] if row else 0}:{timezone.localdate().isoformat()}"


def remember(name: str, parts: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, kept until the data's next generation: for figures that many requests and
    users share and that cost a scan to count (a county's people by town, a scope's totals).

    ``parts`` must name everything the figure depends on besides the data (an organisation's
    path, a user's scope paths); the generation covers the data.
    """
    if not settings.PAGE_CACHE:
        return compute()
    key = f"fig:{name}:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    current = generation()
    stored = cache.get(key)
    if stored is not None and stored[0] == current:
        return stored[1]
    value = compute()
    cache.set(key, (current, value), settings.PAGE_CACHE_SECONDS)
    return value


def is_public(path: str) -> bool:
    return path == "/" or path.startswith(settings.PAGE_CACHE_PREFIXES)


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE
        and request.method in ("GET", "HEAD")
        and is_public(request.path)
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
        and "HTTP_AUTHORIZATION" not in request.META
    )


def _cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and "no-store" not in response.get("Cache-Control", "")
        and "private" not in response.get("Cache-Control", "")
    )


def _key(request: HttpRequest) -> str:
    # The language is part of the page; the full path carries the filters.
    raw = f"{request.LANGUAGE_CODE}|{request.method}|{request.get_full_path()}"
    return "page:" + hashlib.blake2b(raw.encode(), digest_size=16).hexdigest()


class PublicPageCacheMiddleware:
    """Serves a public page from the cache while the data's generation is unchanged.

    Placed after the language middleware (the language is part of the key).
    The response says ``X-Page-Cache: hit`` or ``miss``, for operators and tests.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _cacheable_request(request):
            return self.get_response(request)
        key, current = _key(request), generation()
        stored = cache.get(key)
        if stored is not None and stored[0] == current:
            _generation, headers, content = stored
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response["X-Page-Cache"] = "hit"
            return response
        response = self.get_response(request)
        if _cacheable_response(request, response):
            headers = [(k, v) for k, v in response.items() if k.lower() not in _PER_RESPONSE]
            # Stored under the generation read before rendering: if a change commits while the
            # page renders, the next request sees a newer generation and renders again.
            cache.set(key, (current, headers, response.content), settings.PAGE_CACHE_SECONDS)
            response["X-Page-Cache"] = "miss"
        return response
