"""The organisation tree: creating, validating, editing and moving nodes (orgs.services)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shishi.audit.models import Entry
from shishi.audit.services import ConflictError
from shishi.orgs import services
from shishi.orgs.models import Org, OrgKind, OrgMove, Person

pytestmark = pytest.mark.django_db


def fresh(org: Org) -> Org:
    return Org.objects.get(pk=org.pk)


def messages_of(exc_info) -> dict:
    return exc_info.value.message_dict


@pytest.fixture
def other_county(tree):
    """A second county with one town, to move things across counties."""
    county = services.create_org(
        None, parent=tree["city"], kind=OrgKind.COUNTY, name="邻县", code="990102000000"
    )
    town = services.create_org(
        None, parent=county, kind=OrgKind.TOWN, name="邻县北镇", code="990102100000"
    )
    return county, town


# --- creating -----------------------------------------------------------------------------------


def test_each_node_gets_a_path_under_its_parent_and_a_depth(tree):
    assert tree["province"].path == "0001"
    assert (tree["city"].path, tree["city"].depth) == ("00010001", 1)
    assert (tree["county"].path, tree["county"].depth) == ("000100010001", 2)
    assert tree["east"].path == "0001000100010001"
    assert tree["west"].path == "0001000100010002"
    assert tree["dept"].path == "0001000100010003"
    assert tree["east_village"].path == tree["east"].path + "0001"
    assert tree["east_community"].path == tree["east"].path + "0002"
    assert (tree["east_branch"].depth, tree["dept_branch"].depth) == (5, 4)
    assert tree["east_branch"].is_descendant_of(tree["county"])
    assert not tree["east_branch"].is_descendant_of(tree["west"])


def test_every_node_below_a_county_belongs_to_that_county(tree):
    county = tree["county"]
    assert county.county_id == county.pk
    for key in ["east", "west", "east_village", "east_branch", "dept", "dept_branch"]:
        assert tree[key].county_id == county.pk, key
    assert tree["city"].county_id is None


def test_creating_a_node_counts_the_parents_children_and_records_it(tree):
    assert fresh(tree["east"]).children_issued == 2
    entry = Entry.objects.filter(action="orgs.org.created").latest("seq")
    assert entry.object_id == str(tree["dept_branch"].pk)
    assert entry.changes["name"] == [None, "教育局机关党支部"]
    assert entry.changes["code"] == [None, "B-D990101001-01"]
    assert entry.county_id == tree["county"].pk


def test_a_path_is_never_reused_after_a_child_moves_away(tree):
    services.move_org(None, tree["east_community"], tree["west"], reason="区划调整")
    new = services.create_org(
        None, parent=tree["east"], kind=OrgKind.VILLAGE, name="东三村", code="990101100203"
    )
    assert new.path == tree["east"].path + "0003"


@pytest.mark.parametrize(
    ("kind", "parent_key", "code"),
    [
        (OrgKind.VILLAGE, "county", "990101000201"),
        (OrgKind.TOWN, "east", "990101102000"),
        (OrgKind.DEPARTMENT, "east", "D990101009"),
        (OrgKind.BRANCH, "city", "B-X-01"),
        (OrgKind.COUNTY, "county", "990103000000"),
        (OrgKind.BRANCH, "east_branch", "B-X-02"),
    ],
)
def test_a_kind_is_refused_under_the_wrong_parent(tree, kind, parent_key, code):
    with pytest.raises(ValidationError) as exc:
        services.create_org(None, parent=tree[parent_key], kind=kind, name="错", code=code)
    assert "cannot stand under" in messages_of(exc)["parent"][0]
    assert not Org.objects.filter(code=code).exists()


def test_a_province_cannot_stand_under_anything(tree):
    with pytest.raises(ValidationError) as exc:
        services.create_org(
            None, parent=tree["city"], kind=OrgKind.PROVINCE, name="错省", code="980000000000"
        )
    assert "parent" in messages_of(exc)


def test_an_unknown_kind_is_refused(tree):
    with pytest.raises(ValidationError) as exc:
        services.create_org(None, parent=tree["east"], kind="farm", name="农场", code="F-1")
    assert "farm" in messages_of(exc)["kind"][0]


@pytest.mark.parametrize(
    "code",
    ["99010110", "9901011002011", "99010110020A", "９９０１０１１００２０９", "990101100²09"],
)
def test_a_place_needs_a_12_digit_code(tree, code):
    with pytest.raises(ValidationError) as exc:
        services.create_org(None, parent=tree["east"], kind=OrgKind.VILLAGE, name="新村", code=code)
    assert "12-digit" in messages_of(exc)["code"][0]
    assert not Org.objects.filter(name="新村").exists()


@pytest.mark.parametrize("code", ["B 01", "B/01", "支部一", "B" * 33, "B_01"])
def test_other_codes_are_ascii_letters_digits_and_hyphens(tree, code):
    with pytest.raises(ValidationError) as exc:
        services.create_org(
            None, parent=tree["east_village"], kind=OrgKind.BRANCH, name="新支部", code=code
        )
    assert "code" in messages_of(exc)
    assert not Org.objects.filter(name="新支部").exists()


def test_a_branch_code_may_have_letters_and_hyphens(tree):
    branch = services.create_org(
        None, parent=tree["east_village"], kind=OrgKind.BRANCH, name="第二党支部", code="B-x-02"
    )
    assert branch.code == "B-x-02"


def test_a_duplicate_code_is_refused(tree):
    with pytest.raises(ValidationError) as exc:
        services.create_org(
            None, parent=tree["west"], kind=OrgKind.VILLAGE, name="重码村", code="990101100201"
        )
    assert "990101100201 is already used" in messages_of(exc)["code"][0]
    assert Org.objects.filter(code="990101100201").count() == 1


def test_a_name_is_required_and_trimmed(tree):
    with pytest.raises(ValidationError) as exc:
        services.create_org(
            None, parent=tree["east"], kind=OrgKind.VILLAGE, name="  ", code="990101100209"
        )
    assert "name" in messages_of(exc)
    org = services.create_org(
        None, parent=tree["east"], kind=OrgKind.VILLAGE, name=" 东九村 ", code=" 990101100209 "
    )
    assert (org.name, org.code) == ("东九村", "990101100209")


def test_only_the_system_creates_a_top_level_organisation(users):
    with pytest.raises(PermissionDenied):
        services.create_org(
            users["sysadmin"], parent=None, kind=OrgKind.PROVINCE, name="北省", code="980000000000"
        )
    top = services.create_org(
        None, parent=None, kind=OrgKind.PROVINCE, name="北省", code="980000000000"
    )
    assert (top.path, top.depth, top.county_id) == ("0002", 0, None)


# --- editing ------------------------------------------------------------------------------------


def test_an_edit_bumps_the_version_and_records_the_change(tree):
    org = services.update_org(None, tree["east"], version=1, name="东城镇", short_name="东城")
    assert (org.name, org.short_name, org.version) == ("东城镇", "东城", 2)
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.org.changed"
    assert entry.changes == {"name": ["东镇", "东城镇"], "short_name": ["", "东城"]}


def test_an_edit_that_changes_nothing_writes_nothing(tree):
    before = Entry.objects.count()
    org = services.update_org(None, tree["east"], version=1, name="东镇")
    assert org.version == 1
    assert Entry.objects.count() == before


def test_an_edit_to_a_used_code_is_refused(tree):
    with pytest.raises(ValidationError) as exc:
        services.update_org(None, tree["east"], code=tree["west"].code)
    assert "already used" in messages_of(exc)["code"][0]
    assert fresh(tree["east"]).code == "990101100000"


def test_an_edit_cannot_move_or_change_the_kind(tree):
    with pytest.raises(ValueError, match="parent"):
        services.update_org(None, tree["east_village"], parent=tree["west"])
    with pytest.raises(ValueError, match="kind"):
        services.update_org(None, tree["east_village"], kind=OrgKind.COMMUNITY)


def test_an_edit_from_a_stale_version_is_a_conflict_naming_the_changed_fields(tree):
    services.update_org(None, tree["east"], version=1, name="东城镇")
    with pytest.raises(ConflictError) as exc:
        services.update_org(None, tree["east"], version=1, short_name="东")
    assert exc.value.changed == {"name": ["东镇", "东城镇"]}
    assert "Their changes: name." in exc.value.messages[0]
    assert fresh(tree["east"]).short_name == ""


def test_a_conflict_names_only_what_changed_since_the_editor_started_moves_included(tree):
    village = tree["east_village"]
    services.update_org(None, village, version=1, short_name="东一")  # the editor saw this (v2)
    services.move_org(None, village, tree["west"], reason="区划调整")  # v3
    services.update_org(None, village, version=3, name="西二村")  # v4
    with pytest.raises(ConflictError) as exc:
        services.update_org(None, village, version=2, code="990101100299")
    assert set(exc.value.changed) == {"parent", "name"}


def test_an_edit_outside_the_actors_scope_is_refused(users, tree):
    with pytest.raises(PermissionDenied):
        services.update_org(users["east_admin"], tree["west_village"], name="东管西")
    assert fresh(tree["west_village"]).name == "西一村"


# --- moving -------------------------------------------------------------------------------------


def test_moving_a_node_moves_its_whole_subtree(users, tree):
    village, branch = tree["east_village"], tree["east_branch"]
    old_path = village.path
    moved = services.move_org(users["county_admin"], village, tree["west"], reason="区划调整")
    assert moved.parent_id == tree["west"].pk
    assert moved.path == tree["west"].path + "0002"
    assert fresh(branch).path == moved.path + branch.path[len(old_path) :]
    assert (moved.depth, fresh(branch).depth) == (4, 5)
    assert moved.version == 2
    assert not Org.objects.filter(path__startswith=old_path).exists()
    assert fresh(tree["west"]).children_issued == 2


def test_moving_a_subtree_to_another_county_moves_its_people_too(users, tree, other_county):
    county2, north = other_county
    village, branch = tree["east_village"], tree["east_branch"]
    people = list(Person.objects.filter(org=branch).values_list("pk", flat=True))
    assert len(people) == 2  # the secretary and the cadre
    services.move_org(None, village, north, reason="跨县调整")
    assert fresh(village).county_id == county2.pk
    assert fresh(branch).county_id == county2.pk
    assert set(Person.objects.filter(pk__in=people).values_list("county_id", flat=True)) == {
        county2.pk
    }
    assert Person.objects.filter(org=tree["west_branch"]).count() == 0
    assert fresh(tree["east_community"]).county_id == tree["county"].pk


def test_moving_a_branch_changes_its_depth(tree):
    branch = services.move_org(None, tree["east_branch"], tree["east"], reason="升格")
    assert (branch.depth, branch.parent_id) == (4, tree["east"].pk)
    assert branch.path.startswith(tree["east"].path)


def test_a_move_is_kept_in_the_history_and_the_audit_log(users, tree):
    village = tree["east_village"]
    old_path = village.path
    services.move_org(users["county_admin"], village, tree["west"], reason=" 区划调整 ")
    move = OrgMove.objects.get(org=village)
    assert (move.from_parent_id, move.to_parent_id) == (tree["east"].pk, tree["west"].pk)
    assert (move.old_path, move.new_path) == (old_path, fresh(village).path)
    assert (move.reason, move.moved_by) == ("区划调整", users["county_admin"])
    entry = Entry.objects.latest("seq")
    assert entry.action == "orgs.org.moved"
    assert entry.actor == users["county_admin"]
    assert entry.changes == {"parent": [tree["east"].pk, tree["west"].pk]}
    assert entry.data == {"reason": "区划调整"}


@pytest.mark.parametrize("target", ["east_village", "east_branch", "east"])
def test_a_node_cannot_move_under_itself_or_its_descendant(tree, target):
    east = tree["east"]
    with pytest.raises(ValidationError) as exc:
        services.move_org(None, east, tree[target], reason="误操作")
    message = messages_of(exc)["parent"][0]
    assert "东镇 cannot move under itself or its own descendant" in message
    assert fresh(east).path == east.path
    assert not OrgMove.objects.exists()


def test_a_move_needs_a_reason_a_new_place_and_a_fitting_parent(tree):
    village = tree["east_village"]
    with pytest.raises(ValidationError) as exc:
        services.move_org(None, village, tree["west"], reason=" ")
    assert "reason" in messages_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.move_org(None, village, tree["east"], reason="原地")
    assert "already there" in messages_of(exc)["parent"][0]
    with pytest.raises(ValidationError) as exc:
        services.move_org(None, village, tree["county"], reason="升格")
    assert "cannot stand under" in messages_of(exc)["parent"][0]
    assert fresh(village).parent_id == tree["east"].pk
    assert not OrgMove.objects.exists()


def test_a_move_needs_management_rights_on_both_ends(users, tree):
    with pytest.raises(PermissionDenied):
        services.move_org(users["east_admin"], tree["east_village"], tree["west"], reason="越权")
    with pytest.raises(PermissionDenied):
        services.move_org(users["west_admin"], tree["east_village"], tree["west"], reason="越权")
    assert fresh(tree["east_village"]).parent_id == tree["east"].pk
