"""Benchmark of the organisation tree and the commitments at province scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shishi_bench .venv/bin/python bench/orgs.py --counties 100

Generates the province with ``shishi generate`` (reused when it is already there), then measures
in-process server time (Django's test client: the full middleware stack, no network) for:

- ``/healthz``, which does nothing: the framework's floor;
- the query listing one town's branches;
- a town's organisation page, a county's, the search page and a person page, signed in.

Each figure is reported beside the floor measured in the same run, and with its number of SQL
queries. Results go to bench/results/orgs-<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shishi.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1")


def timed(fn, repeat: int) -> dict:
    for _ in range(max(repeat // 10, 3)):
        fn()  # warm up caches and connections
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
        "n": repeat,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from shishi.orgs import services
    from shishi.orgs.demo import county_code

    # Pages link hashed static names in production, which need the manifest collectstatic writes.
    call_command("collectstatic", "--noinput", verbosity=0)
    from shishi.orgs.models import Org, OrgKind, Person, RoleKind, User

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("generate", counties=args.counties, verbosity=0)
    generate_s = time.perf_counter() - started

    county = Org.objects.get(code=county_code(args.counties - 1))
    town = Org.objects.filter(parent=county, kind=OrgKind.TOWN).order_by("path").last()
    user = User.objects.filter(username="bench_admin").first()
    if user is None:
        person = Person.objects.filter(org__county=county).order_by("number").first()
        user = services.create_login(
            None, person, username="bench_admin", password="Province-bench-2026!"
        )
        services.grant_role(None, user, county.parent.parent, RoleKind.COUNTY_ADMIN)
    client = Client()
    client.force_login(user, backend="shishi.orgs.backends.UsernameOrPhoneBackend")
    person = Person.objects.filter(org__path__startswith=town.path).first()

    def get(url):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return run

    def town_branches():
        return list(
            Org.objects.filter(path__startswith=town.path, kind=OrgKind.BRANCH).values_list(
                "id", "name"
            )
        )

    from shishi.commitments.models import Commitment, Programme

    programme = Programme.objects.filter(county=county).first()
    commitment = Commitment.objects.filter(programme=programme).order_by("number").first()
    commitment_cases = {}
    if programme is not None:
        commitment_cases = {
            "public: a programme's list": get(f"/commitments/{programme.pk}/"),
            "public: a commitment": get(f"/commitments/{programme.pk}/{commitment.number}/"),
            "public: the change log": get(f"/commitments/{programme.pk}/changes/"),
            "api: commitments of a programme": get(
                f"/api/v1/commitments?programme={programme.pk}&limit=50"
            ),
            "api: a commitment": get(f"/api/v1/commitments/{commitment.pk}"),
            "work: a programme": get(f"/work/commitments/programmes/{programme.pk}/"),
            "work: a commitment": get(f"/work/commitments/{commitment.pk}/"),
        }
    cases = {
        "floor: /healthz": get("/healthz"),
        "query: one town's branches": town_branches,
        "page: one town's branches": get(f"/work/orgs/search/?within={town.pk}&kind=branch"),
        "page: town": get(f"/work/orgs/{town.pk}/"),
        "page: county": get(f"/work/orgs/{county.pk}/"),
        "page: search": get("/work/orgs/search/?q=" + town.name[:2]),
        "page: person": get(f"/work/orgs/people/{person.pk}/"),
        "page: workspace home": get("/work/"),
        "page: portal home": get("/"),
        **commitment_cases,
    }
    results = {}
    for name, fn in cases.items():
        queries = []
        with connection.execute_wrapper(
            lambda execute, sql, *a, q=queries: q.append(sql) or execute(sql, *a)
        ):
            fn()
        results[name] = {**timed(fn, args.repeat), "queries": len(queries)}
    floor = results["floor: /healthz"]["p50_ms"]
    for r in results.values():
        r["ratio_to_floor"] = round(r["p50_ms"] / floor, 2) if floor else None

    scale = {
        "counties": args.counties,
        "orgs": Org.objects.count(),
        "branches": Org.objects.filter(kind=OrgKind.BRANCH).count(),
        "people": Person.objects.count(),
        "town_branches": len(town_branches()),
    }
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": commit,
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "database": connection.vendor,
        "scale": scale,
        "generate_seconds": round(generate_s, 1),
        "results": results,
    }
    out = ROOT / "bench" / "results" / f"orgs-{args.counties}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    print(f"{scale} on {connection.vendor}; generate took {generate_s:.1f}s")
    print(f"{'case':32} {'p50 ms':>8} {'p99 ms':>8} {'× floor':>8} {'queries':>7}")
    for name, r in results.items():
        print(
            f"{name:32} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['ratio_to_floor']:8.2f} {r['queries']:7d}"
        )
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
