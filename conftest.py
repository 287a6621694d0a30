"""Shared fixtures: a small county with two towns, and named users with different roles.

南屿省 990000000000 (province)
└ 云港市 990100000000 (city)
  └ 测试县 990101000000 (county)
    ├ 东镇 990101100000 (town)
    │ ├ 东一村 990101100201 (village) ── 东一村党支部 B990101100201-01
    │ └ 东社区 990101100001 (community)
    ├ 西镇 990101101000 (town)
    │ └ 西一村 990101101201 (village) ── 西一村党支部 B990101101201-01
    └ 县教育局 D990101001 (department) ── 县教育局机关党支部 B-D990101001-01
"""

import os
from pathlib import Path

import pytest

from shishi.orgs import services
from shishi.orgs.models import Org, OrgKind, RoleKind
from shishi.testing import sign_in_second_factor

PASSWORD = "Correct-horse-42"

STRICT = os.environ.get("SHISHI_STRICT") == "1"


def _on_postgresql() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def pytest_collection_modifyitems(config, items):
    """The fault drills (marked ``postgresql``) run other processes on the test database, which
    SQLite keeps in this process's memory. On SQLite they are left out, said in the summary, or
    under SHISHI_STRICT=1 they fail (``needs_postgresql``): CI never passes without them.
    ``make test-sqlite`` deselects them itself and ``make test-pg`` runs them."""
    if _on_postgresql() or STRICT:
        return
    drills = [item for item in items if item.get_closest_marker("postgresql")]
    if drills:
        config.hook.pytest_deselected(items=drills)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


@pytest.fixture(autouse=True)
def needs_postgresql(request):
    if request.node.get_closest_marker("postgresql") and not _on_postgresql():
        pytest.fail(
            "This fault drill needs PostgreSQL (DATABASE_URL=postgres://…), and SHISHI_STRICT=1 requires it."
        )


@pytest.fixture(autouse=True, scope="session")
def static_root_exists():
    """WhiteNoise warns on every test client when STATIC_ROOT (collectstatic's target) is absent."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True, scope="session")
def plain_static_names():
    """Pages name static files as they are (css/shishi.css). Production's hashed names come from
    the manifest collectstatic writes, and the suite must not depend on whatever an earlier
    collectstatic left in STATIC_ROOT; shishi/tests/test_static_files.py builds a manifest of its
    own and checks the production storage."""
    from django.conf import settings
    from django.test import override_settings

    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        yield


@pytest.fixture(autouse=True, scope="session")
def audit_key_apart(tmp_path_factory):
    """The audit signing key and the checkpoint files of the suite live in a folder of its own,
    not in the var dir a demo or a developer's key sits in (one key for the session: creating
    an Ed25519 key is cheap, but a test that needs none missing says so itself)."""
    from django.test import override_settings

    folder = tmp_path_factory.mktemp("audit")
    with override_settings(
        AUDIT_SIGNING_KEY_FILE=folder / "audit_signing_key.pem",
        AUDIT_CHECKPOINT_DIR=folder / "checkpoints",
    ):
        yield


@pytest.fixture(autouse=True)
def no_page_cache(request, settings):
    """Pages are rendered on every request, so query ceilings and page tests measure the page.

    Tests of the cache itself, and the browser tests, ask for ``page_cache`` to turn it on.
    The cache and the memoised counties are emptied all the same: a rolled-back database reuses
    the ids and counts that its keys and generations are made of.
    """
    from shishi import pagecache, ratelimit

    pagecache.forget()
    # The rate limits' counters too: every test starts with none used.
    ratelimit.forget()
    settings.PAGE_CACHE = "page_cache" in request.fixturenames


@pytest.fixture(autouse=True)
def fresh_calendar():
    """Every test starts with no calendar or deadline policy in memory: each process keeps its
    copy (shishi.workdays.services), and a rolled-back database reuses its version numbers."""
    from shishi.workdays import services

    services.forget()
    yield
    services.forget()


@pytest.fixture
def page_cache(settings):
    """The public page cache on, and empty: a rolled-back database reuses the audit sequence
    numbers that its generations are made of (shishi/pagecache.py)."""
    from django.core.cache import cache

    from shishi import pagecache

    pagecache.forget()
    settings.PAGE_CACHE = True
    # Read on every request: a test sees its own change at once (the window has its own test).
    settings.PAGE_CACHE_FRESH_MS = 0
    yield cache
    pagecache.forget()


@pytest.fixture
def tree(db):
    s = services.create_org
    t = {}
    t["province"] = province = Org.objects.create(
        kind=OrgKind.PROVINCE, name="南屿省", code="990000000000", path="0001", depth=0
    )
    t["city"] = s(None, parent=province, kind=OrgKind.CITY, name="云港市", code="990100000000")
    t["county"] = s(None, parent=t["city"], kind=OrgKind.COUNTY, name="测试县", code="990101000000")
    t["east"] = s(None, parent=t["county"], kind=OrgKind.TOWN, name="东镇", code="990101100000")
    t["west"] = s(None, parent=t["county"], kind=OrgKind.TOWN, name="西镇", code="990101101000")
    t["east_village"] = s(
        None, parent=t["east"], kind=OrgKind.VILLAGE, name="东一村", code="990101100201"
    )
    t["east_community"] = s(
        None, parent=t["east"], kind=OrgKind.COMMUNITY, name="东社区", code="990101100001"
    )
    t["west_village"] = s(
        None, parent=t["west"], kind=OrgKind.VILLAGE, name="西一村", code="990101101201"
    )
    t["east_branch"] = s(
        None,
        parent=t["east_village"],
        kind=OrgKind.BRANCH,
        name="东一村党支部",
        code="B990101100201-01",
    )
    t["west_branch"] = s(
        None,
        parent=t["west_village"],
        kind=OrgKind.BRANCH,
        name="西一村党支部",
        code="B990101101201-01",
    )
    t["dept"] = s(
        None, parent=t["county"], kind=OrgKind.DEPARTMENT, name="测试县教育局", code="D990101001"
    )
    t["dept_branch"] = s(
        None, parent=t["dept"], kind=OrgKind.BRANCH, name="教育局机关党支部", code="B-D990101001-01"
    )
    return t


def make_user(tree, username, role, org_key, person_org_key=None, phone=""):
    org = tree[org_key]
    person = services.create_person(
        None,
        org=tree[person_org_key or org_key],
        name=f"测试{username}",
        phone=phone,
        is_party_member=True,
    )
    user = services.create_login(None, person, username=username, password=PASSWORD)
    if role:
        services.grant_role(None, user, org, role)
    return user


@pytest.fixture
def users(tree):
    """One login per role: the name says which, and where."""
    return {
        "county_admin": make_user(
            tree, "county_admin", RoleKind.COUNTY_ADMIN, "county", "dept", "13800000001"
        ),
        "east_admin": make_user(
            tree, "east_admin", RoleKind.TOWN_ADMIN, "east", phone="13800000002"
        ),
        "west_admin": make_user(tree, "west_admin", RoleKind.TOWN_ADMIN, "west"),
        "unit_officer": make_user(tree, "unit_officer", RoleKind.UNIT_OFFICER, "dept"),
        "secretary": make_user(tree, "secretary", RoleKind.BRANCH_SECRETARY, "east_branch"),
        "cadre": make_user(tree, "cadre", RoleKind.CADRE, "east_branch"),
        "supervisor": make_user(tree, "supervisor", RoleKind.SUPERVISOR, "county", "dept"),
        "auditor": make_user(tree, "auditor", RoleKind.AUDITOR, "county", "dept"),
        "sysadmin": make_user(tree, "sysadmin", RoleKind.SYSADMIN, "province", "dept"),
        "security_admin": make_user(
            tree, "security_admin", RoleKind.SECURITY_ADMIN, "province", "dept"
        ),
        "audit_admin": make_user(tree, "audit_admin", RoleKind.AUDIT_ADMIN, "province", "dept"),
        "nobody": make_user(tree, "nobody", None, "east_village"),
    }


@pytest.fixture
def client_for(client):
    """``client_for(user)``: a test client signed in as ``user`` — with the second factor given,
    as every signed-in administrator is (``second_factor=False``: signed in with the password
    only, stopped at the second factor's door)."""

    def login(user, second_factor: bool = True):
        client.force_login(user, backend="shishi.orgs.backends.UsernameOrPhoneBackend")
        if second_factor:
            sign_in_second_factor(client, user)
        return client

    return login


def _append_only(on: bool) -> None:
    """Put the audit log's append-only triggers (migration audit/0003) in force, or lift them."""
    import importlib

    from django.db import connection

    migration = importlib.import_module("shishi.audit.migrations._append_only")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            state = "ENABLE" if on else "DISABLE"
            cursor.execute(f"ALTER TABLE audit_entry {state} TRIGGER audit_entry_append_only")
        elif on:
            for sql in migration.SQLITE:
                cursor.execute(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
        else:
            for sql in migration.SQLITE_DROP:
                cursor.execute(sql)


@pytest.fixture
def _append_only_restored(django_db_blocker):
    """Puts the triggers back after the flush that follows a committed test: set up before
    ``transactional_db``, it is torn down after it."""
    yield
    with django_db_blocker.unblock():
        _append_only(True)


@pytest.fixture
def committed_db(_append_only_restored, transactional_db):
    """A database whose writes commit, for tests where another process (a restore, a job
    worker, an import killed half-way) or another connection (parallel requests) must see them.

    pytest-django empties every table after such a test, with the DELETE (SQLite) or TRUNCATE
    (PostgreSQL) that the audit log's triggers refuse: they are in force while the test runs,
    lifted for that flush only, and put back straight after it.
    """
    _append_only(True)
    yield
    _append_only(False)
