"""Working days on China's calendar: weekends off, public holidays off, and the weekend days
worked in exchange (调休) on. Framework-free: the overrides come from the caller.

Deadlines in working days ("within 5 working days") and the traffic lights of every mechanism
are computed here, so that one calendar serves them all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum


class WorkCalendar:
    """``overrides`` maps a date to True (a working day) or False (a day off); other days follow
    the week: Monday to Friday work, Saturday and Sunday off."""

    def __init__(self, overrides: Mapping[dt.date, bool] | None = None):
        self.overrides = dict(overrides or {})

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return day.weekday() < 5

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``start`` (``n`` ≥ 0; 0 gives ``start`` itself)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        while n > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                n -= 1
        return day

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after ``start`` up to and including ``end``; negative when end < start."""
        if end < start:
            return -self.workdays_between(end, start)
        count, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            count += self.is_workday(day)
        return count


class Light(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    DONE_ON_TIME = "done_on_time"
    DONE_LATE = "done_late"


class Counting(StrEnum):
    """How a deadline's remaining time is counted: on the working-day calendar, or in days."""

    WORKDAYS = "workdays"
    CALENDAR_DAYS = "calendar_days"


def due_soon_cutoff(
    today: dt.date, calendar: WorkCalendar, due_soon: int, counting: str = Counting.WORKDAYS
) -> dt.date:
    """The first deadline that is not yet "due soon" today: a deadline is due soon when at most
    ``due_soon`` working (or calendar) days remain after today up to it, that is exactly when it
    falls before the (``due_soon`` + 1)-th such day. Lists filter on this date in the database."""
    if counting == Counting.CALENDAR_DAYS:
        return today + dt.timedelta(days=due_soon + 1)
    return calendar.add_workdays(today, due_soon + 1)


def light(
    deadline: dt.date,
    done_on: dt.date | None,
    today: dt.date,
    calendar: WorkCalendar,
    due_soon: int,
    counting: str = Counting.WORKDAYS,
) -> Light:
    """The light of something due on ``deadline``.

    Done: on time when done on or before the deadline, late otherwise. Not done: overdue after the
    deadline; due soon when at most ``due_soon`` working days (or calendar days, by ``counting``)
    remain; on track before.
    """
    if done_on is not None:
        return Light.DONE_ON_TIME if done_on <= deadline else Light.DONE_LATE
    if today > deadline:
        return Light.OVERDUE
    if deadline < due_soon_cutoff(today, calendar, due_soon, counting):
        return Light.DUE_SOON
    return Light.ON_TRACK
