"""The shared scope helpers: permissions merged from every mechanism's table, ``scoped`` built from
index lookups, and ``holders`` choosing who hears of something by permission."""

import pytest

from conftest import make_user
from shishi.commitments import access as caccess
from shishi.commitments.models import Commitment
from shishi.orgs import access
from shishi.orgs.models import Org, OrgKind, RoleKind
from shishi.testing import commitment_data, make_programme

pytestmark = pytest.mark.django_db


def test_each_mechanism_adds_its_own_permissions_to_the_roles(db):
    perms = access.permissions()
    assert access.VIEW_ORGS in perms[RoleKind.UNIT_OFFICER]
    assert caccess.REPORT_PROGRESS in perms[RoleKind.UNIT_OFFICER]
    assert caccess.APPROVE_ADJUSTMENT_FINAL in perms[RoleKind.LEADER]
    assert caccess.VIEW_COMMITMENTS not in perms[RoleKind.SYSADMIN]
    assert access.kinds_with(caccess.REVIEW_PROGRESS) == [RoleKind.COUNTY_ADMIN]


def test_scoped_narrows_by_each_organisation_field_named(tree, users):
    programme = make_programme(
        tree["county"],
        2026,
        [
            commitment_data(tree["dept"], "教育局的"),
            commitment_data(tree["east"], "东镇的", co_units=[tree["west_village"]]),
            commitment_data(tree["west"], "西镇的"),
        ],
    )
    everything = Commitment.objects.filter(programme=programme)

    def titles(user, via):
        qs = access.scoped(everything, user, caccess.VIEW_COMMITMENTS, via=via)
        return sorted(qs.values_list("title", flat=True))

    unit = {"responsible_unit": None}
    assert titles(users["east_admin"], unit) == ["东镇的"]
    assert titles(users["west_admin"], unit) == ["西镇的"]
    assert titles(users["west_admin"], {**unit, "co_units": None}) == ["东镇的", "西镇的"]
    assert titles(users["county_admin"], {"county": OrgKind.COUNTY}) == [
        "东镇的",
        "教育局的",
        "西镇的",
    ]
    # A town's scope holds no county: the county arm finds nothing for it.
    assert titles(users["east_admin"], {"county": OrgKind.COUNTY}) == []
    # No permission at all: nothing, whatever the fields.
    assert titles(users["sysadmin"], {**unit, "co_units": None}) == []
    assert titles(users["nobody"], unit) == []


def test_scoped_adds_the_extra_arms_it_is_given(tree, users):
    everything = Org.objects.all()
    extra = [Org.objects.filter(pk=tree["west"].pk).values("pk")]
    qs = access.scoped(everything, users["east_admin"], access.VIEW_ORGS, via={}, extra=extra)
    assert list(qs) == [tree["west"]]
    assert not access.scoped(everything, users["nobody"], access.VIEW_ORGS, via={}).exists()


def test_holders_are_those_with_the_permission_on_the_org_or_above(tree, users):
    # The education bureau: its unit officer hears of its deadlines; the county office does not.
    assert access.holders(caccess.REMINDED, tree["dept"]) == [users["unit_officer"]]
    assert access.holders(caccess.REVIEW_PROGRESS, tree["dept"]) == [users["county_admin"]]
    assert access.holders(caccess.REVIEW_PROGRESS, tree["county"]) == [users["county_admin"]]
    # Nobody reviews the province's work.
    assert access.holders(caccess.REVIEW_PROGRESS, tree["province"]) == []
    leader = make_user(tree, "leader", RoleKind.LEADER, "county", "dept")
    assert access.holders(caccess.APPROVE_ADJUSTMENT_FINAL, tree["east_village"]) == [leader]


def test_holders_leave_out_inactive_logins_and_organisations(tree, users):
    officer = users["unit_officer"]
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert access.holders(caccess.REMINDED, tree["dept"]) == []
    officer.is_active = True
    officer.save(update_fields=["is_active"])
    Org.objects.filter(pk=tree["dept"].pk).update(is_active=False)
    assert access.holders(caccess.REMINDED, tree["dept"]) == []
