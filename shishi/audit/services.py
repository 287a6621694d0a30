"""Writing to the audit log. Every service function in every app calls ``record``."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from shishi.lib.hashchain import link

from .context import current
from .models import Entry, Head


def _plain(value: Any) -> Any:
    """A JSON-safe value for the log: dates as ISO text, decimals as strings, models as ids."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    """The named fields of ``obj`` as plain values (foreign keys by id)."""
    out = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = _plain(getattr(obj, field.attname))
    return out


def diff(before: Mapping, after: Mapping) -> dict:
    """``{field: [before, after]}`` for each field whose value changed."""
    return {
        k: [_plain(before.get(k)), _plain(after.get(k))]
        for k in sorted(set(before) | set(after))
        if _plain(before.get(k)) != _plain(after.get(k))
    }


def record(
    actor,
    action: str,
    obj: models.Model | None = None,
    *,
    changes: Mapping | None = None,
    data: Mapping | None = None,
    county_id: int | None = None,
) -> Entry:
    """Append one entry. Call inside the service's transaction, so the change and its entry land
    together or not at all. Writers queue on the head row, so the chain never forks."""
    ctx = current.get()
    with transaction.atomic():
        head, _ = Head.objects.select_for_update().get_or_create(pk=1)
        if county_id is None and obj is not None:
            county_id = getattr(obj, "county_id", None)
        actor_obj = actor if getattr(actor, "is_authenticated", False) else None
        entry = Entry(
            seq=head.seq + 1,
            time=timezone.now(),
            actor=actor_obj,
            actor_label=actor_obj.get_username() if actor_obj else "system",
            action=action,
            object_type=obj._meta.label_lower if obj is not None else "",
            object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
            object_repr=str(obj)[:200] if obj is not None else "",
            changes=_plain(dict(changes or {})),
            data=_plain(dict(data or {})),
            request_id=ctx.request_id,
            ip=ctx.ip,
            county_id=county_id,
            prev_hash=head.hash,
        )
        entry.hash = link(entry.prev_hash, entry.payload())
        entry.save()
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


def record_many(
    actor, action: str, items: list[tuple[models.Model, Mapping | None, Mapping | None]]
) -> int:
    """Append one entry per (object, changes, data) under a single lock of the head: the bulk
    paths (imports of thousands of rows) write the same chain as ``record`` in a few queries."""
    if not items:
        return 0
    ctx = current.get()
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        head, _ = Head.objects.select_for_update().get_or_create(pk=1)
        seq, prev, now = head.seq, head.hash, timezone.now()
        entries = []
        for obj, changes, data in items:
            seq += 1
            entry = Entry(
                seq=seq,
                time=now,
                actor=actor_obj,
                actor_label=actor_obj.get_username() if actor_obj else "system",
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                changes=_plain(dict(changes or {})),
                data=_plain(dict(data or {})),
                request_id=ctx.request_id,
                ip=ctx.ip,
                county_id=getattr(obj, "county_id", None),
                prev_hash=prev,
            )
            entry.hash = prev = link(entry.prev_hash, entry.payload())
            entries.append(entry)
        Entry.objects.bulk_create(entries, batch_size=1000)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    return len(entries)
