"""The audit log's hash chain, kept free of Django so that anyone can re-verify an export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

GENESIS = "0" * 64


def canonical(payload: Mapping) -> bytes:
    """One byte string per payload: sorted keys, no spaces, UTF-8, dates already as strings."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_with(payload: Mapping, raw: Mapping[str, str]) -> bytes:
    """``canonical({**payload, **parsed})`` where ``raw`` holds values already in canonical JSON
    text (``json.dumps`` with sorted keys, no spaces, not ASCII-escaped): a bulk writer that keeps
    its entries' details as that text hashes them without parsing them again."""
    keys = sorted({*payload, *raw})
    parts = [
        json.dumps(k, ensure_ascii=False)
        + ":"
        + (
            raw[k]
            if k in raw
            else json.dumps(payload[k], ensure_ascii=False, separators=(",", ":"))
        )
        for k in keys
    ]
    return ("{" + ",".join(parts) + "}").encode()


def link(prev_hash: str, payload: Mapping) -> str:
    return link_bytes(prev_hash, canonical(payload))


def link_bytes(prev_hash: str, canonical_payload: bytes) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical_payload).hexdigest()


# How a break is named. Each names the first entry that no longer fits, by its position.
ALTERED = "altered"  # its content no longer matches its hash (or it was rewritten, hash and all)
RELINKED = "prev_hash changed"  # its content is intact; only its link to the one before changed
INSERTED = "inserted"  # a row that was never appended in its place (named, when it can be)
REMOVED = "removed"  # entries are missing: a gap after the entry before
REPLACED = "replaced"  # a forged row in an entry's place, linked to no entry of the chain

# How many entries removed from the middle are tried when the rows after them were renumbered
# to close the gap (each try is one hash of one entry, only once a chain is found broken).
RENUMBERED_TRIES = 1000


@dataclass
class Break:
    seq: int  # the position named
    reason: str  # one of the names above
    detail: str
    ref: object = None  # the row named, as the lookup knows it (the log's entry number)


Row = tuple[int, str, str, Mapping]  # position, prev_hash, hash, payload


class Lookup(Protocol):
    """What the diagnosis of a break may ask of the chain's store: asked only once a chain is
    found broken, never while it is read."""

    def rows_at(self, position: int) -> list[tuple[int, str, str, Mapping, object]]:
        """The rows at ``position``, each ``(position, prev_hash, hash, payload, ref)``."""
        ...

    def position_of(self, digest: str) -> int | None:
        """The position of the row whose hash is ``digest``, if any."""
        ...


def verify(
    entries: Iterable[Row], head: tuple[int, str] | None, lookup: Lookup | None = None
) -> Break | None:
    """Walk ``(seq, prev_hash, hash, payload)`` in seq order; return the first break, or None.

    ``head`` is the (seq, hash) the log recorded as its last entry, which catches entries removed
    from the end (unless the head was moved back with them: only a checkpoint kept outside the
    log catches that). The walk itself does only what a whole chain needs; once something does
    not fit, ``diagnose`` works out which entry is the first wrong one and how, asking
    ``lookup`` (when given) about rows elsewhere in the chain.
    """
    expected_seq, expected_prev = 1, GENESIS
    rows = iter(entries)
    for row in rows:
        seq, prev_hash, stored_hash, payload = row
        if (
            seq != expected_seq
            or prev_hash != expected_prev
            or link(prev_hash, payload) != stored_hash
            or (head is not None and seq > head[0])
        ):
            return _diagnose(row, expected_seq, expected_prev, rows, head, lookup)
        expected_seq, expected_prev = seq + 1, stored_hash
    last = (expected_seq - 1, expected_prev)
    if head is not None and head != last:
        if head[0] > last[0]:
            return Break(
                last[0] + 1,
                REMOVED,
                f"missing after position {last[0]}: the log ends at {last[0]} but recorded "
                f"{head[0]}",
                _ref(lookup, last[0] + 1),
            )
        return Break(
            head[0],
            ALTERED,
            "the recorded head does not match the last entry: it was rewritten with a "
            "recomputed hash",
            _ref(lookup, head[0]),
        )
    return None


def _ref(lookup: Lookup | None, position: int, digest: str | None = None) -> object:
    """The lookup's name for the row at ``position`` (the one with hash ``digest`` if given)."""
    if lookup is None or position < 1:
        return None
    for row in lookup.rows_at(position):
        if digest is None or row[2] == digest:
            return row[4]
    return None


def _diagnose(
    row: Row,
    expected_seq: int,
    expected_prev: str,
    rows: Iterator[Row],
    head: tuple[int, str] | None,
    lookup: Lookup | None,
) -> Break:
    """The first wrong entry, named by what was done to it, given the first row that does not
    fit (``row``) after a whole stretch ending at ``expected_seq - 1`` with ``expected_prev``.

    The order of the questions matters: each answer below is the only one left once the ones
    above it are ruled out.
    """
    seq, prev_hash, stored_hash, payload = row
    after = seq - 1
    if head is not None and seq > head[0] and seq >= expected_seq:
        # The head moves with every append in the same transaction, so nothing lies beyond it.
        return Break(
            seq,
            INSERTED,
            f"entry {seq} comes after the recorded last entry {head[0]}",
            _ref(lookup, seq, stored_hash),
        )
    if seq > expected_seq:
        last = expected_seq - 1
        return Break(
            expected_seq,
            REMOVED,
            f"missing after position {last}: positions {expected_seq} to {seq - 1} are gone",
        )
    if seq < expected_seq:
        return _duplicate(row, rows, head, lookup)
    if prev_hash == expected_prev:
        return Break(seq, ALTERED, "its content does not match its hash", _ref(lookup, seq))
    # The link to the entry before is wrong.
    if link(expected_prev, payload) == stored_hash:
        return Break(
            seq,
            RELINKED,
            f"prev_hash changed at {seq}: its content still hashes with the link to entry "
            f"{after}, so only the link was edited",
            _ref(lookup, seq),
        )
    linked_to = lookup.position_of(prev_hash) if lookup is not None else None
    if linked_to is not None and linked_to < after:
        count = after - linked_to
        return Break(
            linked_to + 1,
            INSERTED,
            f"{count} row{'s' if count > 1 else ''} inserted after position {linked_to}: "
            f"the entry now at position {seq} still links to position {linked_to}",
            _ref(lookup, linked_to + 1),
        )
    if link(prev_hash, payload) == stored_hash:
        # The row is whole with the link it names, which is no entry of the chain: either the
        # entry before it was rewritten (hash and all) and this one still names the hash it had,
        # or this row is a forgery put in an entry's place. The row after tells them apart.
        following = next(rows, None)
        if following is not None:
            named = following[1] == stored_hash
        else:
            named = head is None or head == (seq, stored_hash)
        if named and after == 0:
            return Break(
                seq,
                ALTERED,
                "rewritten with a recomputed hash: the first entry does not link to the start "
                "of the chain",
                _ref(lookup, seq),
            )
        if named:
            return Break(
                after,
                ALTERED,
                f"rewritten with a recomputed hash: entry {seq} still links to the hash it had",
                _ref(lookup, after),
            )
        return Break(
            seq,
            REPLACED,
            "a row in its place links to no entry of the chain, and the next entry does not "
            "link to it",
            _ref(lookup, seq, stored_hash),
        )
    for removed in range(1, RENUMBERED_TRIES + 1):
        if link(prev_hash, {**payload, "seq": seq + removed}) == stored_hash:
            return Break(
                seq,
                REMOVED,
                f"missing after position {after}: {removed} entr{'ies' if removed > 1 else 'y'} "
                "removed and the later ones renumbered to close the gap",
            )
    return Break(
        seq,
        ALTERED,
        "its content does not match its hash, and its link names no entry of the chain",
        _ref(lookup, seq),
    )


def _duplicate(
    row: Row, rows: Iterator[Row], head: tuple[int, str] | None, lookup: Lookup | None
) -> Break:
    """Two rows at one position (the chain's unique position dropped first): the inserted one is
    the one the next entry (or the head) does not link to."""
    seq = row[0]
    if lookup is None:
        return Break(seq, INSERTED, f"entry {seq} appears twice or out of order")
    following = lookup.rows_at(seq + 1)
    if following:
        linked = following[0][1]
    elif head is not None:
        linked = head[1]
    else:
        linked = None
    candidates = lookup.rows_at(seq)
    for candidate in candidates:
        if candidate[2] != linked:
            return Break(
                seq,
                INSERTED,
                f"a second row at position {seq}: the entry after it links to the other one",
                candidate[4],
            )
    return Break(
        seq, INSERTED, f"entry {seq} appears twice", candidates[-1][4] if candidates else None
    )
