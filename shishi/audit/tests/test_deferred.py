"""Deferred audit entries: what ``record`` and ``record_many`` make inside ``deferred()`` is written
together when the block ends (each chain's head locked only then), or not at all."""

import datetime as dt

import pytest
from django.db import transaction

from shishi.audit import services
from shishi.audit.models import GLOBAL_CHAIN, Entry, Head
from shishi.audit.services import deferred, record, record_many
from shishi.audit.verify import verify_chain
from shishi.workdays.models import Day

pytestmark = pytest.mark.django_db

COUNTY = 990101000000  # a county's chain: no organisation needed, the chain is its id


def heads() -> dict[int, tuple[int, str, int]]:
    return {h.chain: (h.seq, h.hash, h.public) for h in Head.objects.all()}


def days(n: int) -> list[Day]:
    return [
        Day.objects.create(date=dt.date(2031, 5, i), is_workday=False, name=f"假日{i}")
        for i in range(1, n + 1)
    ]


@pytest.fixture
def writes(monkeypatch):
    """The batches written to the log, by action, as they are written."""
    batches: list[list[str]] = []
    write = services._write

    def spy(items):
        batches.append([item.action for item in items])
        write(items)

    monkeypatch.setattr(services, "_write", spy)
    return batches


def test_entries_made_inside_are_written_when_the_block_ends(writes):
    before = Entry.objects.count()
    with deferred() as pending:
        record(None, "test.one", None, data={"n": 1})
        record(None, "test.two", None, data={"n": 2})
        assert Entry.objects.count() == before
        assert [item.action for item in pending] == ["test.one", "test.two"]
    assert writes == [["test.one", "test.two"]]
    entries = list(Entry.objects.filter(seq__gt=0).order_by("-seq")[:2])[::-1]
    assert [(e.action, e.data) for e in entries] == [("test.one", {"n": 1}), ("test.two", {"n": 2})]
    assert Entry.objects.count() == before + 2
    assert verify_chain() is None


def test_after_the_block_an_entry_is_written_at_once_again(writes):
    with deferred():
        record(None, "test.inside", None)
    record(None, "test.after", None)
    assert writes == [["test.inside"], ["test.after"]]


def test_nothing_is_written_and_no_head_is_touched_without_write(writes):
    record(None, "test.before", None, data={"n": 0})
    writes.clear()
    before = (Entry.objects.count(), heads())
    with deferred(write=False) as pending:
        record(None, "test.dry", None)
        record(None, "test.dry", None, county_id=COUNTY)
        assert len(pending) == 2
    assert writes == []
    assert (Entry.objects.count(), heads()) == before


def test_nothing_is_written_when_the_block_raises(writes):
    before = (Entry.objects.count(), heads())
    with pytest.raises(RuntimeError, match="refused"), transaction.atomic(), deferred():
        record(None, "test.lost", None)
        raise RuntimeError("refused")
    # Outside a transaction too: the entries are dropped, not written.
    with pytest.raises(RuntimeError, match="refused"), deferred():
        record(None, "test.lost", None)
        raise RuntimeError("refused")
    assert writes == []
    assert (Entry.objects.count(), heads()) == before
    record(None, "test.after", None)
    assert writes == [["test.after"]]  # the block's entries did not linger


def test_record_many_inside_joins_the_same_batch_in_order(writes):
    objects = days(3)
    with deferred():
        record(None, "test.first", None)
        assert record_many(None, "test.many", [(o, {"name": ["", o.name]}, None) for o in objects])
        record(None, "test.last", None)
    assert writes == [["test.first", "test.many", "test.many", "test.many", "test.last"]]
    segment = list(Entry.objects.filter(chain=GLOBAL_CHAIN).order_by("chain_seq"))[-5:]
    assert [e.action for e in segment] == ["test.first"] + ["test.many"] * 3 + ["test.last"]
    assert [e.object_id for e in segment[1:4]] == [str(o.pk) for o in objects]
    assert segment[1].changes == {"name": ["", "假日1"]}
    positions = [e.chain_seq for e in segment]
    assert positions == list(range(positions[0], positions[0] + 5))
    assert all(b.prev_hash == a.hash for a, b in zip(segment, segment[1:], strict=False))
    assert verify_chain() is None


def test_entries_of_several_chains_are_written_each_to_its_own_and_all_verify(writes):
    record(None, "test.before", None)
    record(None, "test.before", None, county_id=COUNTY)
    before = heads()
    with deferred():
        record(None, "test.county", None, county_id=COUNTY)
        record(None, "test.global", None)
        record(None, "test.county", None, county_id=COUNTY)
    assert len(writes[-1]) == 3  # one batch, whatever the chains
    after = heads()
    assert after[COUNTY][0] == before[COUNTY][0] + 2
    assert after[GLOBAL_CHAIN][0] == before[GLOBAL_CHAIN][0] + 1
    county = list(Entry.objects.filter(chain=COUNTY).order_by("chain_seq"))
    assert [e.action for e in county] == ["test.before", "test.county", "test.county"]
    assert [e.county_id for e in county] == [COUNTY] * 3
    assert county[-1].hash == after[COUNTY][1]
    assert verify_chain() is None


def test_the_public_count_moves_only_when_a_public_entry_is_written():
    record(None, "test.before", None, county_id=COUNTY)
    start = heads()[COUNTY][2]

    with deferred():
        record(None, "test.private", None, county_id=COUNTY, public=False)
        record(None, "test.private", None, county_id=COUNTY, public=False)
    assert heads()[COUNTY][2] == start

    with deferred():
        record(None, "test.private", None, county_id=COUNTY, public=False)
        record(None, "test.public", None, county_id=COUNTY)
    assert heads()[COUNTY][2] == start + 1

    with deferred(write=False):
        record(None, "test.public", None, county_id=COUNTY)
    assert heads()[COUNTY][2] == start + 1

    objects = days(2)  # calendar days belong to no county: the global chain
    global_start = heads().get(GLOBAL_CHAIN, (0, "", 0))[2]
    with deferred():
        record_many(None, "test.private", [(o, None, None) for o in objects], public=False)
    assert heads()[GLOBAL_CHAIN][0] >= 2
    assert heads()[GLOBAL_CHAIN][2] == global_start
    with deferred():
        record_many(None, "test.public", [(o, None, None) for o in objects])
    assert heads()[GLOBAL_CHAIN][2] == global_start + 1
    assert heads()[COUNTY][2] == start + 1  # another county's chain moved: not this one
    assert verify_chain() is None


def test_a_large_batch_is_written_whole_and_verifies(tree):
    # Past 200 entries PostgreSQL takes them by COPY: the same rows, hashes that verify, Chinese
    # text and the actor kept as they were given.
    towns = [tree["east"], tree["west"]] * 150
    with transaction.atomic(), deferred():
        record_many(None, "orgs.test.noted", [(o, {"名称": ["旧", "新"]}, {"n": 1}) for o in towns])
    written = Entry.objects.filter(action="orgs.test.noted").order_by("chain_seq")
    assert written.count() == 300
    assert {e.changes["名称"][1] for e in written} == {"新"}
    assert {e.object_repr for e in written} == {"东镇", "西镇"}
    assert verify_chain() is None


def test_entries_past_one_spilled_batch_come_back_in_order_to_each_chain(users):
    # The block's entries wait in a temporary file, a thousand at a time: 2,500 over two chains
    # come back in the order they were made, each to its own chain, with their actor.
    actor = users["county_admin"]
    before = heads()
    with transaction.atomic(), deferred() as pending:
        for n in range(2500):
            record(actor, "test.many", None, data={"n": n}, county_id=COUNTY if n % 2 else None)
        assert len(pending) == 2500
    county = Entry.objects.filter(chain=COUNTY, action="test.many").order_by("chain_seq")
    other = Entry.objects.filter(chain=GLOBAL_CHAIN, action="test.many").order_by("chain_seq")
    assert [e.data["n"] for e in county] == list(range(1, 2500, 2))
    assert [e.data["n"] for e in other] == list(range(0, 2500, 2))
    assert {e.actor_id for e in county} == {actor.pk}
    assert heads()[COUNTY][0] == before.get(COUNTY, (0,))[0] + 1250
    assert verify_chain() is None
