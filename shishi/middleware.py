import functools
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _


class LanguageMiddleware(LocaleMiddleware):
    """The language is the one chosen with the switcher (a cookie), otherwise Chinese.

    The browser's Accept-Language is deliberately ignored: county offices often run browsers set
    to English, and the site must still open in Chinese until someone chooses otherwise. The API
    (``/api/``) honours Accept-Language, the way a program asks for its language.
    """

    def process_request(self, request):
        supported = {code for code, _name in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in supported and request.path.startswith("/api/"):
            # A program calling the API says which language its messages should be in.
            language = translation.get_language_from_request(request)
        if language not in supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


# --- the client's address behind a proxy --------------------------------------------------------

# The address of the direct peer, kept in the request when TrustedProxyMiddleware replaced it.
PEER_ADDR = "shishi.peer_addr"


def _parse_address(text: str | None) -> IPv4Address | IPv6Address | None:
    """An address as proxies write it (``203.0.113.7``, ``203.0.113.7:51234``,
    ``[2001:db8::1]:443``), an IPv4-mapped IPv6 address made plain IPv4 (a proxy reached over a
    dual-stack socket); None when it is not an address (``unknown``, a socket path)."""
    text = (text or "").strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


@functools.lru_cache(maxsize=8)
def _networks(trusted: tuple) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(item) for item in trusted)


def _is_trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def forwarded_client(meta: dict) -> str | None:
    """The client's address by the trusted-proxy rule, from a request's META.

    Only when the direct peer (REMOTE_ADDR) is one of ``settings.TRUSTED_PROXIES`` are its headers
    believed: X-Forwarded-For is read from the right, each proxy appending the address it saw, and
    the first address that is not itself a trusted proxy is the client. Anything to the left of it
    was written by the client and could be forged. Without X-Forwarded-For, X-Real-IP is taken.
    An untrusted peer is the client, whatever headers it sends.
    """
    remote = meta.get("REMOTE_ADDR")
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    peer = _parse_address(remote)
    if peer is None or not networks or not _is_trusted(peer, networks):
        return remote
    chain = meta.get("HTTP_X_FORWARDED_FOR", "")
    if chain.strip():
        client = peer
        for item in reversed(chain.split(",")):
            address = _parse_address(item)
            if address is None:
                # Unreadable: nothing to its left can be believed; the last hop read stands.
                break
            client = address
            if not _is_trusted(address, networks):
                break
        return str(client)
    real = _parse_address(meta.get("HTTP_X_REAL_IP"))
    return str(real) if real is not None else remote


def client_ip(request) -> str | None:
    """The client's address: what django-axes records (``AXES_CLIENT_IP_CALLABLE``), so that its
    lockouts and the audit log name the same address. After TrustedProxyMiddleware this is
    REMOTE_ADDR; on a request that did not pass through it, the same rule is applied here."""
    if PEER_ADDR in request.META:
        return request.META.get("REMOTE_ADDR")
    return forwarded_client(request.META)


class TrustedProxyMiddleware:
    """Sets REMOTE_ADDR to the client's address when the request came through a trusted proxy.

    First in MIDDLEWARE, so that everything after it (the audit log's request context, django-axes)
    sees the client and not nginx. The direct peer is kept in ``request.META["shishi.peer_addr"]``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if PEER_ADDR not in request.META:
            peer = request.META.get("REMOTE_ADDR")
            request.META[PEER_ADDR] = peer
            client = forwarded_client(request.META)
            if client is not None:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


# --- text the database cannot hold ----------------------------------------------------------------

# A NUL escaped in JSON (\u0000), not preceded by an escaping backslash of its own.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RefuseNulMiddleware:
    """Refuse a request whose text holds the NUL character, before any view reads it: nobody types
    it, PostgreSQL cannot store it, and a filter or a field carrying it would end in a server
    error. The query string, a form's fields and a JSON body are looked at; an upload's files are
    not (they are binary by nature), and a multipart form's text fields go through the forms,
    which refuse NUL themselves. The API answers in its error shape, a page with the 400 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            message = _("The request contains the character NUL (\\u0000), which text cannot hold.")
            if request.path.startswith("/api/"):
                from shishi.api.common import error_response

                return error_response(400, "bad_request", message)
            return render(request, "400.html", {"message": message}, status=400)
        return self.get_response(request)


def _has_nul(request) -> bool:
    if any(
        "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
    ):
        return True
    content_type = request.content_type or ""
    if content_type == "application/x-www-form-urlencoded":
        return any(
            "\x00" in key or any("\x00" in v for v in values)
            for key, values in request.POST.lists()
        )
    if content_type.endswith("json"):
        body = request.body
        return b"\x00" in body or _JSON_NUL.search(body) is not None
    return False


# --- the size of a request ------------------------------------------------------------------------


class BodyLimitHandler(FileUploadHandler):
    """Counts every byte of every file of a multipart body and stops reading past ``limit``.

    The Content-Length check in RequestSizeMiddleware refuses a large body before it is read; this
    handler is the second wall, for a body whose length was not declared. First among the upload
    handlers, it sees each chunk before Django's handlers keep it in memory or write it to a
    temporary file, so nothing past the limit is ever stored. Past it the request fails as
    RequestDataTooBig (400), rather than reaching the view with its files cut short."""

    def __init__(self, request=None, limit: int = 0):
        super().__init__(request)
        self.limit = limit
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise RequestDataTooBig(f"a multipart body over {self.limit} bytes")
        return raw_data

    def file_complete(self, file_size):
        return None


class RequestSizeMiddleware:
    """Refuse a request whose body is larger than ``settings.MAX_REQUEST_BYTES`` with 413, from its
    Content-Length, before anything reads the body (nothing of it is stored, in memory or on
    disk). Django's DATA_UPLOAD_MAX_MEMORY_SIZE bounds form fields and JSON but not files, which
    it writes to a temporary file as they come. The limit fits the largest request a page sends
    (a progress report with ten files of EVIDENCE_MAX_MB); nginx's ``client_max_body_size`` is
    the same number (docs/deploy.md). The API answers in its error shape, a page with the 413
    page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.MAX_REQUEST_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            message = _(
                "The request is larger than %(mb)d MB, and was refused before it was read. Send "
                "fewer or smaller files at a time."
            ) % {"mb": limit // (1024 * 1024)}
            if request.path.startswith("/api/"):
                from shishi.api.common import error_response

                return error_response(413, "too_large", message)
            return render(request, "413.html", {"message": message}, status=413)
        request.upload_handlers.insert(0, BodyLimitHandler(request, limit))
        return self.get_response(request)


# --- what no browser or proxy keeps ---------------------------------------------------------------

PRIVATE = "private, no-store"


class PrivateResponsesMiddleware:
    """``Cache-Control: private, no-store`` on every response to a signed-in user (a page, an htmx
    fragment, an export) and to an API request authenticated by a token: each may carry personal
    data, which a shared proxy must not keep and a browser must not write to disk.

    After AuthenticationMiddleware. The user is looked at only when a session cookie came with the
    request, so an anonymous request (a public page, an API read) costs nothing here; public pages
    keep their own caching.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "auth", None) is not None or (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and getattr(request, "user", None) is not None
            and request.user.is_authenticated
        ):
            response["Cache-Control"] = PRIVATE
        return response
