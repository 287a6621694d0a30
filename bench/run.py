"""`make bench`: every page and endpoint under load, each beside its floor from the same run.

    .venv/bin/python bench/run.py --scale county      # 1 county, minutes
    .venv/bin/python bench/run.py --scale province    # 100 counties, generated once and reused

Generates the data with ``shishi generate`` (reused when the database already holds it), starts
gunicorn with production settings on PostgreSQL, and drives each URL with wrk over loopback for a
bounded time. Reported per URL: requests per second, p50 and p99 latency, the ratio of its
requests per second to the bare endpoint's (the framework's floor) measured in the same run, and
the number of SQL queries one request makes (counted in-process with Django's test client).
Results go to bench/results/<scale>.json and to the table in docs/performance.md.

Then, where the data holds more than one county, the public pages and public API reads are
measured again under a mixed load: a writer process makes one audited public change a second in
another county (``--writer``), as a province never stops writing. Each county's public pages are
cached on its own generation (shishi/pagecache.py), so the measured county's pages should stay
served from memory; pages that span counties are rendered again once a second in each worker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.endpoints import ENDPOINTS, FLOORS  # noqa: E402

SCALES = {"county": 1, "province": 100}
PORT = 8765
# As docs/deploy.md sets production: twice the cores plus one, so that one worker's wait on the
# database is another's turn on the CPU.
WORKERS = 2 * (os.cpu_count() or 1) + 1
WARM_UP_SECONDS = 1
BIN = ROOT / ".venv" / "bin"


@dataclass
class Ids:
    county: int
    town: int
    person: int
    programme: int
    commitment: int
    number: int
    published: str


def environment(scale: str) -> dict:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/shishi_bench_{scale}")
    # The data is fictional and the databases are shared by every checkout on the machine: a fixed
    # key lets any checkout read the phone numbers another one generated (each checkout's var/
    # would otherwise hold its own random key, and reading would fail with "cannot decrypt").
    env.setdefault("FIELD_ENCRYPTION_KEY", "bench-only-key-for-fictional-data-never-for-real-data")
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "shishi.settings",
            "SHISHI_VAR_DIR": str(ROOT / "var" / f"bench-{scale}"),
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,testserver",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` when it does not exist."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def analyze(url: str) -> None:
    """Refresh PostgreSQL's statistics: right after a bulk load its planner knows nothing of the
    new rows (autovacuum catches up minutes later) and picks plans no running server would."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def shishi(env: dict, *args: str) -> None:
    subprocess.run([str(BIN / "shishi"), *args], env=env, check=True, cwd=ROOT)


def prepare(scale: str, env: dict) -> float:
    ensure_database(env["DATABASE_URL"])
    shishi(env, "migrate", "--noinput", "-v0")
    started = time.perf_counter()
    shishi(env, "generate", "--counties", str(SCALES[scale]))
    generate_s = time.perf_counter() - started
    analyze(env["DATABASE_URL"])
    shishi(env, "collectstatic", "--noinput", "-v0")
    return generate_s


def fetch(client, url: str):
    """GET through the test client, reading a streamed body to its end (the test client does
    not, and the queries and time of a streamed export are in its body)."""
    response = client.get(url)
    if response.streaming:
        for _piece in response.streaming_content:
            pass
    return response


def ids_and_session() -> tuple[Ids, str, dict[str, dict]]:
    """Ids to fill the paths, a signed-in session cookie, and what each URL costs in-process."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client, override_settings

    from shishi.commitments.models import Commitment, Programme
    from shishi.orgs import services
    from shishi.orgs.models import Org, OrgKind, Person, RoleKind, User

    county = Org.objects.filter(kind=OrgKind.COUNTY).order_by("-path").first()
    town = Org.objects.filter(parent=county, kind=OrgKind.TOWN).order_by("path").last()
    person = Person.objects.filter(org__path__startswith=town.path).order_by("number").first()
    programme = Programme.objects.filter(county=county).first()
    commitment = Commitment.objects.filter(programme=programme).order_by("number").first()
    user = User.objects.filter(username="bench_county_admin").first()
    if user is None:
        owner = Person.objects.filter(county=county, user__isnull=True).order_by("number").first()
        user = services.create_login(
            None, owner, username="bench_county_admin", password="Bench-county-2026!"
        )
        services.grant_role(None, user, county, RoleKind.COUNTY_ADMIN)
    ids = Ids(
        county=county.pk,
        town=town.pk,
        person=person.pk,
        programme=programme.pk,
        commitment=commitment.pk,
        number=commitment.number,
        published=programme.published_at.date().isoformat(),
    )
    client = Client()
    client.force_login(user, backend="shishi.orgs.backends.UsernameOrPhoneBackend")
    session = client.cookies["sessionid"].value
    rendered: dict[str, dict] = {}
    # What a page costs when it is rendered, not served from the public page cache: its queries
    # (the number the tests put a ceiling on) and its in-process time, the median of 7.
    with override_settings(PAGE_CACHE=False):
        for name, path, signed_in in FLOORS + ENDPOINTS:
            url = path.format(**ids.__dict__)
            browser = client if signed_in else Client()
            counted: list[str] = []
            with connection.execute_wrapper(
                lambda ex, sql, *a, c=counted: c.append(sql) or ex(sql, *a)
            ):
                response = fetch(browser, url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}; fix it before measuring")
            times = []
            for _ in range(7):
                started = time.perf_counter()
                fetch(browser, url)
                times.append((time.perf_counter() - started) * 1000)
            rendered[name] = {
                "queries": len(counted),
                "render_ms": round(statistics.median(times), 2),
            }
    # Served from the page cache under load, or rendered for each request.
    for name, path, signed_in in FLOORS + ENDPOINTS:
        response = (client if signed_in else Client()).get(path.format(**ids.__dict__))
        response = (client if signed_in else Client()).get(path.format(**ids.__dict__))
        cached = response.get("X-Page-Cache") == "hit"
        rendered[name]["served"] = (
            "page cache" if cached else "static" if name.startswith("floor: static") else "rendered"
        )
    return ids, session, rendered


def start_server(env: dict) -> subprocess.Popen:
    workers = str(WORKERS)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "shishi.wsgi:application", "--workers", workers,
         "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/livez", timeout=1)  # noqa: S310
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def wrk(url: str, cookie: str | None, seconds: int, connections: int) -> dict:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        args[1:1] = ["-H", f"Cookie: sessionid={cookie}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 2)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": latency("50%"),
        "p99_ms": latency("99%"),
        "errors": int(errors.group(1)) if errors else 0,
    }


TARGET_RATIO = 0.5
TARGET_P99_MS = 100
# One audited change a second in another county, during the mixed-load run.
WRITES_PER_SECOND = 1.0


def writer(county_id: int) -> None:
    """``run.py --writer COUNTY``: change a village's name in county COUNTY and back, one audited
    public change every second, until SIGTERM; then print how long each write took (JSON)."""
    import django

    django.setup()
    from shishi.orgs import services
    from shishi.orgs.models import Org, OrgKind

    village = Org.objects.filter(county_id=county_id, kind=OrgKind.VILLAGE).order_by("path").first()
    original = village.name
    stop = []
    signal.signal(signal.SIGTERM, lambda *_a: stop.append(1))
    took, n = [], 0
    while not stop:
        started = time.perf_counter()
        name = original if n % 2 else f"{original}（测）"
        services.update_org(None, village, name=name)
        took.append((time.perf_counter() - started) * 1000)
        n += 1
        time.sleep(max(0.0, 1 / WRITES_PER_SECOND - (time.perf_counter() - started)))
    if n % 2:
        services.update_org(None, village, name=original)
    print(json.dumps({"writes": len(took), "ms": took}))


def other_county(measured: int) -> int | None:
    """A county other than the measured one, for the writer; None when there is only one."""
    import django

    django.setup()
    from shishi.orgs.models import Org, OrgKind

    return (
        Org.objects.filter(kind=OrgKind.COUNTY)
        .exclude(pk=measured)
        .order_by("path")
        .values_list("pk", flat=True)
        .first()
    )


def mixed_run(ids: Ids, env: dict, rendered: dict, seconds: int, connections: int) -> dict | None:
    """The public pages and public API reads (and the floor) again, while a writer changes
    another county once a second. None when the data holds one county only."""
    county = other_county(ids.county)
    if county is None:
        return None
    script = str(Path(__file__).resolve())
    process = subprocess.Popen(
        [str(BIN / "python"), script, "--writer", str(county)],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    results = {}
    try:
        time.sleep(2)  # the writer's first changes land before the first measurement
        for name, path, signed_in in FLOORS + ENDPOINTS:
            if signed_in or name.startswith("floor: static") or "open data" in name:
                continue
            url = f"http://127.0.0.1:{PORT}" + path.format(**ids.__dict__)
            wrk(url, None, WARM_UP_SECONDS, connections)
            r = wrk(url, None, seconds, connections)
            results[name] = {**r, "served": rendered[name]["served"], "path": path}
            print(f"mixed: {name:33} {r['rps']:9.0f} req/s  p99 {r['p99_ms']:7} ms")
    finally:
        process.terminate()
        out, _err = process.communicate(timeout=60)
    writes = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"writes": 0, "ms": []}
    ms = sorted(writes["ms"])
    return {
        "county_written": county,
        "writes": writes["writes"],
        "write_p50_ms": round(ms[len(ms) // 2], 1) if ms else None,
        "write_max_ms": round(ms[-1], 1) if ms else None,
        "results": results,
    }


def mixed_table(report: dict) -> str:
    mixed = report["mixed"]
    floor = report["results"]["floor: bare endpoint"]["rps"]
    lines = [
        f"Scale **{report['scale']}** · {report['date']} · commit `{report['commit']}` · the "
        f"same server and wrk settings as the read-only table, while a writer makes one audited "
        f"public change a second in another county ({mixed['writes']} changes during the run; "
        f"each took {mixed['write_p50_ms']} ms at the median, {mixed['write_max_ms']} ms at "
        f"most). Ratios are to the read-only run's bare floor ({floor:.0f} req/s).",
        "",
        "| URL | req/s read-only | req/s mixed | mixed ÷ read-only | × bare floor (mixed) | "
        "p99 ms (mixed) | target met |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    missed = []
    for name, r in mixed["results"].items():
        alone = report["results"][name]["rps"]
        ratio = r["rps"] / floor if floor else 0.0
        is_floor = name.startswith("floor")
        met = ratio >= TARGET_RATIO and r["p99_ms"] < TARGET_P99_MS
        if not is_floor and not met:
            missed.append(name)
        lines.append(
            f"| {name} | {alone:.0f} | {r['rps']:.0f} | {r['rps'] / alone:.2f} | {ratio:.2f} | "
            f"{r['p99_ms']} | {'—' if is_floor else 'yes' if met else '**no**'} |"
        )
    measured = sum(1 for n in mixed["results"] if not n.startswith("floor"))
    lines += [
        "",
        f"Target under the mixed load: at least {TARGET_RATIO:.0%} of the bare floor's requests "
        f"per second with p99 under {TARGET_P99_MS} ms. Missed: {len(missed)} of {measured}"
        + (f" ({', '.join(missed)})" if missed else "")
        + ".",
    ]
    return "\n".join(lines)


def meets_target(result: dict) -> bool:
    return result["ratio"] >= TARGET_RATIO and result["p99_ms"] < TARGET_P99_MS


def table(report: dict) -> str:
    lines = [
        f"Scale **{report['scale']}** ({report['counties']} counties) · {report['date']} · commit "
        f"`{report['commit']}` · {report['machine']} · PostgreSQL · gunicorn with "
        f"{report['workers']} workers · wrk {report['seconds']} s × {report['connections']} "
        f"connections per URL, after a {WARM_UP_SECONDS} s warm-up · data generated in {report['generate_s']} s (0 when reused).",
        "",
        "| URL | served from | req/s | p50 ms | p99 ms | × bare floor | target met | "
        "rendered in-process ms | SQL queries when rendered |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    slow, late = [], []
    for name, r in report["results"].items():
        floor = name.startswith("floor")
        met = meets_target(r)
        if not floor and r["ratio"] < TARGET_RATIO:
            slow.append(name)
        if not floor and r["p99_ms"] >= TARGET_P99_MS:
            late.append(name)
        lines.append(
            f"| {name} | {r['served']} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | "
            f"{r['ratio']:.2f} | {'—' if floor else 'yes' if met else '**no**'} | "
            f"{r['render_ms']} | {r['queries']} |"
        )
    measured = len(report["results"]) - len(FLOORS)
    lines += [
        "",
        f"Target: at least {TARGET_RATIO:.0%} of the bare floor's requests per second and p99 under "
        f"{TARGET_P99_MS} ms. Below half the floor: {len(slow)} of {measured}"
        + (f" ({', '.join(slow)})" if slow else "")
        + f". p99 of {TARGET_P99_MS} ms or more: {len(late)} of {measured}"
        + (f" ({', '.join(late)})" if late else "")
        + ".",
    ]
    return "\n".join(lines)


def write_docs(scale: str, text: str, prefix: str = "bench", heading: str | None = None) -> None:
    """Put ``text`` between the ``<!-- {prefix}:{scale}:start/end -->`` markers of
    docs/performance.md, touching nothing outside them. Markers not there yet go at the end of
    the section ``heading`` (by default the scale's own), which is added at the end when missing.
    """
    doc = ROOT / "docs" / "performance.md"
    body = doc.read_text()
    start, end = f"<!-- {prefix}:{scale}:start -->", f"<!-- {prefix}:{scale}:end -->"
    block = f"{start}\n{text}\n{end}"
    heading = heading or f"## `make bench SCALE={scale}`"
    if start in body:
        body = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _m: block, body, flags=re.S)
    elif heading in body:
        following = body.find("\n## ", body.index(heading) + len(heading))
        at = len(body) if following == -1 else following
        body = body[:at].rstrip() + f"\n\n{block}\n" + body[at:]
    else:
        body = body.rstrip() + f"\n\n{heading}\n\n{block}\n"
    doc.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="county")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per URL")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--writer", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.writer:
        writer(args.writer)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    env = environment(args.scale)
    if not env["DATABASE_URL"].startswith("postgres"):
        raise SystemExit("make bench measures PostgreSQL: set DATABASE_URL=postgres://…")
    generate_s = prepare(args.scale, env)
    os.environ.update(env)
    ids, session, rendered = ids_and_session()
    server = start_server(env)
    results = {}
    try:
        for name, path, signed_in in FLOORS + ENDPOINTS:
            url = f"http://127.0.0.1:{PORT}" + path.format(**ids.__dict__)
            cookie = session if signed_in else None
            # A warm-up first: each gunicorn worker loads templates and catalogues on its first
            # requests, and the page cache fills; the measured run is the steady state.
            wrk(url, cookie, WARM_UP_SECONDS, args.connections)
            r = wrk(url, cookie, args.seconds, args.connections)
            results[name] = {**r, **rendered[name], "path": path}
            print(
                f"{name:40} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:7} ms  p99 {r['p99_ms']:7} ms"
            )
        mixed = mixed_run(ids, env, rendered, args.seconds, args.connections)
    finally:
        server.terminate()  # the master stops its workers gracefully
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    floor = results["floor: bare endpoint"]["rps"]
    for r in results.values():
        r["ratio"] = round(r["rps"] / floor, 3) if floor else 0.0
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    report = {
        "scale": args.scale,
        "counties": SCALES[args.scale],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "commit": commit,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "workers": WORKERS,
        "seconds": args.seconds,
        "connections": args.connections,
        "generate_s": round(generate_s, 1),
        "results": results,
        "mixed": mixed,
    }
    out = ROOT / "bench" / "results" / f"{args.scale}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_docs(args.scale, table(report))
    if mixed is not None:
        write_docs(
            args.scale,
            mixed_table(report),
            prefix="mixed",
            heading="## Under a mixed load: reads while another county writes",
        )
    print(f"written: {out.relative_to(ROOT)} and docs/performance.md")


if __name__ == "__main__":
    main()
