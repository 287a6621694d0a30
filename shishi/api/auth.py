"""Bearer-token authentication: a token stands for its login, and nothing more."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from . import services
from .errors import BadToken
from .models import Token


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``. On success ``request.user`` is the token's login, so
    the access helpers and services check that login's roles exactly as in the web app; a
    session cookie sent along is ignored (and so no CSRF question arises)."""

    def authenticate(self, request: HttpRequest, token: str) -> Token:
        found = services.authenticate(token.strip())
        if found is None:
            raise BadToken()
        request.user = found.user
        return found


bearer = BearerToken()
