"""Notifications: in the app always, by mail when Django's mail settings are configured."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from .models import Notification

log = logging.getLogger("shishi.notify")


def notify(user, kind: str, text: str, *, url: str = "", key: str = "") -> Notification | None:
    """Notify ``user``; with a ``key`` already sent to them, do nothing and return None.

    Mail goes out after the surrounding transaction commits, so a rolled-back change sends none.
    """
    if user is None or not user.is_active:
        return None
    try:
        with transaction.atomic():
            note = Notification.objects.create(
                user=user, kind=kind, text=text[:300], url=url, key=key
            )
    except IntegrityError:
        return None
    if user.email and settings.EMAIL_BACKEND != "django.core.mail.backends.console.EmailBackend":
        transaction.on_commit(lambda: _mail(user.email, text, url))
    return note


def _mail(address: str, text: str, url: str) -> None:
    try:
        with translation.override(settings.LANGUAGE_CODE):
            send_mail(str(settings.SITE_NAME), f"{text}\n\n{url}", None, [address])
    except Exception:  # a mail server being down must not break the change that was saved
        log.exception("notification mail to %s failed", address)


def mark_read(user, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
