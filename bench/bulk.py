"""`make bench`, the bulk half: imports, exports, generation and the audit check, beside floors.

    .venv/bin/python bench/bulk.py --scale county      # a few minutes
    .venv/bin/python bench/bulk.py --scale province    # under half an hour

Every figure stands beside a floor measured in the same run, as a ratio (the case's rate over
the floor's rate: 1.00 is as fast as the floor, 0.25 four times slower), because absolute times
on a shared two-core machine are noise. Measured, on the PostgreSQL database shishi_bench_bulk,
dropped and rebuilt at every run so that ``shishi generate`` really generates:

1. ``shishi generate``: counties and rows inserted per second; floor: COPY of as many rows of the
   same average width into a scratch table (PostgreSQL's fastest way in).
2. The Excel import (``import_ledger``) of 10,000 and 100,000 commitments, from a workbook made
   of ``CommitmentExporter``'s own output multiplied: its check phase and its write phase;
   floor: openpyxl alone reading every cell of the same file (read-only, data only).
3. The ledger export (``write_xlsx``, ``iter_csv``) and the open-data export at 1x and 10x rows,
   with the peak memory of each so that growth with rows shows; floors: openpyxl's write-only
   workbook and csv.writer writing as many rows of plain values.
4. ``verify_chain()`` (``shishi verify-audit``) over a million audit entries (county scale:
   fewer), appended with the app's own hash-chain functions; floors: psycopg reading the rows
   alone, and hashlib alone hashing the same payload bytes.
5. The organisation ledger import (``import_workbook``) of a people sheet of 10,000 and 100,000
   new people in the villages and branches of one county: its dry run and the real import;
   floor: openpyxl alone reading every cell of the same file.
6. Concurrent writes: while the 100,000-row people import and the 100,000-commitment import run
   (dry run, then real), writer processes make one audited write (``update_org``, renaming a
   village back and forth) every 0.2 s, in another county and in the imported county (a
   village the file does not touch, and one the file adds people to); the wall time of each
   write that starts during the import is kept. Against the targets: a 100,000-row import,
   dry run and real, in under a minute, while a write elsewhere waits less than a second.

Each case runs in a fresh process (``bulk.py --case NAME``), so that its peak memory (getrusage's
ru_maxrss) is its own. Results go to bench/results/bulk-<scale>.json and to the table between
the ``bulk:<scale>`` markers in docs/performance.md. ``--only people,concurrent`` runs the named
parts alone (after the fresh database and ``shishi generate``, which every part needs) and
writes bench/results/bulk-<scale>-partial.json only, leaving the full results and the docs as
they are.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import os
import platform
import resource
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.run import ensure_database, environment, shishi, write_docs  # noqa: E402

DATABASE = "shishi_bench_bulk"
VAR = ROOT / "var" / "bench-bulk"
CASE_TIMEOUT = 40 * 60  # one case; a hung case must not hold the shared machine for ever
AUDIT_CHUNK = 10_000  # entries built and copied at a time: memory stays flat while filling
FLOOR_FETCH = 5000  # rows per fetch in the verify floor, as verify_chain's chunk_size


@dataclass(frozen=True)
class Sizes:
    counties: int
    imports: tuple[int, ...]  # commitments per imported workbook
    write_up_to: int  # larger imports measure the check phase only (time budget of the scale)
    # Commitments of the 1x and 10x programmes, both several of the exporter's chunks (2,000
    # fetched at a time): its peak climbs over the first few chunks before it levels off (see
    # the note under the table), so a smaller 1x would show growth where there is none.
    exports: tuple[int, int]
    audit: int  # audit entries verify_chain() walks
    # People per imported people sheet, each imported as a dry run and for real; the largest is
    # also the one imported under concurrent writes, with the largest commitments workbook.
    people: tuple[int, ...] = (10_000, 100_000)


SCALES = {
    "county": Sizes(1, (10_000, 100_000), 10_000, (5_000, 50_000), 200_000),
    "province": Sizes(100, (10_000, 100_000), 100_000, (10_000, 100_000), 1_000_000),
}
IMPORT_YEAR = 2001  # imported programmes take years from here: one programme per county and year
PARTS = ("imports", "exports", "verify", "people", "concurrent")  # --only takes these
# The targets: a 100,000-row organisation or commitments import, dry run and real, in
# under a minute at flat memory, while a concurrent audited write elsewhere waits under a second.
TARGET_ROWS = 100_000
TARGET_SECONDS = 60.0
TARGET_WAIT_MS = 1000.0
WRITE_EVERY = 0.2  # seconds between a writer's audited writes
# Memory counts as flat when an import of ten times the rows grows the process by no more than
# this (the exports' check: a few MiB of garbage-collector timing, not growth with rows).
FLAT_MIB = 32
MODES = {"check": "check phase", "dry_run": "dry run", "write": "real import"}


def database_url() -> str:
    """shishi_bench_bulk on the server DATABASE_URL names (default: local, trust auth)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    return url.rsplit("/", 1)[0] + "/" + DATABASE


def bulk_environment() -> dict:
    env = environment("bulk")  # SHISHI_VAR_DIR=var/bench-bulk, production-like settings
    # Forced, never defaulted: the run drops this database, so it must be ours whatever the
    # caller's environment says.
    env["DATABASE_URL"] = database_url()
    return env


def reset_database(url: str) -> None:
    """Drop and re-create our own database: ``shishi generate`` is measured on an empty one."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    if name != DATABASE:
        raise SystemExit(f"refusing to drop {name}: only {DATABASE} is ours")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    ensure_database(url)


# --- measuring inside a case's own process ------------------------------------------------------


def peak_mib() -> float:
    """The process's peak resident memory so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def measured(out: dict) -> Iterator[None]:
    """Time the block and record the process's peak memory before it and at its end."""
    before = peak_mib()
    started = time.perf_counter()
    yield
    out["seconds"] = round(time.perf_counter() - started, 3)
    peak = peak_mib()
    out["peak_mib"] = round(peak, 1)
    out["growth_mib"] = round(peak - before, 1)


def setup_django() -> None:
    import django

    django.setup()


CASES: dict[str, Callable[..., dict]] = {}


def case(fn: Callable[..., dict]) -> Callable[..., dict]:
    CASES[fn.__name__] = fn
    return fn


def run_case(env: dict, name: str, **params: Any) -> dict:
    """Run one case in a fresh interpreter; its last line of output is its result as JSON."""
    proc = subprocess.run(
        [sys.executable, __file__, "--case", name, "--params", json.dumps(params)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=CASE_TIMEOUT,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"case {name} {params} failed with status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- 1. shishi generate ---------------------------------------------------------------------------


def _table_rows(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [t for (t,) in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from pg_tables
        counts[table] = cursor.fetchone()[0]
    return counts


@case
def generate(counties: int) -> dict:
    """``shishi generate --counties N`` in-process (no interpreter start-up in the time)."""
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        before = _table_rows(cursor)
    out: dict = {"counties": counties}
    with measured(out):
        call_command("generate", counties=counties, stdout=io.StringIO())
    with connection.cursor() as cursor:
        after = _table_rows(cursor)
        grown = {t: after[t] - before.get(t, 0) for t in after if after[t] > before.get(t, 0)}
        # The average stored width of the rows it wrote, so that the floor copies rows as wide.
        total = 0
        for table in grown:
            cursor.execute(f'SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM "{table}" t')  # noqa: S608
            total += cursor.fetchone()[0]
    out["rows"] = sum(grown.values())
    out["tables"] = grown
    out["row_bytes"] = round(total / max(sum(after[t] for t in grown), 1))
    return out


@case
def generate_floor(rows: int, row_bytes: int) -> dict:
    """COPY ``rows`` rows as wide as generate's into a scratch table with a primary key, and
    commit: what PostgreSQL takes at best, in the same database."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_floor_rows")
        conn.execute(
            "CREATE TABLE bench_floor_rows (id bigint PRIMARY KEY, county_id int, payload text)"
        )
        overhead = conn.execute("SELECT pg_column_size(ROW(1::bigint, 1::int, ''::text))")
        payload = "x" * max(row_bytes - overhead.fetchone()[0], 1)
        conn.commit()
        out: dict = {"rows": rows, "row_bytes": row_bytes}
        with measured(out):
            with conn.cursor().copy("COPY bench_floor_rows FROM STDIN") as copy:
                for i in range(rows):
                    copy.write_row((i, i % 100, payload))
            conn.commit()
        conn.execute("DROP TABLE bench_floor_rows")
        conn.commit()
    return out


# --- 2. the Excel import ----------------------------------------------------------------------------


def _imported_county():
    from shishi.orgs.models import Org, OrgKind

    return Org.objects.filter(kind=OrgKind.COUNTY).order_by("path").first()


@case
def imported_county() -> dict:
    setup_django()
    return {"county": _imported_county().pk}


def _json_value(value: Any) -> Any:
    """Decimals as numbers: the export floors write plain values."""
    return float(value) if hasattr(value, "as_tuple") else value


@case
def workbook(commitments: int, path: str, sample: str) -> dict:
    """A ledger of ``commitments`` commitments: the generated programme's export, its
    commitments repeated and renumbered, written by the exporter's own writer (an export imports
    back unchanged). Also saves the export's rows as plain values for the export floors."""
    setup_django()
    from shishi.commitments.ledger import CommitmentExporter
    from shishi.commitments.models import Programme
    from shishi.lib import xlsx

    county = _imported_county()
    exporter = CommitmentExporter(Programme.objects.get(county=county, year=_this_year()))
    base = list(exporter.rows())
    Path(sample).write_text(
        json.dumps(
            {"header": exporter.header(), "rows": [[_json_value(v) for v in r] for r in base]},
            ensure_ascii=False,
        )
    )
    written = {"rows": 0}

    def rows() -> Iterator[list]:
        number = 0
        while True:
            for row in base:
                if row[0] is not None:  # a commitment's first row; the others are its targets
                    number += 1
                    if number > commitments:
                        return
                    row = [number, *row[1:]]
                written["rows"] += 1
                yield row

    xlsx.write_workbook(path, [(exporter.sheet_title(), exporter.header(), rows())])
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    from shishi.commitments.views_ledger import MAX_ROWS
    from shishi.ledger.views import MAX_UPLOAD

    return {
        "web_upload_limits": {"commitments": MAX_ROWS, "bytes": MAX_UPLOAD},
        "commitments": commitments,
        "rows": written["rows"],
        "bytes": os.path.getsize(path),
        "unpacked_bytes": unpacked,
        "county": county.pk,
    }


def _this_year() -> int:
    from django.utils import timezone

    return timezone.localdate().year


@case
def openpyxl_read(path: str) -> dict:
    """The import's floor: openpyxl alone reading every cell value of the same file."""
    from openpyxl import load_workbook

    out: dict = {}
    cells = rows = 0
    with measured(out):
        book = load_workbook(path, read_only=True, data_only=True)
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                rows += 1
                for _value in row:
                    cells += 1
        book.close()
    out.update(rows=rows - 1, cells=cells)  # less the header row, as the import counts
    return out


class CheckDone(Exception):
    """Raised where the import turns from checking to writing, to stop after the check."""


@contextmanager
def phase_clock(stop_after_check: bool) -> Iterator[dict]:
    """Mark the moment ``import_ledger`` finishes its check phase: the sheet's ``validate``
    (matching numbers on the draft list) is the first step after every row was read and
    checked, and the write transaction follows it."""
    from shishi.commitments import ledger

    marks: dict = {}
    original = ledger.CommitmentSheet.validate

    def compare(importer) -> None:
        marks["checked"] = time.perf_counter()
        marks["checked_wall"] = time.time()
        marks["items"] = len(importer.items)
        if stop_after_check:
            raise CheckDone
        original(importer)

    ledger.CommitmentSheet.validate = compare
    try:
        yield marks
    finally:
        ledger.CommitmentSheet.validate = original


@case
def import_ledger(path: str, county: int, year: int, mode: str) -> dict:
    """``mode``: "check" (a dry run stopped before its rolled-back write), "dry_run" (complete:
    the write is done and rolled back) or "write" (the real import)."""
    setup_django()
    from django.db import DatabaseError

    from shishi.commitments import ledger
    from shishi.orgs.models import Org

    org = Org.objects.get(pk=county)
    out: dict = {"mode": mode}
    with phase_clock(stop_after_check=mode == "check") as marks, audit_flushes() as flushes:
        started = time.perf_counter()
        out["wall_start"] = time.time()
        result = None
        try:
            with measured(out), suppress(CheckDone):
                result = ledger.import_ledger(
                    None,
                    path,
                    county=org,
                    year=year,
                    title=f"bench {year}",
                    dry_run=mode != "write",
                )
        except DatabaseError as exc:  # a deadlock with a concurrent writer, say
            return _import_failed(out, exc, marks, started, flushes)
        out["wall_end"] = time.time()
    out["flushes"] = flushes
    if result is not None and result.errors:
        raise SystemExit(f"the import found errors: {[str(e) for e in result.errors[:5]]}")
    if "checked" not in marks:
        raise SystemExit("the import never reached its write phase")
    out["commitments"] = marks["items"]
    out["check_seconds"] = round(marks["checked"] - started, 3)
    out["write_seconds"] = round(out["seconds"] - out["check_seconds"], 3)
    out["write_wall_start"] = marks["checked_wall"]
    if result is not None and result.target is not None:
        out["programme"] = result.target.pk
    return out


def _import_failed(out: dict, exc: Exception, marks: dict, started: float, flushes: list) -> dict:
    """An import the database aborted (a deadlock): how far it got, and the error."""
    out["wall_end"] = time.time()
    out["seconds"] = round(time.perf_counter() - started, 3)
    out["peak_mib"] = round(peak_mib(), 1)
    out["growth_mib"] = None
    out["error"] = str(exc).splitlines()[0]
    out["check_seconds"] = round(marks["checked"] - started, 3) if "checked" in marks else None
    out["write_seconds"] = None
    out["write_wall_start"] = marks.get("checked_wall")
    out["flushes"] = flushes
    return out


@contextmanager
def audit_flushes() -> Iterator[list]:
    """Time each write to the audit log (``shishi.audit.services._write``): an import collects
    its entries and writes them at the end of its write transaction (``deferred``), taking its
    county chain's lock only then. Each as [wall start, wall end, entries]."""
    from shishi.audit import services

    flushes: list = []
    original = services._write

    def timed(items: list) -> None:
        started = time.time()
        original(items)
        flushes.append([round(started, 3), round(time.time(), 3), len(items)])

    services._write = timed
    try:
        yield flushes
    finally:
        services._write = original


# --- 3. exports -------------------------------------------------------------------------------------


@case
def open_data_probe() -> dict:
    """Whether the open-data export imports (it was being written while this bench was)."""
    setup_django()
    try:
        from shishi.commitments.opendata import open_data  # noqa: F401
    except ImportError as exc:
        return {"available": False, "error": str(exc)}
    return {"available": True}


def measure_open_data(programme, fmt: str, path: str, out: dict) -> None:
    """The open-data export (``shishi.commitments.opendata.open_data(programme, fmt)``, an
    iterator of bytes), written to ``path`` like the ledger's CSV: the one place to adapt if its
    signature changes."""
    from shishi.commitments.opendata import open_data

    with open(path, "wb") as fh, measured(out):
        for chunk in open_data(programme, fmt):
            fh.write(chunk)


@case
def export(programme: int, kind: str, path: str) -> dict:
    """``kind``: ledger-xlsx, ledger-csv, opendata-csv or opendata-json."""
    setup_django()
    from shishi.commitments.ledger import EXPORT_CHUNK, CommitmentExporter
    from shishi.commitments.models import Programme

    found = Programme.objects.select_related("county").get(pk=programme)
    out: dict = {"kind": kind, "chunk": EXPORT_CHUNK}
    if kind.startswith("opendata-"):
        measure_open_data(found, kind.split("-", 1)[1], path, out)
        # One row (or JSON object) per commitment, removed ones included.
        out["commitments"] = out["rows"] = found.commitments.count()
    else:
        exporter = CommitmentExporter(found)
        rows = {"n": 0}
        if kind == "ledger-xlsx":

            def counted() -> Iterator[list]:
                for row in original_rows():
                    rows["n"] += 1
                    yield row

            # Counted as written: the exporter yields one row per target.
            original_rows, exporter.rows = exporter.rows, counted
            with measured(out):
                exporter.write_xlsx(path)
        else:
            with open(path, "wb") as fh, measured(out):
                for chunk in exporter.iter_csv():  # pieces of rows, not rows
                    fh.write(chunk)
            rows["n"] = exporter.count  # the rows it wrote, the header apart
        # The exporter counts rows (one per target), not commitments.
        out.update(commitments=found.commitments.count(), rows=rows["n"])
    out["bytes"] = os.path.getsize(path)
    os.unlink(path)
    return out


def _floor_rows(sample: str, rows: int) -> Iterator[list]:
    """``rows`` rows of plain values: the export's sample rows again and again."""
    base = json.loads(Path(sample).read_text())["rows"]
    done = 0
    while True:
        for row in base:
            if done == rows:
                return
            done += 1
            yield row


@case
def export_floor(kind: str, rows: int, sample: str, path: str) -> dict:
    """openpyxl's write-only workbook, or csv.writer, writing ``rows`` rows of plain values."""
    header = json.loads(Path(sample).read_text())["header"]
    out: dict = {"kind": kind, "rows": rows}
    if kind == "openpyxl":
        from openpyxl import Workbook

        with measured(out):
            book = Workbook(write_only=True)
            sheet = book.create_sheet("floor")
            sheet.append(header)
            for row in _floor_rows(sample, rows):
                sheet.append(row)
            book.save(path)
    else:
        with open(path, "w", newline="", encoding="utf-8") as fh, measured(out):
            writer = csv.writer(fh)
            writer.writerow(header)
            for row in _floor_rows(sample, rows):
                writer.writerow(row)
    out["bytes"] = os.path.getsize(path)
    os.unlink(path)
    return out


# --- 4. verify-audit --------------------------------------------------------------------------------


@case
def audit_fill(total: int) -> dict:
    """Append entries until the log holds ``total``: to the imported county's chain (one chain
    per county; its entries are the import's, mostly), payloads copied from that chain's
    entries, each hashed with ``Entry.payload`` and ``hashchain.link`` as ``record`` does, COPYed
    in chunks under the chain head's lock (the triggers allow inserts; ``seq`` comes from its
    identity column, as for every insert)."""
    setup_django()
    from django.db import connection, transaction
    from django.utils import timezone

    from shishi.audit.models import Entry, Head
    from shishi.lib.hashchain import link

    chain = _imported_county().pk
    fields = ["action", "object_type", "object_id", "object_repr", "changes", "data", "county_id"]
    templates = list(
        Entry.objects.filter(chain=chain).order_by("chain_seq").values(*fields)[:20_000]
    )
    columns = [
        "chain", "chain_seq", "time", "actor_id", "actor_label", "action", "object_type",
        "object_id", "object_repr", "changes", "data", "request_id", "ip", "county_id",
        "prev_hash", "hash",
    ]  # fmt: skip
    out: dict = {"chain": chain}
    with measured(out), transaction.atomic():
        head = Head.objects.select_for_update().get(chain=chain)
        position, prev = head.seq, head.hash
        count = out["before"] = Entry.objects.count()
        with connection.cursor() as cursor:
            while count < total:
                now = timezone.now()
                with cursor.cursor.copy(
                    f"COPY audit_entry ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for _ in range(min(AUDIT_CHUNK, total - count)):
                        count += 1
                        position += 1
                        template = templates[position % len(templates)]
                        entry = Entry(
                            chain=chain, chain_seq=position, time=now, actor_label="system",
                            request_id="", ip=None, prev_hash=prev, **template,
                        )  # fmt: skip
                        entry.hash = prev = link(entry.prev_hash, entry.payload())
                        copy.write_row(
                            [
                                json.dumps(getattr(entry, c), ensure_ascii=False)
                                if c in ("changes", "data")
                                else getattr(entry, c)
                                for c in columns
                            ]
                        )
        head.seq, head.hash = position, prev
        head.save(update_fields=["seq", "hash"])
    out["entries"] = count
    out["added"] = count - out["before"]
    return out


@case
def verify(entries: int) -> dict:
    """``verify_chain()``, as ``shishi verify-audit`` runs it."""
    setup_django()
    from shishi.audit.verify import verify_chain

    out: dict = {"entries": entries}
    with measured(out):
        broken = verify_chain()
    if broken is not None:
        raise SystemExit(f"the chain is broken at {broken.seq}: {broken.reason} {broken.detail}")
    return out


@case
def verify_floor(entries: int) -> dict:
    """Two floors in one pass over the same rows: psycopg reading them alone (a server-side
    cursor, as many a fetch as verify_chain, the JSON columns left as text: decoding them is
    work the floor does not count), and hashlib alone hashing their payload bytes (prev_hash,
    newline, canonical JSON: built outside the clock). Every hash is checked against the stored
    one, so the bytes hashed are exactly those verify_chain hashes."""
    import psycopg
    from psycopg.types.string import TextLoader

    from shishi.lib.hashchain import canonical

    global_chain = 0  # shishi.audit.models.GLOBAL_CHAIN, without Django in the floor's process
    names = [
        "chain_seq", "time", "actor_id", "actor_label", "action", "object_type", "object_id",
        "object_repr", "changes", "data", "request_id", "ip", "county_id", "chain",
    ]  # fmt: skip
    read = hashed = 0.0
    count = wrong = 0
    out: dict = {"entries": entries}
    with psycopg.connect(os.environ["DATABASE_URL"]) as conn, measured(out):
        conn.execute("SET TIME ZONE 'UTC'")  # as Django reads timestamps: isoformat() in UTC
        for json_type in ("json", "jsonb"):
            conn.adapters.register_loader(json_type, TextLoader)
        with conn.cursor(name="bench_verify_floor") as cursor:
            cursor.execute(
                f"SELECT {', '.join(names)}, prev_hash, hash FROM audit_entry "  # noqa: S608
                "ORDER BY chain, chain_seq"
            )
            while True:
                started = time.perf_counter()
                rows = cursor.fetchmany(FLOOR_FETCH)
                read += time.perf_counter() - started
                if not rows:
                    break
                blobs = []
                for row in rows:
                    payload = dict(zip(names, row[:14], strict=True))
                    payload["seq"] = payload.pop("chain_seq")  # the position in its chain
                    if payload["chain"] == global_chain:
                        del payload["chain"]  # as Entry.payload: the global chain's carry none
                    payload["time"] = payload["time"].isoformat()
                    payload["changes"] = json.loads(payload["changes"])
                    payload["data"] = json.loads(payload["data"])
                    if payload["ip"] is not None:
                        payload["ip"] = str(payload["ip"])
                    blobs.append(row[14].encode() + b"\n" + canonical(payload))
                started = time.perf_counter()
                digests = [hashlib.sha256(blob).hexdigest() for blob in blobs]
                hashed += time.perf_counter() - started
                count += len(rows)
                wrong += sum(d != row[15] for d, row in zip(digests, rows, strict=True))
    if wrong:
        raise SystemExit(f"the floor's payload bytes differ from the app's for {wrong} entries")
    out.update(entries=count, read_seconds=round(read, 3), hash_seconds=round(hashed, 3))
    return out


# --- 5. the organisation ledger: people ------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅志东海波宁玉辉鹏斌"
POSITIONS = (
    "党支部书记",
    "村民委员会主任",
    "组织委员",
    "宣传委员",
    "纪检委员",
    "会计",
    "妇女主任",
    "",
)


def _county_orgs(county):
    """The villages and branches of ``county`` that the people sheet fills, and the village it
    leaves alone (the same-county writer renames it: nothing the import writes refers to it)."""
    from shishi.orgs.models import Org, OrgKind

    villages = Org.objects.filter(county=county, kind=OrgKind.VILLAGE, is_active=True)
    quiet = villages.order_by("-path").first()
    targets = list(
        Org.objects.filter(
            county=county, kind__in=[OrgKind.VILLAGE, OrgKind.BRANCH], is_active=True
        )
        .exclude(pk=quiet.pk)
        .order_by("path")
    )
    return targets, quiet


@case
def people_workbook(people: int, path: str, phone_from: int) -> dict:
    """A people sheet of ``people`` new people (no person number) in the villages and branches
    of the imported county, in the export's layout and language (``PersonExporter``'s header,
    the sheet titled with the people sheet's label), written by the exporter's own writer.
    Mobile numbers 139… from ``phone_from``, one per row."""
    setup_django()
    from django.utils.translation import gettext as _

    from shishi.lib import xlsx
    from shishi.lib.sheets import fold
    from shishi.orgs.ledger import PersonExporter, PersonSheet
    from shishi.orgs.models import Gender

    county = _imported_county()
    targets, quiet = _county_orgs(county)
    title = str(PersonSheet.label)
    if fold(title) not in PersonSheet.sheet_names():
        raise SystemExit(f"the people sheet's title {title!r} is not one the import looks for")
    genders = [str(Gender.MALE.label), str(Gender.FEMALE.label)]
    yes, no = _("yes"), _("no")

    def rows() -> Iterator[list]:
        for i in range(people):
            name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 7) % len(GIVEN)]
            if i % 3:
                name += GIVEN[(i // 11) % len(GIVEN)]
            yield [
                None,  # no person number: a new person, numbered by the service
                name,
                genders[i % 2],
                f"139{phone_from + i:08d}",
                yes if i % 4 == 0 else no,
                POSITIONS[i % len(POSITIONS)],
                targets[i % len(targets)].code,
            ]

    xlsx.write_workbook(path, [(title, PersonExporter(None).header(), rows())])
    return {
        "people": people,
        "rows": people,
        "bytes": os.path.getsize(path),
        "title": title,
        "county": county.pk,
        "orgs": len(targets),
        "quiet_org": quiet.pk,
        "busy_org": targets[0].pk,
    }


@case
def import_people(path: str, mode: str) -> dict:
    """``import_workbook(None, path)``: ``mode`` "dry_run" (checked, written and rolled back, no
    audit entry) or "write" (the real import). The check phase ends where the people sheet's
    ``write`` begins."""
    setup_django()
    from django.db import DatabaseError

    from shishi.orgs import ledger

    marks: dict = {}
    original = ledger.PersonSheet.write

    def write(sheet) -> None:
        marks["checked"] = time.perf_counter()
        marks["checked_wall"] = time.time()
        original(sheet)

    ledger.PersonSheet.write = write
    out: dict = {"mode": mode}
    try:
        with audit_flushes() as flushes:
            started = time.perf_counter()
            out["wall_start"] = time.time()
            try:
                with measured(out):
                    result = ledger.import_workbook(None, path, dry_run=mode != "write")
            except DatabaseError as exc:  # a deadlock with a concurrent writer, say
                return _import_failed(out, exc, marks, started, flushes)
            out["wall_end"] = time.time()
    finally:
        ledger.PersonSheet.write = original
    if result.errors:
        raise SystemExit(f"the import found errors: {[str(e) for e in result.errors[:5]]}")
    if "checked" not in marks:
        raise SystemExit("the import never reached its write phase")
    counts = result.total
    out.update(created=counts.created, changed=counts.changed, unchanged=counts.unchanged)
    out["check_seconds"] = round(marks["checked"] - started, 3)
    out["write_seconds"] = round(out["seconds"] - out["check_seconds"], 3)
    out["write_wall_start"] = marks["checked_wall"]
    out["flushes"] = flushes
    return out


# --- 6. concurrent writes ---------------------------------------------------------------------------


@case
def writer_orgs() -> dict:
    """The villages the writers rename: one in another county (made, with its town, when the
    data holds a single county: at county scale), one of the imported county that no import
    writes refers to, and one the people sheet adds people to."""
    setup_django()
    from shishi.orgs import services
    from shishi.orgs.models import Org, OrgKind

    county = _imported_county()
    targets, quiet = _county_orgs(county)
    other = (
        Org.objects.filter(county__kind=OrgKind.COUNTY, kind=OrgKind.VILLAGE, is_active=True)
        .exclude(county=county)
        .order_by("path")
        .first()
    )
    made = False
    if other is None:
        base = int(county.code[:6]) + 1
        while Org.objects.filter(code__startswith=f"{base:06d}").exists():
            base += 1
        made_county = services.create_org(
            None, parent=county.parent, kind=OrgKind.COUNTY, name="对照县（测）",
            code=f"{base:06d}000000",
        )  # fmt: skip
        town = services.create_org(
            None, parent=made_county, kind=OrgKind.TOWN, name="对照镇", code=f"{base:06d}100000"
        )
        other = services.create_org(
            None, parent=town, kind=OrgKind.VILLAGE, name="对照村", code=f"{base:06d}100001"
        )
        made = True
    busy = next(o for o in targets if o.kind == OrgKind.VILLAGE)
    return {
        "other county": {"org": other.pk, "county": other.county_id, "made": made},
        "same county, untouched village": {"org": quiet.pk, "county": quiet.county_id},
        "same county, village the file fills": {"org": busy.pk, "county": busy.county_id},
    }


@case
def writer(org: int, every: float) -> dict:
    """Rename village ``org`` and back (``update_org``: an audited public change), one write
    every ``every`` seconds, until SIGTERM; then each write's wall start and milliseconds.
    Prints a line "ready" once set up, for the caller to wait on."""
    setup_django()
    from django.db import DatabaseError

    from shishi.orgs import services
    from shishi.orgs.models import Org

    village = Org.objects.get(pk=org)
    original = village.name
    stop: list = []
    signal.signal(signal.SIGTERM, lambda *_a: stop.append(1))
    print("ready", flush=True)
    writes: list = []
    renamed = False
    while not stop:
        wall, started = time.time(), time.perf_counter()
        error = None
        try:
            services.update_org(None, village, name=original if renamed else f"{original}（测）")
            renamed = not renamed
        except DatabaseError as exc:  # a deadlock, say: kept as a failed write, and on
            error = str(exc).splitlines()[0]
        took = time.perf_counter() - started
        writes.append([round(wall, 3), round(took * 1000, 1), error])
        time.sleep(max(0.0, every - took))
    if renamed:
        services.update_org(None, village, name=original)
    return {"org": org, "county": village.county_id, "writes": writes}


def start_writer(env: dict, org: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--case", "writer", "--params",
         json.dumps({"org": org, "every": WRITE_EVERY})],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    if proc.stdout.readline().strip() != "ready":
        proc.kill()
        raise SystemExit("a writer did not start")
    return proc


def stop_writer(proc: subprocess.Popen) -> dict:
    proc.send_signal(signal.SIGTERM)
    out, _err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise SystemExit(f"a writer failed with status {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1])


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value at least ``share`` of them reach."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)] if ordered else 0.0


def waits(writes: list, start: float, end: float) -> dict:
    """The writes that started while the import ran, from its start to its end (wall clock)."""
    during = [(ms, error) for wall, ms, error in writes if start <= wall <= end]
    took = [ms for ms, _error in during]
    errors = [error for _ms, error in during if error]
    return {
        "writes": len(during),
        "p50_ms": percentile(took, 0.50),
        "p99_ms": percentile(took, 0.99),
        "max_ms": max(took, default=0.0),
        "over_target": sum(ms >= TARGET_WAIT_MS for ms in took),
        # Writes the database refused (a deadlock: PostgreSQL aborts one of the two).
        "failed": len(errors),
        "errors": sorted(set(errors)),
        "met": bool(took) and max(took) < TARGET_WAIT_MS and not errors,
    }


def under_writers(env: dict, orgs: dict, name: str, **params: Any) -> dict:
    """Run import case ``name`` while one writer per village of ``orgs`` writes every
    ``WRITE_EVERY`` seconds; the import's own figures, and each writer's waits during it."""
    procs = {}
    try:
        for label, spec in orgs.items():
            procs[label] = start_writer(env, spec["org"])
        time.sleep(1)  # the writers' first writes land before the import begins
        r = run_case(env, name, **params)
    finally:
        writes = {}
        for label, proc in procs.items():
            try:
                writes[label] = stop_writer(proc)["writes"]
            except (SystemExit, subprocess.TimeoutExpired):
                proc.kill()
                raise
    r["writers"] = {
        label: {**orgs[label], **waits(writes[label], r["wall_start"], r["wall_end"])}
        for label in orgs
    }
    _flush_figures(r)
    return r


def _flush_figures(r: dict) -> None:
    """An import case's wall-clock marks as durations: its audit writes (entries, seconds) and
    the time from the last one to the import's end (the commit, mostly)."""
    flushes = r.pop("flushes", None) or []
    r["audit_entries"] = sum(n for _s, _e, n in flushes)
    r["audit_flush_seconds"] = round(sum(end - start for start, end, _n in flushes), 3)
    r["after_flush_seconds"] = round(r["wall_end"] - flushes[-1][1], 3) if flushes else None
    for key in ("wall_start", "wall_end", "write_wall_start"):
        r.pop(key, None)


# --- the run ------------------------------------------------------------------------------------------


def rate(count: float, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def ratio(value: float, floor: float) -> float:
    return round(value / floor, 3) if floor else 0.0


def step(message: str) -> None:
    print(f"[bulk {time.strftime('%H:%M:%S')}] {message}", flush=True)


def per_target(seconds: float, rows: int) -> float:
    """Seconds for ``TARGET_ROWS`` rows at the measured rate."""
    return round(seconds * TARGET_ROWS / rows, 1) if rows else 0.0


def read_floor(env: dict, path: str) -> tuple[dict, float]:
    """An import's floor for the workbook at ``path`` (openpyxl reading every cell), and its rows
    per second."""
    floor = run_case(env, "openpyxl_read", path=path)
    floor_rate = rate(floor["rows"], floor["seconds"])
    name = "openpyxl load_workbook(read_only=True, data_only=True), every cell value"
    return {"name": name, **floor, "rows_per_s": floor_rate}, floor_rate


def run_people(env: dict, sizes: Sizes, keep: int | None) -> list:
    """The people sheets of ``sizes.people`` rows: each read by the floor, imported as a dry run,
    then for real. The workbook of ``keep`` rows stays for the concurrent part."""
    report = []
    phone_from = 0
    for people in sizes.people:
        path = str(VAR / f"people-{people}.xlsx")
        step(f"people import of {people:,} rows")
        book = run_case(env, "people_workbook", people=people, path=path, phone_from=phone_from)
        phone_from += people
        floor, floor_rate = read_floor(env, path)
        entry: dict = {
            "people": people,
            "rows": book["rows"],
            "file_bytes": book["bytes"],
            "sheet_title": book["title"],
            "orgs": book["orgs"],
            "floor": floor,
            "cases": {},
        }
        for mode in ("dry_run", "write"):
            r = run_case(env, "import_people", path=path, mode=mode)
            if "error" in r:
                raise SystemExit(f"the people import failed: {r['error']}")
            if r["created"] != people:
                raise SystemExit(f"the people import created {r['created']}, not {people}")
            for phase in ("check", "write", "total"):
                seconds = r["seconds"] if phase == "total" else r[f"{phase}_seconds"]
                r[f"{phase}_rows_per_s"] = rate(book["rows"], seconds)
                r[f"{phase}_ratio"] = ratio(rate(book["rows"], seconds), floor_rate)
            r["seconds_per_target"] = per_target(r["seconds"], book["rows"])
            # Judged on a sheet of the target's size only (a small one's start-up weighs more).
            r["met"] = (
                r["seconds_per_target"] < TARGET_SECONDS if book["rows"] >= TARGET_ROWS else None
            )
            _flush_figures(r)
            entry["cases"][mode] = r
        if people != keep:
            os.unlink(path)
        report.append(entry)
    return report


def run_concurrent(env: dict, sizes: Sizes, county: int, year: int, sample: str) -> dict:
    """The largest people sheet and the largest commitments workbook, each imported as a dry
    run and for real while the writers write (``under_writers``)."""
    orgs = run_case(env, "writer_orgs")
    people = max(sizes.people)
    path = str(VAR / f"people-{people}.xlsx")
    if not os.path.exists(path):
        run_case(env, "people_workbook", people=people, path=path, phone_from=10**7)
    report: dict = {"every_s": WRITE_EVERY, "orgs": orgs, "cases": []}
    for mode in ("dry_run", "write"):
        step(f"people import of {people:,} rows ({mode}) under concurrent writes")
        r = under_writers(env, orgs, "import_people", path=path, mode=mode)
        report["cases"].append({"import": "people", "size": people, "rows": people, **r})
    os.unlink(path)
    commitments = max(sizes.imports)
    path = str(VAR / f"ledger-{commitments}.xlsx")
    book = run_case(env, "workbook", commitments=commitments, path=path, sample=sample)
    # Commitments refer to the county's towns and departments, never to its villages: the
    # village the people sheet fills is one more untouched village here, left out.
    writers = {k: v for k, v in orgs.items() if "fills" not in k}
    for mode in ("dry_run", "write"):
        step(f"import of {commitments:,} commitments ({mode}) under concurrent writes")
        r = under_writers(
            env, writers, "import_ledger", path=path, county=county, year=year, mode=mode
        )
        report["cases"].append(
            {"import": "commitments", "size": commitments, "rows": book["rows"], **r}
        )
    os.unlink(path)
    for r in report["cases"]:
        r["seconds_per_target"] = per_target(r["seconds"], r["rows"])
        r["met"] = "error" not in r and r["seconds_per_target"] < TARGET_SECONDS
    return report


def targets(people: list | None, concurrent: dict | None, imports: list) -> list:
    """The issue's targets, each with what this run measured and whether it is met (None: no
    threshold, the figure only)."""
    out = []
    if people:
        for entry in people:
            if entry["people"] != max(e["people"] for e in people):
                continue
            for mode, r in entry["cases"].items():
                out.append(
                    {
                        "what": f"people sheet of {_n(entry['rows'])} rows, {MODES[mode]}",
                        "target": f"< {TARGET_SECONDS:.0f} s per {_n(TARGET_ROWS)} rows",
                        "measured": f"{r['seconds']:.1f} s ({r['seconds_per_target']:.1f} s "
                        f"per {_n(TARGET_ROWS)} rows)",
                        "met": r["met"],
                    }
                )
        if len(people) > 1:
            small, large = people[0], people[-1]
            for mode in ("dry_run", "write"):
                a, b = small["cases"][mode]["growth_mib"], large["cases"][mode]["growth_mib"]
                out.append(
                    {
                        "what": f"people sheet, {MODES[mode]}: memory",
                        "target": "flat (growth within "
                        f"{FLAT_MIB} MiB from {_n(small['rows'])} to {_n(large['rows'])} rows)",
                        "measured": f"growth {a:.0f} MiB at {_n(small['rows'])} rows, {b:.0f} "
                        f"MiB at {_n(large['rows'])} (peak {large['cases'][mode]['peak_mib']:.0f})",
                        "met": b - a <= FLAT_MIB,
                    }
                )
    if concurrent:
        for r in concurrent["cases"]:
            if r["import"] != "commitments":
                continue
            out.append(
                {
                    "what": f"{_n(r['size'])} commitments ({_n(r['rows'])} rows), "
                    f"{MODES[r['mode']]}, under the writers",
                    "target": f"< {TARGET_SECONDS:.0f} s per {_n(TARGET_ROWS)} rows",
                    "measured": f"{r['seconds']:.1f} s ({r['seconds_per_target']:.1f} s per "
                    f"{_n(TARGET_ROWS)} rows)",
                    "met": r["met"],
                }
            )
        small = next((e["cases"].get("write") for e in imports if "write" in e["cases"]), None)
        large = next(
            (
                r
                for r in concurrent["cases"]
                if r["import"] == "commitments" and r["mode"] == "write"
            ),
            None,
        )
        if small is not None and large is not None:
            a, b = small["growth_mib"], large["growth_mib"]
            out.append(
                {
                    "what": "commitments import: memory",
                    "target": f"flat (growth within {FLAT_MIB} MiB from "
                    f"{_n(small['commitments'])} to {_n(large['size'])} commitments)",
                    "measured": f"growth {a:.0f} MiB at {_n(small['commitments'])}, {b:.0f} MiB "
                    f"at {_n(large['size'])} (peak {large['peak_mib']:.0f})",
                    "met": b - a <= FLAT_MIB,
                }
            )
        for label in concurrent["orgs"]:
            during = [r for r in concurrent["cases"] if label in r["writers"]]
            worst = max(during, key=lambda r: r["writers"][label]["max_ms"])
            w = worst["writers"][label]
            out.append(
                {
                    "what": f"a write ({label}) during the imports above",
                    "target": f"< {TARGET_WAIT_MS / 1000:.0f} s"
                    if label == "other county"
                    else "(no target: the same county)",
                    "measured": f"max {w['max_ms']:,.0f} ms (p99 {w['p99_ms']:,.0f} ms), in the "
                    f"{worst['import']} {MODES[worst['mode']]}; "
                    f"{sum(r['writers'][label]['writes'] for r in during)} writes in all, "
                    f"{sum(r['writers'][label]['failed'] for r in during)} refused",
                    "met": all(r["writers"][label]["met"] for r in during)
                    if label == "other county"
                    else None,
                }
            )
    return out


def run(scale: str, parts: tuple[str, ...] = PARTS) -> dict:
    sizes = SCALES[scale]
    env = bulk_environment()
    VAR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    source_at_start = source_state()
    step(f"fresh database {DATABASE}")
    reset_database(env["DATABASE_URL"])
    shishi(env, "migrate", "--noinput", "-v0")

    step(f"shishi generate --counties {sizes.counties}")
    gen = run_case(env, "generate", counties=sizes.counties)
    gen_floor = run_case(env, "generate_floor", rows=gen["rows"], row_bytes=gen["row_bytes"])
    floor_rate = rate(gen["rows"], gen_floor["seconds"])
    generate_report = {
        "counties": sizes.counties,
        "rows": gen["rows"],
        "seconds": gen["seconds"],
        "counties_per_s": rate(sizes.counties, gen["seconds"]),
        "rows_per_s": rate(gen["rows"], gen["seconds"]),
        "peak_mib": gen["peak_mib"],
        "row_bytes": gen["row_bytes"],
        "tables": gen["tables"],
        "floor": {
            "name": "psycopg COPY of as many rows, as wide, into a scratch table with a primary "
            "key, committed",
            "seconds": gen_floor["seconds"],
            "rows_per_s": floor_rate,
        },
        "ratio": ratio(rate(gen["rows"], gen["seconds"]), floor_rate),
    }

    imports: list = []
    sample = str(VAR / "export-sample.json")
    county = run_case(env, "imported_county")["county"]
    year = IMPORT_YEAR
    if "imports" in parts:
        for commitments in sizes.imports:
            path = str(VAR / f"ledger-{commitments}.xlsx")
            step(f"import of {commitments:,} commitments")
            book = run_case(env, "workbook", commitments=commitments, path=path, sample=sample)
            county = book["county"]
            floor, floor_rate = read_floor(env, path)
            entry: dict = {
                "commitments": commitments,
                "rows": book["rows"],
                "file_bytes": book["bytes"],
                "unpacked_bytes": book["unpacked_bytes"],
                "web_upload_limits": book["web_upload_limits"],
                "floor": floor,
                "cases": {},
            }
            modes = ["check"]
            if commitments == min(sizes.imports):
                modes.append("dry_run")
            if commitments <= sizes.write_up_to:
                modes.append("write")
            else:
                entry["note"] = (
                    f"write not measured at scale {scale} (the check phase only, to keep the run "
                    f"within its time); `--scale province` writes up to {SCALES['province'].write_up_to:,}"
                )
            for mode in modes:
                r = run_case(env, "import_ledger", path=path, county=county, year=year, mode=mode)
                if "error" in r:
                    raise SystemExit(f"the commitments import failed: {r['error']}")
                for phase in ("check", "write", "total"):
                    seconds = r["seconds"] if phase == "total" else r[f"{phase}_seconds"]
                    if phase == "write" and mode == "check":
                        continue
                    r[f"{phase}_rows_per_s"] = rate(book["rows"], seconds)
                    r[f"{phase}_ratio"] = ratio(rate(book["rows"], seconds), floor_rate)
                _flush_figures(r)
                entry["cases"][mode] = r
                if mode == "write":
                    entry["programme"] = r["programme"]
                    year += 1
            os.unlink(path)
            imports.append(entry)

    exports: dict | None = None
    if "exports" in parts:
        # The export's 1x and 10x programmes: those imported above, else imported now (not timed).
        programmes = {i["commitments"]: i.get("programme") for i in imports}
        for commitments in sizes.exports:
            if programmes.get(commitments) is None:
                step(f"importing {commitments:,} commitments to export them")
                path = str(VAR / f"ledger-{commitments}.xlsx")
                run_case(env, "workbook", commitments=commitments, path=path, sample=sample)
                r = run_case(
                    env, "import_ledger", path=path, county=county, year=year, mode="write"
                )
                programmes[commitments] = r["programme"]
                year += 1
                os.unlink(path)

        kinds = ["ledger-xlsx", "ledger-csv"]
        probe = run_case(env, "open_data_probe")
        opendata = probe["available"]
        if opendata:
            # On the imported draft lists: open_data does not look at the status (the portal offers
            # published lists only), and publishing changes no commitment, only the programme.
            kinds += ["opendata-csv", "opendata-json"]
        exports: dict = {"sizes": list(sizes.exports), "open_data": probe, "cases": {}}
        for commitments in sizes.exports:
            step(f"exports of {commitments:,} commitments")
            floors = {}
            for kind in kinds:
                ext = kind.rsplit("-", 1)[1]
                r = run_case(
                    env, "export", programme=programmes[commitments], kind=kind,
                    path=str(VAR / f"out-{kind}.{ext}"),
                )  # fmt: skip
                if "rows" in r and not floors:
                    floors["rows"] = r["rows"]
                    for floor_kind, floor_ext in (("openpyxl", "xlsx"), ("csv", "csv")):
                        floors[floor_kind] = run_case(
                            env, "export_floor", kind=floor_kind, rows=r["rows"], sample=sample,
                            path=str(VAR / f"floor.{floor_ext}"),
                        )  # fmt: skip
                floor = floors["openpyxl" if ext == "xlsx" else "csv"]
                r["commitments_per_s"] = rate(r["commitments"], r["seconds"])
                # The ledger's rows are one per target; the open data's are its own (one per
                # commitment, presumably): rows/s counts each export's own rows.
                r["rows_per_s"] = rate(r["rows"], r["seconds"])
                r["floor"] = {**floor, "rows_per_s": rate(floor["rows"], floor["seconds"])}
                # Both wrote the same programme (the floor: as many rows as its ledger), so the
                # ratio is of times for the same work.
                r["ratio"] = ratio(floor["seconds"], r["seconds"])
                exports["cases"].setdefault(kind, {})[str(commitments)] = r
        for by_size in exports["cases"].values():
            small, large = (by_size[str(n)] for n in sizes.exports)
            by_size["memory_growth_mib"] = round(large["growth_mib"] - small["growth_mib"], 1)

    verify_report: dict | None = None
    if "verify" in parts:
        step(f"audit log: filling to {sizes.audit:,} entries")
        fill = run_case(env, "audit_fill", total=sizes.audit)
        step(f"verify_chain() over {fill['entries']:,} entries")
        check = run_case(env, "verify", entries=fill["entries"])
        floor = run_case(env, "verify_floor", entries=fill["entries"])
        n = fill["entries"]
        read_rate, hash_rate = rate(n, floor["read_seconds"]), rate(n, floor["hash_seconds"])
        both = rate(n, floor["read_seconds"] + floor["hash_seconds"])
        verify_report = {
            "entries": n,
            "filled": {"added": fill["added"], "seconds": fill["seconds"]},
            "seconds": check["seconds"],
            "entries_per_s": rate(n, check["seconds"]),
            "peak_mib": check["peak_mib"],
            "growth_mib": check["growth_mib"],
            "floors": {
                "read": {
                    "name": "psycopg reads the rows alone (JSON left as text)",
                    "entries_per_s": read_rate,
                },
                "hash": {
                    "name": "hashlib.sha256 alone over the same bytes",
                    "entries_per_s": hash_rate,
                },
                "read+hash": {
                    "entries_per_s": both,
                    "seconds": floor["read_seconds"] + floor["hash_seconds"],
                },
                "peak_mib": floor["peak_mib"],
                "growth_mib": floor["growth_mib"],
            },
            "ratio": ratio(rate(n, check["seconds"]), both),
            "ratio_read": ratio(rate(n, check["seconds"]), read_rate),
            "ratio_hash": ratio(rate(n, check["seconds"]), hash_rate),
        }

    people_report: list | None = None
    if "people" in parts:
        people_report = run_people(
            env, sizes, keep=max(sizes.people) if "concurrent" in parts else None
        )
    concurrent: dict | None = None
    if "concurrent" in parts:
        concurrent = run_concurrent(env, sizes, county, year, sample)

    commit, source = source_state()
    return {
        "scale": scale,
        "sizes": asdict(sizes),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": commit,
        # Each case imports the code afresh: a change to it during the run mixes versions.
        "source_changed": (commit, source) != source_at_start,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "postgresql": _server_version(env["DATABASE_URL"]),
        "run_seconds": round(time.perf_counter() - started, 1),
        "generate": generate_report,
        "parts": list(parts),
        "imports": imports,
        "exports": exports,
        "verify": verify_report,
        "people": people_report,
        "concurrent": concurrent,
        "targets": targets(people_report, concurrent, imports),
    }


def source_state() -> tuple[str, str]:
    """The commit, and a digest of the uncommitted changes to the code the cases import."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    commit = git("rev-parse", "--short", "HEAD").strip()
    changes = git("diff", "HEAD", "--", "shishi", "bench/bulk.py")
    return commit, hashlib.sha256(changes.encode()).hexdigest()[:12]


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


# --- the report -------------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:,.0f}"


def table(report: dict) -> str:
    gen, sizes = report["generate"], report["sizes"]
    lines = [
        f"Scale **{report['scale']}** · {report['date']} · commit `{report['commit']}` · "
        f"{report['machine']} · PostgreSQL {report['postgresql']} · whole run "
        f"{report['run_seconds'] / 60:.1f} min. Sizes at this scale: counties generated: "
        f"{sizes['counties']}; imports of {', '.join(_n(n) for n in sizes['imports'])} "
        f"commitments (written up to {_n(sizes['write_up_to'])}); exports of "
        f"{_n(sizes['exports'][0])} (1x) and {_n(sizes['exports'][1])} (10x) commitments; "
        + (f"{_n(report['verify']['entries'])} audit entries; " if report.get("verify") else "")
        + f"people sheets of {', '.join(_n(n) for n in sizes.get('people', ()))} rows."
        + (
            f" **A partial run**: {', '.join(report['parts'])} only."
            if tuple(report.get("parts", PARTS)) != PARTS
            else ""
        )
        + (
            " **The code changed during the run** (a commit or an edit under shishi/): its "
            "cases may have measured different versions."
            if report.get("source_changed")
            else ""
        ),
        "",
        "× floor is the case's rate over its floor's rate, both from this run. Peak MiB is the "
        "case's process's peak RSS (`getrusage` ru_maxrss; each case runs in a fresh process); "
        "growth is that peak less the peak just before the measured work began (Python, Django "
        "and the case's setup).",
        "",
        "**`shishi generate`** (in-process `call_command`)",
        "",
        "| case | counties | rows | s | counties/s | rows/s | × floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| floor: COPY as many rows, as wide ({gen['row_bytes']} B), into a scratch table | | "
        f"{_n(gen['rows'])} | {gen['floor']['seconds']:.2f} | | {_n(gen['floor']['rows_per_s'])} "
        "| 1.00 |",
        f"| `shishi generate --counties {gen['counties']}` | {gen['counties']} | {_n(gen['rows'])} "
        f"| {gen['seconds']:.2f} | {gen['counties_per_s']:.2f} | {_n(gen['rows_per_s'])} | "
        f"{gen['ratio']:.3f} |",
    ]
    if report.get("imports"):
        _imports_table(report, lines)
    if report.get("exports"):
        _exports_table(report, lines)
    if report.get("verify"):
        _verify_table(report, lines)
    if report.get("people"):
        _people_table(report, lines)
    if report.get("concurrent"):
        _concurrent_table(report, lines)
    if report.get("targets"):
        _targets_table(report, lines)
    return "\n".join(lines)


def _imports_table(report: dict, lines: list[str]) -> None:
    lines += [
        "",
        "**Excel import** (`import_ledger` into a new draft programme; the workbook is "
        "`CommitmentExporter` output multiplied; rows are sheet rows, a commitment's further "
        "targets on rows of their own)",
        "",
        "| commitments (rows) | case | s | rows/s | × floor | peak MiB | growth MiB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "check": "check phase (a dry run, stopped before its rolled-back write)",
        "dry_run": "dry run, complete (check, then the write rolled back)",
        "write": "import",
    }
    for entry in report["imports"]:
        size = f"{_n(entry['commitments'])} ({_n(entry['rows'])})"
        floor = entry["floor"]
        lines.append(
            f"| {size} | floor: openpyxl reads every cell | {floor['seconds']:.2f} | "
            f"{_n(floor['rows_per_s'])} | 1.00 | {floor['peak_mib']:.0f} | {floor['growth_mib']:.0f} |"
        )
        for mode, r in entry["cases"].items():
            memory = f"{r['peak_mib']:.0f} | {r['growth_mib']:.0f}"
            if mode == "write":
                for phase in ("check", "write"):
                    lines.append(
                        f"| {size} | import: {phase} phase | {r[f'{phase}_seconds']:.2f} | "
                        f"{_n(r[f'{phase}_rows_per_s'])} | {r[f'{phase}_ratio']:.3f} | | |"
                    )
            lines.append(
                f"| {size} | {labels[mode]}{', total' if mode == 'write' else ''} | "
                f"{r['seconds']:.2f} | {_n(r['total_rows_per_s'])} | {r['total_ratio']:.3f} | "
                f"{memory} |"
            )
        if "note" in entry:
            lines.append(f"| {size} | **write not measured**: {entry['note']} | | | | | |")
    checks = [(e["commitments"], e["cases"]["check"]["growth_mib"]) for e in report["imports"]]
    concurrent = report.get("concurrent") or {"cases": []}
    large = next(
        (
            r
            for r in concurrent["cases"]
            if r["import"] == "commitments" and r["mode"] == "write" and r["growth_mib"] is not None
        ),
        None,
    )
    limits = report["imports"][0]["web_upload_limits"]
    lines += [
        "",
        "Workbooks: "
        + ", ".join(
            f"{_n(e['commitments'])} commitments in {e['file_bytes'] / 2**20:.1f} MiB"
            for e in report["imports"]
        )
        + f". The web upload takes at most {_n(limits['commitments'])} commitments and "
        f"{limits['bytes'] / 2**20:.0f} MiB a file; `shishi import-commitments` has no limit "
        "(these figures are its path, `import_ledger`).",
        "",
        "Import memory: the check phase keeps each cleaned commitment in a temporary file until "
        "the write (`lib.spill`, a thousand at a time in memory), so the process grows by "
        + ", ".join(f"{growth:.0f} MiB at {_n(n)}" for n, growth in checks)
        + ". The write phase (`services.add_commitments`) reads them back and writes "
        "`services.WRITE_CHUNK` commitments at a time inside the one transaction; the audit "
        "entries wait for the end of the transaction in a temporary file too "
        "(`audit.services.deferred`; a dry run only counts them). The real import grows by "
        + ", ".join(
            f"{e['cases']['write']['growth_mib']:.0f} MiB at {_n(e['commitments'])}"
            for e in report["imports"]
            if "write" in e["cases"]
        )
        + (
            f" and {large['growth_mib']:.0f} MiB at {_n(large['size'])} (the real import under "
            "concurrent writes, below)"
            if large is not None
            else ""
        )
        + ".",
    ]


def _exports_table(report: dict, lines: list[str]) -> None:
    exports = report["exports"]
    small, large = (str(n) for n in exports["sizes"])
    lines += [
        "",
        f"**Exports** of a programme of {_n(int(small))} (1x) and {_n(int(large))} (10x) "
        "commitments, each written to a file. The floors write as many rows of plain values "
        "as the programme's ledger has (one per target); the open data has one row per "
        "commitment; × floor is the floor's time over the case's, for the same programme (the "
        "xlsx against openpyxl, the others against csv.writer). The open data is measured on "
        "the imported draft lists: it does not look at the status, and publishing changes no "
        "commitment.",
        "",
        "| case | size | rows | s | rows/s | × floor | peak MiB | growth MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    floor_names = {"openpyxl": "floor: openpyxl write-only workbook", "csv": "floor: csv.writer"}
    shown = set()
    for kind, by_size in exports["cases"].items():
        for size, label in ((small, "1x"), (large, "10x")):
            r = by_size[size]
            floor = r["floor"]
            if (floor["kind"], size) not in shown:
                shown.add((floor["kind"], size))
                lines.append(
                    f"| {floor_names[floor['kind']]} | {label} | {_n(floor['rows'])} | "
                    f"{floor['seconds']:.2f} | {_n(floor['rows_per_s'])} | 1.00 | "
                    f"{floor['peak_mib']:.0f} | {floor['growth_mib']:.0f} |"
                )
            lines.append(
                f"| {kind} | {label} | {_n(r['rows'])} | {r['seconds']:.2f} | "
                f"{_n(r['rows_per_s'])} | {r['ratio']:.3f} | {r['peak_mib']:.0f} | "
                f"{r['growth_mib']:.0f} |"
            )
    lines += [
        "",
        "| export | growth at 1x MiB | growth at 10x MiB | 10x less 1x MiB |",
        "|---|---:|---:|---:|",
    ]
    for kind, by_size in exports["cases"].items():
        lines.append(
            f"| {kind} | {by_size[small]['growth_mib']:.0f} | {by_size[large]['growth_mib']:.0f} "
            f"| {by_size['memory_growth_mib']:+.1f} |"
        )
    chunk = next(iter(exports["cases"]["ledger-csv"].values()))["chunk"]
    lines += [
        "",
        f"The ledger exporter fetches {_n(chunk)} commitments at a time with their details, "
        "and writes each row as it comes (openpyxl's write-only mode keeps the sheet in a "
        "temporary file). Its peak climbs over the first few chunks, because the model objects "
        "of chunks already written hold reference cycles that the cyclic garbage collector "
        "frees in its own time (with `gc.collect()` after each chunk it is flat from the first "
        "chunks on), then stays flat: a few MiB from 1x to 10x at county scale is the end of "
        "that climb, not growth with rows.",
    ]
    if not exports["open_data"]["available"]:
        lines += [
            "",
            "**The open-data export was not measured**: `shishi.commitments.opendata.open_data` "
            f"did not import ({exports['open_data']['error']}). `measure_open_data` in "
            "bench/bulk.py measures it as soon as it does.",
        ]


def _verify_table(report: dict, lines: list[str]) -> None:
    v = report["verify"]
    floors = v["floors"]
    lines += [
        "",
        f"**`verify_chain()`** (`shishi verify-audit`) over {_n(v['entries'])} entries "
        f"({_n(v['filled']['added'])} appended for the run with the app's `Entry.payload` and "
        f"`hashchain.link`, in {v['filled']['seconds']:.0f} s)",
        "",
        "| case | entries/s | × floor | peak MiB | growth MiB |",
        "|---|---:|---:|---:|---:|",
        f"| floor: psycopg reads the rows alone (server-side cursor, JSON not decoded) | "
        f"{_n(floors['read']['entries_per_s'])} | | | |",
        f"| floor: hashlib.sha256 alone over the same payload bytes | "
        f"{_n(floors['hash']['entries_per_s'])} | | | |",
        f"| floor: the two together (read, then hash) | {_n(floors['read+hash']['entries_per_s'])} "
        f"| 1.00 | {floors['peak_mib']:.0f} | {floors['growth_mib']:.0f} |",
        f"| `verify_chain()` | {_n(v['entries_per_s'])} | {v['ratio']:.3f} | "
        f"{v['peak_mib']:.0f} | {v['growth_mib']:.0f} |",
    ]


def _yes_no(met: bool | None) -> str:
    return "—" if met is None else ("**yes**" if met else "**no**")


def _people_table(report: dict, lines: list[str]) -> None:
    people = report["people"]
    lines += [
        "",
        "**Organisation ledger import, people** (`shishi.orgs.ledger.import_workbook`; a people "
        f"sheet titled “{people[0]['sheet_title']}” in the export's layout, every row a new person "
        f"(no person number) in one of the imported county's {people[0]['orgs']} villages and "
        "branches, with a unique mobile number; the check phase ends where the people sheet's "
        "`write` begins; audit: the entries the import writes at the end of its transaction, "
        "and the seconds that takes)",
        "",
        "| people (rows) | case | s | rows/s | × floor | peak MiB | growth MiB | audit entries "
        f"(s) | < {TARGET_SECONDS:.0f} s per {_n(TARGET_ROWS)} rows |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for entry in people:
        size = f"{_n(entry['people'])} ({_n(entry['rows'])})"
        floor = entry["floor"]
        lines.append(
            f"| {size} | floor: openpyxl reads every cell | {floor['seconds']:.2f} | "
            f"{_n(floor['rows_per_s'])} | 1.00 | {floor['peak_mib']:.0f} | "
            f"{floor['growth_mib']:.0f} | | |"
        )
        for mode, r in entry["cases"].items():
            name = "dry run (checked, written, rolled back)" if mode == "dry_run" else "import"
            for phase in ("check", "write"):
                lines.append(
                    f"| {size} | {name}: {phase} phase | {r[f'{phase}_seconds']:.2f} | "
                    f"{_n(r[f'{phase}_rows_per_s'])} | {r[f'{phase}_ratio']:.3f} | | | | |"
                )
            audit = (
                f"{_n(r['audit_entries'])} ({r['audit_flush_seconds']:.2f})"
                if r["audit_entries"]
                else "none"
            )
            lines.append(
                f"| {size} | {name}, total | {r['seconds']:.2f} | {_n(r['total_rows_per_s'])} | "
                f"{r['total_ratio']:.3f} | {r['peak_mib']:.0f} | {r['growth_mib']:.0f} | "
                f"{audit} | "
                + (
                    f"{_yes_no(r['met'])} ({r['seconds_per_target']:.1f} s)"
                    if r["met"] is not None
                    else f"({r['seconds_per_target']:.1f} s at this rate)"
                )
                + " |"
            )


def _concurrent_table(report: dict, lines: list[str]) -> None:
    c = report["concurrent"]
    lines += [
        "",
        f"**Concurrent writes**: while each import runs, one writer process per village below "
        f"renames it and back (`orgs.services.update_org`, an audited public change, in its own "
        f"transaction) every {c['every_s']} s; wait is each write's wall time, for the writes "
        "that began between the import's start and its end (its process's start-up left out). "
        "The villages: in another county"
        + (
            " (made for the run: the data holds one county)"
            if c["orgs"]["other county"]["made"]
            else ""
        )
        + "; in the imported county, one no import refers to (it queues only on the county's "
        "audit chain, which an import locks from its audit write to its commit); and one the "
        "people sheet adds people to. PostgreSQL checks a new row's foreign keys when the "
        "constraint is checked (Django declares them deferred: at the commit, unless the "
        "transaction says `SET CONSTRAINTS … IMMEDIATE`), taking a key-share lock on each "
        "organisation referred to, which `update_org`'s `select_for_update` conflicts with; "
        "if those checks wait while the import holds the county's audit chain, and a writer "
        "holds the organisation while waiting for the chain, PostgreSQL aborts one of the two "
        "(“deadlock detected”, after `deadlock_timeout`). Audit entries (s): the entries the "
        "import writes at its end and the seconds of that write (`audit.services._write`); "
        "commit s: from its end to the import's end. The import's own time is under the "
        "writers' load. The target (< 1 s) is for the write in another county; the same "
        "county's rows say whether they stayed under it.",
        "",
        "| import (rows) | mode | import s | audit entries (s) | commit s | writer | writes | "
        f"p50 ms | p99 ms | max ms | refused | < {TARGET_WAIT_MS / 1000:.0f} s |",
        "|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in c["cases"]:
        what = (
            f"{_n(r['size'])} people ({_n(r['rows'])})"
            if r["import"] == "people"
            else f"{_n(r['size'])} commitments ({_n(r['rows'])})"
        )
        audit = (
            f"{_n(r['audit_entries'])} ({r['audit_flush_seconds']:.2f})"
            if r["audit_entries"]
            else "none"
        )
        commit = f"{r['after_flush_seconds']:.2f}" if r["after_flush_seconds"] is not None else ""
        seconds = f"{r['seconds']:.2f}"
        if "error" in r:
            seconds += f" **aborted: {r['error']}**"
        first = True
        for label, w in r["writers"].items():
            lead = (
                f"| {what} | {MODES[r['mode']]} | {seconds} | {audit} | {commit} |"
                if first
                else "| | | | | |"
            )
            first = False
            verdict = (
                _yes_no(w["met"]) if label == "other county" else ("yes" if w["met"] else "no")
            )
            refused = (
                str(w["failed"]) if not w["failed"] else f"{w['failed']}: {'; '.join(w['errors'])}"
            )
            lines.append(
                f"{lead} {label} | {w['writes']} | {w['p50_ms']:,.0f} | {w['p99_ms']:,.0f} | "
                f"{w['max_ms']:,.0f} | {refused} | {verdict} |"
            )


def _targets_table(report: dict, lines: list[str]) -> None:
    lines += [
        "",
        "**Against the targets** (the issue: a 100,000-row organisation or commitments import, "
        "dry run and real, in under a minute at flat memory, while a concurrent audited write "
        "elsewhere waits less than a second). Times per 100,000 rows are at the measured rate "
        "(the 100,000-commitment workbook has more rows: a commitment's further targets take "
        "rows of their own); the commitments imports are those under the writers above.",
        "",
        "| what | target | measured | met |",
        "|---|---|---|---|",
    ]
    for t in report["targets"]:
        lines.append(f"| {t['what']} | {t['target']} | {t['measured']} | {_yes_no(t['met'])} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="county")
    parser.add_argument(
        "--only",
        metavar="PARTS",
        help=f"run these parts only, comma-separated, of: {', '.join(PARTS)} (the fresh "
        "database and shishi generate always run); writes bench/results/bulk-<scale>-partial"
        ".json and leaves the full results and docs/performance.md alone",
    )
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # one case's process
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        result = CASES[args.case](**json.loads(args.params))
        print(json.dumps(result, default=str))
        return
    parts = PARTS
    if args.only:
        parts = tuple(p.strip() for p in args.only.split(",") if p.strip())
        unknown = set(parts) - set(PARTS)
        if unknown:
            parser.error(
                f"unknown parts {', '.join(sorted(unknown))}; the parts: {', '.join(PARTS)}"
            )
    report = run(args.scale, parts)
    if parts != PARTS:
        out = ROOT / "bench" / "results" / f"bulk-{args.scale}-partial.json"
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
        print(table(report))
        print(f"written: {out.relative_to(ROOT)} (a partial run: docs/performance.md unchanged)")
        return
    out = ROOT / "bench" / "results" / f"bulk-{args.scale}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_docs(args.scale, table(report), prefix="bulk", heading="## Bulk paths (`make bench`)")
    print(table(report))
    print(f"written: {out.relative_to(ROOT)} and docs/performance.md")


if __name__ == "__main__":
    main()
