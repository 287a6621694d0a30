"""The public page cache: a public page is rendered once per change of what it shows.

A public page reads only published data, and every change of data goes through a service that
appends to the audit log in the same transaction. Each county's chain head counts the changes of
public data in that county (``audit.Head.public``; a refused request, an export or a token counts
nothing), so:

* a page about one county (a programme's list, a commitment) is keyed on that county's count and
  the global chain's (the calendar and the tree above the counties belong to no county): a change
  in one county leaves the other counties' pages in place;
* a page that spans counties (the list of programmes, the front page) is keyed on the sum of all
  counts, which any public change moves; its figures per county are kept each on its own county's
  count (``remember_each``), so that rendering it again counts again only the county that changed.

The lights on a page also move with the calendar, so the day is part of the generation too.

A view opts in with ``@public_page(county=...)``, naming how to find the county of a request
(``None`` for pages that span counties). A visitor's request is served from the cache only when
nothing about it is personal: no session cookie, no Authorization header, no flash messages. A
response is stored only when it is a plain 200 that set no cookie and used no CSRF token.

Each web process keeps its own cache (Django's ``CACHES["default"]``, in memory by default): the
generation check is one indexed read, made at most once per ``PAGE_CACHE_FRESH_MS`` (a second)
per county in each process, so a page is never more than that older than the last committed
change, and processes need not tell each other anything.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from shishi.audit.models import GLOBAL_CHAIN, Head

T = TypeVar("T")

# Headers the cached copy does not carry: they belong to one response, not to the page.
_PER_RESPONSE = {"set-cookie", "x-request-id", "x-page-cache"}
# The attribute ``public_page`` sets on a view: how to find the county of a request.
ATTRIBUTE = "page_cache_county"


# The generations this process read last, by county (None: every county), with when each stops
# being trusted (time.monotonic()): see PAGE_CACHE_FRESH_MS.
_read: dict[int | None, tuple[float, str]] = {}


def generation(county_id: int | None = None) -> str:
    """The generation of public data a page shows: of one county (with the global chain), or of
    every county when ``county_id`` is None; and today's date.

    Read from the database at most once per ``PAGE_CACHE_FRESH_MS`` in each process: a busy
    process serves its pages with no query at all in between, and a change reaches it within that
    time (a second by default; 0 reads on every request)."""
    fresh = settings.PAGE_CACHE_FRESH_MS
    if fresh:
        kept = _read.get(county_id)
        if kept is not None and time.monotonic() < kept[0]:
            return kept[1]
    value = _generation(county_id)
    if fresh:
        _read[county_id] = (time.monotonic() + fresh / 1000, value)
    return value


def _generation(county_id: int | None) -> str:
    with connection.cursor() as cursor:
        # One indexed read of a few rows of audit_head; cheaper through the cursor than the ORM.
        if county_id is None:
            cursor.execute("SELECT COALESCE(SUM(public), 0) FROM audit_head")
            counted = str(cursor.fetchone()[0])
        else:
            cursor.execute(
                "SELECT chain, public FROM audit_head WHERE chain IN (0, %s) ORDER BY chain",
                [county_id],
            )
            counted = ",".join(f"{chain}.{public}" for chain, public in cursor.fetchall())
            counted = f"c{county_id}:{counted}"
    return f"{counted}:{timezone.localdate().isoformat()}"


def generations(county_ids: list[int]) -> dict[int, str]:
    """The generation of each county of ``county_ids`` (as ``generation`` words it), in one
    query."""
    counted = dict(
        Head.objects.filter(chain__in=[GLOBAL_CHAIN, *county_ids]).values_list("chain", "public")
    )
    day = timezone.localdate().isoformat()
    return {
        c: f"c{c}:{GLOBAL_CHAIN}.{counted.get(GLOBAL_CHAIN, 0)},{c}.{counted.get(c, 0)}:{day}"
        for c in county_ids
    }


def remember_each(
    name: str, county_ids: list[int], compute: Callable[[list[int]], dict[int, T]]
) -> dict[int, T]:
    """A figure per county, each kept until its own county's next generation: ``compute(ids)``
    gives the figures of the counties in ``ids`` (one query for them all) and is called only for
    those whose data changed. A page that spans 100 counties (the front page) is rendered again
    after any county's change, but counts again only that county's figure."""
    if not settings.PAGE_CACHE or not county_ids:
        return compute(list(county_ids))
    current = generations(county_ids)
    keys = {c: f"fig:{name}:{c}" for c in county_ids}
    stored = cache.get_many(list(keys.values()))
    found: dict[int, T] = {}
    missing = []
    for c in county_ids:
        kept = stored.get(keys[c])
        if kept is not None and kept[0] == current[c]:
            found[c] = kept[1]
        else:
            missing.append(c)
    if missing:
        fresh = compute(missing)
        cache.set_many(
            {keys[c]: (current[c], fresh.get(c)) for c in missing}, settings.PAGE_CACHE_SECONDS
        )
        found.update({c: fresh.get(c) for c in missing})
    return found


def remember(name: str, parts: tuple, compute: Callable[[], T], county_id: int | None = None) -> T:
    """``compute()``, kept until the public data's next generation: for figures that many
    requests and users share and that cost a scan to count (a county's people by town, a
    scope's totals).

    ``parts`` must name everything the figure depends on besides the data (an organisation's
    path, a user's scope paths); ``county_id`` narrows the generation to one county's data when
    the figure reads nothing else.
    """
    if not settings.PAGE_CACHE:
        return compute()
    key = f"fig:{name}:" + hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    current = generation(county_id)
    stored = cache.get(key)
    if stored is not None and stored[0] == current:
        return stored[1]
    value = compute()
    cache.set(key, (current, value), settings.PAGE_CACHE_SECONDS)
    return value


def public_page(county: Callable[..., int | None] | None = None):
    """Mark a view as a public page the cache may serve. ``county(request, **kwargs)`` names the
    county the page shows (its generation keys the page), or None when the page spans counties;
    without ``county`` the page spans counties."""

    def mark(view):
        setattr(view, ATTRIBUTE, county or _spans_counties)
        return view

    return mark


def _spans_counties(request: HttpRequest, *args, **kwargs) -> None:
    return None


def memoised(lookup: Callable[[int], int | None]) -> Callable[[int], int | None]:
    """``lookup`` (an id → the county of the row it names), kept per process: the county of a
    programme or a commitment never changes. ``forget()`` empties it (tests reuse ids)."""
    cached = functools.lru_cache(maxsize=20_000)(lookup)
    _memos.append(cached)
    return cached


_memos: list = []


def forget() -> None:
    """Empty the cache and the memoised counties (tests roll the database back and reuse ids)."""
    cache.clear()
    _read.clear()
    for memo in _memos:
        memo.cache_clear()


def _view_county(request: HttpRequest) -> tuple[bool, int | None]:
    """(whether the path is a public page, the county it shows)."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False, None
    find = getattr(match.func, ATTRIBUTE, None)
    if find is None:
        return False, None
    return True, find(request, *match.args, **match.kwargs)


def _cacheable_request(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE
        and request.method in ("GET", "HEAD")
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
    """Serves a public page from the cache while its generation is unchanged.

    Placed after the language middleware (the language is part of the key).
    The response says ``X-Page-Cache: hit`` or ``miss``, for operators and tests.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _cacheable_request(request):
            return self.get_response(request)
        public, county_id = _view_county(request)
        if not public:
            return self.get_response(request)
        key, current = _key(request), generation(county_id)
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
