"""People, logins and roles: personal data protected, every change recorded (orgs.services)."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from shishi.audit.models import Entry
from shishi.audit.services import ConflictError
from shishi.orgs import services
from shishi.orgs.models import Gender, OrgKind, Person, Role, RoleKind, User

pytestmark = pytest.mark.django_db

PASSWORD = "Correct-horse-42"  # the users fixture's (conftest.py)
PHONE = "13912345678"


def raw_row(person: Person) -> tuple[str, str]:
    """The phone columns as the database holds them, past the model."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone_encrypted, phone_digest FROM orgs_person WHERE id = %s", [person.pk]
        )
        return cursor.fetchone()


def entry_text(entry: Entry) -> str:
    return json.dumps([entry.changes, entry.data, entry.object_repr], ensure_ascii=False)


@pytest.fixture
def person(tree):
    return services.create_person(
        None, org=tree["east_branch"], name="王海明", phone="+86 139-1234-5678", position="组织委员"
    )


# --- people -------------------------------------------------------------------------------------


def test_a_phone_is_stored_encrypted(person):
    encrypted, digest = raw_row(person)
    assert encrypted
    assert PHONE not in encrypted
    assert PHONE[3:7] not in digest and len(digest) == 64
    assert Person.objects.get(pk=person.pk).phone == PHONE


def test_a_phone_is_shown_masked(person):
    assert person.phone_masked == "139****5678"


def test_the_audit_log_says_a_phone_was_given_but_never_the_number(person):
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.person.created"
    assert entry.changes["phone"] == [None, "***"]
    assert entry.changes["name"] == [None, "王海明"]
    assert PHONE not in entry_text(entry)
    assert "5678" not in entry_text(entry)


def test_a_person_without_a_phone_logs_an_empty_phone(tree):
    services.create_person(None, org=tree["east_branch"], name="李芳")
    entry = Entry.objects.latest("seq")
    assert entry.changes["phone"] == [None, ""]


def test_a_person_gets_the_next_number_of_the_county(tree, person):
    second = services.create_person(None, org=tree["west_branch"], name="陈静")
    assert person.number == "P990101000001"
    assert second.number == "P990101000002"
    assert (person.county_id, second.county_id) == (tree["county"].pk, tree["county"].pk)


def test_a_given_person_number_must_be_free(tree, person):
    with pytest.raises(ValidationError) as exc:
        services.create_person(None, org=tree["east_branch"], name="重号", number=person.number)
    assert "already used" in exc.value.message_dict["number"][0]


@pytest.mark.parametrize("phone", ["1391234567", "23912345678", "139123456789", "0898-66123456"])
def test_a_phone_that_is_not_a_mobile_number_is_refused(tree, phone):
    with pytest.raises(ValidationError) as exc:
        services.create_person(None, org=tree["east_branch"], name="赵雪", phone=phone)
    assert "is not an 11-digit mobile number" in exc.value.message_dict["phone"][0]
    assert not Person.objects.filter(name="赵雪").exists()


def test_a_name_and_a_known_gender_are_required(tree):
    with pytest.raises(ValidationError) as exc:
        services.create_person(None, org=tree["east_branch"], name=" ")
    assert "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.create_person(None, org=tree["east_branch"], name="赵雪", gender="X")
    assert "gender" in exc.value.message_dict


def test_a_person_is_added_only_within_the_actors_scope(users, tree):
    with pytest.raises(PermissionDenied):
        services.create_person(users["east_admin"], org=tree["west_branch"], name="越权")
    with pytest.raises(PermissionDenied):
        services.create_person(users["secretary"], org=tree["east_branch"], name="越权")
    assert not Person.objects.filter(name="越权").exists()
    added = services.create_person(users["east_admin"], org=tree["east_branch"], name="新人")
    assert Entry.objects.latest("seq").actor == users["east_admin"]
    assert added.gender == Gender.UNKNOWN


def test_an_edit_bumps_the_version_and_logs_a_phone_change_masked(person):
    new_phone = "13700001111"
    updated = services.update_person(None, person, version=1, phone=new_phone, position="书记")
    assert updated.version == 2
    assert Person.objects.get(pk=person.pk).phone == new_phone
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.person.changed"
    assert entry.changes == {"phone": ["***", "***"], "position": ["组织委员", "书记"]}
    assert new_phone not in entry_text(entry) and PHONE not in entry_text(entry)


def test_an_edit_that_keeps_the_same_phone_changes_nothing(person):
    before = Entry.objects.count()
    updated = services.update_person(None, person, version=1, phone="139 1234 5678", name="王海明")
    assert updated.version == 1
    assert Entry.objects.count() == before


def test_an_edit_from_a_stale_version_is_a_conflict_naming_the_changed_fields(person):
    services.update_person(None, person, version=1, name="王海鸣")
    with pytest.raises(ConflictError) as exc:
        services.update_person(None, person, version=1, position="宣传委员")
    assert set(exc.value.changed) == {"name"}
    assert "name" in exc.value.messages[0]
    assert Person.objects.get(pk=person.pk).position == "组织委员"


def test_moving_a_person_to_another_county_changes_their_county(tree, person):
    county2 = services.create_org(
        None, parent=tree["city"], kind=OrgKind.COUNTY, name="邻县", code="990102000000"
    )
    moved = services.update_person(None, person, org=county2)
    assert (moved.org_id, moved.county_id) == (county2.pk, county2.pk)


def test_a_person_cannot_be_moved_out_of_the_actors_scope(users, tree, person):
    with pytest.raises(PermissionDenied):
        services.update_person(users["east_admin"], person, org=tree["west_branch"])
    assert Person.objects.get(pk=person.pk).org_id == tree["east_branch"].pk


def test_unknown_person_fields_are_refused(person):
    with pytest.raises(ValueError, match="number"):
        services.update_person(None, person, number="P1")


# --- logins -------------------------------------------------------------------------------------


def test_argon2_is_the_configured_first_password_hasher():
    from shishi import settings as shishi_settings

    assert shishi_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.real_hashers
def test_a_created_login_is_hashed_with_argon2(person):
    user = services.create_login(None, person, username="wanghm", password=PASSWORD)
    assert user.password.startswith("argon2")
    assert user.check_password(PASSWORD)


def test_tests_use_a_fast_hasher_unless_marked(person):
    user = services.create_login(None, person, username="wanghm", password=PASSWORD)
    assert user.password.startswith("md5$")


def test_a_login_is_created_on_a_person_and_recorded_without_the_password(person):
    user = services.create_login(None, person, username=" wanghm ", password=PASSWORD)
    assert user.username == "wanghm"
    assert Person.objects.get(pk=person.pk).user == user
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.login.created"
    assert entry.changes == {"username": [None, "wanghm"]}
    assert PASSWORD not in entry_text(entry)
    assert user.password[:20] not in entry_text(entry)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Sh0rt-pw", "too short"),
        ("qwertyuiop", "too common"),
        ("9081726354", "entirely numeric"),
        ("wanghaiming", "too similar"),
    ],
)
def test_a_weak_password_is_refused_with_the_reason(person, password, reason):
    with pytest.raises(ValidationError) as exc:
        services.create_login(None, person, username="wanghaiming", password=password)
    assert any(reason in m for m in exc.value.message_dict["password"])
    assert not User.objects.filter(username="wanghaiming").exists()
    assert Person.objects.get(pk=person.pk).user_id is None


def test_a_username_is_unique_whatever_its_case(users, person):
    with pytest.raises(ValidationError) as exc:
        services.create_login(None, person, username="East_Admin", password=PASSWORD)
    assert "is taken" in exc.value.message_dict["username"][0]


def test_a_person_has_at_most_one_login(users):
    person = users["cadre"].person
    with pytest.raises(ValidationError) as exc:
        services.create_login(None, person, username="cadre2", password=PASSWORD)
    assert "already has a login" in exc.value.message_dict["username"][0]


def test_only_account_managers_create_logins(users, person):
    for role in ["east_admin", "auditor", "supervisor"]:
        with pytest.raises(PermissionDenied):
            services.create_login(users[role], person, username="wanghm", password=PASSWORD)
    assert not User.objects.filter(username="wanghm").exists()
    services.create_login(users["sysadmin"], person, username="wanghm", password=PASSWORD)
    assert User.objects.filter(username="wanghm").exists()


def test_a_user_sets_their_own_password_and_an_admin_sets_others(users):
    cadre = users["cadre"]
    services.set_password(cadre, cadre, "Another-horse-43")
    cadre.refresh_from_db()
    assert cadre.check_password("Another-horse-43")
    with pytest.raises(PermissionDenied):
        services.set_password(users["east_admin"], cadre, "Third-horse-44x")
    services.set_password(users["county_admin"], cadre, "Third-horse-44x")
    cadre.refresh_from_db()
    assert cadre.check_password("Third-horse-44x")
    with pytest.raises(ValidationError):
        services.set_password(cadre, cadre, "short")
    assert Entry.objects.filter(action="orgs.login.password_set").count() == 2


# --- roles --------------------------------------------------------------------------------------


def test_a_role_is_granted_once_and_recorded(users, tree):
    cadre = users["cadre"]
    before = Entry.objects.count()
    role = services.grant_role(users["county_admin"], cadre, tree["east"], RoleKind.SUPERVISOR)
    again = services.grant_role(users["county_admin"], cadre, tree["east"], RoleKind.SUPERVISOR)
    assert role.pk == again.pk
    assert Entry.objects.count() == before + 1
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.role.granted"
    assert entry.changes["role"] == [None, "supervisor"]
    assert entry.county_id == tree["county"].pk
    assert role.granted_by == users["county_admin"]


def test_an_unknown_role_is_refused(users, tree):
    with pytest.raises(ValidationError):
        services.grant_role(None, users["cadre"], tree["east"], "king")


def test_a_role_outside_the_actors_scope_is_refused(users, tree):
    with pytest.raises(PermissionDenied):
        services.grant_role(users["county_admin"], users["cadre"], tree["city"], RoleKind.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.grant_role(users["east_admin"], users["cadre"], tree["east"], RoleKind.AUDITOR)
    assert not Role.objects.filter(user=users["cadre"], kind=RoleKind.AUDITOR).exists()


def test_a_revoked_role_is_gone_and_recorded(users):
    role = Role.objects.get(user=users["cadre"])
    services.revoke_role(users["county_admin"], role)
    assert not Role.objects.filter(pk=role.pk).exists()
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.role.revoked"
    assert entry.changes["role"] == ["cadre", None]
