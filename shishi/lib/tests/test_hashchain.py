"""The hash chain: any altered, removed or inserted entry is found and named by its number."""

from shishi.lib.hashchain import GENESIS, canonical, link, verify


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
    assert (broken.seq, broken.reason) == (3, "altered")


def test_an_entry_rewritten_with_a_fresh_hash_breaks_the_next_link():
    rows = make_chain(5)
    seq, prev, _digest, payload = rows[2]
    forged = {**payload, "changes": {"name": ["甲", "丙"]}}
    rows[2] = (seq, prev, link(prev, forged), forged)
    broken = verify(rows, head_of(make_chain(5)))
    assert broken.seq == 4
    assert "link" in broken.detail


def test_a_removed_middle_entry_is_named():
    rows = make_chain(5)
    head = head_of(rows)
    del rows[2]
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (3, "removed")
    assert "entry 3 is missing before 4" in broken.detail


def test_a_removed_first_entry_is_named():
    rows = make_chain(3)
    head = head_of(rows)
    broken = verify(rows[1:], head)
    assert (broken.seq, broken.reason) == (1, "removed")


def test_entries_removed_from_the_end_are_caught_by_the_head():
    rows = make_chain(5)
    head = head_of(rows)
    broken = verify(rows[:3], head)
    assert (broken.seq, broken.reason) == (4, "removed")
    assert "ends at 3 but recorded 5" in broken.detail


def test_without_a_head_removal_from_the_end_goes_unseen():
    """Why the log keeps a head: the entries alone cannot show a truncated tail."""
    rows = make_chain(5)
    assert verify(rows[:3], None) is None


def test_a_duplicated_entry_is_named_as_inserted():
    rows = make_chain(4)
    head = head_of(rows)
    rows.insert(2, rows[1])
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (2, "inserted")


def test_an_entry_inserted_with_a_foreign_link_is_named():
    rows = make_chain(4)
    head = head_of(rows)
    payload = {"seq": 3, "action": "forged"}
    rows[2] = (3, "f" * 64, link("f" * 64, payload), payload)
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (3, "inserted")


def test_an_entry_appended_after_the_head_is_named_as_inserted():
    rows = make_chain(4)
    head = head_of(rows)
    payload = {"seq": 5, "action": "forged"}
    rows.append((5, rows[-1][2], link(rows[-1][2], payload), payload))
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (5, "inserted")


def test_an_entry_far_beyond_the_head_is_named_as_inserted():
    rows = make_chain(4)
    head = head_of(rows)
    payload = {"seq": 99, "action": "forged"}
    rows.append((99, rows[-1][2], link(rows[-1][2], payload), payload))
    broken = verify(rows, head)
    assert (broken.seq, broken.reason) == (99, "inserted")


def test_a_head_that_does_not_match_the_last_entry_is_reported():
    rows = make_chain(4)
    broken = verify(rows, (4, "e" * 64))
    assert (broken.seq, broken.reason) == (4, "altered")


def test_canonical_with_raw_text_is_canonical_of_the_parsed_values():
    import json

    from shishi.lib.hashchain import canonical, canonical_with

    details = {"名称": ["旧", "新"], "targets": [{"b": None, "a": "1.50"}], "n": 3, "ok": True}
    raw = json.dumps(details, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    payload = {"seq": 7, "time": "2026-05-01T08:30:00+00:00", "actor_id": None, "ip": "10.0.0.1"}
    assert canonical_with(payload, {"changes": raw, "data": "{}"}) == canonical(
        {**payload, "changes": details, "data": {}}
    )
