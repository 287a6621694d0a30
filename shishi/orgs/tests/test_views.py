"""The organisation browser: tree, detail, search, the forms, and a fixed number of queries."""

import pytest
from django.conf import settings
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.orgs import services
from shishi.orgs.models import KIND_PLURALS, Org, OrgKind, OrgMove, Person, RoleKind
from shishi.testing import add_villages

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so that messages can be read whether or not catalogues are compiled."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def labelled(pairs) -> dict[str, int]:
    return {str(pair[-2]): pair[-1] for pair in pairs}


def label(kind) -> str:
    return str(KIND_PLURALS[kind])


def form_errors(response) -> dict:
    return response.context["form"].errors


def grow(tree, first: int, last: int) -> None:
    """Villages under the east town, each with a branch and two people."""
    add_villages(tree["east"], first, last, people=2, branch=True)


# --- tree and detail ----------------------------------------------------------------------------


def test_the_tree_goes_straight_to_a_users_only_organisation(users, tree, client_for):
    response = client_for(users["east_admin"]).get(reverse("orgs:tree"))
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:detail", args=[tree["east"].pk])


def test_the_tree_lists_the_roots_of_a_user_with_several(users, tree, client_for):
    services.grant_role(None, users["east_admin"], tree["dept"], RoleKind.UNIT_OFFICER)
    response = client_for(users["east_admin"]).get(reverse("orgs:tree"))
    assert response.status_code == 200
    assert [o.pk for o in response.context["roots"]] == [tree["east"].pk, tree["dept"].pk]


def test_the_tree_of_a_user_without_roles_is_empty(users, client_for):
    response = client_for(users["nobody"]).get(reverse("orgs:tree"))
    assert response.status_code == 200
    assert list(response.context["roots"]) == []


def test_the_county_page_counts_its_organisations_by_kind(users, tree, client_for):
    response = client_for(users["county_admin"]).get(
        reverse("orgs:detail", args=[tree["county"].pk])
    )
    assert response.status_code == 200
    assert labelled(response.context["totals"]) == {
        label("town"): 2,
        label("village"): 2,
        label("community"): 1,
        label("department"): 1,
        label("branch"): 3,
    }
    assert response.context["people_total"] == 12
    rows = {row["org"].name: row for row in response.context["children"]}
    assert labelled(rows["东镇"]["counts"]) == {
        label("village"): 1,
        label("community"): 1,
        label("branch"): 1,
    }
    assert rows["东镇"]["people"] == 4
    assert rows["测试县教育局"]["people"] == 7
    assert "东镇" in response.text and "西镇" in response.text


def test_people_directly_in_an_organisation_are_counted_once(users, tree, client_for):
    response = client_for(users["east_admin"]).get(reverse("orgs:detail", args=[tree["east"].pk]))
    assert response.context["people_total"] == 4
    assert [p.name for p in response.context["people_page"]] == ["测试east_admin"]


def test_a_person_count_is_shown_to_a_role_that_cannot_see_people(users, tree, client_for):
    response = client_for(users["cadre"]).get(reverse("orgs:detail", args=[tree["east_branch"].pk]))
    assert response.status_code == 200
    assert response.context["people_total"] == 2
    assert response.context["people_page"] is None
    assert "测试secretary" not in response.text


def test_the_detail_page_lists_people_with_masked_phones(users, tree, client_for):
    services.create_person(None, org=tree["east_branch"], name="王海明", phone=PHONE)
    response = client_for(users["secretary"]).get(
        reverse("orgs:detail", args=[tree["east_branch"].pk])
    )
    assert "王海明" in response.text
    assert "139****5678" in response.text
    assert PHONE not in response.text
    assert not response.context["can_manage"]


def test_the_detail_page_offers_management_to_managers_only(users, tree, client_for):
    url = reverse("orgs:detail", args=[tree["east_village"].pk])
    manager = client_for(users["east_admin"]).get(url)
    assert manager.context["can_manage"] and manager.context["can_manage_people"]
    assert reverse("orgs:edit", args=[tree["east_village"].pk]) in manager.text
    reader = client_for(users["supervisor"]).get(url)
    assert not reader.context["can_manage"]
    assert reverse("orgs:edit", args=[tree["east_village"].pk]) not in reader.text


def test_breadcrumbs_stop_at_the_top_of_the_users_scope(users, tree, client_for):
    response = client_for(users["east_admin"]).get(
        reverse("orgs:detail", args=[tree["east_branch"].pk])
    )
    assert [o.name for o in response.context["breadcrumbs"]] == ["东镇", "东一村"]
    assert "测试县" not in response.text


# --- person page --------------------------------------------------------------------------------


def test_the_person_page_masks_the_phone_for_readers(users, tree, client_for):
    person = services.create_person(None, org=tree["east_branch"], name="王海明", phone=PHONE)
    response = client_for(users["secretary"]).get(reverse("orgs:person", args=[person.pk]))
    assert response.status_code == 200
    assert "139****5678" in response.text
    assert PHONE not in response.text


def test_the_person_page_shows_the_phone_in_full_to_managers(users, tree, client_for):
    person = services.create_person(None, org=tree["east_branch"], name="王海明", phone=PHONE)
    response = client_for(users["east_admin"]).get(reverse("orgs:person", args=[person.pk]))
    assert PHONE in response.text


def test_the_person_page_lists_roles_and_offers_accounts_to_account_managers(users, client_for):
    person = users["cadre"].person
    url = reverse("orgs:person", args=[person.pk])
    manager = client_for(users["county_admin"]).get(url)
    assert [r.kind for r in manager.context["roles"]] == [RoleKind.CADRE]
    assert manager.context["can_manage_accounts"]
    assert reverse("orgs:person_role", args=[person.pk]) in manager.text
    supervisor = client_for(users["supervisor"]).get(url)
    assert not supervisor.context["can_manage_accounts"]
    assert reverse("orgs:person_role", args=[person.pk]) not in supervisor.text


# --- search -------------------------------------------------------------------------------------


def search(client, q):
    response = client.get(reverse("orgs:search"), {"q": q})
    assert response.status_code == 200
    return [o.name for o in response.context["results"]]


def test_search_finds_by_name_within_the_scope(users, client_for):
    assert search(client_for(users["east_admin"]), "村") == ["东一村", "东一村党支部"]


def test_search_finds_by_code_prefix_within_the_scope(users, client_for):
    client = client_for(users["east_admin"])
    assert search(client, "9901011002") == ["东一村"]
    assert search(client, "990101101") == []


def test_search_finds_the_whole_county_for_a_county_role(users, client_for):
    assert search(client_for(users["county_admin"]), "990101101") == ["西镇", "西一村"]


def test_an_empty_search_shows_no_results(users, client_for):
    response = client_for(users["east_admin"]).get(reverse("orgs:search"), {"q": ""})
    assert response.context["results"] is None


def test_a_figure_lists_every_organisation_of_its_kind_under_the_page(users, tree, client_for):
    grow(tree, 0, 3)
    client = client_for(users["east_admin"])
    page = client.get(reverse("orgs:detail", args=[tree["east"].pk])).content.decode()
    link = f"{reverse('orgs:search')}?within={tree['east'].pk}&amp;kind=branch"
    assert link in page
    response = client.get(reverse("orgs:search"), {"within": tree["east"].pk, "kind": "branch"})
    names = [o.name for o in response.context["results"]]
    assert names == ["东一村党支部", "东0村党支部", "东1村党支部", "东2村党支部"]


def test_a_search_within_another_towns_organisation_answers_404(users, tree, client_for):
    response = client_for(users["east_admin"]).get(
        reverse("orgs:search"), {"within": tree["west"].pk, "kind": "branch"}
    )
    assert response.status_code == 404


def test_the_pager_keeps_the_search_on_the_next_page(users, tree, client_for):
    grow(tree, 0, 60)
    client = client_for(users["east_admin"])
    first = client.get(reverse("orgs:search"), {"q": "村党支部"})
    assert first.context["results"].paginator.count == 61
    assert "?q=%E6%9D%91%E5%85%9A%E6%94%AF%E9%83%A8&amp;page=2" in first.content.decode()
    second = client.get(reverse("orgs:search"), {"q": "村党支部", "page": 2})
    assert len(second.context["results"]) == 11


def test_places_come_before_departments_among_the_children(users, tree, client_for):
    response = client_for(users["county_admin"]).get(
        reverse("orgs:detail", args=[tree["county"].pk])
    )
    kinds = [row["org"].kind for row in response.context["children"]]
    assert kinds == [OrgKind.TOWN, OrgKind.TOWN, OrgKind.DEPARTMENT]


def test_the_top_of_ones_own_scope_offers_no_move(users, tree, client_for):
    client = client_for(users["east_admin"])
    top = client.get(reverse("orgs:detail", args=[tree["east"].pk]))
    below = client.get(reverse("orgs:detail", args=[tree["east_village"].pk]))
    assert top.context["can_move"] is False
    assert below.context["can_move"] is True


# --- edit ---------------------------------------------------------------------------------------


def edit(client, org, **data):
    post = {"name": org.name, "short_name": org.short_name, "code": org.code}
    post["version"] = org.version
    post.update(data)
    return client.post(reverse("orgs:edit", args=[org.pk]), post, follow=True)


def test_the_edit_form_saves_and_returns_to_the_page(users, tree, client_for):
    village = tree["east_village"]
    form = client_for(users["east_admin"]).get(reverse("orgs:edit", args=[village.pk]))
    assert form.context["form"].initial["version"] == 1
    response = edit(client_for(users["east_admin"]), village, name="东一新村", short_name="东一")
    assert response.redirect_chain == [(reverse("orgs:detail", args=[village.pk]), 302)]
    assert "Saved." in response.text
    village.refresh_from_db()
    assert (village.name, village.short_name, village.version) == ("东一新村", "东一", 2)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"code": "12345"}, "code", "12-digit"),
        ({"code": "990101101201"}, "code", "already used"),
    ],
)
def test_the_edit_form_shows_errors_and_writes_nothing(
    users, tree, client_for, data, field, message
):
    village = tree["east_village"]
    before = Entry.objects.count()
    response = edit(client_for(users["east_admin"]), village, **data)
    assert response.status_code == 200
    assert any(message in e for e in form_errors(response)[field])
    assert message in response.text
    assert Org.objects.get(pk=village.pk).name == "东一村"
    assert Entry.objects.count() == before


def test_an_edit_from_a_stale_form_shows_the_conflict(users, tree, client_for):
    village = tree["east_village"]
    services.update_org(users["county_admin"], village, version=1, name="东一新村")
    response = edit(client_for(users["east_admin"]), village, short_name="东一")
    assert response.status_code == 200
    errors = form_errors(response)["__all__"]
    assert "Someone else changed this record" in errors[0]
    assert "Their changes: name." in errors[0]
    assert "Someone else changed this record" in response.text
    assert Org.objects.get(pk=village.pk).short_name == ""


# --- new ----------------------------------------------------------------------------------------


def test_the_new_form_creates_an_organisation_under_the_page(users, tree, client_for):
    response = client_for(users["east_admin"]).post(
        reverse("orgs:new", args=[tree["east"].pk]),
        {"kind": OrgKind.VILLAGE, "name": "东二村", "short_name": "", "code": "990101100202"},
    )
    village = Org.objects.get(code="990101100202")
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:detail", args=[village.pk])
    assert (village.parent_id, village.county_id) == (tree["east"].pk, tree["county"].pk)
    assert Entry.objects.latest("seq").actor == users["east_admin"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": OrgKind.TOWN, "code": "990101102000"}, "__all__", "cannot stand under"),
        ({"code": "99010110020"}, "code", "12-digit"),
        ({"code": "990101100201"}, "code", "already used"),
        ({"kind": "farm"}, "kind", "Select a valid choice"),
    ],
)
def test_the_new_form_shows_errors_and_creates_nothing(
    users, tree, client_for, data, field, message
):
    count, entries = Org.objects.count(), Entry.objects.count()
    response = client_for(users["east_admin"]).post(
        reverse("orgs:new", args=[tree["east"].pk]),
        {"kind": OrgKind.VILLAGE, "name": "东二村", "code": "990101100202", **data},
    )
    assert response.status_code == 200
    assert any(message in e for e in form_errors(response)[field])
    assert (Org.objects.count(), Entry.objects.count()) == (count, entries)
    assert Org.objects.get(pk=tree["east"].pk).children_issued == 2


# --- move ---------------------------------------------------------------------------------------


def move(client, org, code, reason="区划调整"):
    return client.post(
        reverse("orgs:move", args=[org.pk]), {"new_parent_code": code, "reason": reason}
    )


def test_the_move_form_moves_by_the_new_parents_code(users, tree, client_for):
    village = tree["east_village"]
    response = move(client_for(users["county_admin"]), village, " 990101101000 ")
    assert response.status_code == 302
    village.refresh_from_db()
    assert village.parent_id == tree["west"].pk
    assert OrgMove.objects.get(org=village).reason == "区划调整"


def test_the_move_page_lists_earlier_moves(users, tree, client_for):
    services.move_org(None, tree["east_village"], tree["west"], reason="第一次调整")
    response = client_for(users["county_admin"]).get(
        reverse("orgs:move", args=[tree["east_village"].pk])
    )
    assert "第一次调整" in response.text


@pytest.mark.parametrize(
    ("role", "code", "reason", "field", "message"),
    [
        (
            "county_admin",
            "990101999000",
            "调整",
            "new_parent_code",
            "No organisation with this code",
        ),
        ("east_admin", "990101101000", "调整", "new_parent_code", "No organisation with this code"),
        ("county_admin", "990101100000", "调整", "__all__", "is already there"),
        ("county_admin", "990101000000", "调整", "__all__", "cannot stand under"),
        ("county_admin", "990101101000", "", "reason", "This field is required."),
    ],
)
def test_the_move_form_shows_errors_and_moves_nothing(
    users, tree, client_for, role, code, reason, field, message
):
    response = move(client_for(users[role]), tree["east_village"], code, reason)
    assert response.status_code == 200
    assert any(message in e for e in form_errors(response)[field])
    assert Org.objects.get(pk=tree["east_village"].pk).parent_id == tree["east"].pk
    assert not OrgMove.objects.exists()


def test_the_move_form_refuses_a_cycle_with_a_clear_message(users, tree, client_for):
    response = move(client_for(users["county_admin"]), tree["east"], "990101100201")
    assert response.status_code == 200
    [error] = form_errors(response)["__all__"]
    assert "东镇 cannot move under itself or its own descendant 东一村" in error
    assert Org.objects.get(pk=tree["east"].pk).path == tree["east"].path


# --- people forms -------------------------------------------------------------------------------


def test_the_new_person_form_adds_a_person(users, tree, client_for):
    response = client_for(users["east_admin"]).post(
        reverse("orgs:person_new", args=[tree["east_branch"].pk]),
        {"name": "王海明", "gender": "M", "phone": "139 1234 5678", "position": "组织委员"},
    )
    person = Person.objects.get(name="王海明")
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:person", args=[person.pk])
    assert (person.org_id, person.phone, person.gender) == (tree["east_branch"].pk, PHONE, "M")


def test_the_new_person_form_shows_a_bad_phone(users, tree, client_for):
    response = client_for(users["east_admin"]).post(
        reverse("orgs:person_new", args=[tree["east_branch"].pk]),
        {"name": "王海明", "gender": "M", "phone": "12345"},
    )
    assert response.status_code == 200
    assert "is not an 11-digit mobile number" in form_errors(response)["phone"][0]
    assert not Person.objects.filter(name="王海明").exists()


def test_the_person_edit_form_starts_from_the_full_record_and_saves(users, tree, client_for):
    person = services.create_person(None, org=tree["east_branch"], name="王海明", phone=PHONE)
    client = client_for(users["east_admin"])
    url = reverse("orgs:person_edit", args=[person.pk])
    assert client.get(url).context["form"].initial["phone"] == PHONE
    response = client.post(
        url, {"name": "王海明", "gender": "F", "phone": PHONE, "position": "书记", "version": 1}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert (person.gender, person.position, person.version) == ("F", "书记", 2)


def test_a_person_edit_from_a_stale_form_shows_the_conflict(users, tree, client_for):
    person = services.create_person(None, org=tree["east_branch"], name="王海明")
    services.update_person(None, person, version=1, position="书记")
    response = client_for(users["east_admin"]).post(
        reverse("orgs:person_edit", args=[person.pk]),
        {"name": "王海鸣", "gender": "U", "phone": "", "version": 1},
    )
    assert response.status_code == 200
    assert "Their changes: position." in form_errors(response)["__all__"][0]
    assert Person.objects.get(pk=person.pk).name == "王海明"


def test_an_account_manager_creates_a_login_and_grants_a_role(users, tree, client_for):
    person = services.create_person(None, org=tree["east_branch"], name="王海明")
    client = client_for(users["county_admin"])
    client.post(
        reverse("orgs:person_login", args=[person.pk]),
        {"username": "wanghm", "password": "Correct-horse-42"},
    )
    person.refresh_from_db()
    assert person.user.username == "wanghm"
    client.post(
        reverse("orgs:person_role", args=[person.pk]),
        {"kind": RoleKind.BRANCH_SECRETARY, "org_code": tree["east_branch"].code},
    )
    assert [(r.kind, r.org_id) for r in person.user.roles.all()] == [
        (RoleKind.BRANCH_SECRETARY, tree["east_branch"].pk)
    ]


def test_a_weak_password_on_the_person_page_is_reported(users, tree, client_for):
    person = services.create_person(None, org=tree["east_branch"], name="王海明")
    response = client_for(users["county_admin"]).post(
        reverse("orgs:person_login", args=[person.pk]),
        {"username": "wanghm", "password": "short"},
        follow=True,
    )
    assert "too short" in response.text
    person.refresh_from_db()
    assert person.user_id is None


# --- a fixed number of queries ------------------------------------------------------------------


def queries_at_two_sizes(tree, django_assert_max_num_queries, ceiling, fetch) -> list[int]:
    counts = []
    for first, last in [(0, 5), (5, 60)]:
        grow(tree, first, last)
        with django_assert_max_num_queries(ceiling) as ctx:
            response = fetch()
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    return counts


def test_the_detail_page_costs_the_same_with_5_and_60_villages(
    users, tree, client_for, django_assert_max_num_queries
):
    client = client_for(users["east_admin"])
    url = reverse("orgs:detail", args=[tree["east"].pk])
    counts = queries_at_two_sizes(tree, django_assert_max_num_queries, 14, lambda: client.get(url))
    assert counts[0] == counts[1]


def test_search_costs_the_same_with_5_and_60_villages(
    users, tree, client_for, django_assert_max_num_queries
):
    client = client_for(users["east_admin"])
    url = reverse("orgs:search")
    counts = queries_at_two_sizes(
        tree, django_assert_max_num_queries, 7, lambda: client.get(url, {"q": "村"})
    )
    assert counts[0] == counts[1]


def test_the_person_page_costs_the_same_with_5_and_60_villages(
    users, tree, client_for, django_assert_max_num_queries
):
    client = client_for(users["county_admin"])
    url = reverse("orgs:person", args=[users["cadre"].person.pk])
    counts = queries_at_two_sizes(tree, django_assert_max_num_queries, 10, lambda: client.get(url))
    assert counts[0] == counts[1]
