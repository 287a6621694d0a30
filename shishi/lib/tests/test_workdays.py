"""The working-day calendar and the lights, without a database."""

import datetime as dt

import pytest

from shishi.lib.workdays import Light, WorkCalendar, light

D = dt.date
# 2025: 1 May (Thu) to 5 May (Mon) off for Labour Day, Sunday 27 April worked in exchange.
LABOUR_DAY = {
    **{D(2025, 5, d): False for d in range(1, 6)},
    D(2025, 4, 27): True,
}
CAL = WorkCalendar(LABOUR_DAY)
PLAIN = WorkCalendar()


def test_weekdays_work_and_weekends_rest_without_overrides():
    assert PLAIN.is_workday(D(2025, 4, 25))  # Friday
    assert not PLAIN.is_workday(D(2025, 4, 26))  # Saturday
    assert not PLAIN.is_workday(D(2025, 4, 27))  # Sunday


def test_an_override_beats_the_week_both_ways():
    assert CAL.is_workday(D(2025, 4, 27))  # an exchanged Sunday
    assert not CAL.is_workday(D(2025, 5, 1))  # a holiday Thursday
    assert CAL.is_workday(D(2025, 5, 6))  # back to normal on Tuesday


def test_adding_no_workdays_gives_the_same_day():
    assert CAL.add_workdays(D(2025, 5, 3), 0) == D(2025, 5, 3)


def test_adding_workdays_skips_holidays_and_counts_exchanged_days():
    assert CAL.add_workdays(D(2025, 4, 25), 1) == D(2025, 4, 27)
    assert CAL.add_workdays(D(2025, 4, 30), 1) == D(2025, 5, 6)
    assert PLAIN.add_workdays(D(2025, 4, 30), 1) == D(2025, 5, 1)
    assert CAL.add_workdays(D(2025, 4, 28), 5) == D(2025, 5, 8)


def test_adding_a_negative_number_of_workdays_is_refused():
    with pytest.raises(ValueError):
        CAL.add_workdays(D(2025, 4, 28), -1)


def test_workdays_between_counts_after_the_start_up_to_and_including_the_end():
    assert CAL.workdays_between(D(2025, 4, 28), D(2025, 4, 28)) == 0
    assert CAL.workdays_between(D(2025, 4, 30), D(2025, 5, 6)) == 1
    assert PLAIN.workdays_between(D(2025, 4, 30), D(2025, 5, 6)) == 4
    assert CAL.workdays_between(D(2025, 4, 25), D(2025, 4, 27)) == 1


def test_workdays_between_is_negative_backwards():
    assert CAL.workdays_between(D(2025, 5, 6), D(2025, 4, 30)) == -1


def test_adding_and_counting_agree():
    start = D(2025, 4, 20)
    for n in range(0, 30):
        assert CAL.workdays_between(start, CAL.add_workdays(start, n)) == n


DEADLINE = D(2025, 5, 9)  # Friday


def test_done_by_the_deadline_is_done_on_time():
    assert light(DEADLINE, DEADLINE, D(2025, 6, 1), CAL, 3) == Light.DONE_ON_TIME


def test_done_after_the_deadline_is_done_late():
    assert light(DEADLINE, D(2025, 5, 10), D(2025, 6, 1), CAL, 3) == Light.DONE_LATE


def test_not_done_after_the_deadline_is_overdue():
    assert light(DEADLINE, None, D(2025, 5, 10), CAL, 3) == Light.OVERDUE


def test_the_deadline_day_itself_is_due_soon_not_overdue():
    assert light(DEADLINE, None, DEADLINE, CAL, 3) == Light.DUE_SOON


def test_due_soon_starts_exactly_at_the_threshold_of_working_days():
    # From Tuesday 6 May: 7, 8, 9 May are three working days left.
    assert light(DEADLINE, None, D(2025, 5, 6), CAL, 3) == Light.DUE_SOON
    # From Sunday 4 May (a holiday) the same three days plus Tuesday 6 May: four left.
    assert light(DEADLINE, None, D(2025, 5, 4), CAL, 3) == Light.ON_TRACK


def test_holidays_do_not_count_toward_the_threshold():
    # From 30 April: 6, 7, 8, 9 May work, 1-5 May off → four days, not on track at 4.
    assert light(DEADLINE, None, D(2025, 4, 30), CAL, 4) == Light.DUE_SOON
    assert light(DEADLINE, None, D(2025, 4, 30), PLAIN, 4) == Light.ON_TRACK
