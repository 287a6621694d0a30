"""The audit log: what each entry records, and the chain that shows any tampering."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from shishi.audit.models import AppendOnlyError, Entry, Head
from shishi.audit.services import record
from shishi.lib.hashchain import link
from shishi.orgs import services
from shishi.orgs.models import Org

pytestmark = pytest.mark.django_db


def verify() -> tuple[int, str, str]:
    """Run ``shishi verify-audit``: (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def drop_append_only_trigger() -> None:
    """What a tamperer with database access would do first. DDL is transactional on both
    databases, so the test's rollback brings the trigger back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
        else:
            cursor.execute("DROP TRIGGER audit_entry_no_update")
            cursor.execute("DROP TRIGGER audit_entry_no_delete")


@pytest.fixture
def chain(tree):
    """Eleven entries from building the tree, plus a few changes."""
    for name in ["东一村（新）", "东一村"]:
        services.update_org(None, tree["east_village"], name=name)
    assert Entry.objects.count() == 13
    return tree


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


def test_each_entry_links_to_the_one_before_and_the_head_follows(chain):
    entries = list(Entry.objects.order_by("seq"))
    assert [e.seq for e in entries] == list(range(1, 14))
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
        assert after.hash == link(after.prev_hash, after.payload())
    head = Head.objects.get()
    assert (head.seq, head.hash) == (13, entries[-1].hash)


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
    entry = Entry.objects.get(seq=3)
    entry.changes = {"name": ["x", "y"]}
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert Entry.objects.get(seq=3).changes != {"name": ["x", "y"]}
    assert Entry.objects.count() == 13


def test_the_database_refuses_an_update_of_an_entry(chain):
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(seq=3).update(object_repr="forged")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_entry SET action = 'forged' WHERE seq = 3")
    assert Entry.objects.get(seq=3).action == "orgs.org.created"


def test_the_database_refuses_a_delete_of_an_entry(chain):
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(seq=13).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_entry")
    assert Entry.objects.count() == 13


# --- shishi verify-audit --------------------------------------------------------------------------


def test_verify_audit_passes_on_a_whole_chain(chain):
    status, out, err = verify()
    assert status == 0
    assert "audit chain whole: 13 entries verified" in out
    assert err == ""


def test_verify_audit_passes_on_an_empty_log(db):
    assert verify()[0] == 0


def test_verify_audit_names_an_entry_whose_changes_were_altered(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=12).update(changes={"name": ["东一村", "别的村"]})
    status, _out, err = verify()
    assert status == 1
    assert "audit chain broken at entry 12: altered" in err


def test_verify_audit_names_an_entry_whose_actor_was_altered(chain, users):
    drop_append_only_trigger()
    Entry.objects.filter(seq=5).update(actor=users["auditor"], actor_label="auditor")
    status, _out, err = verify()
    assert status == 1
    assert "audit chain broken at entry 5: altered" in err


def test_verify_audit_names_a_removed_middle_entry(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=7).delete()
    status, _out, err = verify()
    assert status == 1
    assert "audit chain broken at entry 7: removed" in err


def test_verify_audit_names_a_removed_last_entry_from_the_head(chain):
    drop_append_only_trigger()
    Entry.objects.filter(seq=13).delete()
    status, _out, err = verify()
    assert status == 1
    assert "audit chain broken at entry 13: removed" in err
    assert "ends at 12 but recorded 13" in err


def test_verify_audit_names_a_forged_entry_appended_after_the_head(chain):
    """Inserting needs no dropped trigger; the forger even computes a correct link."""
    last = Entry.objects.latest("seq")
    forged = Entry(
        seq=14,
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
    assert "audit chain broken at entry 14: inserted" in err


def test_verify_audit_names_an_entry_replaced_by_a_forgery(chain):
    drop_append_only_trigger()
    original = Entry.objects.get(seq=6)
    Entry.objects.filter(seq=6).delete()
    forged = Entry(
        seq=6,
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
    assert "audit chain broken at entry 6: inserted" in err


def test_new_entries_after_a_verification_keep_the_chain_whole(chain):
    assert verify()[0] == 0
    record(None, "orgs.test.noted", Org.objects.get(code="990101100201"), data={"n": 1})
    status, out, _err = verify()
    assert status == 0
    assert "14 entries verified" in out
