import ipaddress
import re
import uuid

from .context import RequestContext, current

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Gives each request an id (kept from a proxy's X-Request-ID when sane) for the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        # REMOTE_ADDR is the client: behind a trusted proxy, TrustedProxyMiddleware has set it.
        ip = _address(request.META.get("REMOTE_ADDR"))
        request.request_id = request_id
        token = current.set(RequestContext(request_id=request_id, ip=ip, memo={}))
        try:
            response = self.get_response(request)
        finally:
            current.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _address(value: str | None) -> str | None:
    """The address in its canonical form, or None when it is not one (a unix socket).

    PostgreSQL stores an address in its short form, and the audit hash covers the text, so an
    address written in a long form would read back different and break the chain.
    """
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None
