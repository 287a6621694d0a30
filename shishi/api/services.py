"""Creating, revoking and checking API tokens. The plain token leaves this module once, when made."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.audit.services import record
from shishi.orgs import access
from shishi.orgs.models import Person

from .models import Token

# Tokens say what they are, so a leaked one is recognisable in logs and secret scanners.
TOKEN_PREFIX = "shishi_"  # noqa: S105 (a label, not a secret)
VISIBLE_CHARS = len(TOKEN_PREFIX) + 6
# last_used_at is bookkeeping, not history: written at most once a minute per token.
TOUCH_INTERVAL = dt.timedelta(minutes=1)


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
    if not user.is_active:
        raise ValidationError(_("This login is disabled."))
    name = (name or "").strip()
    if len(name) > 100:
        raise ValidationError(
            {"name": _("At most %(n)d characters; this has %(m)d.") % {"n": 100, "m": len(name)}}
        )
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = Token.objects.create(
        user=user, name=name, prefix=plain[:VISIBLE_CHARS], digest=digest(plain)
    )
    record(
        actor,
        "api.token.created",
        token,
        data={"user": user.pk, "prefix": token.prefix, "name": name},
        county_id=_county_id(user),
        public=False,
    )
    return token, plain


@transaction.atomic
def revoke_token(actor, token: Token) -> Token:
    """Revoke a token at once. Its owner may, and so may an account manager whose scope covers
    the owner's organisation (someone leaving, a token leaked)."""
    token = Token.objects.select_for_update().get(pk=token.pk)
    if actor is not None and actor.pk != token.user_id:
        person = Person.objects.select_related("org").filter(user_id=token.user_id).first()
        if person is None or not access.has_perm_on(actor, access.MANAGE_ACCOUNTS, person.org):
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


def authenticate(plain: str) -> Token | None:
    """The live token for ``plain`` (with its user), or None: unknown, revoked, or the login is
    disabled."""
    if not plain.startswith(TOKEN_PREFIX) or len(plain) > 200:
        return None
    token = (
        Token.objects.select_related("user")
        .filter(digest=digest(plain), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_INTERVAL:
        Token.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
