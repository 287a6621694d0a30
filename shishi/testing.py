"""Helpers for tests of every app (fixtures live in conftest.py): factories that make data through
the services, and the query counts every page is held to. Test modules import from here, never
from each other."""

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from shishi.commitments import services as cs
from shishi.commitments.models import Category
from shishi.orgs import services
from shishi.orgs.models import OrgKind
from shishi.workdays.services import calendar


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
    """A commitment's fields for the services: led by a 副县长 with a budget of 6869万元, started
    400 days ago, due in ``due_in`` days; ``extra`` adds or replaces fields."""
    today = timezone.localdate()
    return {
        "title": title,
        "category": category,
        "responsible_unit": unit,
        "lead_official": "副县长",
        "start_date": today - dt.timedelta(days=400),
        "deadline": today + dt.timedelta(days=due_in),
        "budget_planned": "68690000",
        **extra,
    }


def item_2026(tree, **overrides) -> dict:
    """A commitment of the education bureau on a 2026 list (新建公办幼儿园, 1 January to 31 October,
    one target and one milestone), for the services' tests; ``overrides`` adds or replaces fields."""
    data = {
        "title": "新建公办幼儿园",
        "category": "old-young",
        "lead_official": "副县长",
        "responsible_unit": tree["dept"],
        "budget_planned": "45000000",
        "start_date": "2026-01-01",
        "deadline": "2026-10-31",
        "targets": [{"name": "新建公办幼儿园", "unit": "所", "target_value": "5"}],
        "milestones": [{"title": "开工", "planned_date": "2026-03-01"}],
    }
    data.update(overrides)
    return data


def make_programme(county, year: int, rows: list[dict], *, publish: bool = True, published_at=None):
    """A programme of ``county`` with ``rows``, made by the system and published at
    ``published_at`` (default: 30 days ago; the system may date it) unless ``publish`` is false."""
    programme = cs.create_programme(None, county=county, year=year, title=f"{year}年民生实事")
    for row in rows:
        cs.add_commitment(None, programme, row)
    if publish:
        at = published_at or timezone.now() - dt.timedelta(days=30)
        cs.publish_programme(None, programme, at=at)
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


def error_of(response, status: int) -> dict:
    """The API's error body, after checking the status and the one shape every failure has."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    return body["error"]


def english(client):
    """The test client reading pages in English (the language switcher's cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- commitments in the workspace: draft lists and the commitment form ----------------------------


def draft_item(tree, **changes) -> dict:
    """A commitment of the education bureau with one target and one milestone, for draft lists."""
    data = {
        "title": "新增高中学位",
        "category": "education",
        "responsible_unit": tree["dept"],
        "start_date": "2021-01-01",
        "deadline": "2031-12-31",
        "budget_planned": "1000000",
        "targets": [{"name": "高中学位", "unit": "个", "target_value": "535"}],
        "milestones": [{"title": "开工", "planned_date": "2021-03-01"}],
    }
    data.update(changes)
    return data


def programme_of(tree, *, n: int = 3, published: bool = False, levels: int = 1, year=2021):
    """A programme of the test county with ``n`` commitments (实事1 …), published or not, with one
    or two levels of approval for its adjustments."""
    programme = cs.create_programme(
        None,
        county=tree["county"],
        year=year,
        title=f"测试县{year}年民生实事",
        approval_levels=levels,
    )
    for i in range(n):
        cs.add_commitment(None, programme, draft_item(tree, title=f"实事{i + 1}"))
    if published:
        programme = cs.publish_programme(None, programme)
    return programme


def add_items(tree, programme, first: int, last: int) -> None:
    """More commitments on a programme, draft or published (by approved additions)."""
    for i in range(first, last):
        data = draft_item(tree, title=f"实事{i}")
        if programme.status == "draft":
            cs.add_commitment(None, programme, data)
        else:
            added = cs.propose_adjustment(
                None,
                programme,
                kind="add",
                commitments=[],
                payload={"commitment": data},
                reason="增补",
            )
            cs.decide_adjustment(None, added, approve=True)


def as_posted(form) -> dict:
    """What a browser posts for an unbound form: every field's shown value."""
    out = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            value = ""
        elif isinstance(value, list | tuple):
            value = [str(v) for v in value]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        else:
            value = str(value)
        out[form.add_prefix(name)] = value
    return out


def commitment_form(tree, prefix: str = "", **changes) -> dict:
    """A filled-in commitment form: one target and one milestone row, the rest blank."""
    education = Category.objects.get(code="education")
    data = {
        "title": "新建公办幼儿园",
        "description": "新建5所公办幼儿园",
        "category": str(education.pk),
        "lead_official": "副县长",
        "responsible_unit": str(tree["dept"].pk),
        "co_units": [str(tree["east"].pk)],
        "budget_planned": "12,000,000",
        "budget_spent": "",
        "start_date": "2021-02-01",
        "deadline": "2021-09-30",
        "target_1_name": "公办幼儿园",
        "target_1_unit": "所",
        "target_1_baseline": "0",
        "target_1_target_value": "5",
        "target_1_actual_value": "",
        "target_2_name": "",
        "target_2_target_value": "",
        "milestone_1_title": "完成选址",
        "milestone_1_planned_date": "2021-03-31",
        "milestone_2_title": "",
    }
    data.update(changes)
    return {f"{prefix}{k}": v for k, v in data.items()}


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


def count_queries(django_assert_max_num_queries, ceiling: int, fetch) -> int:
    """The queries of ``fetch()`` (a page), at most ``ceiling``; the calendar is warmed first, as
    a process keeps it between requests."""
    calendar()
    with django_assert_max_num_queries(ceiling) as ctx:
        response = fetch()
    assert response.status_code == 200
    return len(ctx.captured_queries)


def sign_in_second_factor(client, user) -> None:
    """Give the session a confirmed authenticator of ``user``'s, as a sign-in with a code does."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def totp_code(device, *, later: int = 0) -> str:
    """The code ``device``'s authenticator app shows now (``later`` time steps on), or the
    next one when the current step was used already (a code is accepted once)."""
    import time

    step_now = int((time.time() - device.t0) // device.step)
    step = max(step_now, device.last_t + 1) + later
    return f"{_totp_at(device, device.t0 + step * device.step):0{device.digits}d}"


def _totp_at(device, at: float) -> int:
    from django_otp.oath import TOTP

    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = at
    return generator.token()


# --- the audit log, tampered with ------------------------------------------------------------


def run_command(name: str, *args: str) -> tuple[int, str, str]:
    """Run a management command: (exit status, stdout, stderr)."""
    from django.core.management import call_command

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(name, *args, stdout=out, stderr=err)
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


def rehash_from(chain: int, position: int) -> None:
    """Recompute every hash of ``chain`` from ``position`` on, and move its head to the last: the
    rewrite that leaves a log reading whole (the trigger dropped first)."""
    from shishi.audit.models import Entry, Head
    from shishi.lib.hashchain import GENESIS, link

    before = Entry.objects.filter(chain=chain, chain_seq=position - 1).first()
    prev = before.hash if before else GENESIS
    for entry in Entry.objects.filter(chain=chain, chain_seq__gte=position).order_by("chain_seq"):
        digest = link(prev, entry.payload())
        Entry.objects.filter(seq=entry.seq).update(prev_hash=prev, hash=digest)
        prev = digest
    Head.objects.filter(chain=chain).update(hash=prev)


# --- other processes: shishi commands that see the test's database, keys and files ------------------


def database_url(name: str | None = None) -> str:
    """The test database (or the database ``name`` on the same server) as a DATABASE_URL.

    Only PostgreSQL's: SQLite's test database lives in this process's memory."""
    s = connection.settings_dict
    assert connection.vendor == "postgresql", "another process cannot open an in-memory database"
    auth = quote(s["USER"]) + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    host = s["HOST"] or "localhost"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(name or s['NAME'])}?conn_max_age=0"


def process_env(**overrides: str) -> dict[str, str]:
    """The environment of a ``shishi`` command run in another process: the test's keys and
    MEDIA_ROOT, and on PostgreSQL its database; ``overrides`` adds or replaces variables."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SHISHI_DRILL")}
    env.update(
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEY=settings.FIELD_ENCRYPTION_KEY,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        SHISHI_VAR_DIR=str(settings.VAR_DIR),
    )
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = database_url()
    env.update(overrides)
    return env


def shishi_command(*args: str) -> list[str]:
    """The argument list that runs ``shishi ARGS`` (the console script beside this Python)."""
    return [str(Path(sys.executable).with_name("shishi")), *args]


def run_shishi(*args: str, env: dict[str, str], timeout: int = 120):
    """Run ``shishi ARGS`` to its end in another process: the ``CompletedProcess``."""
    return subprocess.run(  # noqa: S603 - our own console script
        shishi_command(*args), env=env, capture_output=True, text=True, timeout=timeout
    )
