"""Adjustments through their pages: proposing each kind, the queues, approving and rejecting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from shishi.audit.models import Entry
from shishi.commitments import services
from shishi.commitments.forms_manage import CommitmentForm
from shishi.commitments.models import Adjustment, Commitment, Decision, Status
from shishi.orgs import services as org_services
from shishi.orgs.models import RoleKind
from shishi.testing import (
    add_items,
    as_posted,
    commitment_form,
    count_queries,
    english,
    programme_of,
)

PASSWORD = "Correct-horse-42"


def new_login(tree, username: str, role: str):
    person = org_services.create_person(None, org=tree["county"], name=f"测试{username}")
    user = org_services.create_login(None, person, username=username, password=PASSWORD)
    org_services.grant_role(None, user, tree["county"], role)
    return user


def propose_url(programme, kind: str, commitment=None, **query) -> str:
    url = reverse("commitments:adjustment_new", args=[programme.pk, kind])
    if commitment is not None:
        query["commitment"] = commitment.pk
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def approve(client, adjustment, note: str = "同意", action: str = "approve"):
    adjustment.refresh_from_db()
    return client.post(
        reverse("commitments:adjustment", args=[adjustment.pk]),
        {"action": action, "note": note, "state": adjustment.state},
        follow=True,
    )


@pytest.fixture
def programme(tree):
    return programme_of(tree, n=3, published=True)


def first(programme) -> Commitment:
    return programme.commitments.order_by("number").first()


# --- each kind, proposed through its form and approved through the adjustment page -------------


def test_a_unit_officer_defers_a_commitment_and_the_county_office_approves(
    tree, users, client_for, programme
):
    commitment = first(programme)
    officer = english(client_for(users["unit_officer"]))
    form = officer.get(propose_url(programme, "defer", commitment)).context["form"]
    assert form["commitment"].value() == commitment.pk
    response = officer.post(
        propose_url(programme, "defer", commitment),
        {"commitment": commitment.pk, "deadline": "2032-06-30", "reason": "征地延误"},
    )
    adjustment = Adjustment.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("commitments:adjustment", args=[adjustment.pk])
    assert (adjustment.kind, adjustment.payload) == ("defer", {"deadline": "2032-06-30"})
    assert adjustment.proposed_by == users["unit_officer"]

    admin = english(client_for(users["county_admin"]))
    page = admin.get(reverse("commitments:adjustment", args=[adjustment.pk]))
    assert "征地延误" in page.text
    assert "2031-12-31" in page.text and "2032-06-30" in page.text
    assert "Approve and apply" in page.text
    response = approve(admin, adjustment)
    assert "approved and applied" in response.text
    commitment.refresh_from_db()
    assert commitment.status == Status.DEFERRED
    assert commitment.deadline == dt.date(2032, 6, 30)


def test_a_unit_officer_changes_fields_and_only_the_changed_ones_are_proposed(
    tree, users, client_for, programme
):
    commitment = first(programme)
    officer = english(client_for(users["unit_officer"]))
    url = propose_url(programme, "change", commitment)
    page = officer.get(url)
    part = page.context["parts"][0]
    assert part["title"].value() == "实事1"
    assert "number" not in part.fields
    data = as_posted(page.context["form"]) | as_posted(part)
    data["c-title"] = "实事1（扩大）"
    data["c-budget_planned"] = "1,200,000"
    data["reason"] = "规模扩大"
    response = officer.post(url, data)
    assert response.status_code == 302, response.context and response.context["form"].errors
    adjustment = Adjustment.objects.get()
    assert adjustment.payload == {
        "fields": {"title": "实事1（扩大）", "budget_planned": "1,200,000"}
    }
    admin = english(client_for(users["county_admin"]))
    page = admin.get(reverse("commitments:adjustment", args=[adjustment.pk]))
    # Money reads as on the public change log (commitments.display): 万元 from 10,000 yuan up.
    assert "100.00 ten-thousand yuan" in page.text and "120.00 ten-thousand yuan" in page.text
    approve(admin, adjustment)
    commitment.refresh_from_db()
    assert commitment.title == "实事1（扩大）"
    assert commitment.budget_planned == 1200000
    assert commitment.number == 1
    # Once applied, the page still shows what it was before.
    page = admin.get(reverse("commitments:adjustment", args=[adjustment.pk]))
    assert "100.00 ten-thousand yuan" in page.text


def test_a_change_that_changes_nothing_is_refused(tree, users, client_for, programme):
    commitment = first(programme)
    officer = english(client_for(users["unit_officer"]))
    url = propose_url(programme, "change", commitment)
    page = officer.get(url)
    data = as_posted(page.context["form"]) | as_posted(page.context["parts"][0])
    data["reason"] = "无"
    response = officer.post(url, data)
    assert response.status_code == 200
    assert "Say what changes." in response.text
    assert not Adjustment.objects.exists()


def test_the_change_form_asks_which_commitment_first(tree, users, client_for, programme):
    response = client_for(users["unit_officer"]).get(propose_url(programme, "change"))
    assert response.status_code == 200
    assert 'name="commitment"' in response.text
    assert "实事1" in response.text and "实事3" in response.text


def test_a_unit_officer_cancels_a_commitment(tree, users, client_for, programme):
    commitment = first(programme)
    officer = client_for(users["unit_officer"])
    officer.post(
        propose_url(programme, "cancel", commitment),
        {"commitment": commitment.pk, "reason": "已由省级项目覆盖"},
    )
    adjustment = Adjustment.objects.get()
    approve(client_for(users["county_admin"]), adjustment)
    commitment.refresh_from_db()
    assert commitment.status == Status.CANCELLED


def test_a_unit_officer_splits_a_commitment_into_two(tree, users, client_for, programme):
    commitment = first(programme)
    officer = english(client_for(users["unit_officer"]))
    url = propose_url(programme, "split", commitment)
    page = officer.get(url)
    assert len(page.context["parts"]) == 2
    # Each part starts from the original's unit and dates.
    assert page.context["parts"][0]["responsible_unit"].value() == tree["dept"].pk
    data = {"commitment": commitment.pk, "reason": "分城区、农村两部分实施"}
    data |= commitment_form(tree, "part1-", title="城区部分")
    data |= commitment_form(tree, "part2-", title="农村部分", number="10")
    response = officer.post(url, data)
    assert response.status_code == 302
    adjustment = Adjustment.objects.get()
    approve(client_for(users["county_admin"]), adjustment)
    commitment.refresh_from_db()
    assert commitment.status == Status.CANCELLED
    parts = list(adjustment.results.order_by("number"))
    assert [(c.number, c.title) for c in parts] == [(4, "城区部分"), (10, "农村部分")]


def test_a_split_part_with_bad_input_shows_the_error_on_that_part(
    tree, users, client_for, programme
):
    commitment = first(programme)
    officer = english(client_for(users["unit_officer"]))
    data = {"commitment": commitment.pk, "reason": "拆分"}
    data |= commitment_form(tree, "part1-", title="城区部分")
    data |= commitment_form(tree, "part2-", title="农村部分", deadline="2020-01-01")
    response = officer.post(propose_url(programme, "split", commitment), data)
    assert response.status_code == 200
    parts = response.context["parts"]
    assert not parts[0].errors
    assert "is before the start" in parts[1].errors["deadline"][0]
    assert not Adjustment.objects.exists()


def test_a_split_into_three_offers_three_parts(tree, users, client_for, programme):
    page = client_for(users["unit_officer"]).get(
        propose_url(programme, "split", first(programme), parts=3)
    )
    assert len(page.context["parts"]) == 3


def test_a_unit_officer_merges_two_commitments_into_one(tree, users, client_for, programme):
    one, two = list(programme.commitments.order_by("number"))[:2]
    officer = client_for(users["unit_officer"])
    page = officer.get(propose_url(programme, "merge", one))
    assert page.context["form"]["commitments"].value() == [one.pk]
    data = {"commitments": [one.pk, two.pk], "reason": "同一地块，合并实施"}
    data |= commitment_form(tree, "into-", title="合并后的实事")
    response = officer.post(propose_url(programme, "merge"), data)
    assert response.status_code == 302
    adjustment = Adjustment.objects.get()
    approve(client_for(users["county_admin"]), adjustment)
    merged = adjustment.results.get()
    assert merged.title == "合并后的实事"
    for c in (one, two):
        c.refresh_from_db()
        assert (c.status, c.merged_into) == (Status.MERGED, merged)


def test_merging_one_commitment_is_refused(tree, users, client_for, programme):
    officer = english(client_for(users["unit_officer"]))
    data = {"commitments": [first(programme).pk], "reason": "合并"}
    data |= commitment_form(tree, "into-")
    response = officer.post(propose_url(programme, "merge"), data)
    assert response.status_code == 200
    assert "Choose at least two commitments to merge." in response.text
    assert not Adjustment.objects.exists()


def test_the_county_office_adds_a_commitment_and_a_colleague_approves(
    tree, users, client_for, programme
):
    admin = english(client_for(users["county_admin"]))
    data = {"reason": "群众呼声高"} | commitment_form(tree, "new-", title="新增农村书屋")
    response = admin.post(propose_url(programme, "add"), data)
    assert response.status_code == 302
    adjustment = Adjustment.objects.get()
    page = admin.get(reverse("commitments:adjustment", args=[adjustment.pk]))
    assert "新增农村书屋" in page.text
    assert "测试县教育局" in page.text  # the unit by name, not by code
    colleague = new_login(tree, "county_admin2", RoleKind.COUNTY_ADMIN)
    approve(english(client_for(colleague)), adjustment)
    added = adjustment.results.get()
    assert (added.number, added.title, added.status) == (4, "新增农村书屋", Status.PLANNED)


def test_a_unit_officer_cannot_add_to_the_list(tree, users, client_for, programme):
    officer = english(client_for(users["unit_officer"]))
    data = {"reason": "群众呼声高"} | commitment_form(tree, "new-")
    response = officer.post(propose_url(programme, "add"), data)
    assert response.status_code == 200
    assert "Your role does not allow proposing this adjustment." in response.text
    assert not Adjustment.objects.exists()


# --- bad input and wrong roles --------------------------------------------------------------------


def test_an_adjustment_without_a_reason_is_refused(tree, users, client_for, programme):
    commitment = first(programme)
    officer = english(client_for(users["unit_officer"]))
    response = officer.post(
        propose_url(programme, "cancel", commitment), {"commitment": commitment.pk, "reason": " "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not Adjustment.objects.exists()


def test_a_deferral_to_an_earlier_date_is_refused(tree, users, client_for, programme):
    commitment = first(programme)
    officer = english(client_for(users["unit_officer"]))
    response = officer.post(
        propose_url(programme, "defer", commitment),
        {"commitment": commitment.pk, "deadline": "2030-01-01", "reason": "延期"},
    )
    assert response.status_code == 200
    assert "A deferral moves the deadline later than 2031-12-31." in response.text
    assert not Adjustment.objects.exists()


def test_an_unknown_kind_answers_404(tree, users, client_for, programme):
    client = client_for(users["county_admin"])
    assert client.get(propose_url(programme, "rename")).status_code == 404


@pytest.mark.parametrize("role", ["nobody", "west_admin", "cadre"])
def test_the_proposal_pages_answer_404_outside_the_scope(tree, users, client_for, programme, role):
    commitment = first(programme)
    client = client_for(users[role])
    url = propose_url(programme, "cancel", commitment)
    assert client.get(url).status_code == 404
    assert client.post(url, {"commitment": commitment.pk, "reason": "x"}).status_code == 404
    assert not Adjustment.objects.exists()


def test_a_supervisor_sees_the_form_but_may_not_propose(tree, users, client_for, programme):
    commitment = first(programme)
    client = english(client_for(users["supervisor"]))
    url = propose_url(programme, "cancel", commitment)
    assert client.get(url).status_code == 200
    response = client.post(url, {"commitment": commitment.pk, "reason": "取消"})
    assert "Your role does not allow proposing this adjustment." in response.text
    assert not Adjustment.objects.exists()


def test_adjusting_a_draft_list_is_refused(tree, users, client_for):
    programme = programme_of(tree, n=1)
    commitment = first(programme)
    client = english(client_for(users["county_admin"]))
    response = client.post(
        propose_url(programme, "cancel", commitment), {"commitment": commitment.pk, "reason": "x"}
    )
    assert "Adjustments are made to a published list." in response.text
    assert not Adjustment.objects.exists()


def cancel_proposed(users, programme, by="unit_officer") -> Adjustment:
    return services.propose_adjustment(
        users[by],
        programme,
        kind="cancel",
        commitments=[first(programme)],
        payload={},
        reason="不再需要",
    )


def test_a_rejection_without_a_note_is_refused(tree, users, client_for, programme):
    adjustment = cancel_proposed(users, programme)
    admin = english(client_for(users["county_admin"]))
    response = approve(admin, adjustment, note="", action="reject")
    assert response.status_code == 200
    assert "Say why the adjustment is rejected." in response.text
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.PROPOSED
    assert not Decision.objects.exists()
    response = approve(admin, adjustment, note="理由不充分", action="reject")
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.REJECTED
    assert "理由不充分" in response.text
    assert first(programme).status == Status.PLANNED


def test_approving_twice_is_refused_and_changes_nothing(tree, users, client_for, programme):
    adjustment = cancel_proposed(users, programme)
    admin = english(client_for(users["county_admin"]))
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    seen = {"action": "approve", "note": "", "state": "proposed"}
    admin.post(url, seen)
    entries = Entry.objects.count()
    response = admin.post(url, seen, follow=True)
    assert "This adjustment has already been decided." in response.text
    assert Decision.objects.count() == 1
    assert Entry.objects.count() == entries


def test_approving_an_adjustment_decided_in_another_tab_is_refused(
    tree, users, client_for, programme
):
    adjustment = cancel_proposed(users, programme)
    services.decide_adjustment(users["county_admin"], adjustment, approve=False, note="不同意")
    admin = english(client_for(users["county_admin"]))
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    response = admin.post(url, {"action": "approve", "state": "rejected"}, follow=True)
    assert "This adjustment has already been decided." in response.text
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.REJECTED
    assert Decision.objects.count() == 1


def test_the_proposer_cannot_approve_their_own(tree, users, client_for, programme):
    adjustment = cancel_proposed(users, programme, by="county_admin")
    admin = english(client_for(users["county_admin"]))
    page = admin.get(reverse("commitments:adjustment", args=[adjustment.pk]))
    assert 'value="approve"' not in page.text
    assert 'value="withdraw"' in page.text
    response = approve(admin, adjustment)
    assert "approved by someone other than its proposer" in response.text
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.PROPOSED


def test_a_supervisor_reads_the_adjustment_but_cannot_approve(tree, users, client_for, programme):
    adjustment = cancel_proposed(users, programme)
    supervisor = english(client_for(users["supervisor"]))
    page = supervisor.get(reverse("commitments:adjustment", args=[adjustment.pk]))
    assert page.status_code == 200
    assert 'value="approve"' not in page.text
    response = approve(supervisor, adjustment)
    assert "Your role does not allow this for 测试县." in response.text
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.PROPOSED
    assert not Decision.objects.exists()


def test_a_unit_officer_cannot_approve_what_the_county_office_proposed(
    tree, users, client_for, programme
):
    adjustment = cancel_proposed(users, programme, by="county_admin")
    officer = client_for(users["unit_officer"])
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    # The officer may read an adjustment of their unit's commitment, but not decide it.
    assert officer.get(url).status_code == 200
    assert officer.post(url, {"action": "approve", "state": "proposed"}).status_code in (302, 403)
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.PROPOSED


def test_the_proposer_withdraws_while_undecided(tree, users, client_for, programme):
    adjustment = cancel_proposed(users, programme)
    officer = english(client_for(users["unit_officer"]))
    approve(officer, adjustment, action="withdraw")
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.WITHDRAWN


def test_someone_else_cannot_withdraw(tree, users, client_for, programme):
    adjustment = cancel_proposed(users, programme)
    response = approve(english(client_for(users["county_admin"])), adjustment, action="withdraw")
    assert "Only the proposer can withdraw an adjustment." in response.text
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.PROPOSED


@pytest.mark.parametrize("role", ["nobody", "west_admin", "cadre"])
def test_the_adjustment_page_answers_404_outside_the_scope(
    tree, users, client_for, programme, role
):
    adjustment = cancel_proposed(users, programme)
    client = client_for(users[role])
    url = reverse("commitments:adjustment", args=[adjustment.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "approve", "state": "proposed"}).status_code == 404
    adjustment.refresh_from_db()
    assert adjustment.state == Adjustment.State.PROPOSED


def test_two_levels_need_the_county_leader_after_the_county_office(tree, users, client_for):
    programme = programme_of(tree, n=2, published=True, levels=2)
    adjustment = cancel_proposed(users, programme)
    admin = english(client_for(users["county_admin"]))
    page = admin.get(reverse("commitments:adjustment", args=[adjustment.pk]))
    assert "Approve and apply" not in page.text
    response = approve(admin, adjustment)
    assert "awaiting final approval" in response.text
    assert first(programme).status == Status.PLANNED
    # The county office cannot give the final approval as well.
    assert 'value="approve"' not in response.text

    leader = new_login(tree, "leader", RoleKind.LEADER)
    client = english(client_for(leader))
    queue = client.get(reverse("commitments:adjustments"))
    assert reverse("commitments:adjustment", args=[adjustment.pk]) in queue.text
    response = approve(client, adjustment, note="同意取消")
    assert "approved and applied" in response.text
    assert "Level 2" in response.text and "同意取消" in response.text
    assert first(programme).status == Status.CANCELLED


# --- the queues -----------------------------------------------------------------------------------


def test_the_queues_show_what_awaits_me_my_proposals_and_what_was_decided(
    tree, users, client_for, programme
):
    waiting = cancel_proposed(users, programme)
    decided = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="defer",
        commitments=[list(programme.commitments.order_by("number"))[1]],
        payload={"deadline": "2032-01-01"},
        reason="延期",
    )
    services.decide_adjustment(users["county_admin"], decided, approve=True)
    admin = client_for(users["county_admin"]).get(reverse("commitments:adjustments"))
    awaiting = admin.context["page"].object_list
    assert [a.pk for a in awaiting] == [waiting.pk]
    assert [a.pk for a in admin.context["decided"]] == [decided.pk]
    officer = client_for(users["unit_officer"]).get(reverse("commitments:adjustments"))
    assert list(officer.context["page"].object_list) == []
    assert {a.pk for a in officer.context["mine"]} == {waiting.pk, decided.pk}
    nobody = client_for(users["nobody"]).get(reverse("commitments:adjustments"))
    assert nobody.status_code == 200
    assert not nobody.context["mine"] and not nobody.context["decided"]


# --- a fixed number of queries --------------------------------------------------------------------


def test_the_adjustment_pages_cost_the_same_with_3_and_30_commitments(
    tree, users, client_for, django_assert_max_num_queries, programme
):
    adjustment = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="change",
        commitments=[first(programme)],
        payload={"fields": {"co_units": [tree["east"], tree["west"]], "title": "新标题"}},
        reason="调整",
    )
    add_items(tree, programme, 4, 5)  # one decided adjustment: every queue has rows
    client = client_for(users["county_admin"])
    urls = [
        reverse("commitments:adjustment", args=[adjustment.pk]),
        reverse("commitments:adjustments"),
        propose_url(programme, "change", first(programme)),
        propose_url(programme, "merge"),
        propose_url(programme, "split", first(programme)),
    ]
    before = [
        count_queries(django_assert_max_num_queries, 19, lambda u=u: client.get(u)) for u in urls
    ]
    add_items(tree, programme, 5, 31)
    for i in range(5):
        services.propose_adjustment(
            users["unit_officer"],
            programme,
            kind="cancel",
            commitments=[programme.commitments.get(number=10 + i)],
            payload={},
            reason="取消",
        )
    after = [
        count_queries(django_assert_max_num_queries, 19, lambda u=u: client.get(u)) for u in urls
    ]
    assert before == after


def test_an_applied_change_shows_before_and_after(tree, users, client_for, programme):
    commitment = first(programme)
    adjustment = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="change",
        commitments=[commitment],
        payload={"fields": {"co_units": [tree["west"]]}},
        reason="增加协办单位",
    )
    services.decide_adjustment(users["county_admin"], adjustment, approve=True)
    page = client_for(users["unit_officer"]).get(
        reverse("commitments:adjustment", args=[adjustment.pk])
    )
    rows = page.context["changes"]["changed"][0][1]
    assert [(before, after) for _label, before, after in rows] == [("—", "西镇")]


def test_the_commitment_form_maps_service_errors_to_its_rows(tree):
    services.ensure_categories()
    data = commitment_form(tree, target_1_name="", target_2_name="学位", target_2_target_value="x")
    form = CommitmentForm(data, county=tree["county"])
    assert form.is_valid()
    with pytest.raises(ValidationError) as caught:
        services.clean_commitment(form.commitment_data(), tree["county"])
    form.add_service_errors(caught.value)
    # Row 1 has only a unit and a baseline, so it counts; row 2's value is not a number.
    assert "target_1_name" in form.errors
    assert "x is not a number." in form.errors["target_2_target_value"][0]
