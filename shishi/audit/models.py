import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shishi.lib import checkpoint
from shishi.lib.hashchain import GENESIS


class AppendOnlyError(Exception):
    pass


# The chain of entries that belong to no county (sign-ins, the calendar, the province's tree).
GLOBAL_CHAIN = 0


class Entry(models.Model):
    """One change, appended to a hash chain: each entry's hash covers the one before it.

    Each county keeps its own chain (``chain`` is the county's id; ``GLOBAL_CHAIN`` holds what
    belongs to no county), so writers in one county never wait for another county's, and the log
    is already split by the future distribution key. ``seq`` numbers all entries in the order they
    were appended, across chains; ``chain_seq`` is the position in the entry's chain.

    Rows are never updated or deleted: the model refuses it, and a database trigger (see the
    migration) refuses it too, so only someone who drops the trigger can tamper, and
    ``shishi verify-audit`` then names the first entry that no longer fits, or, for what the log
    alone cannot show (its end cut off with the head, every hash recomputed), the signed
    ``Checkpoint`` it no longer extends.
    """

    seq = models.BigAutoField(_("sequence"), primary_key=True)
    chain = models.BigIntegerField(_("chain"), default=GLOBAL_CHAIN)
    chain_seq = models.BigIntegerField(_("position in its chain"))
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
        constraints = [
            # One entry per position of a chain; also the order in which verify-audit reads.
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="audit_chain_position"),
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
        """The fields the hash covers, as plain JSON values.

        ``seq`` is the position in the chain. The global chain's entries carry no ``chain`` key,
        so entries written before the log was split by county hash as they always did.
        """
        return payload(
            chain=self.chain,
            seq=self.chain_seq,
            time=self.time,
            actor_id=self.actor_id,
            actor_label=self.actor_label,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            object_repr=self.object_repr,
            changes=self.changes,
            data=self.data,
            request_id=self.request_id,
            ip=self.ip,
            county_id=self.county_id,
        )


def payload(*, chain: int, seq: int, time, changes: Any, data: Any, **fields: Any) -> dict:
    """What an entry's hash covers (``Entry.payload``), from its values: the bulk writer hashes
    entries it has not made into models with it."""
    out = {
        "seq": seq,
        "time": time.isoformat(),
        "actor_id": fields["actor_id"],
        "actor_label": fields["actor_label"],
        "action": fields["action"],
        "object_type": fields["object_type"],
        "object_id": fields["object_id"],
        "object_repr": fields["object_repr"],
        "changes": changes,
        "data": data,
        "request_id": fields["request_id"],
        "ip": fields["ip"],
        "county_id": fields["county_id"],
    }
    if chain != GLOBAL_CHAIN:
        out["chain"] = chain
    return out


class Head(models.Model):
    """One chain's last position and hash: the lock its writers take, and the anchor that catches
    entries removed from the end of the chain.

    ``public`` counts the changes of public data in the chain's county: the public page cache
    (``shishi/pagecache.py``) keys a county's pages on it, so a change in one county leaves the
    other counties' pages in place, and a change that shows nowhere in public (a refused request,
    an export) moves nothing.
    """

    chain = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS)
    public = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit head")
        verbose_name_plural = _("audit head")

    def __str__(self):
        return f"{self.chain}:{self.seq}:{self.hash[:12]}"


class Checkpoint(models.Model):
    """A signed statement of every chain's head at one moment (``shishi audit-checkpoint``).

    The signature (``lib.checkpoint``) is made with a key kept in a file outside the database, so
    whoever can rewrite the database cannot make one: a log that no longer extends a checkpoint
    someone saved was changed after it. ``body()`` rebuilds exactly the signed body from the row.
    Checkpoints are written by the system only, at most one per move of the heads.
    """

    number = models.BigIntegerField(_("number"), primary_key=True)
    time = models.DateTimeField(_("time"))
    entries = models.BigIntegerField(_("entries"))
    # Each chain's [chain, position, hash] at its head, by chain: thousands of chains
    # nationally, so lists read ``chain_count`` and leave this out.
    chains = models.JSONField(_("chains"))
    chain_count = models.IntegerField(_("number of chains"))
    previous = models.CharField(_("previous checkpoint's digest"), max_length=64, blank=True)
    key = models.CharField(_("key fingerprint"), max_length=64)
    # The public key's 32 bytes, in base64: served with the checkpoint for convenience, never
    # trusted by verify-audit (which takes the key from its file or --public-key).
    public_key = models.CharField(_("public key"), max_length=64)
    signature = models.CharField(_("signature"), max_length=100)
    digest = models.CharField(_("digest"), max_length=64)

    class Meta:
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self):
        return f"#{self.number} {self.digest[:12]}"

    def body(self) -> dict:
        return checkpoint.body(
            number=self.number,
            time=signed_time(self.time),
            chains=[tuple(c) for c in self.chains],
            previous=self.previous,
            key=self.key,
        )


def signed_time(value) -> str:
    """A checkpoint's time as it is signed: UTC, to the second, ISO 8601."""
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()
