"""The audit log's hash chain, kept free of Django so that anyone can re-verify an export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


@dataclass
class Break:
    seq: int
    reason: str  # "altered", "removed", "inserted", "truncated"
    detail: str


def verify(
    entries: Iterable[tuple[int, str, str, Mapping]], head: tuple[int, str] | None
) -> Break | None:
    """Walk ``(seq, prev_hash, hash, payload)`` in seq order; return the first break, or None.

    ``head`` is the (seq, hash) the log recorded as its last entry, which catches entries removed
    from the end.
    """
    expected_seq, expected_prev = 1, GENESIS
    last = (0, GENESIS)
    for seq, prev_hash, stored_hash, payload in entries:
        if head is not None and seq > head[0]:
            # The head moves with every append in the same transaction, so nothing lies beyond it.
            return Break(
                seq, "inserted", f"entry {seq} comes after the recorded last entry {head[0]}"
            )
        if seq > expected_seq:
            return Break(expected_seq, "removed", f"entry {expected_seq} is missing before {seq}")
        if seq < expected_seq:
            return Break(seq, "inserted", f"entry {seq} appears twice or out of order")
        if prev_hash != expected_prev:
            return Break(seq, "inserted", "its link does not match the entry before it")
        if link(prev_hash, payload) != stored_hash:
            return Break(seq, "altered", "its content does not match its hash")
        expected_seq, expected_prev = seq + 1, stored_hash
        last = (seq, stored_hash)
    if head is not None and head != last:
        if head[0] > last[0]:
            return Break(
                last[0] + 1, "removed", f"the log ends at {last[0]} but recorded {head[0]}"
            )
        return Break(head[0], "altered", "the recorded head does not match the last entry")
    return None
