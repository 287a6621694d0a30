"""API tokens: one login may hold several, each shown in full once and stored only as a digest."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _


class Token(models.Model):
    """A bearer token that authenticates API requests as its login.

    Only the SHA-256 digest of the token is kept. A fast hash is enough here (unlike passwords):
    the token is 256 random bits, so there is nothing to guess, and a digest can be looked up
    by its unique index on every request. ``prefix`` is the visible start of the token, so a
    person can tell their tokens apart without the secret.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    # Unique, hence indexed: the lookup made by every authenticated API request.
    digest = models.CharField(_("SHA-256 digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    # The login's credentials stamp when the token was made: a password set since, or the login
    # disabled since, changes the login's stamp, and the token no longer counts.
    stamp = models.CharField(_("credentials stamp"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.prefix}…"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_expired(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def refusal(self, now=None) -> str:
        """Why the token does not count now, or "" when it does: ``revoked``, ``disabled`` (the
        login), ``signed_out`` (a password set or the login disabled since it was made),
        ``expired``. Reads ``self.user``."""
        if self.revoked_at is not None:
            return "revoked"
        if not self.user.is_active:
            return "disabled"
        if not constant_time_compare(self.stamp, self.user.credentials_stamp()):
            return "signed_out"
        if self.is_expired(now):
            return "expired"
        return ""
