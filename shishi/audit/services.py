"""Writing to the audit log. Every service function in every app calls ``record``."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.lib.hashchain import canonical_with, link_bytes
from shishi.lib.sheets import chunks
from shishi.lib.spill import Spill

from .context import current
from .models import GLOBAL_CHAIN, Entry, Head, payload

_SCALARS = frozenset({str, int, bool, float})


def _plain(value: Any) -> Any:
    """A JSON-safe value for the log: dates as ISO text, decimals as strings, models as ids."""
    if value is None or type(value) in _SCALARS:
        return value  # most values: said first, as bulk writes call this millions of times
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
    out = {}
    for k in sorted(set(before) | set(after)):
        old, new = _plain(before.get(k)), _plain(after.get(k))
        if old != new:
            out[k] = [old, new]
    return out


def _lock_head(chain: int) -> Head:
    """The chain's head, locked until the transaction ends: the chain's writers queue here."""
    head = Head.objects.select_for_update().filter(chain=chain).first()
    if head is None:
        # The chain's first entry. Two writers racing to start it: one inserts, the other's
        # insert fails and it reads (and locks) the row the first one made.
        try:
            with transaction.atomic():
                Head.objects.create(chain=chain)
        except IntegrityError:
            pass
        head = Head.objects.select_for_update().get(chain=chain)
    return head


def _chain_of(county_id: int | None) -> int:
    return county_id or GLOBAL_CHAIN


# Inside ``deferred()``, entries wait here and are written together when the block ends.
_pending: ContextVar[Spill[_Item] | _Dropped | None] = ContextVar("audit_pending", default=None)


@dataclass
class _Item:
    """One entry as the caller described it, before it has a place in its chain. ``changes``
    and ``data`` are kept as JSON text: an import of 100,000 rows keeps 100,000 of these until
    its end, and text takes a fraction of the memory of the dictionaries."""

    actor: Any
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: str
    data: str
    county_id: int | None
    public: bool
    time: dt.datetime


def _item(actor, action, obj, changes, data, county_id, public, now=None) -> _Item:
    if county_id is None and obj is not None:
        county_id = getattr(obj, "county_id", None)
    return _Item(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=_json(changes),
        data=_json(data),
        county_id=county_id,
        public=public,
        time=now or timezone.now(),
    )


# The details' JSON text as the hash chain takes it (``hashchain.canonical``): written once, hashed
# as it is.
CANONICAL: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}


def _json(values: Mapping | None) -> str:
    """``values`` as ``_plain`` would give them, in JSON text. json's own encoder walks the values
    (in C) and asks ``_plain`` only about those it does not know (dates, decimals, models); a key
    that JSON cannot take (a date) sends the whole through ``_plain`` first."""
    try:
        return json.dumps(dict(values or {}), default=_unknown, **CANONICAL)
    except TypeError:
        return json.dumps(_plain(dict(values or {})), **CANONICAL)


def _unknown(value: Any) -> Any:
    plain = _plain(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not a value for the audit log")
    return plain


def record(
    actor,
    action: str,
    obj: models.Model | None = None,
    *,
    changes: Mapping | None = None,
    data: Mapping | None = None,
    county_id: int | None = None,
    public: bool = True,
) -> None:
    """Append one entry to its county's chain (the county of ``obj``, or ``county_id``).

    Call inside the service's transaction, so the change and its entry land together or not at
    all. Writers of one county queue on its chain's head, so the chain never forks; writers of
    other counties do not wait. ``public=False`` says the change shows nowhere in public (a
    refused request, an export, a token): public pages cached for the county stay valid. Inside
    ``deferred()`` the entry waits and is written with the others when the block ends.
    """
    item = _item(actor, action, obj, changes, data, county_id, public)
    pending = _pending.get()
    if pending is not None:
        pending.share(item.actor)
        pending.append(item)
    else:
        _write([item])


def record_many(
    actor,
    action: str,
    items: Iterable[tuple[models.Model, Mapping | None, Mapping | None]],
    *,
    public: bool = True,
) -> int:
    """Append one entry per (object, changes, data), the same entries ``record`` would write, in
    a few queries per thousand: the bulk paths (imports of thousands of rows).

    Call it as late in the transaction as possible: from here to the commit, the chains' heads
    stay locked. Inside ``deferred()`` the entries wait for the block's end like ``record``'s.
    """
    now = timezone.now()
    batch = [_item(actor, action, o, c, d, None, public, now) for o, c, d in items]
    pending = _pending.get()
    if pending is not None:
        pending.share(batch[0].actor if batch else None)
        pending.extend(batch)
    else:
        _write(batch)
    return len(batch)


class _Dropped:
    """Where a dry run's entries go: counted, not kept."""

    def __init__(self) -> None:
        self.count = 0

    def share(self, obj: Any) -> None:
        pass

    def append(self, item: _Item) -> None:
        self.count += 1

    def extend(self, items: list[_Item]) -> None:
        self.count += len(items)

    def __len__(self) -> int:
        return self.count


@contextmanager
def deferred(*, write: bool = True) -> Iterator[Spill[_Item] | _Dropped]:
    """Collect the entries that ``record`` and ``record_many`` make inside the block and write
    them all when it ends, in a few queries per thousand, taking each chain's lock only then.

    A long bulk write (an import of 100,000 rows) then holds the chains' heads for the seconds
    its entries take, not for its whole write phase, and other writers of the county do not
    wait behind it. The entries wait in a temporary file (``lib.spill``), so memory does not grow
    with them. With ``write=False`` (a dry run, rolled back anyway) they are only counted: nothing
    is written and no lock is taken. Use it inside the transaction of the writes: if the block
    raises, the collected entries are dropped with it.
    """
    items: Spill[_Item] | _Dropped = Spill() if write else _Dropped()
    token = _pending.set(items)
    try:
        try:
            yield items
        finally:
            _pending.reset(token)
        if isinstance(items, Spill) and items:
            _write(items)
    finally:
        if isinstance(items, Spill):
            items.close()


def _write(items: list[_Item] | Spill[_Item]) -> None:
    """Write ``items`` to their chains: per chain, lock the head, insert, advance the head.

    ``items`` is read once to find the chains, then once per chain (a spill of 100,000 entries
    of an import is never all in memory)."""
    chains: dict[int, list] = {}  # chain → [entries, any public]
    for item in items:
        seen = chains.setdefault(_chain_of(item.county_id), [0, False])
        seen[0] += 1
        seen[1] = seen[1] or item.public
    settle = len(items) > 1 and connection.vendor == "postgresql"
    if settle:
        # PostgreSQL checks foreign keys at the commit (Django declares them deferred), taking a
        # share lock on each row a new row refers to. A bulk write that waited for those locks
        # while holding a chain's head would deadlock with a writer that holds such a row (an
        # organisation it renames) and waits for the head: the checks run here, first.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with transaction.atomic():
        # Heads are locked in one order, so two bulk writers never wait on each other in a cycle.
        for chain in sorted(chains):
            head = _lock_head(chain)
            count, public = chains[chain]
            chained = items if len(chains) == 1 else _of_chain(items, chain)
            seq, prev = _insert(chain, head.seq, head.hash, chained, count)
            fields: dict[str, Any] = {"seq": seq, "hash": prev}
            if public:
                fields["public"] = F("public") + 1
            Head.objects.filter(chain=chain).update(**fields)
    if settle:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


COPY_COLUMNS = (
    "chain",
    "chain_seq",
    "time",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "data",
    "request_id",
    "ip",
    "county_id",
    "prev_hash",
    "hash",
)
INSERT_CHUNK = 1000  # entries made, hashed and inserted at a time


def _of_chain(items: Iterable[_Item], chain: int) -> Iterator[_Item]:
    return (item for item in items if _chain_of(item.county_id) == chain)


def _insert(chain: int, seq: int, prev: str, items: Iterable[_Item], count: int) -> tuple[int, str]:
    """Insert the entries of ``items`` after position ``seq`` (hash ``prev``) of ``chain``, a
    chunk at a time (memory stays flat however many there are): one ``save``, ``bulk_create``,
    or on PostgreSQL for many, COPY, which takes 100,000 entries in seconds. Returns the new
    last position and hash."""
    ctx = current.get()
    copy = None
    with ExitStack() as stack:
        if connection.vendor == "postgresql" and count >= 200:
            sql = f"COPY {Entry._meta.db_table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
            cursor = stack.enter_context(connection.cursor())
            copy = stack.enter_context(cursor.cursor.copy(sql))
        for chunk in chunks(items, INSERT_CHUNK):
            rows = []
            for item in chunk:
                seq += 1
                row = {
                    "chain": chain,
                    "chain_seq": seq,
                    "time": item.time,
                    "actor_id": item.actor.pk if item.actor else None,
                    "actor_label": item.actor.get_username() if item.actor else "system",
                    "action": item.action,
                    "object_type": item.object_type,
                    "object_id": item.object_id,
                    "object_repr": item.object_repr,
                    "changes": item.changes,
                    "data": item.data,
                    "request_id": ctx.request_id,
                    "ip": ctx.ip,
                    "county_id": item.county_id,
                    "prev_hash": prev,
                }
                # Hashed from the details' JSON text as kept (canonical already): not parsed and
                # written again for every entry of a 100,000-row import.
                hashed = payload(
                    **{k: v for k, v in row.items() if k not in ("chain_seq", "prev_hash")},
                    seq=seq,
                )
                details = {"changes": hashed.pop("changes"), "data": hashed.pop("data")}
                row["hash"] = prev = link_bytes(prev, canonical_with(hashed, details))
                rows.append(row)
            if copy is not None:
                for row in rows:
                    copy.write_row([row[name] for name in COPY_COLUMNS])
                continue
            entries = [
                Entry(
                    **{
                        **row,
                        "changes": json.loads(row["changes"]),
                        "data": json.loads(row["data"]),
                    }
                )
                for row in rows
            ]
            if len(entries) == 1:
                entries[0].save()
            else:
                Entry.objects.bulk_create(entries)
    return seq, prev


# --- versions: one conflict error for every record edited by two people at once ----------------


class ConflictError(ValidationError):
    """Someone else saved the record since the editor opened it; ``changed`` names their edits
    (from the audit log). Its code is ``conflict``: the API answers 409."""

    def __init__(self, changed: Mapping):
        self.changed = dict(changed)
        super().__init__(
            _(
                "Someone else changed this record while you were editing it. "
                "Their changes: %(fields)s."
            )
            % {"fields": ", ".join(sorted(self.changed)) or "-"},
            code="conflict",
        )


# The actions that raise a record's version, by how their names end: an edit, a move, progress
# accepted, a delivery accepted. A new kind of versioned change must end in one of these.
VERSIONED_ACTIONS = (".changed", ".moved", ".progressed", ".accepted")


def changes_since(obj: models.Model, version: int) -> dict:
    """The fields changed, by the audit log, since ``obj`` was at ``version``: each entry about
    ``obj`` whose action raises a version counts (``VERSIONED_ACTIONS``)."""
    behind = max(getattr(obj, "version", 0) - version, 0)
    raised = Q()
    for suffix in VERSIONED_ACTIONS:
        raised |= Q(action__endswith=suffix)
    entries = (
        Entry.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
        .filter(raised)
        .order_by("-seq")[:behind]
    )
    changed: dict = {}
    for entry in reversed(list(entries)):
        changed.update(entry.changes)
    return changed


def check_version(obj: models.Model, version: int | None) -> None:
    """Refuse an edit made from an old version of ``obj`` (``version`` is what the editor saw;
    None skips the check, for the system and the API calls that send none)."""
    if version is not None and int(version) != obj.version:
        raise ConflictError(changes_since(obj, int(version)))
