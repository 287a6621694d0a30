"""Re-hashing the audit log, one chain at a time (``shishi verify-audit``), and checking that it
still extends a signed checkpoint."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from django.db.models import Q

from shishi.lib.hashchain import REMOVED, verify

from .models import GLOBAL_CHAIN, Checkpoint, Entry, Head


def chain_name(chain: int) -> str:
    return "the global chain" if chain == GLOBAL_CHAIN else f"the chain of county {chain}"


@dataclass
class ChainBreak:
    """Where a chain breaks: the chain (a county's id, or 0 for the global chain) and the first
    wrong entry, by its position in the chain and, when it still exists, its number in the log.
    For a gap, ``before`` is the number of the last entry before it."""

    chain: int
    position: int
    seq: int | None
    reason: str  # shishi.lib.hashchain: altered, prev_hash changed, inserted, removed, replaced
    detail: str
    before: int | None = None

    def __str__(self) -> str:
        entry = f"entry #{self.seq}, " if self.seq is not None else ""
        if self.reason == REMOVED and self.before is not None:
            entry = f"after entry #{self.before}, "
        return f"{chain_name(self.chain)}, {entry}position {self.position}: {self.reason} ({self.detail})"


class _Store:
    """The chain's rows as the diagnosis of a break asks for them (``hashchain.Lookup``): read
    only once a chain is found broken, so a whole chain costs nothing more."""

    def __init__(self, chain: int):
        self.chain = chain

    def rows_at(self, position: int) -> list[tuple[int, str, str, Mapping, int]]:
        return [
            (e.chain_seq, e.prev_hash, e.hash, e.payload(), e.seq)
            for e in Entry.objects.filter(chain=self.chain, chain_seq=position).order_by("seq")
        ]

    def position_of(self, digest: str) -> int | None:
        return (
            Entry.objects.filter(chain=self.chain, hash=digest)
            .values_list("chain_seq", flat=True)
            .first()
        )


def verify_chain() -> ChainBreak | None:
    """Re-hash every entry of every chain in order; the first break, or None when all are whole.

    Entries are read once, in chain order, a few thousand at a time; each chain is checked
    against its head, which catches entries removed from its end, and a head whose chain has no
    entry left at all names the whole chain as removed. What a chain that reads whole may still
    hide (its last entries removed with its head moved back, or every hash recomputed) only a
    checkpoint shows: see ``check_checkpoint``.
    """
    heads = {c: (s, h) for c, s, h in Head.objects.values_list("chain", "seq", "hash")}
    seen: set[int] = set()
    entries = Entry.objects.order_by("chain", "chain_seq").iterator(chunk_size=5000)
    for chain, group in groupby(entries, key=attrgetter("chain")):
        seen.add(chain)

        def rows(group=group):
            for entry in group:  # noqa: B031 - read once, by verify(), before the next chain
                yield entry.chain_seq, entry.prev_hash, entry.hash, entry.payload()

        store = _Store(chain)
        broken = verify(rows(), heads.get(chain), store)
        if broken is not None:
            before = None
            if broken.reason == REMOVED and broken.seq > 1:
                found = store.rows_at(broken.seq - 1)
                before = found[0][4] if found else None
            seq = broken.ref if isinstance(broken.ref, int) else None
            return ChainBreak(chain, broken.seq, seq, broken.reason, broken.detail, before)
    for chain, (seq, _hash) in sorted(heads.items()):
        if chain not in seen and seq > 0:
            return ChainBreak(chain, 1, None, REMOVED, f"all {seq} entries of the chain are gone")
    return None


def chains() -> int:
    """How many chains the log holds (for the command's report)."""
    return Head.objects.count()


# --- against a checkpoint --------------------------------------------------------------------


@dataclass
class Mismatch:
    """A chain that no longer extends a checkpoint."""

    chain: int
    detail: str

    def __str__(self) -> str:
        return f"{chain_name(self.chain)}: {self.detail}"


def check_checkpoint(
    body: Mapping, trusted: Callable[[], list[Checkpoint]] | None = None
) -> list[Mismatch]:
    """Whether the log still extends the checkpoint ``body`` (its signature already checked):
    every chain it names still reaches its position, and the entry there still has the signed
    hash. Together with a whole chain (``verify_chain``), that entry's hash vouches for every
    entry before it, so the log up to the checkpoint is the log that was signed.

    ``trusted()`` gives other checkpoints whose signatures hold (the stored ones), asked only for
    a chain whose signed entry changed: the newest of them that the chain still extends narrows
    where the rewrite began. A few queries per thousand chains.
    """
    signed = {int(c["chain"]): (int(c["seq"]), str(c["hash"])) for c in body["chains"]}
    heads = {c: s for c, s in Head.objects.filter(chain__in=signed).values_list("chain", "seq")}
    found = _hashes_at(signed)
    number = body["number"]
    out = []
    for chain, (seq, digest) in sorted(signed.items()):
        head = heads.get(chain, 0)
        now = found.get((chain, seq))
        if now is None:
            last = min(head, _last_position(chain))
            out.append(
                Mismatch(
                    chain,
                    f"checkpoint #{number} signed position {seq}, but the chain now ends at "
                    f"{last}: entries after position {last} were removed"
                    + (" and the head moved back with them" if head < seq else ""),
                )
            )
        elif now[1] != digest:
            out.append(
                Mismatch(
                    chain,
                    f"entry #{now[0]} at position {seq} no longer has the hash checkpoint "
                    f"#{number} signed ({digest[:16]}…, now {now[1][:16]}…): "
                    + _rewritten_since(chain, seq, trusted() if trusted else []),
                )
            )
        elif head < seq:
            out.append(
                Mismatch(
                    chain,
                    f"its head was moved back to position {head}, before position {seq} "
                    f"that checkpoint #{number} signed",
                )
            )
    return out


def _hashes_at(signed: Mapping[int, tuple[int, str]]) -> dict[tuple[int, int], tuple[int, str]]:
    """(chain, position) → (entry number, hash), for each signed position, a thousand a query."""
    out = {}
    items = sorted((c, s) for c, (s, _h) in signed.items())
    for start in range(0, len(items), 1000):
        where = Q()
        for chain, seq in items[start : start + 1000]:
            where |= Q(chain=chain, chain_seq=seq)
        for chain, seq, number, digest in Entry.objects.filter(where).values_list(
            "chain", "chain_seq", "seq", "hash"
        ):
            out[(chain, seq)] = (number, digest)
    return out


def _last_position(chain: int) -> int:
    last = Entry.objects.filter(chain=chain).order_by("-chain_seq").values_list("chain_seq")[:1]
    return last[0][0] if last else 0


def _rewritten_since(chain: int, seq: int, trusted: list[Checkpoint]) -> str:
    """Where a rewrite of ``chain`` began, as far as the trusted checkpoints tell: after the
    newest signed position that still holds, at or before ``seq``."""
    earlier = []
    for checkpoint in trusted:
        for c, s, h in checkpoint.chains:
            if c == chain and s < seq:
                earlier.append((s, h))
    still = 0
    if earlier:
        found = {
            position: digest
            for position, digest in Entry.objects.filter(
                chain=chain, chain_seq__in=[s for s, _h in earlier]
            ).values_list("chain_seq", "hash")
        }
        still = max((s for s, h in earlier if found.get(s) == h), default=0)
    if still:
        return (
            f"the chain was rewritten after position {still} (where an earlier checkpoint "
            f"still holds) and at or before position {seq}"
        )
    return f"the chain was rewritten at or before position {seq}"
