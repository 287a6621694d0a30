"""Reminders: the responsible unit's officers hear of commitments due soon or overdue, once each."""

import datetime as dt

import pytest

from conftest import make_user
from shishi.commitments import services
from shishi.commitments.models import Commitment
from shishi.notifications.models import Notification
from shishi.notifications.services import render
from shishi.orgs.models import RoleKind
from shishi.testing import item_2026, number
from shishi.workdays.services import forget

pytestmark = pytest.mark.django_db

# A Monday; on the plain week (no holidays in the test calendar) ten working days run to 16 Nov.
TODAY = dt.date(2026, 11, 2)


@pytest.fixture
def listed(programme, tree, users):
    """1 due soon, 2 overdue, 3 on track, 4 delivered (all the education bureau's), 5 the east
    town's, overdue."""
    admin = users["county_admin"]
    for title, deadline, unit in [
        ("幼儿园", "2026-11-06", tree["dept"]),
        ("高中学位", "2026-10-30", tree["dept"]),
        ("校舍改造", "2026-12-31", tree["dept"]),
        ("课后服务", "2026-10-01", tree["dept"]),
        ("农贸市场", "2026-09-30", tree["east"]),
    ]:
        services.add_commitment(
            admin, programme, item_2026(tree, title=title, deadline=deadline, responsible_unit=unit)
        )
    services.publish_programme(admin, programme)
    forget()  # the plain week: no holidays between 2 and 16 November anyway
    done = services.submit_progress(
        users["unit_officer"],
        number(programme, 4),
        text="完成",
        percent_complete=100,
        delivered=True,
    )
    services.review_progress(admin, done, accept=True)
    Notification.objects.all().delete()  # the review's own notices are not reminders
    return programme


def reminders(user):
    """The reminders, one per commitment: a digest gathering several has no item of its own."""
    return Notification.objects.filter(
        user=user, kind__in=["commitments.due_soon", "commitments.overdue"]
    ).exclude(target_type="")


def test_unit_officers_hear_of_commitments_due_soon_and_overdue(listed, users):
    assert services.send_reminders(TODAY) == 2
    notes = {n.kind: render(n) for n in reminders(users["unit_officer"])}
    assert set(notes) == {"commitments.due_soon", "commitments.overdue"}
    assert (
        "幼儿园" in notes["commitments.due_soon"] and "2026-11-06" in notes["commitments.due_soon"]
    )
    assert "高中学位" in notes["commitments.overdue"]
    due_soon = reminders(users["unit_officer"]).get(kind="commitments.due_soon")
    assert due_soon.url.endswith(f"/{number(listed, 1).pk}/")


def test_each_unit_hears_only_of_its_own_commitments(listed, tree, users):
    services.send_reminders(TODAY)
    # Town administrators are not unit officers; an officer of the east town hears of its item.
    assert not reminders(users["east_admin"]).exists()
    officer = make_user(tree, "east_officer", RoleKind.UNIT_OFFICER, "east")
    assert services.send_reminders(TODAY) == 1
    assert [render(n) for n in reminders(officer)] == [
        f"Commitment 5 is overdue since 2026-09-30: {number(listed, 5).title}"
    ]


def test_running_twice_sends_nothing_new(listed, users):
    assert services.send_reminders(TODAY) == 2
    assert services.send_reminders(TODAY) == 0
    assert reminders(users["unit_officer"]).count() == 2


def test_a_commitment_turning_overdue_is_reminded_again(listed, users):
    services.send_reminders(TODAY)
    assert services.send_reminders(dt.date(2026, 11, 9)) == 1  # item 1 is now overdue
    kinds = sorted(
        n.kind for n in reminders(users["unit_officer"]).filter(params__title__icontains="幼儿园")
    )
    assert kinds == ["commitments.due_soon", "commitments.overdue"]


def test_a_deferral_gives_a_new_reminder_for_the_new_deadline(listed, users):
    services.send_reminders(TODAY)
    adj = services.propose_adjustment(
        users["unit_officer"],
        listed,
        kind="defer",
        commitments=[number(listed, 2)],
        payload={"deadline": "2026-11-10"},
        reason="延期",
    )
    services.decide_adjustment(users["county_admin"], adj, approve=True)
    assert services.send_reminders(TODAY) == 1
    latest = (
        reminders(users["unit_officer"]).filter(params__title__icontains="高中学位").latest("id")
    )
    assert (latest.kind, "2026-11-10" in render(latest)) == ("commitments.due_soon", True)


def test_nothing_is_reminded_on_a_draft_or_for_a_removed_commitment(programme, tree, users):
    services.add_commitment(
        users["county_admin"], programme, item_2026(tree, deadline="2026-10-01")
    )
    assert services.send_reminders(TODAY) == 0
    services.publish_programme(users["county_admin"], programme)
    adj = services.propose_adjustment(
        users["unit_officer"],
        programme,
        kind="cancel",
        commitments=[Commitment.objects.get()],
        payload={},
        reason="取消",
    )
    services.decide_adjustment(users["county_admin"], adj, approve=True)
    assert services.send_reminders(TODAY) == 0
    assert not Notification.objects.filter(
        kind__in=["commitments.due_soon", "commitments.overdue"]
    ).exists()


def test_an_inactive_officer_is_not_reminded(listed, users):
    officer = users["unit_officer"]
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert services.send_reminders(TODAY) == 0


def test_the_daily_command_queues_the_reminders_job(listed, users):
    import time_machine
    from django.core.management import call_command

    with time_machine.travel(dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        call_command("send_reminders")
        call_command("send_reminders")
    assert reminders(users["unit_officer"]).count() == 2
