"""Two-factor sign-in (双因素认证): who must use it, enrolment, checking a code, reset.

A login that holds an administrator's or an auditor's role (``REQUIRED_KINDS``) must sign in
with a second factor; anyone else may. The factor is a TOTP authenticator app (RFC 6238, the
codes any authenticator app shows), with ten single-use recovery codes for a lost phone. The
devices are django-otp's; a code is accepted once (django-otp keeps the last time step used, so
a replayed code fails) and failures slow down the next attempt (django-otp's throttling).
Only the security administrator resets another login's second factor; every enrolment, failure
and reset is in the audit log.
"""

from __future__ import annotations

import django_otp
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from shishi.audit.services import record
from shishi.notifications.services import Notice, notify
from shishi.orgs import access
from shishi.orgs.models import Role, RoleKind
from shishi.orgs.services import end_sessions

R = RoleKind
# Administrators and auditors: the logins whose misuse would cost most.
REQUIRED_KINDS = frozenset(
    {
        R.SYSADMIN,
        R.SECURITY_ADMIN,
        R.AUDIT_ADMIN,
        R.COUNTY_ADMIN,
        R.TOWN_ADMIN,
        R.AUDITOR,
    }
)
RECOVERY_CODES = 10
TOTP_NAME = "authenticator"
STATIC_NAME = "recovery"

RESET = "twofactor.reset"
NOTICES = {
    RESET: Notice(
        gettext_lazy(
            "Your two-factor sign-in was reset by %(by)s. Set it up again at your next sign-in."
        )
    )
}


def required_for(user) -> bool:
    """Whether ``user`` must sign in with a second factor (a role in ``REQUIRED_KINDS``)."""
    return any(kind in REQUIRED_KINDS for kind, _path in access.roles_of(user))


def enrolled(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _county_id(user) -> int | None:
    person = getattr(user, "person", None)
    return person.org.county_id if person is not None else None


def start_enrolment(user) -> TOTPDevice:
    """An unconfirmed authenticator for ``user`` (the one already started, if any), to be shown
    as a QR code and confirmed with its first code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


@transaction.atomic
def confirm_enrolment(request, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm ``device`` with the code its app shows; on success return the recovery codes
    (shown once) and mark this session as signed in with the second factor."""
    user = device.user
    if not device.verify_token(_digits(code)):
        record(user, "twofactor.enrolment_failed", user, public=False, county_id=_county_id(user))
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(user)
    django_otp.login(request, device)
    record(user, "twofactor.enrolled", user, public=False, county_id=_county_id(user))
    return codes


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=STATIC_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=c) for c in codes])
    return codes


def _digits(code: str) -> str:
    """A code as typed: spaces and dashes dropped (apps show "123 456")."""
    return "".join(ch for ch in (code or "") if ch not in " -\u00a0")[:16]


def verify(request, code: str) -> bool:
    """Check a code from the authenticator or a recovery code; on success the session is
    signed in with the second factor. Every outcome is audited; a replayed or forged code fails
    (and slows down the next attempt)."""
    user = request.user
    code = _digits(code)
    for device in [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]:
        allowed, _info = device.verify_is_allowed()
        if allowed and device.verify_token(code):
            django_otp.login(request, device)
            kind = "recovery" if isinstance(device, StaticDevice) else "authenticator"
            record(
                user,
                "twofactor.verified",
                user,
                data={"device": kind},
                public=False,
                county_id=_county_id(user),
            )
            return True
    record(user, "twofactor.failed", user, public=False, county_id=_county_id(user))
    return False


def reset(actor, user) -> int:
    """Remove every second factor of ``user``: the security administrator over the person's
    organisation, never on their own login. Audited; the login is told."""
    person = getattr(user, "person", None)
    org = person.org if person is not None else None
    allowed = actor is None or (
        actor.pk != user.pk
        and org is not None
        and access.has_perm_on(actor, access.MANAGE_ROLES, org)
        and all(
            access.has_perm_on(actor, access.MANAGE_ROLES, role.org)
            for role in Role.objects.filter(user=user).select_related("org")
        )
    )
    if not allowed:
        record(
            actor,
            "twofactor.reset_refused",
            data={"login": user.pk},
            public=False,
            county_id=org.county_id if org else None,
        )
        raise PermissionDenied(_("Only a security administrator over this login resets it."))
    with transaction.atomic():
        removed = TOTPDevice.objects.filter(user=user).delete()[0]
        removed += StaticDevice.objects.filter(user=user).delete()[0]
        # A session that gave a code of the removed device ends: signed in again, the login
        # sets a new factor up (the door reads the session only, never the device).
        end_sessions(user)
        record(
            actor,
            "twofactor.reset",
            user,
            public=False,
            county_id=org.county_id if org else None,
        )
        if actor is not None:
            by = actor.person.name if hasattr(actor, "person") else actor.username
            notify(user, RESET, {"by": by})
    return removed
