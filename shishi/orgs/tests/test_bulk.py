"""The bulk services behind the organisation ledger: create_orgs, create_people, update_people.

Each must do what its one-at-a-time twin does — checks, paths, numbers, audit entries — and
refuse a bad row by its index, writing nothing.
"""

import pytest
from django.core.exceptions import ValidationError

from shishi.audit.models import Entry
from shishi.audit.verify import verify_chain
from shishi.orgs import services
from shishi.orgs.models import Gender, Org, OrgKind, Person


def village(code: str, parent, name: str = "新村") -> dict:
    return {"parent": parent, "kind": OrgKind.VILLAGE, "name": name, "code": code}


def test_create_orgs_makes_parents_then_children_with_fresh_paths(tree):
    east = tree["east"]
    before = Org.objects.get(pk=east.pk).children_issued
    made = services.create_orgs(
        None,
        [
            village("990101100202", east, "东二村"),
            village("990101100203", east, "东三村"),
            {
                "parent": "990101100202",  # made by the first row
                "kind": OrgKind.BRANCH,
                "name": "东二村党支部",
                "code": "B990101100202-01",
            },
        ],
    )
    assert [o.code for o in made] == ["990101100202", "990101100203", "B990101100202-01"]
    second, third, branch = (Org.objects.get(code=o.code) for o in made)
    assert second.parent_id == east.pk and branch.parent_id == second.pk
    assert branch.path.startswith(second.path) and branch.depth == second.depth + 1
    assert second.county_id == third.county_id == branch.county_id == tree["county"].pk
    # The parent's counter moved on by two, so the next create_org takes a path not yet used.
    assert Org.objects.get(pk=east.pk).children_issued == before + 2
    fourth = services.create_org(
        None, parent=east, kind=OrgKind.VILLAGE, name="东四村", code="990101100204"
    )
    assert fourth.path not in {second.path, third.path}
    assert Org.objects.get(pk=second.pk).children_issued == 1
    created = Entry.objects.filter(action="orgs.org.created", object_id__in=[o.pk for o in made])
    assert created.count() == 3
    assert verify_chain() is None


def test_a_county_made_in_bulk_is_its_own_county(tree):
    (county,) = services.create_orgs(
        None,
        [{"parent": tree["city"], "kind": OrgKind.COUNTY, "name": "新县", "code": "990102000000"}],
    )
    assert Org.objects.get(pk=county.pk).county_id == county.pk


@pytest.mark.parametrize(
    "bad, field",
    [
        (village("990101100201", None), "code"),  # already used (东一村)
        ({"kind": OrgKind.VILLAGE, "name": "", "code": "990101100209"}, "name"),
        ({"kind": OrgKind.VILLAGE, "name": "坏村", "code": "12"}, "code"),
        ({"kind": OrgKind.TOWN, "name": "坏镇", "code": "990101109000"}, "parent"),
    ],
)
def test_create_orgs_names_the_refused_row_and_writes_nothing(tree, bad, field):
    east = tree["east"] if bad.get("kind") != OrgKind.TOWN else tree["east_village"]
    rows = [village("990101100205", tree["east"]), {**bad, "parent": east}]
    orgs, entries = Org.objects.count(), Entry.objects.count()
    with pytest.raises(services.RowRefused) as refused:
        services.create_orgs(None, rows)
    assert refused.value.index == 1
    assert field in refused.value.error.error_dict
    assert (Org.objects.count(), Entry.objects.count()) == (orgs, entries)


def test_create_orgs_refuses_a_parent_outside_the_actors_scope(tree, users):
    with pytest.raises(services.RowRefused) as refused:
        services.create_orgs(users["east_admin"], [village("990101101202", tree["west"])])
    assert refused.value.index == 0
    assert not Org.objects.filter(code="990101101202").exists()


def person(org, name: str, **fields) -> dict:
    return {"org": org, "name": name, **fields}


def test_create_people_numbers_them_after_the_countys_last_number(tree):
    first = services.create_person(None, org=tree["east_village"], name="甲")
    made = services.create_people(
        None,
        [
            person(tree["east_village"], "乙", phone="139 0000 0101", gender=Gender.FEMALE),
            person(tree["west_village"], "丙", number="P-GIVEN-1", is_party_member=True),
            person(tree["east_branch"], "丁"),
        ],
    )
    prefix = first.number[:-6]
    numbers = [p.number for p in made]
    assert numbers[0] == f"{prefix}{int(first.number[-6:]) + 1:06d}"
    assert numbers[1] == "P-GIVEN-1"
    assert numbers[2] == f"{prefix}{int(first.number[-6:]) + 2:06d}"
    stored = Person.objects.get(number=numbers[0])
    assert (stored.phone, stored.gender, stored.county_id) == (
        "13900000101",
        Gender.FEMALE,
        tree["county"].pk,
    )
    entries = Entry.objects.filter(action="orgs.person.created", object_id__in=[p.pk for p in made])
    assert entries.count() == 3
    # The log keeps that a phone was given, never the number.
    assert all("13900000101" not in str(e.changes) for e in entries)
    assert verify_chain() is None


def test_create_people_refuses_a_used_number_or_a_bad_phone_by_row(tree):
    services.create_person(None, org=tree["east_village"], name="甲", number="P-TAKEN")
    people, entries = Person.objects.count(), Entry.objects.count()
    for bad, field in (
        (person(tree["east_village"], "乙", number="P-TAKEN"), "number"),
        (person(tree["east_village"], "乙", phone="12345"), "phone"),
    ):
        with pytest.raises(services.RowRefused) as refused:
            services.create_people(None, [person(tree["east_village"], "丙"), bad])
        assert refused.value.index == 1
        assert field in refused.value.error.error_dict
    assert (Person.objects.count(), Entry.objects.count()) == (people, entries)


def test_update_people_changes_what_differs_and_audits_each(tree):
    a = services.create_person(None, org=tree["east_village"], name="甲", phone="13900000201")
    b = services.create_person(None, org=tree["east_village"], name="乙")
    changed = services.update_people(
        None,
        [(a, {"name": "甲二", "phone": "13900000202"}), (b, {"org": tree["west_village"]})],
    )
    assert changed == 2
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.name, a.phone, a.version) == ("甲二", "13900000202", 2)
    assert (b.org_id, b.county_id, b.version) == (tree["west_village"].pk, tree["county"].pk, 2)
    entry = Entry.objects.filter(action="orgs.person.changed", object_id=str(a.pk)).get()
    assert entry.changes["phone"] == ["***", "***"]
    assert verify_chain() is None


def test_update_people_refuses_a_row_changed_meanwhile(tree):
    a = services.create_person(None, org=tree["east_village"], name="甲")
    stale = Person.objects.get(pk=a.pk)
    services.update_person(None, a, name="甲改")
    with pytest.raises(ValidationError):
        services.update_people(None, [(stale, {"name": "甲三"})])
    assert Person.objects.get(pk=a.pk).name == "甲改"
