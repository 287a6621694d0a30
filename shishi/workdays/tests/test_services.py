"""Setting calendar days: who may, what is written, and what the shared calendar then says."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from shishi.audit.models import Entry
from shishi.workdays import services
from shishi.workdays.models import Day

pytestmark = pytest.mark.django_db

SATURDAY = dt.date(2031, 3, 8)
MONDAY = dt.date(2031, 3, 10)


@pytest.fixture(autouse=True)
def fresh_calendar():
    """The calendar is cached per process; each test starts and ends with a fresh one."""
    services.forget()
    yield
    services.forget()


def test_the_sysadmin_marks_a_monday_off_and_the_calendar_follows(users):
    assert services.calendar().is_workday(MONDAY)
    day = services.set_day(users["sysadmin"], MONDAY, is_workday=False, name="县庆")
    assert (day.is_workday, day.name, day.source) == (False, "县庆", Day.Source.ADMIN)
    assert day.updated_by == users["sysadmin"]
    assert not services.calendar().is_workday(MONDAY)
    entry = Entry.objects.get(action="workdays.day.set")
    assert entry.actor == users["sysadmin"]
    assert entry.changes["is_workday"] == [None, False]


def test_a_saturday_marked_as_working_day_counts_in_deadlines(users):
    services.set_day(users["sysadmin"], SATURDAY, is_workday=True, name="调休上班")
    friday = dt.date(2031, 3, 7)
    assert services.calendar().add_workdays(friday, 1) == SATURDAY


def test_changing_a_day_again_updates_the_one_row(users):
    services.set_day(users["sysadmin"], MONDAY, is_workday=False, name="A")
    services.set_day(users["sysadmin"], MONDAY, is_workday=False, name="B")
    assert Day.objects.filter(date=MONDAY).count() == 1
    assert Day.objects.get(date=MONDAY).name == "B"
    assert Entry.objects.filter(action="workdays.day.set").last().changes["name"] == ["A", "B"]


def test_back_to_normal_removes_the_override(users):
    services.set_day(users["sysadmin"], MONDAY, is_workday=False)
    assert services.set_day(users["sysadmin"], MONDAY, is_workday=None) is None
    assert not Day.objects.filter(date=MONDAY).exists()
    assert services.calendar().is_workday(MONDAY)
    assert Entry.objects.filter(action="workdays.day.removed").count() == 1


def test_back_to_normal_on_a_normal_day_writes_nothing(users):
    before = Entry.objects.count()
    services.set_day(users["sysadmin"], MONDAY, is_workday=None)
    assert Entry.objects.count() == before


@pytest.mark.parametrize("role", ["county_admin", "unit_officer", "auditor", "nobody"])
def test_only_a_system_administrator_changes_the_calendar(users, role):
    before = Entry.objects.count()
    with pytest.raises(PermissionDenied):
        services.set_day(users[role], MONDAY, is_workday=False)
    assert not Day.objects.exists()
    assert Entry.objects.count() == before


def test_a_name_too_long_is_refused_and_nothing_is_written(users):
    before = Entry.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.set_day(users["sysadmin"], MONDAY, is_workday=False, name="节" * 51)
    assert "At most 50 characters; this has 51." in exc.value.message_dict["name"]
    assert not Day.objects.exists()
    assert Entry.objects.count() == before


def test_seeding_from_the_library_keeps_the_days_an_administrator_set(users):
    national_day = dt.date(2024, 10, 1)
    services.set_day(users["sysadmin"], national_day, is_workday=True, name="值班")
    written = services.seed_from_library()
    assert written > 100
    kept = Day.objects.get(date=national_day)
    assert (kept.is_workday, kept.name, kept.source) == (True, "值班", Day.Source.ADMIN)
    spring = Day.objects.get(date=dt.date(2024, 2, 12))
    assert (spring.is_workday, spring.name, spring.source) == (False, "春节", Day.Source.LIBRARY)
    assert Day.objects.get(date=dt.date(2024, 2, 4)).is_workday  # a Sunday worked in exchange


def test_seeding_twice_gives_the_same_calendar(db):
    services.seed_from_library()
    first = list(Day.objects.values_list("date", "is_workday", "name"))
    services.seed_from_library()
    assert list(Day.objects.values_list("date", "is_workday", "name")) == first
