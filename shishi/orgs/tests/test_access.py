"""Scope: each role sees and changes its own subtree only; everything else answers 404 and is
written to the audit log (orgs.access)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.orgs import access, services
from shishi.orgs.models import Org, OrgKind, Person, Role, RoleKind, User

pytestmark = pytest.mark.django_db

COUNTY = {
    "county",
    "east",
    "west",
    "east_village",
    "east_community",
    "west_village",
    "east_branch",
    "west_branch",
    "dept",
    "dept_branch",
}
EAST = {"east", "east_village", "east_community", "east_branch"}
DEPT_PEOPLE = {
    "county_admin",
    "unit_officer",
    "supervisor",
    "auditor",
    "sysadmin",
    "security_admin",
    "audit_admin",
}
EVERYONE = DEPT_PEOPLE | {"east_admin", "west_admin", "secretary", "cadre", "nobody"}

VISIBLE_ORGS = {
    "county_admin": COUNTY,
    "east_admin": EAST,
    "west_admin": {"west", "west_village", "west_branch"},
    "unit_officer": {"dept", "dept_branch"},
    "secretary": {"east_branch"},
    "cadre": {"east_branch"},
    "supervisor": COUNTY,
    "auditor": COUNTY,
    "sysadmin": COUNTY | {"province", "city"},
    "security_admin": COUNTY | {"province", "city"},
    "audit_admin": COUNTY | {"province", "city"},
    "nobody": set(),
}
VISIBLE_PEOPLE = {
    "county_admin": EVERYONE,
    "east_admin": {"east_admin", "secretary", "cadre", "nobody"},
    "west_admin": {"west_admin"},
    "unit_officer": DEPT_PEOPLE,
    "secretary": {"secretary", "cadre"},
    "cadre": set(),
    "supervisor": EVERYONE,
    "auditor": EVERYONE,
    "sysadmin": EVERYONE,
    "security_admin": EVERYONE,
    # The audit administrator reads the log, not the rosters.
    "audit_admin": set(),
    "nobody": set(),
}


def keys_of(tree, orgs) -> set[str]:
    by_pk = {org.pk: key for key, org in tree.items()}
    return {by_pk[org.pk] for org in orgs}


def denied_entries():
    return Entry.objects.filter(action="access.denied")


def state() -> tuple:
    """Everything a wrong-role POST could change, apart from the access.denied entries."""
    return (
        list(Org.objects.order_by("pk").values_list("pk", "name", "code", "path", "version")),
        list(Person.objects.order_by("pk").values_list("pk", "name", "org", "version", "user")),
        list(User.objects.order_by("pk").values_list("pk", "username", "password")),
        list(Role.objects.order_by("pk").values_list("pk", "user", "org", "kind")),
        list(
            Entry.objects.exclude(action="access.denied")
            .exclude(action__endswith=".refused")
            .values_list("seq", flat=True)
        ),
    )


# --- what each role sees ------------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(VISIBLE_ORGS))
def test_each_role_sees_its_own_subtree_of_organisations(users, tree, role):
    assert keys_of(tree, access.orgs_for(users[role])) == VISIBLE_ORGS[role]


@pytest.mark.parametrize("role", sorted(VISIBLE_PEOPLE))
def test_each_role_sees_the_people_of_its_subtree(users, role):
    people = access.people_for(users[role]).select_related("user")
    assert {p.user.username for p in people if p.user} == VISIBLE_PEOPLE[role]


def test_the_east_town_admin_never_sees_the_west_town(users, tree):
    east_admin = users["east_admin"]
    for key in ["west", "west_village", "west_branch"]:
        assert not access.orgs_for(east_admin).filter(pk=tree[key].pk).exists()
        assert not access.has_perm_on(east_admin, access.VIEW_ORGS, tree[key])
    assert not access.people_for(east_admin).filter(org=tree["west"]).exists()


def test_scope_paths_drop_roles_covered_by_a_wider_one(users, tree):
    admin = users["east_admin"]
    services.grant_role(None, admin, tree["east_village"], RoleKind.TOWN_ADMIN)
    services.grant_role(None, admin, tree["west_village"], RoleKind.TOWN_ADMIN)
    admin = User.objects.get(pk=admin.pk)  # roles are cached per request (per user object)
    assert access.scope_paths(admin, access.MANAGE_ORGS) == [
        tree["east"].path,
        tree["west_village"].path,
    ]


def test_a_role_on_an_inactive_organisation_gives_nothing(users, tree):
    services.update_org(None, tree["east"], is_active=False)
    admin = User.objects.get(pk=users["east_admin"].pk)
    assert not access.orgs_for(admin).exists()


# --- what each role may change ------------------------------------------------------------------


def test_the_auditor_sees_the_whole_county_but_changes_nothing(users, tree):
    auditor = users["auditor"]
    person = users["cadre"].person
    attempts = [
        lambda: services.update_org(auditor, tree["east"], name="改"),
        lambda: services.create_org(
            auditor, parent=tree["east"], kind=OrgKind.VILLAGE, name="新", code="990101100299"
        ),
        lambda: services.move_org(auditor, tree["east_village"], tree["west"], reason="试"),
        lambda: services.create_person(auditor, org=tree["east_branch"], name="新人"),
        lambda: services.update_person(auditor, person, name="改名"),
        lambda: services.grant_role(auditor, users["cadre"], tree["east"], RoleKind.AUDITOR),
        lambda: services.set_password(auditor, users["cadre"], "Another-horse-43"),
    ]
    before = state()
    for attempt in attempts:
        with pytest.raises(PermissionDenied):
            attempt()
    assert state() == before


def test_the_sysadmin_manages_accounts_but_not_organisations_or_people(users, tree):
    sysadmin = users["sysadmin"]
    with pytest.raises(PermissionDenied):
        services.update_org(sysadmin, tree["east"], name="改")
    with pytest.raises(PermissionDenied):
        services.create_org(
            sysadmin, parent=tree["east"], kind=OrgKind.VILLAGE, name="新", code="990101100299"
        )
    with pytest.raises(PermissionDenied):
        services.create_person(sysadmin, org=tree["east_branch"], name="新人")
    person = services.create_person(None, org=tree["east_branch"], name="新人")
    user = services.create_login(sysadmin, person, username="xinren", password="Correct-horse-42")
    assert user.person == person
    # Roles are the security administrator's and the organisations' administrators' (三员).
    with pytest.raises(PermissionDenied):
        services.grant_role(sysadmin, user, tree["east_branch"], RoleKind.CADRE)
    assert not Role.objects.filter(user=user).exists()


def test_a_town_admin_manages_its_town_only(users, tree):
    admin = users["east_admin"]
    services.update_org(admin, tree["east_village"], name="东一新村")
    services.create_person(admin, org=tree["east_village"], name="村民")
    with pytest.raises(PermissionDenied):
        services.update_org(admin, tree["west_village"], name="西一新村")
    with pytest.raises(PermissionDenied):
        services.create_person(admin, org=tree["west_village"], name="村民")
    with pytest.raises(PermissionDenied):
        services.create_login(admin, users["nobody"].person, username="x", password="y")


# --- views outside the user's scope ---------------------------------------------------------------

ORG_VIEWS = ["orgs:detail", "orgs:edit", "orgs:new", "orgs:move", "orgs:person_new"]
PERSON_VIEWS = ["orgs:person", "orgs:person_edit"]


@pytest.mark.parametrize("view", ORG_VIEWS)
@pytest.mark.parametrize("target", ["west", "west_branch", "county", "province"])
def test_an_org_view_outside_the_scope_answers_404_and_is_logged(
    users, tree, client_for, view, target
):
    org = tree[target]
    url = reverse(view, args=[org.pk])
    response = client_for(users["east_admin"]).get(url)
    assert response.status_code == 404
    assert tree[target].name not in response.text
    entry = denied_entries().latest("seq")
    assert entry.actor == users["east_admin"]
    assert entry.data == {"object": "orgs.org", "id": str(org.pk), "path": url}


@pytest.mark.parametrize("view", PERSON_VIEWS)
def test_a_person_view_outside_the_scope_answers_404_and_is_logged(users, client_for, view):
    person = users["west_admin"].person
    url = reverse(view, args=[person.pk])
    response = client_for(users["east_admin"]).get(url)
    assert response.status_code == 404
    assert person.name not in response.text
    entry = denied_entries().latest("seq")
    assert entry.data == {"object": "orgs.person", "id": str(person.pk), "path": url}


def test_a_missing_object_answers_404_like_a_hidden_one(users, client_for):
    response = client_for(users["county_admin"]).get(reverse("orgs:detail", args=[999999]))
    assert response.status_code == 404
    assert denied_entries().latest("seq").data["id"] == "999999"


@pytest.mark.parametrize(
    ("role", "view", "target"),
    [
        ("cadre", "orgs:edit", "east_branch"),
        ("cadre", "orgs:person_new", "east_branch"),
        ("secretary", "orgs:edit", "east_branch"),
        ("unit_officer", "orgs:new", "dept"),
        ("supervisor", "orgs:move", "east_village"),
        ("auditor", "orgs:edit", "county"),
        ("sysadmin", "orgs:new", "county"),
        ("sysadmin", "orgs:person_new", "county"),
        ("nobody", "orgs:detail", "east_village"),
    ],
)
def test_a_view_the_role_does_not_allow_answers_404(users, tree, client_for, role, view, target):
    response = client_for(users[role]).get(reverse(view, args=[tree[target].pk]))
    assert response.status_code == 404
    assert denied_entries().latest("seq").actor == users[role]


def test_a_cadre_cannot_open_a_person_page(users, client_for):
    person = users["secretary"].person
    response = client_for(users["cadre"]).get(reverse("orgs:person", args=[person.pk]))
    assert response.status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client, tree):
    response = client.get(reverse("orgs:detail", args=[tree["east"].pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not denied_entries().exists()


# --- wrong-role POSTs change nothing ------------------------------------------------------------

ORG_POST = {"name": "改名", "short_name": "", "code": "990101100299", "version": 1}


@pytest.mark.parametrize(
    ("role", "view", "target", "data"),
    [
        ("cadre", "orgs:edit", "east_branch", {**ORG_POST, "code": "B-X-01"}),
        ("auditor", "orgs:edit", "county", {**ORG_POST, "code": "990101000000"}),
        ("west_admin", "orgs:edit", "east_village", ORG_POST),
        ("sysadmin", "orgs:new", "east", {**ORG_POST, "kind": OrgKind.VILLAGE}),
        ("unit_officer", "orgs:new", "dept", {**ORG_POST, "kind": OrgKind.BRANCH}),
        ("supervisor", "orgs:move", "east_village", {"new_parent_code": "990101101000"}),
        ("west_admin", "orgs:move", "east_village", {"new_parent_code": "990101101000"}),
        ("unit_officer", "orgs:person_new", "dept", {"name": "新人", "gender": "U"}),
        ("secretary", "orgs:person_new", "east_branch", {"name": "新人", "gender": "U"}),
    ],
)
def test_a_wrong_role_post_to_an_org_view_changes_nothing(
    users, tree, client_for, role, view, target, data
):
    before = state()
    response = client_for(users[role]).post(
        reverse(view, args=[tree[target].pk]), {**data, "reason": "试"}
    )
    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize("role", ["secretary", "auditor", "west_admin", "sysadmin", "cadre"])
def test_a_wrong_role_post_to_a_person_edit_changes_nothing(users, client_for, role):
    person = users["cadre"].person
    before = state()
    response = client_for(users[role]).post(
        reverse("orgs:person_edit", args=[person.pk]),
        {"name": "改名", "gender": "M", "phone": "", "version": person.version},
    )
    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize("role", ["east_admin", "supervisor", "auditor"])
def test_only_account_managers_create_logins_through_the_page(users, tree, client_for, role):
    person = services.create_person(None, org=tree["east_branch"], name="新人")
    before = state()
    response = client_for(users[role]).post(
        reverse("orgs:person_login", args=[person.pk]),
        {"username": "xinren", "password": "Correct-horse-42"},
    )
    assert response.status_code == 302
    assert state() == before


@pytest.mark.parametrize("role", ["east_admin", "supervisor", "auditor"])
def test_only_account_managers_grant_roles_through_the_page(users, client_for, role):
    person = users["cadre"].person
    before = state()
    response = client_for(users[role]).post(
        reverse("orgs:person_role", args=[person.pk]),
        {"kind": RoleKind.COUNTY_ADMIN, "org_code": "990101000000"},
    )
    assert response.status_code == 302
    assert state() == before


@pytest.mark.parametrize("role", ["auditor", "supervisor", "sysadmin"])
def test_a_role_the_table_does_not_let_one_grant_is_not_revoked(users, client_for, role):
    role_obj = Role.objects.get(user=users["cadre"])
    before = state()
    response = client_for(users[role]).post(reverse("orgs:role_revoke", args=[role_obj.pk]))
    assert response.status_code == 302
    assert state() == before
    refusal = Entry.objects.filter(action="orgs.role.refused").latest("seq")
    assert refusal.data["action"] == "revoke"


@pytest.mark.parametrize("role", ["west_admin", "cadre"])
def test_a_role_outside_ones_scope_is_not_found(users, client_for, role):
    role_obj = Role.objects.get(user=users["east_admin"])
    before = state()
    response = client_for(users[role]).post(reverse("orgs:role_revoke", args=[role_obj.pk]))
    assert response.status_code == 404
    assert state() == before
    assert denied_entries().latest("seq").data["object"] == "orgs.role"


def test_post_only_views_refuse_a_get(users, client_for):
    person = users["cadre"].person
    client = client_for(users["county_admin"])
    for view in ["orgs:person_login", "orgs:person_role"]:
        assert client.get(reverse(view, args=[person.pk])).status_code == 405
    role = Role.objects.get(user=users["cadre"])
    assert client.get(reverse("orgs:role_revoke", args=[role.pk])).status_code == 405
