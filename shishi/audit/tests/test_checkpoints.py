"""Signed checkpoints: the audit log anchored outside the database, and what only they catch."""

import base64
import hashlib
import json
import os
import stat

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.core.management.base import CommandError

from shishi.audit import checkpoints
from shishi.audit.models import Checkpoint, Entry, Head
from shishi.audit.services import record
from shishi.lib import checkpoint as signing
from shishi.lib.hashchain import canonical
from shishi.orgs.models import Org
from shishi.testing import drop_append_only_trigger, rehash_from, run_command

pytestmark = pytest.mark.django_db


def at(tree, position: int) -> Entry:
    return Entry.objects.get(chain=tree["county"].pk, chain_seq=position)


def saved(checkpoint: Checkpoint, tmp_path) -> str:
    """The checkpoint's file as someone saved it from the public page: a copy of its own."""
    path = tmp_path / f"saved-{checkpoint.number}.json"
    path.write_text(json.dumps(checkpoints.document(checkpoint), ensure_ascii=False))
    return str(path)


def note(tree, n: int = 1) -> None:
    for i in range(n):
        record(None, "orgs.test.noted", Org.objects.get(code="990101100201"), data={"n": i})


@pytest.fixture
def key():
    return checkpoints.ensure_key()


# --- the key ---------------------------------------------------------------------------------


def test_audit_key_creates_a_key_only_its_owner_can_read_and_will_not_replace_it(
    settings, tmp_path
):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "audit.pem"
    status, out, _err = run_command("audit_key", "--create")
    assert status == 0
    path = settings.AUDIT_SIGNING_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    fp = signing.fingerprint(signing.load_key(path).public_key())
    assert f"fingerprint (SHA-256): {fp}" in out
    assert "-----BEGIN PUBLIC KEY-----" in out
    before = path.read_bytes()
    with pytest.raises(CommandError, match="already exists"):
        run_command("audit_key", "--create")
    assert path.read_bytes() == before
    assert f"fingerprint (SHA-256): {fp}" in run_command("audit_key")[1]


def test_no_checkpoint_is_written_without_the_key_and_the_message_says_what_to_do(
    settings, tmp_path, chain
):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "missing.pem"
    with pytest.raises(CommandError, match=r"no audit signing key at .*shishi audit-key --create"):
        run_command("audit_checkpoint")
    assert not Checkpoint.objects.exists()
    assert not settings.AUDIT_SIGNING_KEY_FILE.exists()


# --- writing checkpoints ---------------------------------------------------------------------


def test_a_checkpoint_signs_every_chains_head_and_is_written_as_a_file(chain, key, settings):
    status, out, _err = run_command("audit_checkpoint")
    assert status == 0
    checkpoint = Checkpoint.objects.get()
    heads = sorted(Head.objects.values_list("chain", "seq", "hash"))
    assert [tuple(c) for c in checkpoint.chains] == heads
    assert checkpoint.entries == 13 == Entry.objects.count()
    assert checkpoint.number == 1 and checkpoint.previous == ""
    assert checkpoint.key == signing.fingerprint(key.public_key())
    path = settings.AUDIT_CHECKPOINT_DIR / "checkpoint-000001.json"
    assert f"checkpoint #1 written: 13 entries in 2 chains, digest {checkpoint.digest}" in out
    assert str(path) in out
    doc = json.loads(path.read_text())
    assert doc["checkpoint"]["chains"][1] == {
        "chain": chain["county"].pk,
        "seq": 12,
        "hash": at(chain, 12).hash,
    }
    assert signing.read(path.read_bytes(), key.public_key()) == doc["checkpoint"]


def test_the_signature_covers_the_canonical_json_anyone_can_rebuild(chain, key):
    """What docs/security.md tells an outsider to do, with the key from the public page."""
    checkpoint, _made = checkpoints.write_checkpoint()
    doc = json.loads(json.dumps(checkpoints.document(checkpoint)))
    signed = json.dumps(doc["checkpoint"], sort_keys=True, separators=(",", ":")).encode()
    assert signed == canonical(doc["checkpoint"])
    public = serialization.load_pem_public_key(doc["public_key"].encode())
    public.verify(base64.b64decode(doc["signature"]), signed)  # raises InvalidSignature if not
    assert doc["digest"] == hashlib.sha256(signed).hexdigest()


def test_a_second_checkpoint_with_no_head_moved_is_the_first_one_again(chain, key):
    first, made = checkpoints.write_checkpoint()
    assert made
    status, out, _err = run_command("audit_checkpoint")
    assert status == 0
    assert "checkpoint #1 unchanged since" in out
    assert Checkpoint.objects.count() == 1


def test_each_checkpoint_names_the_one_before_it(chain, key):
    first, _ = checkpoints.write_checkpoint()
    note(chain)
    with time_machine.travel("2031-05-02 08:00:00+08:00", tick=False):
        second, made = checkpoints.write_checkpoint()
    assert made and second.number == 2
    assert second.previous == first.digest
    assert second.entries == 14
    assert second.body()["time"] == "2031-05-02T00:00:00+00:00"


# --- verify-audit against a checkpoint -------------------------------------------------------


def test_verify_audit_proves_the_log_extends_a_saved_checkpoint(chain, key, tmp_path):
    checkpoint, _ = checkpoints.write_checkpoint()
    note(chain, 3)  # the log may grow after it
    status, out, err = run_command("verify_audit", "--checkpoint", saved(checkpoint, tmp_path))
    assert status == 0, err
    assert "audit chain whole: 16 entries in 2 chains verified" in out
    assert f"extends checkpoint #1 of {checkpoint.body()['time']} (13 entries; digest " in out


def test_verify_audit_checks_the_newest_stored_checkpoint_by_default(chain, key):
    checkpoints.write_checkpoint()
    note(chain)
    checkpoints.write_checkpoint()
    status, out, _err = run_command("verify_audit")
    assert status == 0
    assert "extends checkpoint #2" in out


def test_the_last_entries_removed_with_the_head_moved_back_are_caught_only_by_a_checkpoint(
    chain, key, tmp_path
):
    checkpoint, _ = checkpoints.write_checkpoint()
    file = saved(checkpoint, tmp_path)
    drop_append_only_trigger()
    county = chain["county"].pk
    Entry.objects.filter(chain=county, chain_seq__gt=10).delete()
    Head.objects.filter(chain=county).update(seq=10, hash=at(chain, 10).hash)
    Checkpoint.objects.all().delete()  # the tamperer removes the stored one too

    status, out, err = run_command("verify_audit")
    assert status == 0, "the log alone reads whole: what checkpoints are for"
    assert "audit chain whole: 11 entries in 2 chains verified" in out
    assert "show only against a checkpoint: run with --checkpoint FILE" in out

    status, out, err = run_command("verify_audit", "--checkpoint", file)
    assert status == 1
    assert (
        f"audit log no longer extends checkpoint #1 of {checkpoint.body()['time']}: the chain "
        f"of county {county}: checkpoint #1 signed position 12, but the chain now ends at 10: "
        "entries after position 10 were removed and the head moved back with them"
    ) in err


def test_the_stored_checkpoint_catches_a_truncation_it_was_not_told_about(chain, key):
    checkpoints.write_checkpoint()
    drop_append_only_trigger()
    county = chain["county"].pk
    Entry.objects.filter(chain=county, chain_seq=12).delete()
    Head.objects.filter(chain=county).update(seq=11, hash=at(chain, 11).hash)
    status, _out, err = run_command("verify_audit")
    assert status == 1
    assert "signed position 12, but the chain now ends at 11" in err


def test_a_rewrite_with_every_hash_recomputed_is_caught_only_by_a_checkpoint(chain, key, tmp_path):
    checkpoint, _ = checkpoints.write_checkpoint()
    file = saved(checkpoint, tmp_path)
    drop_append_only_trigger()
    county = chain["county"].pk
    Entry.objects.filter(seq=at(chain, 5).seq).update(changes={"name": [None, "伪造"]})
    rehash_from(county, 5)
    Checkpoint.objects.all().delete()

    assert run_command("verify_audit")[0] == 0
    status, _out, err = run_command("verify_audit", "--checkpoint", file)
    assert status == 1
    assert (
        f"the chain of county {county}: entry #{at(chain, 12).seq} at position 12 no longer "
        f"has the hash checkpoint #1 signed ({checkpoint.chains[1][2][:16]}…"
    ) in err
    assert "the chain was rewritten at or before position 12" in err


def test_an_earlier_checkpoint_narrows_where_a_rewrite_began(chain, key, tmp_path):
    checkpoints.write_checkpoint()  # county chain at 12
    note(chain, 3)
    second, _ = checkpoints.write_checkpoint()  # at 15
    drop_append_only_trigger()
    county = chain["county"].pk
    Entry.objects.filter(seq=at(chain, 14).seq).update(data={"n": 99})
    rehash_from(county, 14)
    status, _out, err = run_command("verify_audit", "--checkpoint", saved(second, tmp_path))
    assert status == 1
    assert (
        "the chain was rewritten after position 12 (where an earlier checkpoint still holds) "
        "and at or before position 15"
    ) in err


def test_a_checkpoint_file_changed_after_signing_is_not_trusted(chain, key, tmp_path):
    checkpoint, _ = checkpoints.write_checkpoint()
    doc = checkpoints.document(checkpoint)
    doc["checkpoint"]["chains"][1]["seq"] = 11  # to fit a log cut short
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(doc))
    status, _out, err = run_command("verify_audit", "--checkpoint", str(path))
    assert status == 1
    assert "checkpoint not trusted: the signature of checkpoint #1 does not hold" in err


def test_a_checkpoint_signed_by_another_key_is_not_trusted(chain, key, tmp_path, settings):
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "other.pem"
    other, _ = checkpoints.write_checkpoint(checkpoints.create_key())
    file = saved(other, tmp_path)
    status, _out, err = run_command(
        "verify_audit", "--checkpoint", file, "--public-key", public_pem_of(key, tmp_path)
    )
    assert status == 1
    assert (
        f"names the key {other.key}, not the key given ({signing.fingerprint(key.public_key())})"
        in err
    )


def public_pem_of(key, tmp_path) -> str:
    path = tmp_path / "published.pem"
    path.write_text(signing.public_pem(key.public_key()))
    return str(path)


def test_an_outsider_verifies_with_the_published_public_key_alone(chain, key, tmp_path, settings):
    checkpoint, _ = checkpoints.write_checkpoint()
    file, pem = saved(checkpoint, tmp_path), public_pem_of(key, tmp_path)
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "not-on-this-machine.pem"
    status, out, _err = run_command("verify_audit", "--checkpoint", file, "--public-key", pem)
    assert status == 0
    assert "extends checkpoint #1" in out
    with pytest.raises(CommandError, match="give the published public key with --public-key"):
        run_command("verify_audit", "--checkpoint", file)


def test_a_stored_checkpoint_changed_in_the_database_fails_verification(chain, key):
    checkpoint, _ = checkpoints.write_checkpoint()
    chains = [list(c) for c in checkpoint.chains]
    chains[1][1] = 11
    Checkpoint.objects.filter(number=1).update(chains=chains, entries=12)
    status, _out, err = run_command("verify_audit")
    assert status == 1
    assert "stored checkpoint #1 does not hold its signature" in err


def test_a_broken_chain_is_named_when_a_checkpoint_is_given_too(chain, key, tmp_path):
    checkpoint, _ = checkpoints.write_checkpoint()
    drop_append_only_trigger()
    Entry.objects.filter(seq=at(chain, 12).seq).update(data={"forged": True})
    status, _out, err = run_command("verify_audit", "--checkpoint", saved(checkpoint, tmp_path))
    assert status == 1
    assert f"entry #{at(chain, 12).seq}, position 12: altered" in err
