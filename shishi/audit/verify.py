"""Re-hashing the audit log, one chain at a time (``shishi verify-audit``)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from shishi.lib.hashchain import verify

from .models import GLOBAL_CHAIN, Entry, Head


@dataclass
class ChainBreak:
    """Where a chain breaks: the chain (a county's id, or 0 for the global chain) and the entry,
    by its position in the chain and, when it still exists, its number in the log."""

    chain: int
    position: int
    seq: int | None
    reason: str  # "altered", "removed", "inserted", "truncated"
    detail: str

    def __str__(self) -> str:
        where = (
            "the global chain"
            if self.chain == GLOBAL_CHAIN
            else f"the chain of county {self.chain}"
        )
        entry = f"entry #{self.seq}, " if self.seq is not None else ""
        return f"{where}, {entry}position {self.position}: {self.reason} ({self.detail})"


def verify_chain() -> ChainBreak | None:
    """Re-hash every entry of every chain in order; the first break, or None when all are whole.

    Entries are read once, in chain order, a few thousand at a time; each chain is checked
    against its head, which catches entries removed from its end, and a head whose chain has no
    entry left at all names the whole chain as removed.
    """
    heads = {c: (s, h) for c, s, h in Head.objects.values_list("chain", "seq", "hash")}
    seen: set[int] = set()
    entries = Entry.objects.order_by("chain", "chain_seq").iterator(chunk_size=5000)
    for chain, group in groupby(entries, key=attrgetter("chain")):
        seen.add(chain)
        numbers: dict[int, int] = {}

        def rows(group=group, numbers=numbers):
            for entry in group:  # noqa: B031 - read once, by verify(), before the next chain
                numbers[entry.chain_seq] = entry.seq
                yield entry.chain_seq, entry.prev_hash, entry.hash, entry.payload()

        broken = verify(rows(), heads.get(chain))
        if broken is not None:
            return ChainBreak(
                chain, broken.seq, numbers.get(broken.seq), broken.reason, broken.detail
            )
    for chain, (seq, _hash) in sorted(heads.items()):
        if chain not in seen and seq > 0:
            return ChainBreak(chain, 1, None, "removed", f"all {seq} entries of the chain are gone")
    return None


def chains() -> int:
    """How many chains the log holds (for the command's report)."""
    return Head.objects.count()
