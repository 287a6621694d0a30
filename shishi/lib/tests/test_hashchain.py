"""The hash chain: any altered, removed or inserted entry is found and named by its number."""

from shishi.lib.hashchain import (
    ALTERED,
    GENESIS,
    INSERTED,
    RELINKED,
    REMOVED,
    REPLACED,
    canonical,
    link,
    verify,
)


def make_chain(n: int) -> list[tuple[int, str, str, dict]]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        payload = {
            "seq": seq,
            "action": "orgs.org.changed",
            "changes": {"name": ["甲", f"乙{seq}"]},
        }
        digest = link(prev, payload)
        rows.append((seq, prev, digest, payload))
        prev = digest
    return rows


def head_of(rows) -> tuple[int, str]:
    return rows[-1][0], rows[-1][2]


class Store:
    """A chain's rows as a database would answer the diagnosis: each row named by its index in
    the store (the order rows were added), as the log names entries by their number."""

    def __init__(self, rows):
        self.rows = list(rows)

    def rows_at(self, position):
        return [(*row, ref) for ref, row in enumerate(self.rows) if row[0] == position]

    def position_of(self, digest):
        return next((row[0] for row in self.rows if row[2] == digest), None)


def payload_at(seq: int, action: str = "forged") -> dict:
    return {"seq": seq, "action": action}


def renumbered(rows, start: int, by: int):
    """``rows`` with every row from position ``start`` on moved ``by`` positions (payload too),
    as a tamperer would renumber rows to make or close a gap; hashes left as they were."""
    out = []
    for seq, prev, digest, payload in rows:
        if seq >= start:
            seq += by
            payload = {**payload, "seq": seq}
        out.append((seq, prev, digest, payload))
    return out


def test_the_payload_is_canonical_whatever_the_key_order():
    assert canonical({"b": 1, "a": "县"}) == canonical({"a": "县", "b": 1})
    assert canonical({"a": "县"}) == '{"a":"县"}'.encode()


def test_each_link_depends_on_the_one_before():
    assert link(GENESIS, {"seq": 1}) != link("1" * 64, {"seq": 1})


def test_a_whole_chain_verifies():
    rows = make_chain(5)
    assert verify(rows, head_of(rows)) is None


def test_an_empty_log_verifies_against_an_empty_head():
    assert verify([], (0, GENESIS)) is None
    assert verify([], None) is None


def test_an_altered_entry_is_named():
    rows = make_chain(5)
    seq, prev, digest, payload = rows[2]
    rows[2] = (seq, prev, digest, {**payload, "changes": {"name": ["甲", "丙"]}})
    broken = verify(rows, head_of(make_chain(5)))
    assert (broken.seq, broken.reason) == (3, ALTERED)


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link():
    rows = make_chain(5)
    seq, prev, _digest, payload = rows[2]
    forged = {**payload, "changes": {"name": ["甲", "丙"]}}
    rows[2] = (seq, prev, link(prev, forged), forged)
    broken = verify(rows, head_of(make_chain(5)))
    assert (broken.seq, broken.reason) == (3, ALTERED)
    assert "rewritten with a recomputed hash: entry 4 still links to the hash it had" in (
        broken.detail
    )


def test_the_first_entry_rewritten_with_a_foreign_link_and_a_fresh_hash_is_named():
    rows = make_chain(3)
    _seq, _prev, _digest, payload = rows[0]
    rows[0] = (1, "f" * 64, link("f" * 64, payload), payload)
    rows[1] = (2, rows[0][2], link(rows[0][2], rows[1][3]), rows[1][3])
    rows[2] = (3, rows[1][2], link(rows[1][2], rows[2][3]), rows[2][3])
    broken = verify(rows, head_of(rows), Store(rows))
    assert (broken.seq, broken.reason) == (1, ALTERED)
    assert "does not link to the start of the chain" in broken.detail


def test_the_last_entry_rewritten_with_a_fresh_hash_is_named_by_the_head():
    rows = make_chain(5)
    head = head_of(rows)
    seq, prev, _digest, payload = rows[4]
    forged = {**payload, "changes": {"name": ["甲", "丙"]}}
    rows[4] = (seq, prev, link(prev, forged), forged)
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (5, ALTERED)


def test_a_removed_middle_entry_is_named():
    rows = make_chain(5)
    head = head_of(rows)
    del rows[2]
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (3, REMOVED)
    assert "missing after position 2: positions 3 to 3 are gone" in broken.detail


def test_middle_entries_removed_and_the_rest_renumbered_are_named_as_a_gap():
    rows = make_chain(6)
    del rows[2:4]  # positions 3 and 4
    rows = renumbered(rows, 5, -2)
    broken = verify(rows, (4, rows[-1][2]))
    assert (broken.seq, broken.reason) == (3, REMOVED)
    assert "missing after position 2: 2 entries removed" in broken.detail


def test_a_changed_prev_hash_is_named_as_such_not_as_an_insertion():
    rows = make_chain(5)
    head = head_of(rows)
    seq, _prev, digest, payload = rows[2]
    rows[2] = (seq, "a" * 64, digest, payload)
    broken = verify(rows, head, Store(rows))
    assert (broken.seq, broken.reason) == (3, RELINKED)
    assert broken.detail.startswith("prev_hash changed at 3")


def test_a_row_inserted_in_the_middle_is_named_when_the_rest_are_renumbered():
    rows = make_chain(5)
    # A row slipped in at position 3, linked to 2 and hashed correctly; 3.. move up by one.
    forged = (3, rows[1][2], link(rows[1][2], payload_at(3)), payload_at(3))
    rows = [*rows[:2], forged, *renumbered(rows[2:], 3, 1)]
    store = Store(rows)
    broken = verify(rows, (6, rows[-1][2]), store)
    assert (broken.seq, broken.reason) == (3, INSERTED)
    assert broken.ref == 2  # the forged row, by the store's name for it
    assert "1 row inserted after position 2" in broken.detail


def test_a_second_row_at_one_position_is_named_whichever_is_read_first():
    rows = make_chain(4)
    head = head_of(rows)
    forged = (3, rows[1][2], link(rows[1][2], payload_at(3)), payload_at(3))
    for order in ([*rows[:2], forged, *rows[2:]], [*rows[:3], forged, rows[3]]):
        store = Store([*rows, forged])  # the forged row was added last
        broken = verify(order, head, store)
        assert (broken.seq, broken.reason, broken.ref) == (3, INSERTED, 4)


def test_a_removed_first_entry_is_named():
    rows = make_chain(3)
    head = head_of(rows)
    broken = verify(rows[1:], head)
    assert (broken.seq, broken.reason) == (1, REMOVED)


def test_entries_removed_from_the_end_are_caught_by_the_head():
    rows = make_chain(5)
    head = head_of(rows)
    broken = verify(rows[:3], head)
    assert (broken.seq, broken.reason) == (4, REMOVED)
    assert "ends at 3 but recorded 5" in broken.detail


def test_without_a_head_removal_from_the_end_goes_unseen():
    """Why the log keeps a head: the entries alone cannot show a truncated tail."""
    rows = make_chain(5)
    assert verify(rows[:3], None) is None


def test_entries_removed_from_the_end_with_the_head_moved_back_go_unseen():
    """Why the head is anchored outside the log by signed checkpoints: one who can move the head
    can remove the last entries unseen, by the log alone."""
    rows = make_chain(5)
    assert verify(rows[:3], head_of(rows[:3])) is None


def test_a_chain_rewritten_with_every_hash_recomputed_goes_unseen():
    """The other thing only a checkpoint catches: every link recomputed after a change."""
    rows, prev = [], GENESIS
    for seq, _prev, _digest, payload in make_chain(5):
        if seq == 2:
            payload = {**payload, "changes": {"name": ["甲", "伪"]}}
        digest = link(prev, payload)
        rows.append((seq, prev, digest, payload))
        prev = digest
    assert verify(rows, head_of(rows)) is None
    assert head_of(rows) != head_of(make_chain(5))


def test_a_duplicated_entry_is_named_as_inserted():
    rows = make_chain(4)
    head = head_of(rows)
    rows.insert(2, rows[1])
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (2, INSERTED)


def test_an_entry_replaced_by_a_row_with_a_foreign_link_is_named():
    rows = make_chain(4)
    head = head_of(rows)
    payload = {"seq": 3, "action": "forged"}
    rows[2] = (3, "f" * 64, link("f" * 64, payload), payload)
    broken = verify(rows, head, Store(rows))
    assert (broken.seq, broken.reason, broken.ref) == (3, REPLACED, 2)


def test_an_entry_whose_content_and_link_both_changed_is_named_as_altered():
    rows = make_chain(4)
    head = head_of(rows)
    seq, _prev, digest, payload = rows[2]
    rows[2] = (seq, "f" * 64, digest, {**payload, "action": "forged"})
    broken = verify(rows, head, Store(rows))
    assert (broken.seq, broken.reason) == (3, ALTERED)


def test_an_entry_appended_after_the_head_is_named_as_inserted():
    rows = make_chain(4)
    head = head_of(rows)
    payload = {"seq": 5, "action": "forged"}
    rows.append((5, rows[-1][2], link(rows[-1][2], payload), payload))
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (5, INSERTED)


def test_an_entry_far_beyond_the_head_is_named_as_inserted():
    rows = make_chain(4)
    head = head_of(rows)
    payload = {"seq": 99, "action": "forged"}
    rows.append((99, rows[-1][2], link(rows[-1][2], payload), payload))
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (99, INSERTED)


def test_a_head_that_does_not_match_the_last_entry_is_reported():
    rows = make_chain(4)
    broken = verify(rows, (4, "e" * 64))
    assert (broken.seq, broken.reason) == (4, ALTERED)


def test_canonical_with_raw_text_is_canonical_of_the_parsed_values():
    import json

    from shishi.lib.hashchain import canonical, canonical_with

    details = {"名称": ["旧", "新"], "targets": [{"b": None, "a": "1.50"}], "n": 3, "ok": True}
    raw = json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    payload = {"seq": 7, "time": "2026-05-01T08:30:00+00:00", "actor_id": None, "ip": "10.0.0.1"}
    assert canonical_with(payload, {"changes": raw, "data": "{}"}) == canonical(
        {**payload, "changes": details, "data": {}}
    )
