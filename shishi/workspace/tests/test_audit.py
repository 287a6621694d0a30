"""The audit log page: who may read it, filters, keyset pages, a fixed number of queries."""

import re

import pytest
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.audit.services import record
from shishi.orgs import services
from shishi.orgs.models import OrgKind, RoleKind

pytestmark = pytest.mark.django_db

URL = reverse("workspace:audit")


def seqs(response) -> list[int]:
    return [e.seq for e in response.context["entries"]]


def note(actor, obj, n: int) -> None:
    for i in range(n):
        record(actor, "test.noted", obj, changes={"i": [None, i]}, data={"why": "load"})


@pytest.mark.parametrize("role", ["auditor", "county_admin", "audit_admin"])
def test_the_audit_log_is_readable_by_auditors_and_administrators(users, client_for, role):
    response = client_for(users[role]).get(URL)
    assert response.status_code == 200
    assert len(response.context["entries"]) > 0


@pytest.mark.parametrize(
    "role",
    [
        "cadre",
        "east_admin",
        "unit_officer",
        "secretary",
        "supervisor",
        "nobody",
        # 三员: the system and security administrators do not read the log they act in.
        "sysadmin",
        "security_admin",
    ],
)
def test_the_audit_log_is_refused_to_other_roles(users, client_for, role):
    response = client_for(users[role]).get(URL)
    assert response.status_code in (403, 404)
    assert "entries" not in (response.context or {})


def test_the_audit_log_asks_an_anonymous_visitor_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_county_auditor_sees_that_county_only(users, tree, client_for):
    other = services.create_org(
        None, parent=tree["city"], kind=OrgKind.COUNTY, name="别的县", code="990102000000"
    )
    response = client_for(users["auditor"]).get(URL)
    entries = response.context["entries"]
    assert {e.county_id for e in entries} == {tree["county"].pk}
    assert str(other.pk) not in {e.object_id for e in entries if e.object_type == "orgs.org"}
    # Entries that belong to no county (the city's creation) are for the province's staff.
    city_created = Entry.objects.get(object_type="orgs.org", object_id=str(tree["city"].pk))
    assert city_created.seq not in seqs(response)


def test_an_auditor_of_one_town_never_reads_another_towns_changes(users, tree, client_for):
    """A role below the county sees no county's log: entries are kept per county, and the
    county's log tells of every town in it."""
    services.grant_role(None, users["east_admin"], tree["east"], RoleKind.AUDITOR)
    services.update_org(users["west_admin"], tree["west_village"], name="西一新村")
    response = client_for(users["east_admin"]).get(URL)
    assert response.status_code == 200
    shown = {(e.object_type, e.object_id) for e in response.context["entries"]}
    assert ("orgs.org", str(tree["west_village"].pk)) not in shown
    assert "西一新村" not in response.text


def test_the_province_audit_admin_sees_every_county_and_entries_of_none(users, tree, client_for):
    other = services.create_org(
        None, parent=tree["city"], kind=OrgKind.COUNTY, name="别的县", code="990102000000"
    )
    response = client_for(users["audit_admin"]).get(URL, {"action": "orgs.org.created"})
    shown = {e.object_id for e in response.context["entries"]}
    assert {str(other.pk), str(tree["city"].pk), str(tree["county"].pk)} <= shown


def test_the_log_is_filtered_by_action_prefix(users, client_for):
    response = client_for(users["auditor"]).get(URL, {"action": "orgs.person"})
    actions = {e.action for e in response.context["entries"]}
    assert actions == {"orgs.person.created"}
    assert len(response.context["entries"]) == 12


def test_the_log_is_filtered_by_actor(users, tree, client_for):
    note(users["east_admin"], tree["east_village"], 3)
    note(users["west_admin"], tree["west_village"], 2)
    response = client_for(users["auditor"]).get(URL, {"actor": "east_admin"})
    entries = response.context["entries"]
    assert len(entries) == 3
    assert {e.actor_id for e in entries} == {users["east_admin"].pk}


def test_the_log_is_filtered_by_object(users, tree, client_for):
    note(users["east_admin"], tree["east_village"], 2)
    response = client_for(users["auditor"]).get(
        URL, {"object_type": "orgs.org", "object_id": str(tree["east_village"].pk)}
    )
    actions = [e.action for e in response.context["entries"]]
    assert actions == ["test.noted", "test.noted", "orgs.org.created"]


def test_entries_come_newest_first_in_keyset_pages(users, tree, client_for):
    note(users["east_admin"], tree["east_village"], 60)
    client = client_for(users["auditor"])
    first = client.get(URL, {"action": "test.noted"})
    assert len(first.context["entries"]) == 50
    assert seqs(first) == sorted(seqs(first), reverse=True)
    assert first.context["next_query"] == f"action=test.noted&before={seqs(first)[-1]}"
    assert f"before={seqs(first)[-1]}" in first.text
    second = client.get(URL + "?" + first.context["next_query"])
    assert len(second.context["entries"]) == 10
    assert max(seqs(second)) < min(seqs(first))
    assert {e.action for e in second.context["entries"]} == {"test.noted"}
    assert second.context["next_query"] == ""


def test_a_page_before_an_entry_starts_just_below_it(users, tree, client_for):
    note(users["east_admin"], tree["east_village"], 5)
    last = Entry.objects.latest("seq").seq
    response = client_for(users["auditor"]).get(URL, {"action": "test.noted", "before": last})
    assert seqs(response) == [last - 1, last - 2, last - 3, last - 4]


def test_a_nonsense_before_is_ignored(users, client_for):
    response = client_for(users["auditor"]).get(URL, {"before": "1; DROP TABLE audit_entry"})
    assert response.status_code == 200
    assert len(response.context["entries"]) > 0


def test_the_page_shows_changes_and_request_ids(users, tree, client_for):
    services.update_org(users["east_admin"], tree["east_village"], name="东一新村")
    response = client_for(users["auditor"]).get(URL, {"action": "orgs.org.changed"})
    assert "东一村" in response.text and "东一新村" in response.text
    assert re.search(r"<code>orgs\.org\.changed</code>", response.text)


def test_the_page_costs_the_same_queries_with_10_and_200_entries(
    users, tree, client_for, django_assert_max_num_queries
):
    client = client_for(users["auditor"])
    counts = []
    for n in (10, 190):
        note(users["east_admin"], tree["east_village"], n)
        with django_assert_max_num_queries(8) as ctx:
            response = client.get(URL)
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
