"""Creating, revoking and checking API tokens. The plain token leaves this module once, when made."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.audit.models import Entry
from shishi.audit.services import record
from shishi.orgs import access
from shishi.orgs.models import Person

from .access import REVOKE_TOKENS
from .models import Token

# Tokens say what they are, so a leaked one is recognisable in logs and secret scanners.
TOKEN_PREFIX = "shishi_"  # noqa: S105 (a label, not a secret)
VISIBLE_CHARS = len(TOKEN_PREFIX) + 6
# last_used_at is bookkeeping, not history: written at most once a minute per token.
TOUCH_INTERVAL = dt.timedelta(minutes=1)
# A dead token's refusals are written to the audit log at most once a minute per token.
REFUSAL_INTERVAL = dt.timedelta(minutes=1)


def digest(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def _county_id(user) -> int | None:
    person = getattr(user, "person", None)
    return getattr(person, "county_id", None)


@transaction.atomic
def create_token(actor, user, *, name: str = "") -> tuple[Token, str]:
    """A new token for ``user``: (the stored token, the plain token to show once).

    A person makes tokens for themselves; ``actor=None`` is an operator at the console
    (``shishi create-api-token``). Nobody makes a token for someone else: it would let them act
    under that person's name.
    """
    if actor is not None and actor.pk != user.pk:
        raise PermissionDenied(_("You can only create API tokens for yourself."))
    # Read afresh and held: the token takes the login's stamp as it is now, and a password set
    # at the same moment waits for the token and then ends it.
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise ValidationError(_("This login is disabled."))
    name = (name or "").strip()
    if len(name) > 100:
        raise ValidationError(
            {"name": _("At most %(n)d characters; this has %(m)d.") % {"n": 100, "m": len(name)}}
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = Token.objects.create(
        user=user,
        name=name,
        prefix=plain[:VISIBLE_CHARS],
        digest=digest(plain),
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.API_TOKEN_DAYS),
        stamp=user.credentials_stamp(),
    )
    record(
        actor,
        "api.token.created",
        token,
        data={
            "user": user.pk,
            "prefix": token.prefix,
            "name": name,
            "expires_at": token.expires_at,
        },
        county_id=_county_id(user),
        public=False,
    )
    return token, plain


def tokens_for(actor) -> QuerySet[Token]:
    """The tokens ``actor`` may see and revoke: their own, and those of the logins of people in
    the scope where they hold ``REVOKE_TOKENS`` (the security administrator)."""
    own = Token.objects.filter(user=actor)
    if not access.has_perm(actor, REVOKE_TOKENS):
        return own
    people = access.people_for(actor, REVOKE_TOKENS).filter(user__isnull=False)
    return Token.objects.filter(Q(user=actor) | Q(user__in=people.values("user_id")))


@transaction.atomic
def revoke_token(actor, token: Token) -> Token:
    """Revoke a token at once. Its owner may, and so may whoever holds ``REVOKE_TOKENS`` on the
    owner's organisation (someone leaving, a token leaked); ``actor=None`` is an operator at the
    console (``shishi revoke-api-token``)."""
    token = Token.objects.select_for_update().get(pk=token.pk)
    if actor is not None and actor.pk != token.user_id:
        person = Person.objects.select_related("org").filter(user_id=token.user_id).first()
        if person is None or not access.has_perm_on(actor, REVOKE_TOKENS, person.org):
            raise PermissionDenied(_("You can only revoke your own API tokens."))
    if token.revoked_at is not None:
        raise ValidationError(_("This token has already been revoked."))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(
        actor,
        "api.token.revoked",
        token,
        changes={"revoked_at": [None, token.revoked_at]},
        data={"user": token.user_id, "prefix": token.prefix},
        county_id=_county_id(token.user),
        public=False,
    )
    return token


def _refused_lately(token: Token, now: dt.datetime) -> bool:
    """Whether the token's last audit entry is a refusal less than ``REFUSAL_INTERVAL`` old: a
    forgotten script retrying a dead token every second writes one entry a minute, not 86,400 a
    day. One probe of the log's index by object, newest first."""
    last = (
        Entry.objects.filter(object_type=Token._meta.label_lower, object_id=str(token.pk))
        .order_by("-seq")
        .values_list("action", "time")
        .first()
    )
    return last is not None and last[0] == "api.token.refused" and now - last[1] < REFUSAL_INTERVAL


class Refused(Exception):
    """A token was sent that does not count; ``message`` says why, in the reader's language."""

    def __init__(self, reason: str, message: str):
        self.reason, self.message = reason, message
        super().__init__(message)


def _refusal_message(token: Token, reason: str) -> str:
    if reason == "revoked":
        return _("This API token has been revoked.")
    if reason == "disabled":
        return _("This API token's login is disabled.")
    if reason == "signed_out":
        return _(
            "This API token ended when its login's password was set or the login was disabled; "
            "make a new one."
        )
    return _("This API token expired on %(date)s; make a new one on the API tokens page.") % {
        "date": timezone.localtime(token.expires_at).strftime("%Y-%m-%d %H:%M")
    }


def authenticate(plain: str) -> Token:
    """The live token for ``plain``, with its user; raises ``Refused`` otherwise.

    An unknown token is refused without a trace (anyone may send any string). A known one that
    no longer counts (revoked, expired, its login disabled or signed out everywhere since) is
    refused with its reason, which is written to the audit log: someone still holds it. Nothing
    of the token is changed then.
    """
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        raise Refused("unknown", _("The API token is not valid, or has been revoked."))
    token = Token.objects.select_related("user").filter(digest=digest(plain)).first()
    if token is None:
        raise Refused("unknown", _("The API token is not valid, or has been revoked."))
    now = timezone.now()
    reason = token.refusal(now)
    if reason:
        if not _refused_lately(token, now):
            record(
                None,
                "api.token.refused",
                token,
                data={"user": token.user_id, "prefix": token.prefix, "reason": reason},
                county_id=_county_id(token.user),
                public=False,
            )
        raise Refused(reason, _refusal_message(token, reason))
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        Token.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
