"""The spill: a list kept in a temporary file, read back in order, with shared objects kept."""

import datetime as dt
from decimal import Decimal

from shishi.lib.spill import Spill


class Unit:
    def __init__(self, name):
        self.name = name


def test_it_gives_back_what_was_appended_in_order_across_batches():
    with Spill(batch=3) as spill:
        spill.extend({"n": i, "day": dt.date(2026, 1, 1), "amount": Decimal(i)} for i in range(8))
        assert len(spill) == 8
        assert [batch[0]["n"] for batch in spill.batches()] == [0, 3, 6]
        assert [item["n"] for item in spill] == list(range(8))
        # Read as often as needed.
        assert sum(item["amount"] for item in spill) == Decimal(28)


def test_shared_objects_come_back_as_themselves_not_copies():
    unit, other = Unit("a"), Unit("b")
    spill = Spill([unit], batch=2)
    spill.share(other)
    spill.extend([{"unit": unit}, {"unit": other}, {"unit": unit}, {"unit": Unit("c")}])
    back = list(spill)
    assert back[0]["unit"] is unit and back[2]["unit"] is unit and back[1]["unit"] is other
    assert back[3]["unit"] is not unit and back[3]["unit"].name == "c"  # not shared: a copy
    spill.close()


def test_items_read_back_are_copies_of_the_stored_ones():
    spill = Spill(batch=1)
    spill.append({"n": 1})
    first = next(iter(spill))
    first["n"] = 2
    assert list(spill) == [{"n": 1}]


def test_an_empty_spill_is_false_and_closing_forgets_everything():
    spill = Spill()
    assert not spill and list(spill) == []
    spill.append(1)
    assert spill and list(spill) == [1]  # still in memory: under one batch
    spill.close()
    assert len(spill) == 0 and list(spill) == []
