from shishi.lib.hashchain import Break, verify

from .models import Entry, Head


def verify_chain() -> Break | None:
    """Re-hash every entry in order; the first break, or None when the chain is whole."""
    head = Head.objects.filter(pk=1).values_list("seq", "hash").first()

    def rows():
        for entry in Entry.objects.order_by("seq").iterator(chunk_size=5000):
            yield entry.seq, entry.prev_hash, entry.hash, entry.payload()

    return verify(rows(), tuple(head) if head else None)
