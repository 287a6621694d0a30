"""What every part of the API shares: one error shape, bearer tokens, pagination.

Every failure answers ``{"error": {"code": ..., "message": ..., "fields": {...}}}``. Handlers are
registered on the NinjaAPI (``register``); ``shaped`` wraps the URL patterns so that what Django
answers outside ninja's handlers (an unknown path, a wrong method) has the shape too, and
``csrf_failure`` gives a refused CSRF check under ``/api/`` the same shape.

A token stands for its login and nothing more (``BearerToken``). Lists take ``limit`` and
``offset`` and answer ``count``, ``limit``, ``offset``, ``items`` (``paginate``).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from functools import wraps
from typing import Annotated, Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.csrf import csrf_failure as html_csrf_failure
from ninja import NinjaAPI, P, Path, Query, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaError
from ninja.security import HttpBearer
from pydantic import BeforeValidator

from shishi import ratelimit

from . import services
from .models import Token

MAX_LIMIT = 200
MAX_ID = 2**63 - 1  # the largest id and offset the databases keep

# Ids and offsets as parameters: beyond what the database keeps is the one error shape (422),
# not an overflow inside the database (a 500).
PathId = Path[int, P(ge=1, le=MAX_ID)]
QueryId = Query[int | None, P(ge=1, le=MAX_ID)]
Offset = Query[int, P(ge=0, le=MAX_ID - MAX_LIMIT)]


def _iso_day(value: Any) -> Any:
    # Pydantic also reads a number as seconds since 1970 (?on=0 would be 1970-01-01).
    if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


# A day as a parameter: YYYY-MM-DD, nothing else.
IsoDate = Annotated[dt.date, BeforeValidator(_iso_day)]


# --- the shapes every answer shares ---------------------------------------------------------------


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, str]


class Error(Schema):
    error: ErrorDetail


class OrgRef(Schema):
    id: int
    code: str
    name: str


def org_ref(org) -> dict:
    return {"id": org.pk, "code": org.code, "name": org.name}


def decimal_text(value) -> str | None:
    return None if value is None else str(value)


def paginate(qs, limit: int, offset: int, serialize) -> dict:
    """One page of ``qs``: its count, and ``serialize`` of each row in the page."""
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [serialize(obj) for obj in qs[offset : offset + limit]],
    }


# The error answers each kind of endpoint documents.
PUBLIC_ERRORS = {404: Error, 422: Error, 429: Error}
WORK_ERRORS = {code: Error for code in (400, 401, 403, 404, 409, 422, 429)}


# --- errors ---------------------------------------------------------------------------------------

log = logging.getLogger("shishi.api")


class Conflict(Exception):
    """The request is at odds with the current state (already reviewed, already decided, or a
    version that is no longer current): 409."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class BadToken(AuthenticationError):
    """A token was sent that does not count: unknown, revoked, expired, or its login disabled or
    signed out everywhere since it was made. ``message`` says which."""

    def __init__(self, message: str = ""):
        super().__init__(message=message or _("The API token is not valid, or has been revoked."))


def body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    response = JsonResponse(body(code, message, fields), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="shishi"'
    return response


def rate_limited(exc: ratelimit.RateLimited) -> HttpResponse:
    """429 in the error shape, with ``Retry-After`` (seconds) as the message says."""
    response = error_response(429, "rate_limited", str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


def limit_anonymous(run):
    """For a router's operations (``router.add_decorator(limit_anonymous, mode="view")``): count
    each request per client address (``RATE_LIMIT_API_READS``) before anything else runs, and
    answer 429 past the limit. A read the page cache serves never gets here."""

    @wraps(run)
    def limited(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            ratelimit.hit(ratelimit.API_READS, ratelimit.client(request))
        except ratelimit.RateLimited as exc:
            return rate_limited(exc)
        return run(request, *args, **kwargs)

    return limited


def _fields(exc: ValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {
            name: " ".join(str(m) for m in ValidationError(errors).messages)
            for name, errors in exc.error_dict.items()
        }
    return {}


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return _("Some values are not valid; see the fields.")
    return " ".join(exc.messages)


def register(api: NinjaAPI) -> None:
    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        # The services mark a stale version with code="conflict".
        if getattr(exc, "code", None) == "conflict":
            return error_response(409, "conflict", _message(exc))
        return error_response(400, "invalid", _message(exc), _fields(exc))

    def on_schema(request: HttpRequest, exc: SchemaError) -> HttpResponse:
        fields: dict[str, str] = {}
        for error in exc.errors:
            loc = [str(part) for part in error.get("loc", ())]
            # The first part says where (body, query, path), and in a body the next one is the
            # view's parameter name, which means nothing to a client; the rest names the field.
            where, rest = (loc[0], loc[1:]) if loc else ("", [])
            if where == "body" and len(rest) > 1:
                rest = rest[1:]
            name = ".".join(rest) or where
            fields[name] = " ".join(filter(None, [fields.get(name), str(error.get("msg", ""))]))
        return error_response(
            422, "schema", _("The request does not match the documented schema."), fields
        )

    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        if isinstance(exc, BadToken):
            message = exc.message
        else:
            message = _("This needs an API token: send the header Authorization: Bearer <token>.")
        return error_response(401, "unauthenticated", message)

    def on_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return error_response(exc.status_code, "http_error", exc.message)

    def on_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(403, "forbidden", str(exc) or _("Your role does not allow this."))

    def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return error_response(404, "not_found", _("Not found."))

    def on_conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
        return error_response(409, "conflict", exc.message)

    def on_limited(request: HttpRequest, exc: ratelimit.RateLimited) -> HttpResponse:
        return rate_limited(exc)

    def on_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API error on %s %s", request.method, request.path)
        return error_response(500, "server_error", _("Something went wrong on our side."))

    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(SchemaError, on_schema)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(HttpError, on_http)
    api.add_exception_handler(PermissionDenied, on_denied)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(ObjectDoesNotExist, on_not_found)
    api.add_exception_handler(Conflict, on_conflict)
    api.add_exception_handler(ratelimit.RateLimited, on_limited)
    api.add_exception_handler(Exception, on_error)


def shaped(view):
    """Give ninja's plain-text "405 Method not allowed" the error shape."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            shaped_response = error_response(
                405, "method_not_allowed", _("This method is not allowed here.")
            )
            shaped_response["Allow"] = response.get("Allow", "")
            return shaped_response
        return response

    return wrapper


def not_found(request, *args, **kwargs):
    return error_response(404, "not_found", _("Not found."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF refusal (``CSRF_FAILURE_VIEW``): in the API's shape under ``/api/``, the
    usual page elsewhere. The API itself takes tokens, not cookies, so only a request to a path
    outside its operations (with a session cookie) meets the check at all."""
    if request.path.startswith("/api/"):
        return error_response(
            403,
            "csrf",
            _("This request was refused: its CSRF check failed (%(reason)s).") % {"reason": reason},
        )
    return html_csrf_failure(request, reason=reason)


# --- tokens ---------------------------------------------------------------------------------------


# Methods that change something, counted per token (RATE_LIMIT_API_WRITES).
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``. On success ``request.user`` is the token's login, so
    the access helpers and services check that login's roles exactly as in the web app; a
    session cookie sent along is ignored (and so no CSRF question arises).

    Rate limits: an address that sent ``RATE_LIMIT_BAD_TOKENS`` bad tokens this minute has no
    token checked (429) until the minute ends, so a flood of guesses costs one cache read each,
    not a database query; each token may make ``RATE_LIMIT_API_WRITES`` writes a minute."""

    def authenticate(self, request: HttpRequest, token: str) -> Token:
        address = ratelimit.client(request)
        ratelimit.check(ratelimit.BAD_TOKENS, address)
        try:
            found = services.authenticate(token.strip())
        except services.Refused as exc:
            ratelimit.hit(ratelimit.BAD_TOKENS, address)
            raise BadToken(exc.message) from None
        if request.method in WRITES:
            ratelimit.hit(ratelimit.API_WRITES, f"token{found.pk}")
        request.user = found.user
        return found


bearer = BearerToken()
