from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shishi.lib.hashchain import GENESIS


class AppendOnlyError(Exception):
    pass


class Entry(models.Model):
    """One change, appended to a hash chain: each entry's hash covers the one before it.

    Rows are never updated or deleted: the model refuses it, and a database trigger (see the
    migration) refuses it too, so only someone who drops the trigger can tamper, and
    ``shishi verify-audit`` then names the first entry that no longer fits.
    """

    seq = models.BigIntegerField(_("sequence"), primary_key=True)
    time = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("object type"), max_length=50, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    # The county the change belongs to: the future distribution key (see docs/deploy.md).
    county_id = models.BigIntegerField(_("county"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            # The auditor's page filtered by action or object, newest first.
            models.Index(fields=["action", "seq"], name="audit_action_seq"),
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_seq"),
            models.Index(fields=["actor", "seq"], name="audit_actor_seq"),
            models.Index(fields=["county_id", "seq"], name="audit_county_seq"),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit entries cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit entries cannot be deleted")

    def payload(self) -> dict:
        """The fields the hash covers, as plain JSON values."""
        return {
            "seq": self.seq,
            "time": self.time.isoformat(),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "changes": self.changes,
            "data": self.data,
            "request_id": self.request_id,
            "ip": self.ip,
            "county_id": self.county_id,
        }


class Head(models.Model):
    """The last entry's sequence and hash, one row: the lock writers take, and the anchor that
    catches entries removed from the end of the log."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)

    class Meta:
        verbose_name = _("audit head")
        verbose_name_plural = _("audit head")

    def __str__(self):
        return f"{self.seq}:{self.hash[:12]}"
