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
from django.urls import reverse
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
    reader's language (a state's code into its label).

    A kind that may come in floods (a unit's 500 progress reports for one reviewer) names
    ``many``, its text for a digest (``ngettext_lazy(..., "count")``, with ``%(count)d`` and the
    latest item's parameters), and ``many_url``, the URL name of the page listing the items:
    while the reader has one unread, the next are gathered into one digest (``notify``)."""

    text: Any
    prepare: Callable[[dict], dict] | None = None
    many: Any = None
    many_url: str = ""

    def render(self, params: dict, count: int | None = None) -> str:
        """The text; with ``count``, the digest's text for ``count`` items."""
        values = dict(params)
        if self.prepare is not None:
            values = self.prepare(values)
        text = self.text
        if count is not None and self.many is not None:
            text, values = self.many, {**values, "count": count}
        try:
            return str(text % values) if count is not None else str(text) % values
        except (KeyError, TypeError, ValueError):
            # A notice whose text changed since it was sent: say what we can, never fail a page.
            log.warning("notice %r cannot render %r", text, params)
            return str(self.text).split("%(")[0].rstrip(" :：")


def notices() -> dict[str, Notice]:
    """Every app's notice kinds, by kind."""
    found: dict[str, Notice] = {}
    for _label, kinds in contributions("notices"):
        found.update(kinds)
    return found


def render(note: Notification, waiting: int | None = None) -> str:
    """The notification's text in the active language. A digest says how many items it gathers:
    ``waiting``, those not yet handled, when given and not zero; otherwise all of them."""
    notice = notices().get(note.kind)
    if notice is None:  # a kind of an app no longer installed
        return str(note.params.get("text") or note.kind)
    if note.items > 1:
        return notice.render(note.params, waiting or note.items)
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

    A kind that gathers (``Notice.many``) is gathered while the reader has one of that kind unread
    and not handled: the new item is kept (for ``handled``) but shown and counted through one
    digest, and no mail goes out for it, so a flood of 500 reports is one notice and one mail.
    """
    if user is None or not user.is_active:
        return None
    notice = notices().get(kind)
    if notice is None:
        raise ValueError(f"unknown notice kind {kind!r}")
    target_type, target_id = _target(about)
    params = params or {}
    try:
        with transaction.atomic():
            shown = (
                _shown_of_kind(user, kind).select_for_update().first()
                if notice.many is not None
                else None
            )
            note = Notification.objects.create(
                user=user,
                kind=kind,
                params=params,
                target_type=target_type,
                target_id=target_id,
                county_id=getattr(about, "county_id", None),
                url=url,
                key=key,
            )
            if shown is not None:
                _gather(shown, note, notice)
                return note
    except IntegrityError:
        return None
    if user.email and settings.EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend":
        transaction.on_commit(lambda: _mail(note.pk))
    return note


def _shown_of_kind(user, kind: str):
    """The notice of ``kind`` the reader has unread and not handled, newest first: the one a new
    item of that kind joins."""
    return Notification.objects.filter(
        user=user, kind=kind, head__isnull=True, read_at__isnull=True, handled_at__isnull=True
    ).order_by("-created_at", "-id")


def _gather(shown: Notification, note: Notification, notice: Notice) -> None:
    """Gather ``note`` with ``shown``: into it when it is a digest already, otherwise into a new
    digest of the two. The digest reads with the latest item's parameters and is dated by it."""
    if shown.items > 1:
        digest = shown
        Notification.objects.filter(pk=digest.pk).update(
            items=models.F("items") + 1,
            params=note.params,
            county_id=note.county_id,
            created_at=note.created_at,
        )
    else:
        digest = Notification.objects.create(
            user_id=note.user_id,
            kind=note.kind,
            params=note.params,
            county_id=note.county_id,
            url=reverse(notice.many_url) if notice.many_url else note.url,
            items=2,
        )
        shown.head = digest
        shown.save(update_fields=["head"])
    note.head = digest
    note.save(update_fields=["head"])


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
    report reviewed, the adjustment decided), so they stop waiting for anyone. A digest is
    closed with the last of its items: until then it waits, saying how many still do."""
    target_type, target_id = _target(about)
    now = timezone.now()
    items = Notification.objects.filter(
        target_type=target_type,
        target_id=target_id,
        kind__in=list(kinds),
        handled_at__isnull=True,
    )
    digests = list(items.filter(head__isnull=False).values_list("head_id", flat=True))
    closed = items.update(handled_at=now)
    if digests:
        Notification.objects.filter(pk__in=digests, handled_at__isnull=True).exclude(
            models.Exists(
                Notification.objects.filter(head=models.OuterRef("pk"), handled_at__isnull=True)
            )
        ).update(handled_at=now)
    return closed


def shown(user):
    """The login's notifications as the page lists them: a digest in place of its items."""
    return Notification.objects.filter(user=user, head__isnull=True)


def waiting(user):
    """The login's notifications neither read nor handled (the bell's count), a digest once."""
    return shown(user).filter(read_at__isnull=True, handled_at__isnull=True)


def still_waiting(digests: Iterable[Notification]) -> dict[int, int]:
    """For each digest, how many of its items are not yet handled (one query)."""
    ids = [note.pk for note in digests if note.items > 1]
    if not ids:
        return {}
    return dict(
        Notification.objects.filter(head_id__in=ids, handled_at__isnull=True)
        .values("head_id")
        .annotate(n=models.Count("id"))
        .values_list("head_id", "n")
    )


def mark_read(user, ids: list[int] | None = None) -> int:
    """Mark read the notices named (or all), a digest with its items; the count is of notices
    shown, a digest once."""
    qs = shown(user).filter(read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    marked = qs.count()
    chosen = qs.values("pk")
    Notification.objects.filter(
        models.Q(pk__in=chosen) | models.Q(head_id__in=chosen), read_at__isnull=True
    ).update(read_at=timezone.now())
    return marked


def state_label(note: Notification) -> str:
    """What the page says beside a notification: new, handled, or nothing once read."""
    if note.handled_at is not None:
        return pgettext("notification", "done")
    if note.read_at is None:
        return _("new")
    return ""
