"""The demo county and generated counties: the interview's shape, deterministic, safe to re-run."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory

from shishi.audit.models import Checkpoint, Entry, Head
from shishi.orgs import services
from shishi.orgs.demo import DEMO_PASSWORD, MAX_COUNTIES, county_code
from shishi.orgs.models import Org, OrgKind, Person, Role, User
from shishi.testing import run_command

pytestmark = pytest.mark.django_db

DEMO_ROLES = {
    "county_admin": ("county_admin", OrgKind.COUNTY),
    "town_admin": ("town_admin", OrgKind.TOWN),
    "unit_officer": ("unit_officer", OrgKind.DEPARTMENT),
    "branch_secretary": ("branch_secretary", OrgKind.BRANCH),
    "cadre": ("cadre", OrgKind.BRANCH),
    "supervisor": ("supervisor", OrgKind.COUNTY),
    "auditor": ("auditor", OrgKind.COUNTY),
    "sysadmin": ("sysadmin", OrgKind.PROVINCE),
    "security_admin": ("security_admin", OrgKind.PROVINCE),
    "audit_admin": ("audit_admin", OrgKind.PROVINCE),
}


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def shape(county: Org) -> dict:
    orgs = Org.objects.filter(county=county)
    return {
        "towns": orgs.filter(kind=OrgKind.TOWN).count(),
        "villages": orgs.filter(kind__in=[OrgKind.VILLAGE, OrgKind.COMMUNITY]).count(),
        "branches": orgs.filter(kind=OrgKind.BRANCH).count(),
        "departments": orgs.filter(kind=OrgKind.DEPARTMENT).count(),
        "people": Person.objects.filter(county=county).count(),
    }


def digest() -> str:
    """Everything that must come out the same from the same seed."""
    h = hashlib.sha256()
    for row in Org.objects.order_by("code").values_list("code", "name", "kind", "path", "depth"):
        h.update(repr(row).encode())
    for row in Person.objects.order_by("number").values_list(
        "number", "name", "gender", "position", "org__code", "phone_digest"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture
def demo(db):
    output = run("demo")
    return Org.objects.get(kind=OrgKind.COUNTY), output


def test_the_demo_county_has_the_interviews_shape(demo):
    county, _output = demo
    assert county.name == "青禾县"
    assert shape(county) == {
        "towns": 10,
        "villages": 126,
        "branches": 380,
        "departments": 40,
        "people": 2100,
    }


def test_the_demo_tree_is_consistent(demo):
    county, _output = demo
    for org in Org.objects.select_related("parent"):
        assert org.depth == len(org.path) // 4 - 1, org.code
        if org.parent:
            assert org.path[:-4] == org.parent.path, org.code
            assert org.parent.children_issued >= int(org.path[-4:], 36), org.code
    assert not Org.objects.filter(path__startswith=county.path).exclude(county=county).exists()
    assert not Person.objects.exclude(county=county).exists()


def test_the_demo_phones_are_encrypted_and_numbers_unique(demo):
    person = Person.objects.order_by("number").first()
    assert person.phone.startswith("199") and len(person.phone) == 11
    assert person.phone not in person.phone_encrypted
    assert Person.objects.values("number").distinct().count() == 2100


def test_the_demo_has_one_login_per_role(demo):
    county, output = demo
    roles = {
        r.user.username: (r.kind, r.org.kind) for r in Role.objects.select_related("user", "org")
    }
    assert roles == DEMO_ROLES
    assert User.objects.count() == len(DEMO_ROLES)
    assert all(u.person.org.path.startswith(county.parent.parent.path) for u in User.objects.all())
    assert DEMO_PASSWORD in output
    for username in DEMO_ROLES:
        assert username in output


def test_the_demo_logins_sign_in_with_the_demo_password(demo):
    request = RequestFactory().post("/login/")
    user = authenticate(request, username="town_admin", password=DEMO_PASSWORD)
    assert user is not None and user.username == "town_admin"


def test_running_the_demo_twice_changes_nothing(demo):
    county, _output = demo
    before = (shape(county), digest(), Entry.objects.count(), tuple(Head.objects.values()))
    output = run("demo")
    assert "already there" in output
    after = (shape(county), digest(), Entry.objects.count(), tuple(Head.objects.values()))
    assert after == before
    assert Checkpoint.objects.count() == 1  # the heads did not move: the same checkpoint
    assert User.objects.count() == Role.objects.count() == len(DEMO_ROLES)


def test_the_demo_is_written_to_the_audit_log_and_signed(demo):
    county, output = demo
    # Signed once built (one demo run is about 20 seconds: checked here, not in a test of its own).
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.entries == Entry.objects.count()
    assert f"Audit log signed: checkpoint #1, {checkpoint.entries} entries" in output
    status, out, err = run_command("verify_audit")
    assert status == 0, err
    assert "extends checkpoint #1" in out
    generated = Entry.objects.get(action="orgs.county.generated")
    assert generated.object_id == str(county.pk)
    assert generated.data["branches"] == 380
    assert Entry.objects.filter(action="orgs.login.created").count() == len(DEMO_ROLES)
    assert Entry.objects.filter(action="orgs.role.granted").count() == len(DEMO_ROLES)
    assert run("verify_audit").startswith("audit chain whole")


def test_the_demo_tree_takes_new_organisations_and_moves(demo):
    """The builder keeps each parent's counter of issued children, so services can carry on."""
    county, _output = demo
    town = Org.objects.filter(parent=county, kind=OrgKind.TOWN).order_by("path").first()
    village = services.create_org(
        None, parent=town, kind=OrgKind.VILLAGE, name="新村", code=town.code[:9] + "299"
    )
    assert village.path.startswith(town.path) and village.county_id == county.pk
    other = Org.objects.filter(parent=county, kind=OrgKind.TOWN).order_by("path")[1]
    moved = services.move_org(None, village, other, reason="演示")
    assert moved.path.startswith(other.path)


def test_generated_counties_are_the_same_for_the_same_seed(db):
    with transaction.atomic():
        run("generate", counties=2)
        first = digest()
        transaction.set_rollback(True)
    assert not Org.objects.exists()
    run("generate", counties=2)
    assert digest() == first


def test_another_seed_gives_other_names_under_the_same_codes(db):
    with transaction.atomic():
        run("generate", counties=1, seed=7)
        seven = dict(Org.objects.values_list("code", "name"))
        transaction.set_rollback(True)
    run("generate", counties=1)
    default = dict(Org.objects.values_list("code", "name"))
    assert seven.keys() == default.keys()
    assert seven != default


def test_the_second_generated_county_has_the_same_shape(db):
    output = run("generate", counties=2)
    assert "2 counties built, 0 already there" in output
    first, second = Org.objects.filter(kind=OrgKind.COUNTY).order_by("code")
    assert second.code == "990102000000"
    assert second.parent_id == first.parent_id
    assert shape(second) == shape(first)
    assert shape(second)["branches"] == 380
    assert not set(Person.objects.filter(county=first).values_list("number", flat=True)) & set(
        Person.objects.filter(county=second).values_list("number", flat=True)
    )


def test_generating_again_keeps_existing_counties(db):
    run("generate", counties=1)
    before = digest()
    output = run("generate", counties=1)
    assert "0 counties built, 1 already there" in output
    assert digest() == before


@pytest.mark.parametrize("counties", [0, 8911])
def test_generate_refuses_a_number_of_counties_out_of_range(db, counties):
    with pytest.raises(CommandError, match="between 1 and 8910"):
        run("generate", counties=counties)


def test_counties_past_990_go_on_in_a_further_province():
    assert county_code(0) == "990101000000"
    assert county_code(989) == "999910000000"
    assert county_code(990) == "980101000000"
    assert len({county_code(i) for i in range(MAX_COUNTIES)}) == MAX_COUNTIES
    assert all(len(county_code(i)) == 12 for i in (0, 989, 990, MAX_COUNTIES - 1))
