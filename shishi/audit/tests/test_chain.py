"""The audit log: what each entry records, and the chain that shows any tampering."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.urls import reverse

from shishi.audit.models import GLOBAL_CHAIN, AppendOnlyError, Entry, Head
from shishi.audit.services import record, record_many
from shishi.lib.hashchain import GENESIS, link
from shishi.orgs import services
from shishi.orgs.models import Org, OrgKind
from shishi.testing import drop_append_only_trigger, run_command

pytestmark = pytest.mark.django_db


def verify() -> tuple[int, str, str]:
    """Run ``shishi verify-audit``: (exit status, stdout, stderr)."""
    return run_command("verify_audit")


def at(tree, position: int) -> Entry:
    """The entry at ``position`` of the county's chain."""
    return Entry.objects.get(chain=tree["county"].pk, chain_seq=position)


def broken_at(tree, position: int, reason: str, seq: int | None = None) -> str:
    """What verify-audit says of a break in the county's chain at ``position`` (the entry there
    now, or the one numbered ``seq``)."""
    if seq is None:
        entry = Entry.objects.filter(chain=tree["county"].pk, chain_seq=position).first()
        seq = entry.seq if entry is not None else None
    number = f"entry #{seq}, " if seq is not None else ""
    return f"the chain of county {tree['county'].pk}, {number}position {position}: {reason}"


def gap_after(tree, position: int) -> str:
    """What verify-audit says of entries missing after ``position`` of the county's chain."""
    before = at(tree, position).seq
    return (
        f"the chain of county {tree['county'].pk}, after entry #{before}, "
        f"position {position + 1}: removed (missing after position {position}"
    )


def renumber(tree, first: int, by: int) -> None:
    """Move the county chain's entries from ``first`` on by ``by`` positions, one at a time in an
    order that keeps each position unique, as a tamperer must to make or close a gap."""
    rows = Entry.objects.filter(chain=tree["county"].pk, chain_seq__gte=first)
    for seq, position in rows.order_by("-chain_seq" if by > 0 else "chain_seq").values_list(
        "seq", "chain_seq"
    ):
        Entry.objects.filter(seq=seq).update(chain_seq=position + by)
    Head.objects.filter(chain=tree["county"].pk).update(seq=F("seq") + by)


# --- what an entry records ------------------------------------------------------------------------


def test_a_change_through_the_web_records_actor_object_changes_request_and_address(
    users, tree, client_for
):
    village = tree["east_village"]
    response = client_for(users["east_admin"]).post(
        reverse("orgs:edit", args=[village.pk]),
        {"name": "东一新村", "short_name": "", "code": village.code, "version": village.version},
        headers={"X-Request-ID": "req-0123456789abcdef"},
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-0123456789abcdef"
    entry = Entry.objects.latest("seq")
    assert entry.actor == users["east_admin"]
    assert entry.actor_label == "east_admin"
    assert entry.action == "orgs.org.changed"
    assert (entry.object_type, entry.object_id) == ("orgs.org", str(village.pk))
    assert entry.object_repr == "东一新村"
    assert entry.changes == {"name": ["东一村", "东一新村"]}
    assert entry.request_id == "req-0123456789abcdef"
    assert entry.ip == "127.0.0.1"
    assert entry.county_id == tree["county"].pk


def test_an_unsafe_request_id_is_replaced_by_a_fresh_one(users, tree, client_for):
    village = tree["east_village"]
    response = client_for(users["east_admin"]).post(
        reverse("orgs:edit", args=[village.pk]),
        {"name": "东一新村", "code": village.code, "version": village.version},
        headers={"X-Request-ID": "<script>alert(1)</script>"},
    )
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.org.changed"
    assert "<" not in entry.request_id
    assert len(entry.request_id) == 32
    assert response["X-Request-ID"] == entry.request_id


def test_two_requests_get_two_request_ids(users, client_for):
    client = client_for(users["county_admin"])
    first = client.get(reverse("workspace:home"))["X-Request-ID"]
    second = client.get(reverse("workspace:home"))["X-Request-ID"]
    assert first != second


def test_work_done_outside_a_request_carries_no_request_id(chain):
    entry = Entry.objects.latest("seq")
    assert entry.actor is None
    assert entry.actor_label == "system"
    assert entry.request_id == ""
    assert entry.ip is None


def test_each_entry_links_to_the_one_before_in_its_chain_and_each_head_follows(chain):
    for county_id, count in [(chain["county"].pk, 12), (GLOBAL_CHAIN, 1)]:
        entries = list(Entry.objects.filter(chain=county_id).order_by("chain_seq"))
        assert [e.chain_seq for e in entries] == list(range(1, count + 1))
        assert entries[0].prev_hash == GENESIS
        for before, after in zip(entries, entries[1:], strict=False):
            assert after.prev_hash == before.hash
            assert after.seq > before.seq
        for entry in entries:
            assert entry.hash == link(entry.prev_hash, entry.payload())
        head = Head.objects.get(chain=county_id)
        assert (head.seq, head.hash) == (count, entries[-1].hash)


def test_an_entry_of_a_county_names_its_chain_in_what_its_hash_covers(chain):
    county = at(chain, 1)
    assert county.payload()["chain"] == chain["county"].pk
    assert county.payload()["seq"] == 1
    city = Entry.objects.get(chain=GLOBAL_CHAIN)
    assert "chain" not in city.payload()


def test_each_county_keeps_its_own_chain(chain):
    other = services.create_org(
        None, parent=chain["city"], kind=OrgKind.COUNTY, name="另一县", code="990102000000"
    )
    services.create_org(None, parent=other, kind=OrgKind.TOWN, name="北镇", code="990102100000")
    entries = list(Entry.objects.filter(chain=other.pk).order_by("chain_seq"))
    assert [(e.chain_seq, e.county_id) for e in entries] == [(1, other.pk), (2, other.pk)]
    assert Head.objects.get(chain=other.pk).seq == 2
    assert Head.objects.get(chain=chain["county"].pk).seq == 12
    assert verify()[0] == 0


def test_a_change_the_public_never_sees_leaves_the_public_count_alone(chain):
    head = Head.objects.get(chain=chain["county"].pk)
    record(None, "orgs.test.exported", chain["county"], public=False)
    record(None, "orgs.test.exported", chain["county"], public=False)
    after = Head.objects.get(chain=chain["county"].pk)
    assert after.seq == head.seq + 2 and after.public == head.public
    record(None, "orgs.test.changed", chain["county"])
    assert Head.objects.get(chain=chain["county"].pk).public == head.public + 1
    assert verify()[0] == 0


def test_many_entries_at_once_go_to_the_chains_of_their_counties(chain):
    other = services.create_org(
        None, parent=chain["city"], kind=OrgKind.COUNTY, name="另一县", code="990102000000"
    )
    towns = [chain["east"], chain["west"], other, chain["city"]]
    assert record_many(None, "orgs.test.noted", [(o, None, {"n": 1}) for o in towns]) == 4
    assert Head.objects.get(chain=chain["county"].pk).seq == 14
    assert Head.objects.get(chain=other.pk).seq == 2
    assert Head.objects.get(chain=GLOBAL_CHAIN).seq == 2
    assert verify()[0] == 0


def test_an_ipv6_address_is_stored_so_that_the_chain_still_verifies(users, tree, client_for):
    """PostgreSQL keeps an address in its short form; the hash must cover that same form."""
    village = tree["east_village"]
    response = client_for(users["east_admin"]).post(
        reverse("orgs:edit", args=[village.pk]),
        {"name": "东一新村", "code": village.code, "version": village.version},
        REMOTE_ADDR="2001:0db8:0000:0000:0000:0000:0000:0001",
    )
    assert response.status_code == 302
    assert Entry.objects.latest("seq").ip == "2001:db8::1"
    assert verify()[0] == 0


def test_an_address_that_is_not_an_ip_is_left_out(users, tree, client_for):
    village = tree["east_village"]
    response = client_for(users["east_admin"]).post(
        reverse("orgs:edit", args=[village.pk]),
        {"name": "东一新村", "code": village.code, "version": village.version},
        REMOTE_ADDR="unix-socket",
    )
    assert response.status_code == 302
    assert Entry.objects.latest("seq").ip is None


# --- append-only ----------------------------------------------------------------------------------


def test_an_entry_cannot_be_saved_again_or_deleted_through_the_model(chain):
    entry = at(chain, 2)
    entry.changes = {"name": ["x", "y"]}
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert at(chain, 2).changes != {"name": ["x", "y"]}
    assert Entry.objects.count() == 13


def test_the_database_refuses_an_update_of_an_entry(chain):
    seq = at(chain, 2).seq
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(seq=seq).update(object_repr="forged")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_entry SET action = 'forged' WHERE seq = %s", [seq])
    assert at(chain, 2).action == "orgs.org.created"


def test_the_database_refuses_a_delete_of_an_entry(chain):
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(seq=at(chain, 12).seq).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_entry")
    assert Entry.objects.count() == 13


# --- shishi verify-audit --------------------------------------------------------------------------


def test_verify_audit_passes_on_a_whole_chain(chain):
    status, out, err = verify()
    assert status == 0
    assert "audit chain whole: 13 entries in 2 chains verified" in out
    assert err == ""


def test_verify_audit_passes_on_an_empty_log(db):
    assert verify()[0] == 0


def test_verify_audit_names_an_entry_whose_changes_were_altered(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=at(chain, 11).seq).update(changes={"name": ["东一村", "别的村"]})
    status, _out, err = verify()
    assert status == 1
    assert broken_at(chain, 11, "altered") in err


def test_verify_audit_names_an_entry_whose_actor_was_altered(chain, users):
    drop_append_only_trigger()
    Entry.objects.filter(seq=at(chain, 5).seq).update(actor=users["auditor"], actor_label="auditor")
    status, _out, err = verify()
    assert status == 1
    assert broken_at(chain, 5, "altered") in err


def test_verify_audit_names_the_gap_left_by_a_removed_middle_entry(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=at(chain, 7).seq).delete()
    status, _out, err = verify()
    assert status == 1
    assert gap_after(chain, 6) + ": positions 7 to 7 are gone)" in err


def test_verify_audit_names_the_gap_when_the_later_entries_were_renumbered_to_close_it(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=at(chain, 7).seq).delete()
    renumber(chain, 8, -1)
    status, _out, err = verify()
    assert status == 1
    assert gap_after(chain, 6) + ": 1 entry removed and the later ones renumbered" in err


def test_verify_audit_names_a_removed_last_entry_from_the_head(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=at(chain, 12).seq).delete()
    status, _out, err = verify()
    assert status == 1
    assert gap_after(chain, 11) in err
    assert "ends at 11 but recorded 12" in err


def test_verify_audit_names_a_changed_prev_hash_as_such_not_as_an_insertion(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=at(chain, 8).seq).update(prev_hash="a" * 64)
    status, _out, err = verify()
    assert status == 1
    assert broken_at(chain, 8, "prev_hash changed (prev_hash changed at 8") in err
    assert "inserted" not in err


def test_verify_audit_names_the_row_inserted_in_the_middle(chain):
    """The tamperer moves the later entries up a place and slips a row in, linked to the entry
    before and hashed correctly; the entries after it keep their hashes."""
    drop_append_only_trigger()
    renumber(chain, 8, 1)
    before = at(chain, 7)
    forged = Entry(
        chain=before.chain,
        chain_seq=8,
        county_id=before.county_id,
        time=before.time,
        actor_label="system",
        action="orgs.org.changed",
        object_type="orgs.org",
        object_id=str(chain["west_village"].pk),
        changes={"name": ["西一村", "东一村"]},
        prev_hash=before.hash,
    )
    forged.hash = link(forged.prev_hash, forged.payload())
    forged.save()
    status, _out, err = verify()
    assert status == 1
    assert broken_at(chain, 8, "inserted", seq=forged.seq) in err
    assert "1 row inserted after position 7" in err


def test_verify_audit_names_an_entry_rewritten_with_a_recomputed_hash(chain):
    """Only the entry's own hash recomputed: the next entry still names the hash it had."""
    drop_append_only_trigger()
    entry = at(chain, 9)
    entry.changes = {"name": ["东一村", "别的村"]}
    Entry.objects.filter(seq=entry.seq).update(
        changes=entry.changes, hash=link(entry.prev_hash, entry.payload())
    )
    status, _out, err = verify()
    assert status == 1
    assert broken_at(chain, 9, "altered (rewritten with a recomputed hash") in err


def test_verify_audit_names_a_chain_whose_every_entry_was_removed(chain):
    drop_append_only_trigger()
    Entry.objects.filter(chain=chain["county"].pk).delete()
    status, _out, err = verify()
    assert status == 1
    assert f"the chain of county {chain['county'].pk}, position 1: removed" in err


def test_verify_audit_names_a_forged_entry_appended_after_the_head(chain):
    """Inserting needs no dropped trigger; the forger even computes a correct link."""
    last = at(chain, 12)
    forged = Entry(
        chain=last.chain,
        chain_seq=13,
        county_id=last.county_id,
        time=last.time,
        actor_label="system",
        action="orgs.org.changed",
        object_type="orgs.org",
        object_id=str(chain["west_village"].pk),
        changes={"name": ["西一村", "东一村"]},
        prev_hash=last.hash,
    )
    forged.hash = link(forged.prev_hash, forged.payload())
    forged.save()
    status, _out, err = verify()
    assert status == 1
    assert broken_at(chain, 13, "inserted") in err


def test_verify_audit_names_an_entry_replaced_by_a_forgery(chain):
    drop_append_only_trigger()
    original = at(chain, 6)
    Entry.objects.filter(seq=original.seq).delete()
    forged = Entry(
        chain=original.chain,
        chain_seq=6,
        county_id=original.county_id,
        time=original.time,
        actor_label="system",
        action="orgs.org.created",
        object_type="orgs.org",
        object_id=original.object_id,
        changes={"name": [None, "伪造"]},
        prev_hash="f" * 64,
    )
    forged.hash = link(forged.prev_hash, forged.payload())
    forged.save()
    status, _out, err = verify()
    assert status == 1
    assert broken_at(chain, 6, "replaced", seq=forged.seq) in err


def test_new_entries_after_a_verification_keep_the_chain_whole(chain):
    assert verify()[0] == 0
    record(None, "orgs.test.noted", Org.objects.get(code="990101100201"), data={"n": 1})
    status, out, _err = verify()
    assert status == 0
    assert "14 entries in 2 chains verified" in out


def test_values_are_recorded_as_plain_json_however_deeply_they_sit(tree):
    import datetime as dt
    from decimal import Decimal

    town = tree["east"]
    record(
        None,
        "test.values",
        town,
        changes={"budget": [None, Decimal("12.50")], "day": [None, dt.date(2026, 5, 1)]},
        data={
            "nested": [{"org": town, "at": dt.datetime(2026, 5, 1, 8, 30, tzinfo=dt.UTC)}],
            "pair": (1, "二"),
            "by_day": {dt.date(2026, 5, 1): 3},  # a key JSON cannot take: made text
        },
    )
    entry = Entry.objects.get(action="test.values")
    assert entry.changes == {"budget": [None, "12.50"], "day": [None, "2026-05-01"]}
    assert entry.data == {
        "nested": [{"org": town.pk, "at": "2026-05-01T08:30:00+00:00"}],
        "pair": [1, "二"],
        "by_day": {"2026-05-01": 3},
    }
    with pytest.raises(TypeError):
        record(None, "test.values", town, data={"unknown": {1, 2}})
