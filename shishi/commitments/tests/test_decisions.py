"""Who decides an adjustment: one rule (access.may_decide, awaiting_decision) behind the desk's
"awaiting my approval", the approval queue, the adjustment's page and the service."""

import pytest
from django.urls import reverse

from conftest import make_user
from shishi.commitments import access as caccess
from shishi.commitments import services
from shishi.commitments.models import Adjustment
from shishi.orgs.models import RoleKind
from shishi.testing import commitment_data, make_programme, number

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_levels(tree, users):
    programme = make_programme(
        tree["county"],
        2026,
        [commitment_data(tree["dept"], f"事项{i}") for i in range(1, 5)],
    )
    programme.approval_levels = 2
    programme.save(update_fields=["approval_levels"])
    return programme


def propose(user, programme, n):
    return services.propose_adjustment(
        user,
        programme,
        kind=Adjustment.Kind.CANCEL,
        commitments=[number(programme, n)],
        payload={},
        reason=f"取消{n}",
    )


def listed(client):
    """The desk's count and rows, and the queue's count and rows, for the signed-in user."""
    desk = client.get(reverse("commitments:home")).context
    queue = client.get(reverse("commitments:adjustments")).context
    return (
        desk["approve_count"],
        sorted(a.pk for a in desk["to_approve"]),
        queue["page"].paginator.count,
        sorted(a.pk for a in queue["page"]),
    )


def test_the_desk_and_the_queue_give_the_same_list_and_count(tree, users, client_for, two_levels):
    leader = make_user(tree, "leader", RoleKind.LEADER, "county", "dept")
    second_admin = make_user(tree, "admin2", RoleKind.COUNTY_ADMIN, "county", "dept")
    mine = propose(users["county_admin"], two_levels, 1)
    theirs = propose(users["unit_officer"], two_levels, 2)
    first_approved = propose(users["unit_officer"], two_levels, 3)
    services.decide_adjustment(users["county_admin"], first_approved, approve=True)
    rejected = propose(users["unit_officer"], two_levels, 4)
    services.decide_adjustment(second_admin, rejected, approve=False, note="不同意")

    admin = listed(client_for(users["county_admin"]))
    # Not their own proposal; not the one they approved at the first level; not a decided one.
    assert admin == (1, [theirs.pk], 1, [theirs.pk])
    other = listed(client_for(second_admin))
    assert other == (2, sorted([mine.pk, theirs.pk]), 2, sorted([mine.pk, theirs.pk]))
    final = listed(client_for(leader))
    assert final == (1, [first_approved.pk], 1, [first_approved.pk])
    for user in (users["county_admin"], second_admin, leader):
        rule = {a.pk for a in Adjustment.objects.all() if caccess.may_decide(user, a)}
        assert rule == set(caccess.awaiting_decision(user).values_list("pk", flat=True))


def test_the_page_offers_the_decision_exactly_to_those_the_service_accepts(
    tree, users, client_for, two_levels
):
    leader = make_user(tree, "leader", RoleKind.LEADER, "county", "dept")
    adjustment = propose(users["unit_officer"], two_levels, 1)
    for user, offered in [
        (users["county_admin"], True),
        (leader, False),
        (users["unit_officer"], False),
        (users["auditor"], False),
    ]:
        page = client_for(user).get(reverse("commitments:adjustment", args=[adjustment.pk]))
        assert page.context["can_decide"] is offered, user
    services.decide_adjustment(users["county_admin"], adjustment, approve=True)
    adjustment.refresh_from_db()
    page = client_for(leader).get(reverse("commitments:adjustment", args=[adjustment.pk]))
    assert page.context["can_decide"] is True
    page = client_for(users["county_admin"]).get(
        reverse("commitments:adjustment", args=[adjustment.pk])
    )
    assert page.context["can_decide"] is False
