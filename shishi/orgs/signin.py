"""The sign-in policy: two lockouts, and sign-ins in the audit log.

django-axes counts failed sign-ins (``AccessAttempt`` rows, one per username, address and user
agent) and refuses a locked-out sign-in before any password is checked. Its lockout parameters
share one limit, so they cannot say "5 per login, and 30 per address"; this handler, axes'
documented point of extension (``AXES_HANDLER``), adds the second limit over the same rows:

- per login: ``LOGIN_FAILURE_LIMIT`` failures of one username (any spelling, see
  ``LoginForm.clean_username``) within the cool-off window lock that login;
- per address: ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one client address, across every
  username, within the same window lock that address (password spraying: a few guesses at many
  logins stays under every login's own limit).

Either lockout lasts until the failures that caused it are a cool-off old: at most
``LOGIN_COOLOFF_MINUTES`` after it began, which the refusal names (``Retry-After``). Attempts
refused during a lockout are neither counted nor written to the audit log (settings.py).

Each counted failure is an audit entry (``orgs.login.failed``, no actor, the username as typed
with a mobile number masked), and so is the start of each lockout (``orgs.login.locked``); a
sign-in and a sign-out are entries of the login that did them (``signed_in``, ``signed_out``).
An entry about a known login goes to its county's chain, one about an unknown name to the chain
of no county.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Max, Q, Sum

from shishi.audit.services import record
from shishi.lib.masking import is_mobile, mask_phone, normalize_phone

from .models import User

# What a lockout is of.
LOGIN = "login"
ADDRESS = "address"


@dataclass(frozen=True)
class Lockout:
    by: str  # LOGIN or ADDRESS
    until: dt.datetime  # the latest it can last


def typed_username(request, credentials: dict | None = None) -> str:
    """The username as the person typed it on the sign-in page (else as checked: the old
    password on the password page), for the audit log: a mobile number masked, the whole cut to
    the field's length. Never the password."""
    typed = request.POST.get("username", "") or (credentials or {}).get("username") or ""
    typed = typed.strip()[:150]
    phone = normalize_phone(typed)
    return mask_phone(phone) if is_mobile(phone) else typed


def _about(user: User | None):
    """The object an entry about ``user`` names: their person (whose county chain it joins),
    else the login itself."""
    if user is None:
        return None
    return getattr(user, "person", None) or user


class SignInHandler(AxesDatabaseHandler):
    """axes' database handler with the per-address limit, and the audit entries of failures and
    lockouts (``AXES_HANDLER``)."""

    def lockout(self, request, credentials: dict | None = None) -> Lockout | None:
        """The lockout the request meets now, if any: of its login, else of its address.

        Two indexed sums over the attempts of the window (username and address are indexed).
        """
        threshold = get_cool_off_threshold(request)
        cool_off = get_cool_off(request)
        checks = []
        username = get_client_username(request, credentials)
        if username is not None:
            checks.append((LOGIN, Q(username=username), get_failure_limit(request, credentials)))
        address = getattr(request, "axes_ip_address", None)
        if address:
            checks.append((ADDRESS, Q(ip_address=address), settings.LOGIN_ADDRESS_FAILURE_LIMIT))
        for by, where, limit in checks:
            seen = AccessAttempt.objects.filter(where, attempt_time__gte=threshold).aggregate(
                failures=Sum("failures_since_start"), last=Max("attempt_time")
            )
            if (seen["failures"] or 0) >= limit:
                return Lockout(by, seen["last"] + cool_off)
        return None

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if not settings.AXES_LOCK_OUT_AT_FAILURE:
            return False
        found = self.lockout(request, credentials)
        if found is not None:
            # The refusal page says which lockout, and until when.
            request.shishi_lockout = found
        return found is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # Locked before this attempt: the backend refused it unchecked, and it is not counted.
        refused = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or refused:
            return
        found = self.lockout(request, credentials)
        if found is not None:
            request.shishi_lockout = found
            if not request.axes_locked_out:
                # axes saw only the per-login count; the address's limit is ours to apply.
                request.axes_locked_out = True
                request.axes_credentials = credentials
                user_locked_out.send(
                    "axes",
                    request=request,
                    username=get_client_username(request, credentials),
                    ip_address=request.axes_ip_address,
                )
        username = get_client_username(request, credentials)
        user = (
            User.objects.filter(username=username).select_related("person").first()
            if username
            else None
        )
        typed = typed_username(request, credentials)
        record(None, "orgs.login.failed", _about(user), data={"username": typed}, public=False)
        if found is not None:
            record(
                None,
                "orgs.login.locked",
                _about(user),
                data={"username": typed, "by": found.by, "until": found.until},
                public=False,
            )


def signed_in(request, user: User) -> None:
    record(user, "orgs.login.signed_in", _about(user), public=False)


def signed_out(request, user: User) -> None:
    record(user, "orgs.login.signed_out", _about(user), public=False)
