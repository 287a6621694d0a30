"""Helpers for tests of every app (fixtures live in conftest.py): factories that make data through
the services, and the query counts every page is held to. Test modules import from here, never
from each other."""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from shishi.commitments import services as cs
from shishi.orgs import services
from shishi.orgs.models import OrgKind


def add_villages(town, first: int, last: int, *, people: int = 1, branch: bool = False) -> None:
    """Villages ``first``..``last``-1 under ``town`` (codes ending 300+i), each with ``people``
    people, placed in a branch of the village when ``branch``: for tests at two data sizes."""
    prefix = town.name[0]
    for i in range(first, last):
        village = services.create_org(
            None,
            parent=town,
            kind=OrgKind.VILLAGE,
            name=f"{prefix}{i}村",
            code=f"{town.code[:9]}{300 + i:03d}",
        )
        home = village
        if branch:
            home = services.create_org(
                None,
                parent=village,
                kind=OrgKind.BRANCH,
                name=f"{prefix}{i}村党支部",
                code=f"B-{village.code}-01",
            )
        for p in range(people):
            services.create_person(
                None, org=home, name=f"{prefix}{i}村民{p}", phone=f"139{i:04d}{p:04d}"
            )


# --- commitments: programmes, commitments, reports and adjustments made through the services ------


def jpeg(name: str = "site.jpg", size: tuple[int, int] = (40, 30)):
    """A small JPEG upload, as a phone would send a site photo."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 60, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def pdf(name: str = "minutes.pdf"):
    """A small, complete PDF upload."""

    data = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def commitment_data(unit, title: str, category: str = "education", *, due_in: int = 200, **extra):
    """A commitment's fields for the services: started 250 days ago, due in ``due_in`` days."""
    today = timezone.localdate()
    return {
        "title": title,
        "category": category,
        "responsible_unit": unit,
        "start_date": today - dt.timedelta(days=250),
        "deadline": today + dt.timedelta(days=due_in),
        **extra,
    }


def make_programme(
    county, year: int, rows: list[dict], *, publish: bool = True, days_ago: int = 30
):
    """A programme of ``county`` with ``rows``, published ``days_ago`` days ago (the system may
    date it) unless ``publish`` is false; made by the system."""
    programme = cs.create_programme(None, county=county, year=year, title=f"{year}年民生实事")
    for row in rows:
        cs.add_commitment(None, programme, row)
    if publish:
        cs.publish_programme(None, programme, at=timezone.now() - dt.timedelta(days=days_ago))
    programme.refresh_from_db()
    return programme


def number(programme, n: int):
    """Commitment number ``n`` of ``programme``."""
    return programme.commitments.get(number=n)


def accepted(reporter, reviewer, commitment, text: str = "进展", **kwargs):
    """A progress report submitted by ``reporter`` and accepted by ``reviewer``."""
    kwargs.setdefault("percent_complete", 40)
    report = cs.submit_progress(reporter, commitment, text=text, **kwargs)
    return cs.review_progress(reviewer, report, accept=True)


def approved(proposer, approver, programme, kind: str, commitments, payload=None, reason="理由"):
    """An adjustment proposed by ``proposer`` and approved (so applied) by ``approver``."""
    adjustment = cs.propose_adjustment(
        proposer,
        programme,
        kind=kind,
        commitments=list(commitments),
        payload=payload or {},
        reason=reason,
    )
    return cs.decide_adjustment(approver, adjustment, approve=True, note="同意")


# --- query counts ---------------------------------------------------------------------------------


def queries_at_two_sizes(grow, fetch, ceiling: int, *, sizes=(2, 10)) -> list[int]:
    """The queries ``fetch()`` makes after ``grow(n)`` for each of ``sizes``: each within
    ``ceiling``, and all the same (a page that costs the same whatever the size of the data).

    ``fetch`` runs once before each count, so that what a process keeps between requests (the
    calendar) is warm, as in production.
    """
    counts = []
    for n in sizes:
        grow(n)
        fetch()
        with CaptureQueriesContext(connection) as ctx:
            fetch()
        queries = [q["sql"] for q in ctx.captured_queries]
        assert len(queries) <= ceiling, "\n".join([f"{len(queries)} > {ceiling}:", *queries])
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts
    return counts
