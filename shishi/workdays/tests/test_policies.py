"""Deadline policies as data, the one rule for lights (one item, a list's filter, the cutoff), and
the calendar's copy in every process following each edit."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from shishi.audit.models import Entry
from shishi.commitments.lights import COMMITMENT, MILESTONE
from shishi.commitments.models import Milestone
from shishi.lib.workdays import Light
from shishi.testing import commitment_data, make_programme
from shishi.workdays import services
from shishi.workdays.lights import due_soon_cutoff, light_of, light_q
from shishi.workdays.models import DeadlinePolicy, Version

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2031, 3, 10)


def test_each_mechanism_ships_its_deadlines_with_a_default_policy(db):
    kinds = services.deadline_kinds()
    assert COMMITMENT in kinds and MILESTONE in kinds
    p = services.policy(COMMITMENT)
    assert (p.counting, p.due_soon, p.is_default) == ("workdays", 10, True)


def test_an_unknown_kind_of_deadline_is_an_error(db):
    with pytest.raises(KeyError):
        services.policy("cases.nonsense")


def test_the_administrator_sets_a_policy_and_every_light_follows(users):
    deadline = services.calendar().add_workdays(MONDAY, 5)
    assert light_of(COMMITMENT, deadline, None, MONDAY) == Light.DUE_SOON
    p = services.set_policy(users["sysadmin"], COMMITMENT, counting="workdays", due_soon=3)
    assert (p.due_soon, p.is_default) == (3, False)
    assert light_of(COMMITMENT, deadline, None, MONDAY) == Light.ON_TRACK
    entry = Entry.objects.get(action="workdays.policy.set")
    assert entry.changes == {"counting": ["workdays", "workdays"], "due_soon": [10, 3]}
    assert entry.actor == users["sysadmin"]
    # The milestones keep their own policy.
    assert services.policy(MILESTONE).due_soon == 10


def test_calendar_days_count_the_weekend(users):
    services.set_policy(None, COMMITMENT, counting="calendar_days", due_soon=3)
    friday = MONDAY + dt.timedelta(days=4)
    # From Friday, Monday is three calendar days away (due soon) but one working day.
    assert light_of(COMMITMENT, friday + dt.timedelta(days=3), None, friday) == Light.DUE_SOON
    assert light_of(COMMITMENT, friday + dt.timedelta(days=4), None, friday) == Light.ON_TRACK
    assert due_soon_cutoff(COMMITMENT, friday) == friday + dt.timedelta(days=4)


@pytest.mark.parametrize("role", ["county_admin", "auditor", "unit_officer"])
def test_only_an_administrator_of_settings_sets_a_policy(users, role):
    with pytest.raises(PermissionDenied):
        services.set_policy(users[role], COMMITMENT, counting="workdays", due_soon=3)
    assert not DeadlinePolicy.objects.exists()


@pytest.mark.parametrize(
    ("counting", "due_soon", "field"),
    [("weeks", 3, "counting"), ("workdays", -1, "due_soon"), ("workdays", "x", "due_soon")],
)
def test_a_bad_policy_is_refused_with_its_field(users, counting, due_soon, field):
    with pytest.raises(ValidationError) as exc:
        services.set_policy(users["sysadmin"], COMMITMENT, counting=counting, due_soon=due_soon)
    assert field in exc.value.error_dict
    assert not DeadlinePolicy.objects.exists()


def test_the_light_filter_is_the_twin_of_the_light(tree, users):
    """Every light, on a row of each kind: the database filter picks exactly the rows whose
    computed light it names, on the plain week and after the policy changes."""
    programme = make_programme(
        tree["county"],
        2031,
        [
            commitment_data(
                tree["dept"],
                f"事项{i}",
                due_in=i,
                milestones=[
                    {
                        "title": f"节点{j}",
                        "planned_date": timezone.localdate() + dt.timedelta(days=j),
                    }
                    for j in (-3, 0, 4, 20)
                ],
            )
            for i in (-2, 0, 1, 6, 13, 40)
        ],
    )
    milestones = Milestone.objects.filter(commitment__programme=programme)
    done = milestones.first()
    done.done_date = done.planned_date
    done.save()
    for due_soon in (10, 2):
        services.set_policy(None, MILESTONE, counting="workdays", due_soon=due_soon)
        for value in Light:
            q = light_q(MILESTONE, value, deadline="planned_date", done_on="done_date")
            picked = set(milestones.filter(q).values_list("pk", flat=True))
            expected = {
                m.pk
                for m in milestones
                if light_of(MILESTONE, m.planned_date, m.done_date) == value
            }
            assert picked == expected, (due_soon, value)


def test_every_process_follows_an_edit_at_its_next_request(users, client_for):
    services.calendar()  # this process's copy
    version = Version.objects.get().n if Version.objects.exists() else 0
    # Another process's edit: the version moves in the database, this copy does not know it.
    Version.objects.update_or_create(pk=1, defaults={"n": version + 1})
    DeadlinePolicy.objects.create(kind=COMMITMENT, counting="workdays", due_soon=2)
    page = client_for(users["sysadmin"]).get(reverse("workdays:calendar"))
    assert page.status_code == 200
    assert [p.due_soon for p, _form in page.context["policies"] if p.kind == COMMITMENT] == [2]


def test_outside_a_request_the_copy_is_checked_again_after_a_moment(users, monkeypatch):
    services.calendar()
    DeadlinePolicy.objects.create(kind=COMMITMENT, counting="workdays", due_soon=2)
    Version.objects.update_or_create(pk=1, defaults={"n": 99})
    monkeypatch.setattr(services, "RECHECK_SECONDS", 0.0)
    assert services.policy(COMMITMENT).due_soon == 2


def test_the_calendar_page_sets_a_policy(users, client_for):
    client = client_for(users["sysadmin"])
    response = client.post(
        reverse("workdays:calendar") + "?year=2031",
        {"kind": COMMITMENT, "counting": "calendar_days", "due_soon": "5"},
    )
    assert response.status_code == 302
    p = services.policy(COMMITMENT)
    assert (p.counting, p.due_soon) == ("calendar_days", 5)


def test_the_calendar_page_names_a_bad_policy_value(users, client_for):
    client = client_for(users["sysadmin"])
    response = client.post(
        reverse("workdays:calendar"),
        {"kind": COMMITMENT, "counting": "workdays", "due_soon": "400"},
    )
    assert response.status_code == 200
    assert not DeadlinePolicy.objects.exists()


def test_a_reader_of_the_calendar_sees_the_policies_but_cannot_post(users, client_for):
    client = client_for(users["county_admin"])
    page = client.get(reverse("workdays:calendar"))
    assert page.status_code == 200
    assert 'name="due_soon"' not in page.text
    response = client.post(
        reverse("workdays:calendar"), {"kind": COMMITMENT, "counting": "workdays", "due_soon": 3}
    )
    assert response.status_code == 403
    assert not DeadlinePolicy.objects.exists()


def test_a_kind_nobody_declared_fails_loudly_not_silently(db):
    with pytest.raises(KeyError):
        light_of("nobody.declared", MONDAY, None, MONDAY)
    with pytest.raises(KeyError):
        light_q("nobody.declared", Light.OVERDUE, MONDAY)
