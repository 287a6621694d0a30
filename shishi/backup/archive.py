"""Backups that restore: ``shishi backup DIR`` and ``shishi restore ARCHIVE`` (docs/deploy.md,
sections 10 and 11).

An archive is one directory, ``shishi-YYYYmmdd-HHMMSS``, holding:

- ``database.pgdump`` (``pg_dump -Fc``) or ``database.sqlite3`` (SQLite's backup API);
- ``media/``: a copy of MEDIA_ROOT, the evidence files the database names;
- ``manifest.json``: the Shishi version, the migrations applied, every table's row count and the
  audit chains' heads, all read from the same snapshot as the dump; the fingerprint of
  FIELD_ENCRYPTION_KEY (never the key); the SHA-256 of every other file; and a signature made
  with a key derived from FIELD_ENCRYPTION_KEY, so that nobody without the key can alter a file
  and the manifest to match.

A directory rather than a tar: the dump (``-Fc``) and the photos are compressed already, so a tar
would only add a second copy's worth of disk while it is written; a directory is written file by
file, read with ``ls`` and ``sha256sum``, and copied off the machine with ``rsync``, which sends
only the evidence files that are new since last night. It is written under a hidden name and
renamed when complete, so a backup that fails half-way never looks like an archive.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _

from shishi.audit.services import record
from shishi.audit.verify import verify_chain
from shishi.lib.crypto import Box

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA = "media"
DUMPS = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
PREFIX = "shishi-"
STAMP = "%Y%m%d-%H%M%S"
CHUNK = 1024 * 1024
# Tables that ``migrate`` fills on an empty database: a database holding only these is empty.
# (audit_head holds each chain's position; migrate makes the global chain's, at position 0.)
MADE_BY_MIGRATE = {"django_migrations", "django_content_type", "auth_permission", "audit_head"}
# How many values of each encrypted column a restore decrypts to prove the key fits the data.
DECRYPT_SAMPLE = 50


class Refused(Exception):
    """The archive cannot be restored here, or backed up: nothing was changed. The message says
    why, in the active language."""


class Failed(Exception):
    """A restore ran, but what it restored does not match its manifest (the problems listed)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def box() -> Box:
    return Box(settings.FIELD_ENCRYPTION_KEY)


def shishi_version() -> str:
    try:
        return version("shishi")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout never installed
        return "unknown"


def canonical(manifest: dict) -> bytes:
    """The bytes the signature covers: the manifest without its signature, keys sorted."""
    body = {k: v for k, v in manifest.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


# --- reading a database: tables, rows, migrations, audit heads -----------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables(cursor, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY 1"
        )
    return [row[0] for row in cursor.fetchall()]


def describe(cursor, vendor: str) -> dict:
    """What the manifest says of a database, read through ``cursor`` (one snapshot): each
    table's rows, the migrations applied, and the audit log's chains."""
    tables = {}
    for table in _tables(cursor, vendor):
        cursor.execute(f"SELECT count(*) FROM {_quote(table)}")  # noqa: S608 - the catalogue's names
        tables[table] = cursor.fetchone()[0]
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    migrations: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        migrations.setdefault(app, []).append(name)
    cursor.execute("SELECT chain, seq, hash FROM audit_head ORDER BY chain")
    heads = {str(chain): {"seq": seq, "hash": hash_} for chain, seq, hash_ in cursor.fetchall()}
    cursor.execute("SELECT max(seq) FROM audit_entry")
    last = cursor.fetchone()[0]
    return {
        "tables": tables,
        "migrations": migrations,
        "audit": {"entries": tables.get("audit_entry", 0), "last_seq": last, "heads": heads},
    }


# --- files -----------------------------------------------------------------------------------------


def _copy(source: Path, target: Path) -> str:
    """Copy ``source`` to a new file ``target``, flushed to disk; the SHA-256 of what was read."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(root: Path) -> Iterator[Path]:
    """The regular files under ``root``, in a stable order (links are not followed)."""
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


def copy_tree(source: Path, target: Path) -> dict[str, str]:
    """Copy every file under ``source`` into ``target``: {path relative to source: SHA-256}."""
    sums = {}
    for path in _files(source):
        relative = path.relative_to(source)
        (target / relative).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        sums[relative.as_posix()] = _copy(path, target / relative)
    return sums


# --- the database engines --------------------------------------------------------------------------

# Connection options that are Django's or psycopg's, not libpq's: pg_dump would refuse them.
NOT_LIBPQ = {"assume_role", "isolation_level", "pool", "server_side_binding", "prepare_threshold"}


def _libpq() -> tuple[str, dict[str, str]]:
    """pg_dump's and pg_restore's ``--dbname`` (a connection string) and environment, from the
    settings: the password goes in the environment, never on a command line ``ps`` shows."""
    from psycopg.conninfo import make_conninfo

    s = connection.settings_dict
    params = {
        k: str(v)
        for k, v in (s.get("OPTIONS") or {}).items()
        if k not in NOT_LIBPQ and isinstance(v, str | int)
    }
    params.update(
        {
            k: str(v)
            for k, v in (
                ("dbname", s["NAME"]),
                ("user", s["USER"]),
                ("host", s["HOST"]),
                ("port", s["PORT"]),
            )
            if v
        }
    )
    env = {**os.environ}
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = s["PASSWORD"]
    return make_conninfo("", **params), env


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - pg_dump and pg_restore, arguments ours
            args, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise Refused(
            _("%(program)s is not installed: install the postgresql-client package.")
            % {"program": args[0]}
        ) from None
    if done.returncode != 0:
        raise Refused(
            _("%(program)s failed: %(error)s") % {"program": args[0], "error": done.stderr.strip()}
        )


def _dump_postgresql(target: Path) -> dict:
    """pg_dump of the snapshot the counts are read from, so that they describe the dump exactly
    even while people work: the snapshot is exported from this transaction, held open until
    pg_dump has taken it."""
    conninfo, env = _libpq()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        facts = describe(cursor, "postgresql")
        _run(
            [
                "pg_dump",
                "--format=custom",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={conninfo}",
            ],
            env,
        )
    return facts


def _dump_sqlite(target: Path) -> dict:
    """SQLite's backup API: a consistent copy while others write; counted from the copy."""
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
        # The copy stands alone: no write-ahead log beside it.
        copy.execute("PRAGMA journal_mode=DELETE")
        return describe(copy.cursor(), "sqlite")
    finally:
        copy.close()


def _load_postgresql(dump: Path) -> None:
    """pg_restore in one transaction: it all lands, or nothing does. ``--clean`` drops what the
    dump brings first, for a database that ``migrate`` was run on (or ``--force``)."""
    conninfo, env = _libpq()
    connection.close()
    _run(
        [
            "pg_restore",
            "--single-transaction",
            "--exit-on-error",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            f"--dbname={conninfo}",
            str(dump),
        ],
        env,
    )


def _load_sqlite(dump: Path) -> None:
    """SQLite's backup API into the configured file: one write transaction, so a failure leaves
    the file as it was."""
    name = connection.settings_dict["NAME"]
    connection.close()
    source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    target = sqlite3.connect(name, timeout=20)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


# --- backup ----------------------------------------------------------------------------------------


@dataclass
class Made:
    path: Path
    manifest: dict


def make(directory: Path, *, keep: int | None = None) -> Made:
    """Write an archive into ``directory``: the database, then the media, then the manifest.

    The backup is recorded in the audit log *before* the dump, so the dump holds its own entry
    and the manifest's head is that entry: a restored log says when and by whom its backup was
    taken, and its chain ends exactly where the manifest says. An entry written after the dump
    would be missing from every restore of it, and the archive's head would already be behind
    the live log's. A backup that then fails records that too.
    """
    vendor = connection.vendor
    if vendor not in DUMPS:
        raise Refused(_("Backups support PostgreSQL and SQLite, not %(v)s.") % {"v": vendor})
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    name = PREFIX + timezone.localtime(now).strftime(STAMP)
    final = directory / name
    if final.exists():
        raise Refused(_("%(path)s exists already.") % {"path": final})
    work = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=directory))
    # The archive holds everyone's data: readable by its owner alone, whatever the umask.
    umask = os.umask(0o077)
    record(
        None,
        "backup.archive.taken",
        data={"archive": name, "by": _who()},
        public=False,
    )
    try:
        dump = work / DUMPS[vendor]
        facts = _dump_postgresql(dump) if vendor == "postgresql" else _dump_sqlite(dump)
        files = {dump.name: _sha256(dump)}
        # After the dump: every file a dumped row names is on disk already (a file is written
        # before its row commits, and never changed), so it is in the copy.
        media = Path(settings.MEDIA_ROOT)
        (work / MEDIA).mkdir(mode=0o700)
        if media.is_dir():
            sums = copy_tree(media, work / MEDIA)
            files.update({f"{MEDIA}/{k}": v for k, v in sums.items()})
        manifest = {
            "format": FORMAT,
            "shishi_version": shishi_version(),
            "created": timezone.localtime(now).isoformat(),
            "engine": vendor,
            "database": dump.name,
            **facts,
            "key_fingerprint": box().fingerprint,
            "files": files,
        }
        manifest["signature"] = box().sign(canonical(manifest))
        with open(work / MANIFEST, "x", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        work.rename(final)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        record(
            None,
            "backup.archive.failed",
            data={"archive": name, "error": str(exc)[:500]},
            public=False,
        )
        raise
    finally:
        os.umask(umask)
    if keep:
        prune(directory, keep)
    return Made(final, manifest)


def _who() -> str:
    """The account and machine that ran the command, for the audit entry (the actor is the
    system: no one signs in to run it)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{socket.gethostname()}"


def archives(directory: Path) -> list[Path]:
    """The complete archives in ``directory``, oldest first."""
    return sorted(
        p for p in Path(directory).glob(f"{PREFIX}*") if p.is_dir() and (p / MANIFEST).is_file()
    )


def prune(directory: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest archives; the removed ones."""
    old = archives(directory)[:-keep]
    for path in old:
        shutil.rmtree(path)
    return old


# --- restore: check, then load, then verify -----------------------------------------------------------


def read_manifest(archive: Path) -> dict:
    path = Path(archive) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Refused(
            _("%(path)s is not a Shishi archive: it has no %(m)s.")
            % {"path": archive, "m": MANIFEST}
        ) from None
    except (OSError, ValueError) as exc:
        raise Refused(
            _("%(path)s cannot be read: %(error)s") % {"path": path, "error": exc}
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Refused(
            _("%(path)s is not an archive this version of Shishi reads (format %(f)s).")
            % {"path": path, "f": manifest.get("format") if isinstance(manifest, dict) else "?"}
        )
    return manifest


def check(archive: Path) -> dict:
    """Everything that can be checked before a restore changes anything: the manifest, the key,
    every file's checksum, the engine and the migrations. Raises ``Refused``; the manifest."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    expected, configured = manifest.get("key_fingerprint", ""), box().fingerprint
    if expected != configured:
        raise Refused(
            _(
                "This archive was made with another encryption key: it expects the "
                "FIELD_ENCRYPTION_KEY whose fingerprint is %(expected)s, and the one configured "
                "here has the fingerprint %(configured)s. Put the key saved with the backups in "
                "the environment file; without it the personal data in the archive cannot be read."
            )
            % {"expected": expected[:16], "configured": configured[:16]}
        )
    if not box().verify(canonical(manifest), str(manifest.get("signature", ""))):
        raise Refused(
            _(
                "The archive's manifest has been altered: its signature does not match. Restore "
                "from another archive."
            )
        )
    listed = manifest["files"]
    present = {p.relative_to(archive).as_posix() for p in _files(archive)} - {MANIFEST}
    problems = []
    for name in sorted(set(listed) - present):
        problems.append(_("%(name)s is missing") % {"name": name})
    for name in sorted(present - set(listed)):
        problems.append(_("%(name)s is not in the manifest") % {"name": name})
    for name in sorted(set(listed) & present):
        if _sha256(archive / name) != listed[name]:
            problems.append(_("%(name)s has changed since the backup") % {"name": name})
    if problems:
        shown = problems[:20] + ([f"… (+{len(problems) - 20})"] if len(problems) > 20 else [])
        raise Refused(
            _("The archive is damaged; nothing was restored: %(problems)s.")
            % {"problems": "; ".join(shown)}
        )
    if manifest["engine"] != connection.vendor:
        raise Refused(
            _("The archive holds a %(archive)s database, and this installation uses %(here)s.")
            % {"archive": manifest["engine"], "here": connection.vendor}
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [
        f"{app}.{name}"
        for app, names in sorted(manifest["migrations"].items())
        for name in names
        if (app, name) not in known
    ]
    if unknown:
        raise Refused(
            _(
                "The archive was made by a newer Shishi (%(version)s): this installation does "
                "not know its migrations %(names)s. Install Shishi %(version)s, then restore."
            )
            % {"version": manifest["shishi_version"], "names": ", ".join(unknown[:10])}
        )
    return manifest


def holding_data() -> list[str]:
    """The tables of the configured database that hold data (not only what ``migrate`` makes)."""
    found = []
    with connection.cursor() as cursor:
        for table in _tables(cursor, connection.vendor):
            if table in MADE_BY_MIGRATE:
                continue
            cursor.execute(f"SELECT 1 FROM {_quote(table)} LIMIT 1")  # noqa: S608 - the catalogue's names
            if cursor.fetchone():
                found.append(table)
        if "audit_head" in connection.introspection.table_names(cursor):
            cursor.execute("SELECT 1 FROM audit_head WHERE seq > 0 LIMIT 1")
            if cursor.fetchone():
                found.append("audit_head")
    return found


@dataclass
class Restored:
    manifest: dict
    tables: int = 0
    rows: int = 0
    files: int = 0
    decrypted: int = 0
    media_kept: Path | None = None
    unapplied: list[str] = field(default_factory=list)


def restore(archive: Path, *, force: bool = False, say: Callable[[str], None] = print) -> Restored:
    """Restore ``archive`` into the configured database and MEDIA_ROOT, then verify it.

    Refused (``Refused``, nothing changed) when the archive fails its checks or the database or
    MEDIA_ROOT holds data and ``force`` is not given. The media are copied beside MEDIA_ROOT
    first and renamed into place only once the database is restored, so neither is ever half
    written. Raises ``Failed`` when the restored data do not match the manifest."""
    archive = Path(archive)
    manifest = check(archive)
    say(_("Archive checked: %(n)s files, key and signature match.") % {"n": len(manifest["files"])})
    media = Path(settings.MEDIA_ROOT)
    if not force:
        tables = holding_data()
        if tables:
            raise Refused(
                _(
                    "The database is not empty (%(tables)s hold data); nothing was restored. "
                    "Restore into an empty database, or give --force to replace its contents."
                )
                % {"tables": ", ".join(tables[:5]) + (" …" if len(tables) > 5 else "")}
            )
        if media.is_dir() and any(_files(media)):
            raise Refused(
                _(
                    "%(media)s holds files; nothing was restored. Restore into an empty "
                    "MEDIA_ROOT, or give --force to set the present files aside."
                )
                % {"media": media}
            )
    media.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{media.name}.restore.", dir=media.parent))
    try:
        sums = copy_tree(archive / MEDIA, staged)
        expected = {
            k[len(MEDIA) + 1 :]: v
            for k, v in manifest["files"].items()
            if k.startswith(f"{MEDIA}/")
        }
        if sums != expected:
            raise Refused(
                _("The media files changed while they were copied; nothing was restored.")
            )
        dump = archive / manifest["database"]
        if connection.vendor == "postgresql":
            _load_postgresql(dump)
        else:
            _load_sqlite(dump)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    result = Restored(manifest)
    result.media_kept = _swap(staged, media)
    say(_("Database and media restored; verifying."))
    _verify(manifest, result)
    record(
        None,
        "backup.archive.restored",
        data={
            "archive": archive.name,
            "created": manifest["created"],
            "shishi_version": manifest["shishi_version"],
            "by": _who(),
        },
        # Everything public may have changed: cached public pages are stale.
        public=True,
    )
    return result


def _swap(staged: Path, media: Path) -> Path | None:
    """Rename the staged copy into MEDIA_ROOT; present files (``--force``) are set aside beside
    it, not deleted. Each rename is atomic: MEDIA_ROOT is the old tree or the new, never half."""
    kept = None
    if media.exists():
        if any(_files(media)):
            stamp = timezone.localtime().strftime(STAMP)
            kept = media.with_name(f"{media.name}.before-restore-{stamp}")
            media.rename(kept)
        else:
            shutil.rmtree(media)
    staged.rename(media)
    return kept


def _verify(manifest: dict, result: Restored) -> None:
    """Compare the restored database with the manifest: every table's rows, the audit chains
    (re-hashed whole, and ending at the heads the manifest names), a sample of every encrypted
    column decrypted with the configured key, and every file the database names on disk."""
    problems = []
    with connection.cursor() as cursor:
        facts = describe(cursor, connection.vendor)
    for table, rows in sorted(manifest["tables"].items()):
        found = facts["tables"].get(table)
        if found != rows:
            problems.append(
                _("%(table)s has %(found)s rows, the archive %(rows)s")
                % {"table": table, "found": found, "rows": rows}
            )
    result.tables = len(manifest["tables"])
    result.rows = sum(manifest["tables"].values())
    broken = verify_chain()
    if broken is not None:
        problems.append(_("the audit chain is broken in %(where)s") % {"where": broken})
    if facts["audit"]["heads"] != manifest["audit"]["heads"]:
        problems.append(_("the audit chains do not end where the archive's manifest says"))
    cipher = box()
    for model, column in _encrypted_columns():
        values = (
            model._default_manager.exclude(**{column: ""})
            .order_by("pk")
            .values_list(column, flat=True)[:DECRYPT_SAMPLE]
        )
        for value in values:
            try:
                cipher.decrypt(value)
            except ValueError:
                problems.append(
                    _("%(column)s of %(model)s cannot be decrypted with the configured key")
                    % {"column": column, "model": model._meta.label}
                )
                break
            result.decrypted += 1
    missing = 0
    for model, column in _file_columns():
        for name in (
            model._default_manager.exclude(**{column: ""}).values_list(column, flat=True).iterator()
        ):
            result.files += 1
            if not default_storage.exists(name):
                missing += 1
    if missing:
        problems.append(_("%(n)s files the database names are missing") % {"n": missing})
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    result.unapplied = sorted(
        f"{app}.{name}"
        for app, name in loader.disk_migrations
        if (app, name) not in loader.applied_migrations
    )
    if problems:
        raise Failed(problems)


def _encrypted_columns() -> Iterator[tuple[type[models.Model], str]]:
    """Every column holding a value encrypted with FIELD_ENCRYPTION_KEY (named ``*_encrypted``)."""
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if f.name.endswith("_encrypted"):
                yield model, f.attname


def _file_columns() -> Iterator[tuple[type[models.Model], str]]:
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, models.FileField):
                yield model, f.attname


def head_of(manifest: dict) -> str:
    """The audit log's end as the summaries show it: the last entry's number and each chain's
    position and hash."""
    audit = manifest["audit"]
    chains = ", ".join(
        f"{chain}:{h['seq']}:{h['hash'][:12]}"
        for chain, h in sorted(audit["heads"].items(), key=lambda kv: int(kv[0]))
    )
    return f"#{audit['last_seq']} ({chains})"
