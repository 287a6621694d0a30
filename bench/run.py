"""`make bench`: every page and endpoint under load, each beside its floor from the same run.

    .venv/bin/python bench/run.py --scale county      # 1 county, minutes
    .venv/bin/python bench/run.py --scale province    # 100 counties, generated once and reused

Generates the data with ``shishi generate`` (reused when the database already holds it), starts
gunicorn with production settings on PostgreSQL, and drives each URL with wrk over loopback for a
bounded time. Reported per URL: requests per second, p50 and p99 latency, the ratio of its
requests per second to the bare endpoint's (the framework's floor) measured in the same run, and
the number of SQL queries one request makes (counted in-process with Django's test client).
Results go to bench/results/<scale>.json and to the table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
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


def shishi(env: dict, *args: str) -> None:
    subprocess.run([str(BIN / "shishi"), *args], env=env, check=True, cwd=ROOT)


def prepare(scale: str, env: dict) -> float:
    ensure_database(env["DATABASE_URL"])
    shishi(env, "migrate", "--noinput", "-v0")
    started = time.perf_counter()
    shishi(env, "generate", "--counties", str(SCALES[scale]))
    generate_s = time.perf_counter() - started
    shishi(env, "collectstatic", "--noinput", "-v0")
    return generate_s


def ids_and_session() -> tuple[Ids, str, dict[str, int]]:
    """Ids to fill the paths, a signed-in session cookie, and the queries each URL makes."""
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

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
    queries: dict[str, int] = {}
    for name, path, signed_in in FLOORS + ENDPOINTS:
        url = path.format(**ids.__dict__)
        counted: list[str] = []
        with connection.execute_wrapper(
            lambda ex, sql, *a, c=counted: c.append(sql) or ex(sql, *a)
        ):
            response = (client if signed_in else Client()).get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}; fix it before measuring")
        queries[name] = len(counted)
    return ids, session, queries


def start_server(env: dict) -> subprocess.Popen:
    workers = str(os.cpu_count() or 2)
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "shishi.wsgi:application", "--workers", workers,
         "--bind", f"127.0.0.1:{PORT}", "--log-level", "warning"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)  # noqa: S310
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


def table(report: dict) -> str:
    lines = [
        f"Scale **{report['scale']}** ({report['counties']} counties) · {report['date']} · commit "
        f"`{report['commit']}` · {report['machine']} · PostgreSQL · gunicorn with "
        f"{report['workers']} workers · wrk {report['seconds']} s × {report['connections']} "
        f"connections per URL · data generated in {report['generate_s']} s (0 when reused).",
        "",
        "| URL | req/s | p50 ms | p99 ms | × bare floor | SQL queries |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["results"].items():
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['p50_ms']} | {r['p99_ms']} | "
            f"{r['ratio']:.2f} | {r['queries']} |"
        )
    return "\n".join(lines)


def write_docs(scale: str, text: str) -> None:
    doc = ROOT / "docs" / "performance.md"
    body = doc.read_text()
    start, end = f"<!-- bench:{scale}:start -->", f"<!-- bench:{scale}:end -->"
    block = f"{start}\n{text}\n{end}"
    if start in body:
        body = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _m: block, body, flags=re.S)
    else:
        body = body.rstrip() + f"\n\n## `make bench SCALE={scale}`\n\n{block}\n"
    doc.write_text(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="county")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per URL")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    env = environment(args.scale)
    if not env["DATABASE_URL"].startswith("postgres"):
        raise SystemExit("make bench measures PostgreSQL: set DATABASE_URL=postgres://…")
    generate_s = prepare(args.scale, env)
    os.environ.update(env)
    ids, session, queries = ids_and_session()
    server = start_server(env)
    results = {}
    try:
        for name, path, signed_in in FLOORS + ENDPOINTS:
            url = f"http://127.0.0.1:{PORT}" + path.format(**ids.__dict__)
            r = wrk(url, session if signed_in else None, args.seconds, args.connections)
            results[name] = {**r, "queries": queries[name], "path": path}
            print(
                f"{name:40} {r['rps']:9.0f} req/s  p50 {r['p50_ms']:7} ms  p99 {r['p99_ms']:7} ms"
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
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
        "workers": os.cpu_count() or 2,
        "seconds": args.seconds,
        "connections": args.connections,
        "generate_s": round(generate_s, 1),
        "results": results,
    }
    out = ROOT / "bench" / "results" / f"{args.scale}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_docs(args.scale, table(report))
    print(f"written: {out.relative_to(ROOT)} and docs/performance.md")


if __name__ == "__main__":
    main()
