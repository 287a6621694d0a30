"""Roles that cannot grant themselves power: the grant table, 三员分立, no self-grant, never above
one's own level, account management bounded by the roles an account holds, settings at the top."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.notifications.models import Notification
from shishi.orgs import access, services
from shishi.orgs.models import GrantRule, Role, RoleKind
from shishi.workdays import services as workdays

R = RoleKind


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def grant(client, person, kind, org):
    return client.post(
        reverse("orgs:person_role", args=[person.pk]),
        {"kind": kind, "org_code": org.code},
        follow=True,
    )


def kinds_of(user) -> set[tuple[str, str]]:
    return set(Role.objects.filter(user=user).values_list("kind", "org__code"))


def last_refusal():
    return Entry.objects.filter(action__endswith=".refused").latest("seq")


def test_the_shipped_table_is_the_documented_one(db):
    table = access.grant_rules()
    assert table[R.SECURITY_ADMIN] == {
        R.SYSADMIN,
        R.SECURITY_ADMIN,
        R.AUDIT_ADMIN,
        R.COUNTY_ADMIN,
        R.AUDITOR,
    }
    assert table[R.COUNTY_ADMIN] == {
        R.LEADER,
        R.TOWN_ADMIN,
        R.UNIT_OFFICER,
        R.BRANCH_SECRETARY,
        R.CADRE,
        R.SUPERVISOR,
    }
    assert table[R.TOWN_ADMIN] == {R.UNIT_OFFICER, R.BRANCH_SECRETARY, R.CADRE}
    assert set(table) == {R.SECURITY_ADMIN, R.COUNTY_ADMIN, R.TOWN_ADMIN}


@pytest.mark.parametrize(
    ("who", "kind", "where"),
    [
        ("sysadmin", R.COUNTY_ADMIN, "county"),  # the review's first escalation
        ("county_admin", R.SYSADMIN, "province"),  # and its second
        ("county_admin", R.CADRE, "east_branch"),  # even a role they may grant to others
        ("security_admin", R.AUDITOR, "county"),
    ],
)
def test_nobody_grants_a_role_to_their_own_login(users, tree, client_for, who, kind, where):
    user = users[who]
    before = kinds_of(user)
    response = grant(client_for(user), user.person, kind, tree[where])
    assert response.status_code == 200
    assert kinds_of(user) == before
    with pytest.raises(PermissionDenied) as refused:
        services.grant_role(user, user, tree[where], kind)
    assert str(refused.value) == "Nobody grants or revokes a role on their own login."
    assert kinds_of(user) == before
    refusal = last_refusal()
    assert (refusal.actor, refusal.data["role"]) == (user, kind)


def test_the_page_says_why_a_grant_to_oneself_is_refused(users, tree, client_for):
    user = users["county_admin"]
    response = grant(client_for(user), user.person, R.CADRE, tree["east_branch"])
    assert "Nobody grants or revokes a role on their own login." in response.text


@pytest.mark.parametrize(
    ("who", "kind", "where"),
    [
        ("sysadmin", R.COUNTY_ADMIN, "county"),  # the system administrator grants nothing
        ("county_admin", R.SYSADMIN, "county"),  # account roles are the security admin's
        ("county_admin", R.COUNTY_ADMIN, "county"),  # no peer of one's own kind
        ("county_admin", R.TOWN_ADMIN, "city"),  # never above one's own level
        ("east_admin", R.CADRE, "west_branch"),  # never outside one's subtree
        ("east_admin", R.TOWN_ADMIN, "east"),  # never one's own kind
        ("audit_admin", R.AUDITOR, "county"),
        ("cadre", R.CADRE, "east_branch"),
    ],
)
def test_a_grant_the_table_does_not_allow_is_refused_and_audited(users, tree, who, kind, where):
    target = users["nobody"]
    with pytest.raises(PermissionDenied) as refused:
        services.grant_role(users[who], target, tree[where], kind)
    assert "may not grant" in str(refused.value) or "may not" in str(refused.value)
    assert kinds_of(target) == set()
    assert last_refusal().data == {
        "login": target.pk,
        "role": kind,
        "org": tree[where].pk,
        "action": "grant",
    }


def test_a_grant_the_table_allows_is_made_audited_and_notified(users, tree):
    target = users["nobody"]
    role = services.grant_role(users["east_admin"], target, tree["east_branch"], R.CADRE)
    assert role.granted_by == users["east_admin"]
    entry = Entry.objects.filter(action="orgs.role.granted").latest("seq")
    assert entry.actor == users["east_admin"]
    assert entry.changes["role"] == [None, R.CADRE]
    note = Notification.objects.get(user=target, kind="orgs.role_granted")
    assert note.params == {"role": R.CADRE, "org": "东一村党支部", "by": "测试east_admin"}


def test_the_security_administrator_grants_the_first_county_administrator(users, tree):
    services.grant_role(users["security_admin"], users["nobody"], tree["county"], R.COUNTY_ADMIN)
    assert kinds_of(users["nobody"]) == {(R.COUNTY_ADMIN, tree["county"].code)}


def test_a_revocation_follows_the_table_and_the_login_hears_of_it(users, tree):
    cadre_role = Role.objects.get(user=users["cadre"])
    with pytest.raises(PermissionDenied):
        services.revoke_role(users["west_admin"], cadre_role)
    with pytest.raises(PermissionDenied):
        services.revoke_role(users["cadre"], cadre_role)
    assert Role.objects.filter(pk=cadre_role.pk).exists()
    services.revoke_role(users["east_admin"], cadre_role)
    assert not Role.objects.filter(pk=cadre_role.pk).exists()
    note = Notification.objects.get(user=users["cadre"], kind="orgs.role_revoked")
    assert note.params["by"] == "测试east_admin"


def test_a_county_administrator_cannot_take_the_system_administrator_role_away(users):
    with pytest.raises(PermissionDenied):
        services.revoke_role(users["county_admin"], Role.objects.get(user=users["sysadmin"]))


@pytest.mark.parametrize(
    ("holder", "kind", "where"),
    [
        ("sysadmin", R.AUDIT_ADMIN, "province"),  # two of the three
        ("sysadmin", R.SECURITY_ADMIN, "province"),
        ("audit_admin", R.AUDITOR, "county"),  # one of the three and a programme role
        ("county_admin", R.SYSADMIN, "province"),  # a programme role and one of the three
        ("cadre", R.AUDIT_ADMIN, "province"),
    ],
)
def test_one_login_never_holds_two_of_the_three_nor_one_with_a_programme_role(
    users, tree, holder, kind, where
):
    user = users[holder]
    before = kinds_of(user)
    with pytest.raises(ValidationError) as refused:
        services.grant_role(users["security_admin"], user, tree[where], kind)
    assert "hold that role alone" in " ".join(refused.value.messages)
    assert kinds_of(user) == before


def test_the_three_administrators_hold_no_programme_permission(db):
    table = access.permissions()
    for kind in (R.SYSADMIN, R.SECURITY_ADMIN, R.AUDIT_ADMIN):
        assert not {p for p in table[kind] if p.startswith(("commitments.", "adjustments."))}
    assert access.VIEW_AUDIT not in table[R.SYSADMIN]
    assert access.VIEW_AUDIT in table[R.AUDIT_ADMIN]
    assert access.MANAGE_ACCOUNTS not in table[R.SECURITY_ADMIN]


def test_the_system_administrator_cannot_reset_the_security_administrators_password(users):
    with pytest.raises(PermissionDenied):
        services.set_password(users["sysadmin"], users["security_admin"], "Another-horse-42")
    users["security_admin"].refresh_from_db()
    assert not users["security_admin"].check_password("Another-horse-42")
    assert last_refusal().data == {"login": users["security_admin"].pk, "what": "password"}


def test_a_county_administrator_cannot_reset_the_password_of_a_province_role(users, tree):
    # A person on the county's roster who holds a role above the county.
    target = users["unit_officer"]
    services.grant_role(users["security_admin"], target, tree["city"], R.AUDITOR)
    with pytest.raises(PermissionDenied):
        services.set_password(users["county_admin"], target, "Another-horse-42")


def test_an_account_manager_resets_the_password_of_a_role_within_their_scope(users):
    services.set_password(users["county_admin"], users["cadre"], "Another-horse-42")
    users["cadre"].refresh_from_db()
    assert users["cadre"].check_password("Another-horse-42")
    services.set_password(users["sysadmin"], users["cadre"], "Third-horse-4242")


def test_nobody_resets_their_own_password_as_an_account_manager(users):
    # Their own page (actor == user) is the way; the manager's path is for others.
    services.set_password(users["county_admin"], users["county_admin"], "Another-horse-42")
    users["county_admin"].refresh_from_db()
    assert users["county_admin"].check_password("Another-horse-42")


def test_the_calendar_is_changed_only_at_the_top_of_the_tree(users, tree):
    monday = dt.date(2031, 6, 2)
    county_sysadmin = users["nobody"]
    services.grant_role(users["security_admin"], county_sysadmin, tree["county"], R.SYSADMIN)
    with pytest.raises(PermissionDenied):
        workdays.set_day(county_sysadmin, monday, is_workday=False)
    with pytest.raises(PermissionDenied):
        workdays.set_policy(county_sysadmin, "commitment", counting="workdays", due_soon=3)
    assert workdays.set_day(users["sysadmin"], monday, is_workday=False) is not None


# --- the grant table's page ----------------------------------------------------------------------


def test_every_role_with_a_view_of_the_tree_reads_the_table(users, client_for):
    response = client_for(users["cadre"]).get(reverse("orgs:grant_rules"))
    assert response.status_code == 200
    assert not response.context["can_edit"]
    assert 'name="rule"' not in response.text
    assert "unit officer, branch secretary, cadre" in response.text


def test_the_security_administrator_changes_the_table(users, client_for):
    rules = {f"{a}:{b}" for a, b in GrantRule.objects.values_list("grantor", "grantee")}
    rules.add(f"{R.COUNTY_ADMIN}:{R.AUDITOR}")
    rules.discard(f"{R.TOWN_ADMIN}:{R.UNIT_OFFICER}")
    client = client_for(users["security_admin"])
    assert client.get(reverse("orgs:grant_rules")).context["can_edit"]
    client.post(reverse("orgs:grant_rules"), {"rule": sorted(rules)})
    table = access.grant_rules()
    assert R.AUDITOR in table[R.COUNTY_ADMIN]
    assert R.UNIT_OFFICER not in table[R.TOWN_ADMIN]
    changes = Entry.objects.filter(action="orgs.grant_rule.changed").order_by("seq")
    assert [(e.actor, e.data["grantee"], e.data["allowed"]) for e in changes] == [
        (users["security_admin"], R.AUDITOR, True),
        (users["security_admin"], R.UNIT_OFFICER, False),
    ]


@pytest.mark.parametrize("who", ["county_admin", "sysadmin", "audit_admin"])
def test_no_other_role_changes_the_table(users, client_for, who):
    count = GrantRule.objects.count()
    response = client_for(users[who]).post(
        reverse("orgs:grant_rules"), {"rule": [f"{R.CADRE}:{R.SYSADMIN}"]}
    )
    assert response.status_code == 403
    assert GrantRule.objects.count() == count


def test_a_security_administrator_below_the_top_does_not_change_the_table(users, tree):
    county_security = users["nobody"]
    services.grant_role(users["security_admin"], county_security, tree["county"], R.SECURITY_ADMIN)
    with pytest.raises(PermissionDenied):
        services.set_grant_rule(county_security, R.CADRE, R.LEADER, allowed=True)
    assert last_refusal().action == "orgs.grant_rule.refused"


@pytest.mark.parametrize(
    ("grantor", "grantee"),
    [(R.COUNTY_ADMIN, R.SYSADMIN), (R.SYSADMIN, R.CADRE), (R.AUDIT_ADMIN, R.AUDITOR)],
)
def test_the_table_never_lets_power_escape_the_three(users, grantor, grantee):
    with pytest.raises(ValidationError):
        services.set_grant_rule(users["security_admin"], grantor, grantee, allowed=True)
    assert grantee not in access.grant_rules().get(grantor, ())


def test_the_person_page_offers_only_the_roles_the_table_allows(users, client_for):
    person = users["nobody"].person
    url = reverse("orgs:person", args=[person.pk])
    town = client_for(users["east_admin"]).get(url)
    choices = [k for k, _label in town.context["role_form"].fields["kind"].choices]
    assert choices == [R.UNIT_OFFICER, R.BRANCH_SECRETARY, R.CADRE]
    supervisor = client_for(users["supervisor"]).get(url)
    assert supervisor.context["role_form"] is None
    assert reverse("orgs:person_role", args=[person.pk]) not in supervisor.text


def test_ones_own_person_page_offers_no_grant_and_no_revocation(users, client_for):
    user = users["county_admin"]
    response = client_for(user).get(reverse("orgs:person", args=[user.person.pk]))
    assert response.context["role_form"] is None
    assert not any(r.revocable for r in response.context["roles"])
    assert reverse("orgs:person_role", args=[user.person.pk]) not in response.text
