"""The county office's pages: programmes, the draft list, publishing and accepting delivery."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.commitments import services
from shishi.commitments.forms_manage import CommitmentForm
from shishi.commitments.models import Commitment, Programme, Snapshot, Status
from shishi.orgs import services as org_services
from shishi.testing import (
    add_items,
    as_posted,
    commitment_form,
    count_queries,
    english,
    programme_of,
)

# --- programmes -----------------------------------------------------------------------------------


def test_the_county_office_creates_a_programme(tree, users, client_for):
    client = english(client_for(users["county_admin"]))
    response = client.post(
        reverse("commitments:programme_new"),
        {
            "county": tree["county"].pk,
            "year": 2022,
            "title": "2022年民生实事",
            "description": "",
            "approval_levels": 2,
        },
    )
    programme = Programme.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("commitments:programme", args=[programme.pk])
    assert (programme.year, programme.approval_levels, programme.status) == (2022, 2, "draft")
    assert Entry.objects.filter(action="commitments.programme.created").count() == 1


def test_a_second_programme_for_the_same_year_is_refused_on_the_form(tree, users, client_for):
    programme_of(tree, n=0, year=2022)
    client = english(client_for(users["county_admin"]))
    response = client.post(
        reverse("commitments:programme_new"),
        {"county": tree["county"].pk, "year": 2022, "title": "又一个", "approval_levels": 1},
    )
    assert response.status_code == 200
    assert "already has a programme for 2022" in response.text
    assert Programme.objects.count() == 1


@pytest.mark.parametrize("role", ["unit_officer", "east_admin", "supervisor", "nobody"])
def test_only_a_county_office_may_create_a_programme(tree, users, client_for, role):
    client = client_for(users[role])
    url = reverse("commitments:programme_new")
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"county": tree["county"].pk, "year": 2022, "title": "x", "approval_levels": 1}
    )
    assert response.status_code == 403
    assert not Programme.objects.exists()


def test_the_programmes_page_shows_figures_and_the_new_button_to_the_county_office(
    tree, users, client_for
):
    programme = programme_of(tree, n=2, published=True)
    commitment = programme.commitments.first()
    services.submit_progress(
        users["unit_officer"], commitment, text="完成", percent_complete=100, delivered=True
    )
    services.review_progress(users["county_admin"], commitment.reports.get(), accept=True)
    response = english(client_for(users["county_admin"])).get(reverse("commitments:programmes"))
    assert response.status_code == 200
    assert programme.title in response.text
    assert "1 (50.0%)" in response.text
    assert reverse("commitments:programme_new") in response.text


def test_a_unit_officer_sees_the_programme_of_their_unit_without_the_new_button(
    tree, users, client_for
):
    programme = programme_of(tree, n=1)
    response = client_for(users["unit_officer"]).get(reverse("commitments:programmes"))
    assert programme.title in response.text
    assert reverse("commitments:programme_new") not in response.text


def test_someone_without_a_role_sees_no_programme(tree, users, client_for):
    programme = programme_of(tree, n=1)
    client = client_for(users["nobody"])
    assert programme.title not in client.get(reverse("commitments:programmes")).text
    url = reverse("commitments:programme", args=[programme.pk])
    assert client.get(url).status_code == 404
    assert client_for(users["west_admin"]).get(url).status_code == 404


def test_the_draft_list_offers_adding_editing_and_publishing_to_the_county_office(
    tree, users, client_for
):
    programme = programme_of(tree, n=2)
    first = programme.commitments.order_by("number").first()
    response = english(client_for(users["county_admin"])).get(
        reverse("commitments:programme", args=[programme.pk])
    )
    assert response.status_code == 200
    text = response.text
    assert text.index("实事1") < text.index("实事2")
    assert reverse("commitments:commitment_new", args=[programme.pk]) in text
    assert reverse("commitments:commitment_edit", args=[first.pk]) in text
    assert reverse("commitments:publish", args=[programme.pk]) in text
    assert "every addition, change, merge, split, deferral or cancellation is an adjustment" in text
    assert reverse("commitments:import", args=[programme.pk]) in text
    assert reverse("commitments:export", args=[programme.pk, "xlsx"]) in text


def test_the_unit_officer_sees_the_draft_but_no_buttons_to_change_it(tree, users, client_for):
    programme = programme_of(tree, n=1)
    response = client_for(users["unit_officer"]).get(
        reverse("commitments:programme", args=[programme.pk])
    )
    assert response.status_code == 200
    assert "实事1" in response.text
    assert reverse("commitments:publish", args=[programme.pk]) not in response.text
    assert reverse("commitments:commitment_new", args=[programme.pk]) not in response.text


def test_the_published_list_offers_adjustments_and_the_public_page(tree, users, client_for):
    programme = programme_of(tree, n=1, published=True)
    commitment = programme.commitments.get()
    response = english(client_for(users["unit_officer"])).get(
        reverse("commitments:programme", args=[programme.pk])
    )
    text = response.text
    assert reverse("portal:programme", args=[programme.pk]) in text
    assert "Propose an adjustment" in text
    defer = reverse("commitments:adjustment_new", args=[programme.pk, "defer"])
    assert f"{defer}?commitment={commitment.pk}" in text
    assert reverse("commitments:commitment_edit", args=[commitment.pk]) not in text
    assert reverse("commitments:publish", args=[programme.pk]) not in text


# --- the draft list -------------------------------------------------------------------------------


def test_adding_a_commitment_saves_it_with_its_targets_and_milestones(tree, users, client_for):
    programme = programme_of(tree, n=0)
    client = client_for(users["county_admin"])
    response = client.post(
        reverse("commitments:commitment_new", args=[programme.pk]), commitment_form(tree)
    )
    assert response.status_code == 302
    commitment = Commitment.objects.get()
    assert commitment.number == 1
    assert commitment.title == "新建公办幼儿园"
    assert commitment.budget_planned == Decimal("12000000.00")
    assert list(commitment.co_units.all()) == [tree["east"]]
    assert [(t.name, t.target_value) for t in commitment.targets.all()] == [("公办幼儿园", 5)]
    assert [m.title for m in commitment.milestones.all()] == ["完成选址"]
    assert Entry.objects.filter(action="commitments.commitment.created").count() == 1


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"deadline": "2021-01-15"}, "deadline", "is before the start 2021-02-01"),
        ({"budget_planned": "-5"}, "budget_planned", "-5 is negative"),
        ({"target_1_target_value": "五百"}, "target_1_target_value", "五百 is not a number"),
        ({"milestone_1_planned_date": ""}, "milestone_1_planned_date", "This field is required"),
        ({"responsible_unit": ""}, "responsible_unit", "This field is required"),
    ],
)
def test_bad_commitment_input_is_shown_on_the_form_and_nothing_is_written(
    tree, users, client_for, changes, field, message
):
    programme = programme_of(tree, n=0)
    entries = Entry.objects.count()
    client = english(client_for(users["county_admin"]))
    response = client.post(
        reverse("commitments:commitment_new", args=[programme.pk]), commitment_form(tree, **changes)
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert message in response.text
    assert not Commitment.objects.exists()
    assert Entry.objects.count() == entries


def test_the_edit_form_shows_the_commitment_and_saves_a_change(tree, users, client_for):
    programme = programme_of(tree, n=1)
    commitment = programme.commitments.get()
    client = client_for(users["county_admin"])
    url = reverse("commitments:commitment_edit", args=[commitment.pk])
    form = client.get(url).context["form"]
    assert form["title"].value() == "实事1"
    data = as_posted(form)
    data["title"] = "实事一（扩大）"
    data["target_1_target_value"] = "600"
    response = client.post(url, data)
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.title == "实事一（扩大）"
    assert commitment.version == 2
    assert commitment.targets.get().target_value == 600
    assert commitment.milestones.get().title == "开工"
    entry = Entry.objects.filter(action="commitments.commitment.changed").get()
    assert set(entry.changes) == {"title", "targets"}


def test_a_stale_edit_shows_the_conflict_and_overwrites_nothing(tree, users, client_for):
    programme = programme_of(tree, n=1)
    commitment = programme.commitments.get()
    client = english(client_for(users["county_admin"]))
    url = reverse("commitments:commitment_edit", args=[commitment.pk])
    stale = as_posted(client.get(url).context["form"])
    services.update_commitment(None, commitment, {"title": "别人改的"}, version=1)
    stale["title"] = "我改的"
    response = client.post(url, stale)
    assert response.status_code == 200
    assert "Someone else changed this record while you were editing it" in response.text
    assert "title" in response.text
    commitment.refresh_from_db()
    assert (commitment.title, commitment.version) == ("别人改的", 2)
    # Having seen the conflict, saving again is a deliberate overwrite of version 2.
    assert response.context["form"]["version"].value() == 2


@pytest.mark.parametrize("role", ["unit_officer", "east_admin", "supervisor", "nobody"])
def test_only_the_county_office_adds_or_edits_commitments(tree, users, client_for, role):
    programme = programme_of(tree, n=1)
    commitment = programme.commitments.get()
    client = client_for(users[role])
    new = reverse("commitments:commitment_new", args=[programme.pk])
    edit = reverse("commitments:commitment_edit", args=[commitment.pk])
    assert client.get(new).status_code == 404
    assert client.post(new, commitment_form(tree)).status_code == 404
    assert client.post(edit, commitment_form(tree, version=1)).status_code == 404
    assert Commitment.objects.count() == 1
    commitment.refresh_from_db()
    assert commitment.title == "实事1"


# --- publishing -----------------------------------------------------------------------------------


def test_publishing_makes_the_list_public_and_snapshots_it(tree, users, client_for):
    programme = programme_of(tree, n=2)
    client = english(client_for(users["county_admin"]))
    response = client.post(reverse("commitments:publish", args=[programme.pk]), follow=True)
    assert "changes only by approved adjustments" in response.text
    programme.refresh_from_db()
    assert programme.status == Programme.Status.PUBLISHED
    assert Snapshot.objects.filter(programme=programme).count() == 2


def test_publishing_an_empty_list_is_refused_with_a_message(tree, users, client_for):
    programme = programme_of(tree, n=0)
    client = english(client_for(users["county_admin"]))
    response = client.post(reverse("commitments:publish", args=[programme.pk]), follow=True)
    assert "An empty list cannot be published." in response.text
    programme.refresh_from_db()
    assert programme.status == Programme.Status.DRAFT


@pytest.mark.parametrize("role", ["unit_officer", "supervisor", "nobody"])
def test_only_the_county_office_publishes(tree, users, client_for, role):
    programme = programme_of(tree, n=1)
    client = client_for(users[role])
    assert client.post(reverse("commitments:publish", args=[programme.pk])).status_code == 404
    assert client.get(reverse("commitments:publish", args=[programme.pk])).status_code in (
        404,
        405,
    )
    programme.refresh_from_db()
    assert programme.status == Programme.Status.DRAFT


def test_after_publishing_commitments_are_neither_added_nor_edited(tree, users, client_for):
    programme = programme_of(tree, n=1, published=True)
    commitment = programme.commitments.get()
    client = english(client_for(users["county_admin"]))
    new = reverse("commitments:commitment_new", args=[programme.pk])
    edit = reverse("commitments:commitment_edit", args=[commitment.pk])
    response = client.post(new, commitment_form(tree), follow=True)
    assert "changes only by approved adjustments" in response.text
    response = client.post(edit, commitment_form(tree, version=1), follow=True)
    assert "changes only by approved adjustments" in response.text
    assert client.get(edit).status_code == 302
    assert Commitment.objects.count() == 1
    commitment.refresh_from_db()
    assert commitment.title == "实事1"


# --- accepting delivery ---------------------------------------------------------------------------


def delivered(users, programme) -> Commitment:
    commitment = programme.commitments.order_by("number").first()
    services.submit_progress(
        users["unit_officer"], commitment, text="建成", percent_complete=100, delivered=True
    )
    services.review_progress(users["county_admin"], commitment.reports.get(), accept=True)
    commitment.refresh_from_db()
    return commitment


def test_the_county_office_accepts_a_delivered_commitment(tree, users, client_for):
    programme = programme_of(tree, n=1, published=True)
    commitment = delivered(users, programme)
    client = client_for(users["county_admin"])
    page = client.get(reverse("commitments:programme", args=[programme.pk]))
    url = reverse("commitments:accept_delivery", args=[commitment.pk])
    assert url in page.text
    response = client.post(url, {"note": "验收合格"})
    assert response.status_code == 302
    assert response.url == reverse("commitments:commitment", args=[commitment.pk])
    commitment.refresh_from_db()
    assert commitment.status == Status.ACCEPTED


def test_accepting_a_commitment_not_delivered_is_refused_with_a_message(tree, users, client_for):
    programme = programme_of(tree, n=1, published=True)
    commitment = programme.commitments.get()
    client = english(client_for(users["county_admin"]))
    client.post(reverse("commitments:accept_delivery", args=[commitment.pk]))
    page = client.get(reverse("commitments:programme", args=[programme.pk]))
    assert "Only a delivered commitment can be accepted." in page.text
    commitment.refresh_from_db()
    assert commitment.status == Status.PLANNED


@pytest.mark.parametrize("role", ["unit_officer", "supervisor", "nobody"])
def test_only_a_reviewer_accepts_delivery(tree, users, client_for, role):
    programme = programme_of(tree, n=1, published=True)
    commitment = delivered(users, programme)
    url = reverse("commitments:accept_delivery", args=[commitment.pk])
    assert client_for(users[role]).post(url).status_code == 404
    commitment.refresh_from_db()
    assert commitment.status == Status.DELIVERED


# --- a fixed number of queries --------------------------------------------------------------------


@pytest.mark.parametrize("published", [False, True])
def test_the_programme_page_costs_the_same_with_3_and_30_commitments(
    tree, users, client_for, django_assert_max_num_queries, published
):
    programme = programme_of(tree, n=3, published=published)
    client = client_for(users["county_admin"])
    url = reverse("commitments:programme", args=[programme.pk])
    counts = [count_queries(django_assert_max_num_queries, 11, lambda: client.get(url))]
    add_items(tree, programme, 4, 31)
    counts.append(count_queries(django_assert_max_num_queries, 11, lambda: client.get(url)))
    assert counts[0] == counts[1]


def test_the_programmes_page_costs_the_same_with_1_and_6_programmes(
    tree, users, client_for, django_assert_max_num_queries
):
    programme_of(tree, n=2)
    client = client_for(users["county_admin"])
    url = reverse("commitments:programmes")
    counts = [count_queries(django_assert_max_num_queries, 11, lambda: client.get(url))]
    for year in range(2022, 2027):
        programme_of(tree, n=2, year=year)
    counts.append(count_queries(django_assert_max_num_queries, 11, lambda: client.get(url)))
    assert counts[0] == counts[1]


def test_the_commitment_forms_cost_the_same_with_3_and_30_commitments(
    tree, users, client_for, django_assert_max_num_queries
):
    programme = programme_of(tree, n=3)
    commitment = programme.commitments.first()
    client = client_for(users["county_admin"])
    urls = [
        reverse("commitments:commitment_new", args=[programme.pk]),
        reverse("commitments:commitment_edit", args=[commitment.pk]),
        reverse("commitments:programme_new"),
    ]
    before = [
        count_queries(django_assert_max_num_queries, 14, lambda u=u: client.get(u)) for u in urls
    ]
    add_items(tree, programme, 4, 31)
    org_services.create_org(
        None, parent=tree["county"], kind="department", name="测试县卫健局", code="D990101002"
    )
    after = [
        count_queries(django_assert_max_num_queries, 14, lambda u=u: client.get(u)) for u in urls
    ]
    assert before == after


def test_blank_target_and_milestone_rows_are_ignored(tree):
    services.ensure_categories()
    form = CommitmentForm(commitment_form(tree), county=tree["county"])
    assert form.is_valid(), form.errors
    data = form.commitment_data()
    assert len(data["targets"]) == 1
    assert len(data["milestones"]) == 1
    assert "number" not in data
