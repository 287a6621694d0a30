"""What every service function of commitments shares: dating, permission, telling people."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.notifications.services import notify
from shishi.orgs import access
from shishi.orgs.models import Org

from .. import access as caccess
from ..models import Commitment


def now_or(actor, at: dt.datetime | None) -> dt.datetime:
    """Now, or ``at`` for the system recording a past event (the demo, a historical ledger).
    A person's action is always dated when it happens."""
    if at is None:
        return timezone.now()
    if actor is not None:
        raise ValueError("only the system may date a change in the past")
    return at


def tell(at, users, kind: str, params: dict, *, about=None, url: str = "", actor=None) -> None:
    """Notify ``users`` (but not ``actor``) now; a past event the system records (``at`` given)
    is history, not news."""
    if at is not None:
        return
    for user in users:
        if user is not None and user != actor:
            notify(user, kind, params, about=about, url=url)


def deny(message: str) -> PermissionDenied:
    return PermissionDenied(message)


def require_county(actor, perm: str, county: Org) -> None:
    if actor is not None and not access.has_perm_on(actor, perm, county):
        raise deny(_("Your role does not allow this for %(org)s.") % {"org": county.name})


def require(actor, perm: str, commitment: Commitment) -> None:
    if actor is not None and not caccess.can(actor, perm, commitment):
        raise deny(
            _("Your role does not allow this for commitment %(n)s.") % {"n": commitment.number}
        )
