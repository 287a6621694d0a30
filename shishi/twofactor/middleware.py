"""Nothing in the workspace before the second factor, for a login that has one or must have one."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from . import services


class SecondFactorMiddleware:
    """After the authentication middleware. A signed-in login whose session has not given a
    second factor reaches no workspace page (``/work/``) but the second factor's own: it is sent
    to give its code, or, when it must have a factor and has none yet, to set one up.

    A session that has given its code carries the device's id (django-otp's session key); that
    is read here without a query, so a verified request costs nothing more. A reset of the
    factor ends the login's sessions, so no session outlives its device. The public site and
    the API (bearer tokens, no session) are not behind this door.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        path = request.path_info
        if (
            user is not None
            and user.is_authenticated
            and path.startswith("/work/")
            and not path.startswith("/work/account/two-factor/")
            and DEVICE_ID_SESSION_KEY not in request.session
        ):
            if services.enrolled(user):
                target = "twofactor:verify"
            elif services.required_for(user):
                target = "twofactor:setup"
            else:
                return self.get_response(request)
            return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
