"""Notifications: stored as a kind with parameters, rendered in the reader's language when read."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """Something one login should know or do, about one item.

    The text is not stored: ``kind`` names a ``Notice`` of some app (``notices.py``) and
    ``params`` fills it, so the same notification reads in Chinese to one reader and in English
    to another. ``target_type`` and ``target_id`` name the item it is about; when the thing it
    asks for is done (the report reviewed, the adjustment decided) the service that did it marks
    it handled, and it stops counting as waiting. ``key`` makes a reminder idempotent (one per
    commitment, light and deadline), so a job can run twice safely.

    Notices of a kind that gathers (``Notice.many``) do not pile up: while a login has one of that
    kind unread and not handled, the next one is folded into a digest (``items`` > 1, no item of
    its own, its text "12 progress reports to review") that the page and the bell show in their
    place (``head`` names it). Each item keeps its own row, so ``handled`` still closes exactly
    the items done, and the digest is done when none of its items waits.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    target_type = models.CharField(_("about (type)"), max_length=50, blank=True)
    target_id = models.CharField(_("about (id)"), max_length=64, blank=True)
    # The county of the item it is about (None: no county): the future distribution key.
    county_id = models.BigIntegerField(_("county"), null=True, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    key = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)
    # A digest: how many items it gathers (1 for a notice of one item). Its created_at is the time
    # of its latest item, so that it rises to the top of the list as items arrive.
    items = models.PositiveIntegerField(_("items"), default=1)
    head = models.ForeignKey(
        "self",
        verbose_name=_("gathered in"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="gathered",
    )

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"],
                condition=~models.Q(key=""),
                name="notif_once_per_key",
            )
        ]
        indexes = [
            # The bell on every workspace page: a login's notifications neither read nor handled
            # (an item gathered in a digest is counted by its digest); and the digest a new item
            # of a kind joins.
            models.Index(
                fields=["user", "kind", "created_at"],
                condition=models.Q(
                    read_at__isnull=True, handled_at__isnull=True, head__isnull=True
                ),
                name="notif_user_waiting_shown",
            ),
            # The page of one login's notifications, newest first.
            models.Index(fields=["user", "created_at", "id"], name="notif_user_created"),
            # A county's notifications (the distribution key leads an index).
            models.Index(fields=["county_id", "created_at"], name="notif_county_created"),
            # Marking handled the notifications about one item (a report reviewed).
            models.Index(
                fields=["target_type", "target_id"],
                condition=models.Q(handled_at__isnull=True),
                name="notif_target_open",
            ),
        ]

    def __str__(self):
        return f"{self.kind} → {self.user_id}"
