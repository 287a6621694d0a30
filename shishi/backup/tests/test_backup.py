"""``shishi backup`` and ``shishi restore``: an archive restores into a fresh database with the same
rows, the same personal data once decrypted, the same evidence files and the same audit chain; a
damaged archive, one made with another key, or a database that holds data is refused, and
nothing is changed."""

import hashlib
import json
import sqlite3
import uuid
from io import StringIO
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from shishi.audit.models import Entry, Head
from shishi.backup import archive
from shishi.commitments.models import Evidence
from shishi.lib.crypto import Box
from shishi.orgs.models import Person
from shishi.testing import (
    accepted,
    add_villages,
    item_2026,
    jpeg,
    make_programme,
    pdf,
    process_env,
    run_shishi,
)

pytestmark = pytest.mark.usefixtures("committed_db")

OTHER_KEY = "another-field-encryption-key-0123456789"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def data(tree, users, media):
    """People with phone numbers (encrypted), a published list, an accepted progress report with
    a photo (and its thumbnail) and a PDF on disk, and the audit entries of all of it."""
    add_villages(tree["east"], 0, 3, people=2)
    programme = make_programme(tree["county"], 2026, [item_2026(tree)])
    commitment = programme.commitments.get()
    accepted(users["unit_officer"], users["county_admin"], commitment, files=[jpeg(), pdf()])
    assert Evidence.objects.count() == 2
    return tree


def backup(directory: Path) -> Path:
    out = StringIO()
    call_command("backup", str(directory), stdout=out)
    made = archive.archives(directory)
    assert len(made) == 1, out.getvalue()
    return made[0]


def restore(*args: str) -> str:
    out = StringIO()
    call_command("restore", *args, stdout=out, stderr=out)
    return out.getvalue()


def sums(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        return archive.describe(cursor, connection.vendor)["tables"]


@pytest.fixture
def fresh(tmp_path):
    """A new, empty database beside the test's (a file on SQLite, a database on the same
    PostgreSQL server): its DATABASE_URL, and a function running a query in it."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"

        def query(sql):
            with sqlite3.connect(path) as db:
                return db.execute(sql).fetchall()

        yield f"sqlite:///{path}", query
        return
    s = connection.settings_dict
    name = f"{s['NAME']}_restored_{uuid.uuid4().hex[:8]}"
    server = {"host": s["HOST"] or None, "port": s["PORT"] or None, "user": s["USER"]}
    if s["PASSWORD"]:
        server["password"] = s["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    from shishi.testing import database_url

    def query(sql):
        with psycopg.connect(dbname=name, **server) as db:
            return db.execute(sql).fetchall()

    try:
        yield database_url(name), query
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_an_archive_restores_into_a_fresh_database_as_it_was(
    data, tmp_path, media, fresh, settings
):
    url, query = fresh
    phones = {p.number: p.phone for p in Person.objects.exclude(phone_encrypted="")}
    assert len(phones) >= 8
    path = backup(tmp_path / "backups")
    # The backup is in its own archive's log: the manifest's head is the entry that records it.
    taken = Entry.objects.order_by("-seq").first()
    assert taken.action == "backup.archive.taken"
    assert taken.data["archive"] == path.name
    before = counts()
    heads = {str(h.chain): {"seq": h.seq, "hash": h.hash} for h in Head.objects.all()}
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["tables"] == before
    assert manifest["audit"]["heads"] == heads
    assert manifest["audit"]["last_seq"] == taken.seq
    assert manifest["key_fingerprint"] == Box(settings.FIELD_ENCRYPTION_KEY).fingerprint
    assert settings.FIELD_ENCRYPTION_KEY not in (path / "manifest.json").read_text()
    assert {k for k in manifest["files"] if k.startswith("media/")} == {
        f"media/{k}" for k in sums(media)
    }

    restored_media = tmp_path / "restored-media"
    done = run_shishi(
        "restore", str(path), env=process_env(DATABASE_URL=url, MEDIA_ROOT=str(restored_media))
    )
    assert done.returncode == 0, done.stderr

    # Every table has the rows it had, but for the restore's own audit entry.
    tables = {t: query(f'SELECT count(*) FROM "{t}"')[0][0] for t in before}  # noqa: S608
    assert tables.pop("audit_entry") == before.pop("audit_entry") + 1
    tables.pop("audit_head"), before.pop("audit_head")
    assert tables == before
    # The personal data read back with the key is the same.
    box = Box(settings.FIELD_ENCRYPTION_KEY)
    restored = {
        number: box.decrypt(token)
        for number, token in query("SELECT number, phone_encrypted FROM orgs_person")
        if token
    }
    assert restored == phones
    # The audit chains end where they ended, then the restore follows on the global chain.
    chains = {
        str(c): {"seq": s, "hash": h}
        for c, s, h in query("SELECT chain, seq, hash FROM audit_head")
    }
    assert {k: v for k, v in chains.items() if k != "0"} == {
        k: v for k, v in heads.items() if k != "0"
    }
    last = query(
        "SELECT action, prev_hash, chain_seq FROM audit_entry WHERE chain = 0 "
        "ORDER BY chain_seq DESC LIMIT 1"
    )[0]
    assert last == ("backup.archive.restored", heads["0"]["hash"], heads["0"]["seq"] + 1)
    # The evidence files are the same files, byte for byte.
    assert sums(restored_media) == sums(media)
    assert not list(tmp_path.glob(".restored-media.restore.*"))


def test_a_damaged_archive_is_refused_and_nothing_is_restored(data, tmp_path, media):
    path = backup(tmp_path / "backups")
    photo = next(p for p in (path / "media").rglob("*.jpg") if "thumb" not in p.name)
    photo.write_bytes(photo.read_bytes() + b"x")
    before, files = counts(), sums(media)
    with pytest.raises(CommandError, match=r"damaged.*has changed since the backup"):
        restore(str(path), "--force")
    assert counts() == before
    assert sums(media) == files


def test_a_manifest_edited_to_match_is_refused(data, tmp_path):
    path = backup(tmp_path / "backups")
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["tables"]["orgs_person"] += 1
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="manifest has been altered"):
        restore(str(path), "--check")


def test_an_archive_made_with_another_key_is_refused_naming_the_key_it_expects(
    data, tmp_path, settings
):
    path = backup(tmp_path / "backups")
    expected = Box(settings.FIELD_ENCRYPTION_KEY).fingerprint[:16]
    settings.FIELD_ENCRYPTION_KEY = OTHER_KEY
    before = counts()
    with pytest.raises(CommandError, match=f"another encryption key.*{expected}"):
        restore(str(path), "--force")
    assert counts() == before


def test_a_database_that_holds_data_is_not_replaced_without_force(data, tmp_path, media):
    path = backup(tmp_path / "backups")
    before = counts()
    with pytest.raises(CommandError, match="database is not empty.*--force"):
        restore(str(path))
    assert counts() == before


def test_the_check_reads_every_file_and_changes_nothing(data, tmp_path):
    path = backup(tmp_path / "backups")
    before = counts()
    out = restore(str(path), "--check")
    assert "Archive whole" in out
    assert counts() == before


def test_keep_leaves_the_newest_archives(tree, tmp_path, media):
    for stamp in ("20250101-000000", "20250102-000000"):
        (tmp_path / f"shishi-{stamp}").mkdir()
        (tmp_path / f"shishi-{stamp}" / "manifest.json").write_text("{}")
    call_command("backup", str(tmp_path), "--keep", "2", stdout=StringIO())
    names = [p.name for p in archive.archives(tmp_path)]
    assert len(names) == 2
    assert names[0] == "shishi-20250102-000000"
