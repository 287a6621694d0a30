"""Sending, rendering and closing notifications, for every mechanism.

A mechanism declares its kinds in its ``notices.py`` as ``Notice`` objects and names that dict on
its AppConfig (``notices = "shishi.commitments.notices.NOTICES"``). It sends one with ``notify``,
choosing recipients by permission on an organisation (``orgs.access.holders``), and closes it with
``handled`` when the thing it asks for is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from shishi.extensions import contributions

from .models import Notification

log = logging.getLogger("shishi.notify")


@dataclass(frozen=True)
class Notice:
    """A kind of notification: its text with ``%(name)s`` placeholders (a lazy translation), and
    optionally ``prepare``, which turns stored parameters into what the text shows in the
    reader's language (a state's code into its label)."""

    text: Any
    prepare: Callable[[dict], dict] | None = None

    def render(self, params: dict) -> str:
        values = dict(params)
        if self.prepare is not None:
            values = self.prepare(values)
        try:
            return str(self.text) % values
        except (KeyError, TypeError, ValueError):
            # A notice whose text changed since it was sent: say what we can, never fail a page.
            log.warning("notice %r cannot render %r", self.text, params)
            return str(self.text).split("%(")[0].rstrip(" :：")


def notices() -> dict[str, Notice]:
    """Every app's notice kinds, by kind."""
    found: dict[str, Notice] = {}
    for _label, kinds in contributions("notices"):
        found.update(kinds)
    return found


def render(note: Notification) -> str:
    """The notification's text in the active language."""
    notice = notices().get(note.kind)
    if notice is None:  # a kind of an app no longer installed
        return str(note.params.get("text") or note.kind)
    return notice.render(note.params)


def _target(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def notify(
    user,
    kind: str,
    params: dict | None = None,
    *,
    about: models.Model | None = None,
    url: str = "",
    key: str = "",
) -> Notification | None:
    """Notify ``user`` of ``kind`` (a key of some app's notices) about the item ``about``.

    With a ``key`` already sent to them, do nothing and return None. Mail goes out after the
    surrounding transaction commits, so a rolled-back change sends none.
    """
    if user is None or not user.is_active:
        return None
    if kind not in notices():
        raise ValueError(f"unknown notice kind {kind!r}")
    target_type, target_id = _target(about)
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user,
                kind=kind,
                params=params or {},
                target_type=target_type,
                target_id=target_id,
                county_id=getattr(about, "county_id", None),
                url=url,
                key=key,
            )
    except IntegrityError:
        return None
    if user.email and settings.EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend":
        transaction.on_commit(lambda: _mail(note.pk))
    return note


def _mail(note_id: int) -> None:
    """The notification by mail, rendered as the page renders it. Logins carry no language of
    their own yet, so mail is written in the site's language."""
    note = Notification.objects.select_related("user").filter(pk=note_id).first()
    if note is None or not note.user.email:
        return
    try:
        with translation.override(settings.LANGUAGE_CODE):
            text = render(note)
            send_mail(str(settings.SITE_NAME), f"{text}\n\n{note.url}", None, [note.user.email])
    except Exception:  # a mail server being down must not break the change that was saved
        log.exception("notification mail to %s failed", note.user.email)


def handled(about: models.Model, kinds: Iterable[str]) -> int:
    """Close the notifications of ``kinds`` about ``about``: what they asked for is done (the
    report reviewed, the adjustment decided), so they stop waiting for anyone."""
    target_type, target_id = _target(about)
    return Notification.objects.filter(
        target_type=target_type,
        target_id=target_id,
        kind__in=list(kinds),
        handled_at__isnull=True,
    ).update(handled_at=timezone.now())


def waiting(user):
    """The login's notifications neither read nor handled (the bell's count)."""
    return Notification.objects.filter(user=user, read_at__isnull=True, handled_at__isnull=True)


def mark_read(user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def state_label(note: Notification) -> str:
    """What the page says beside a notification: new, handled, or nothing once read."""
    if note.handled_at is not None:
        return pgettext("notification", "done")
    if note.read_at is None:
        return _("new")
    return ""
