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

Each case runs in a fresh process (``bulk.py --case NAME``), so that its peak memory (getrusage's
ru_maxrss) is its own. Results go to bench/results/bulk-<scale>.json and to the table between
the ``bulk:<scale>`` markers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import platform
import resource
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


SCALES = {
    "county": Sizes(1, (10_000, 100_000), 10_000, (5_000, 50_000), 200_000),
    "province": Sizes(100, (10_000, 100_000), 100_000, (10_000, 100_000), 1_000_000),
}
IMPORT_YEAR = 2001  # imported programmes take years from here: one programme per county and year


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
    from shishi.commitments.views_ledger import MAX_ROWS, MAX_UPLOAD

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
    """Mark the moment ``import_ledger`` finishes its check phase: the importer's ``compare``
    (matching numbers on the draft list) is the first step after every row was read and
    checked, and the write transaction follows it."""
    from shishi.commitments import ledger

    marks: dict = {}
    original = ledger.CommitmentImporter.compare

    def compare(importer) -> None:
        marks["checked"] = time.perf_counter()
        marks["items"] = len(importer.items)
        if stop_after_check:
            raise CheckDone
        original(importer)

    ledger.CommitmentImporter.compare = compare
    try:
        yield marks
    finally:
        ledger.CommitmentImporter.compare = original


@case
def import_ledger(path: str, county: int, year: int, mode: str) -> dict:
    """``mode``: "check" (a dry run stopped before its rolled-back write), "dry_run" (complete:
    the write is done and rolled back) or "write" (the real import)."""
    setup_django()
    from shishi.commitments import ledger
    from shishi.orgs.models import Org

    org = Org.objects.get(pk=county)
    out: dict = {"mode": mode}
    with phase_clock(stop_after_check=mode == "check") as marks:
        started = time.perf_counter()
        result = None
        with measured(out), suppress(CheckDone):
            result = ledger.import_ledger(
                None,
                path,
                county=org,
                year=year,
                title=f"bench {year}",
                dry_run=mode != "write",
            )
    if result is not None and result.errors:
        raise SystemExit(f"the import found errors: {[str(e) for e in result.errors[:5]]}")
    if "checked" not in marks:
        raise SystemExit("the import never reached its write phase")
    out["commitments"] = marks["items"]
    out["check_seconds"] = round(marks["checked"] - started, 3)
    out["write_seconds"] = round(out["seconds"] - out["check_seconds"], 3)
    if result is not None and result.programme is not None:
        out["programme"] = result.programme.pk
    return out


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
                for chunk in exporter.iter_csv():
                    rows["n"] += 1
                    fh.write(chunk)
            rows["n"] -= 1  # the header
        out.update(commitments=exporter.count, rows=rows["n"])
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
    """Append entries until the log holds ``total``: payloads copied from the entries the app
    wrote (the import's, mostly), each hashed with ``Entry.payload`` and ``hashchain.link`` as
    ``record`` does, COPYed in chunks under the head's lock (the triggers allow inserts)."""
    setup_django()
    from django.db import connection, transaction
    from django.utils import timezone

    from shishi.audit.models import Entry, Head
    from shishi.lib.hashchain import link

    fields = ["action", "object_type", "object_id", "object_repr", "changes", "data", "county_id"]
    templates = list(Entry.objects.order_by("seq").values(*fields)[:20_000])
    columns = [
        "seq", "time", "actor_id", "actor_label", "action", "object_type", "object_id",
        "object_repr", "changes", "data", "request_id", "ip", "county_id", "prev_hash", "hash",
    ]  # fmt: skip
    out: dict = {}
    with measured(out), transaction.atomic():
        head = Head.objects.select_for_update().get(pk=1)
        seq, prev = head.seq, head.hash
        out["before"] = seq
        with connection.cursor() as cursor:
            while seq < total:
                now = timezone.now()
                with cursor.cursor.copy(
                    f"COPY audit_entry ({', '.join(columns)}) FROM STDIN"
                ) as copy:
                    for _ in range(min(AUDIT_CHUNK, total - seq)):
                        seq += 1
                        template = templates[seq % len(templates)]
                        entry = Entry(
                            seq=seq, time=now, actor_label="system", request_id="", ip=None,
                            prev_hash=prev, **template,
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
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    out["entries"] = seq
    out["added"] = seq - out["before"]
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

    names = [
        "seq", "time", "actor_id", "actor_label", "action", "object_type", "object_id",
        "object_repr", "changes", "data", "request_id", "ip", "county_id",
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
                f"SELECT {', '.join(names)}, prev_hash, hash FROM audit_entry ORDER BY seq"  # noqa: S608
            )
            while True:
                started = time.perf_counter()
                rows = cursor.fetchmany(FLOOR_FETCH)
                read += time.perf_counter() - started
                if not rows:
                    break
                blobs = []
                for row in rows:
                    payload = dict(zip(names, row[:13], strict=True))
                    payload["time"] = payload["time"].isoformat()
                    payload["changes"] = json.loads(payload["changes"])
                    payload["data"] = json.loads(payload["data"])
                    if payload["ip"] is not None:
                        payload["ip"] = str(payload["ip"])
                    blobs.append(row[13].encode() + b"\n" + canonical(payload))
                started = time.perf_counter()
                digests = [hashlib.sha256(blob).hexdigest() for blob in blobs]
                hashed += time.perf_counter() - started
                count += len(rows)
                wrong += sum(d != row[14] for d, row in zip(digests, rows, strict=True))
    if wrong:
        raise SystemExit(f"the floor's payload bytes differ from the app's for {wrong} entries")
    out.update(entries=count, read_seconds=round(read, 3), hash_seconds=round(hashed, 3))
    return out


# --- the run ------------------------------------------------------------------------------------------


def rate(count: float, seconds: float) -> float:
    return round(count / seconds, 1) if seconds else 0.0


def ratio(value: float, floor: float) -> float:
    return round(value / floor, 3) if floor else 0.0


def step(message: str) -> None:
    print(f"[bulk {time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(scale: str) -> dict:
    sizes = SCALES[scale]
    env = bulk_environment()
    VAR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
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

    imports = []
    sample = str(VAR / "export-sample.json")
    county = None
    year = IMPORT_YEAR
    for commitments in sizes.imports:
        path = str(VAR / f"ledger-{commitments}.xlsx")
        step(f"import of {commitments:,} commitments")
        book = run_case(env, "workbook", commitments=commitments, path=path, sample=sample)
        county = book["county"]
        floor = run_case(env, "openpyxl_read", path=path)
        floor_rate = rate(floor["rows"], floor["seconds"])
        entry: dict = {
            "commitments": commitments,
            "rows": book["rows"],
            "file_bytes": book["bytes"],
            "unpacked_bytes": book["unpacked_bytes"],
            "web_upload_limits": book["web_upload_limits"],
            "floor": {
                "name": "openpyxl load_workbook(read_only=True, data_only=True), every cell value",
                **floor,
                "rows_per_s": floor_rate,
            },
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
            for phase in ("check", "write", "total"):
                seconds = r["seconds"] if phase == "total" else r[f"{phase}_seconds"]
                if phase == "write" and mode == "check":
                    continue
                r[f"{phase}_rows_per_s"] = rate(book["rows"], seconds)
                r[f"{phase}_ratio"] = ratio(rate(book["rows"], seconds), floor_rate)
            entry["cases"][mode] = r
            if mode == "write":
                entry["programme"] = r["programme"]
                year += 1
        os.unlink(path)
        imports.append(entry)

    # The export's 1x and 10x programmes: those imported above, else imported now (not timed).
    programmes = {i["commitments"]: i.get("programme") for i in imports}
    for commitments in sizes.exports:
        if programmes.get(commitments) is None:
            step(f"importing {commitments:,} commitments to export them")
            path = str(VAR / f"ledger-{commitments}.xlsx")
            run_case(env, "workbook", commitments=commitments, path=path, sample=sample)
            r = run_case(env, "import_ledger", path=path, county=county, year=year, mode="write")
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

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "scale": scale,
        "sizes": asdict(sizes),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "postgresql": _server_version(env["DATABASE_URL"]),
        "run_seconds": round(time.perf_counter() - started, 1),
        "generate": generate_report,
        "imports": imports,
        "exports": exports,
        "verify": verify_report,
    }


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
        f"{_n(report['verify']['entries'])} audit entries.",
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
        "Import memory: the check phase keeps every cleaned commitment until the write (by "
        "design, see ledger.py), so it grows with the file: "
        + ", ".join(f"{growth:.0f} MiB at {_n(n)}" for n, growth in checks)
        + ". The write phase (`services.add_commitments`) writes and audits "
        "`services.WRITE_CHUNK` commitments at a time inside the one transaction, so it adds the "
        "model objects and audit entries of one chunk, not of the whole file.",
    ]
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
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="county")
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # one case's process
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        result = CASES[args.case](**json.loads(args.params))
        print(json.dumps(result, default=str))
        return
    report = run(args.scale)
    out = ROOT / "bench" / "results" / f"bulk-{args.scale}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_docs(args.scale, table(report), prefix="bulk", heading="## Bulk paths (`make bench`)")
    print(table(report))
    print(f"written: {out.relative_to(ROOT)} and docs/performance.md")


if __name__ == "__main__":
    main()
