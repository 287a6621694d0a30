"""Traffic lights, for every mechanism: computed from a deadline, never stored by hand.

A mechanism declares its kinds of deadline with their default policy (``deadlines`` on its
AppConfig, ``Deadline`` objects); an administrator may change each policy. Then:

* ``light_of(kind, deadline, done_on)`` is the light of one item;
* ``due_soon_cutoff(kind, today)`` is the first deadline that is not yet due soon, so that lists
  can ask the database for what is due soon (``deadline < cutoff``) instead of testing rows;
* ``light_q(kind, value, ...)`` is the database filter equivalent to ``light_of(...) == value``.

All three apply one rule (``lib.workdays.light``), so a list filtered by light and the lights
shown on its rows always agree.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shishi.lib import workdays as rule
from shishi.lib.workdays import Light

from .services import calendar, policy

LIGHT_LABELS = {
    Light.ON_TRACK: _("on track"),
    Light.DUE_SOON: _("due soon"),
    Light.OVERDUE: _("overdue"),
    Light.DONE_ON_TIME: _("done on time"),
    Light.DONE_LATE: _("done late"),
}


def light_of(
    kind: str, deadline: dt.date, done_on: dt.date | None, today: dt.date | None = None
) -> Light:
    """The light of an item of ``kind`` due on ``deadline`` and done on ``done_on`` (or not)."""
    p = policy(kind)
    today = today or timezone.localdate()
    return rule.light(deadline, done_on, today, calendar(), p.due_soon, p.counting)


def due_soon_cutoff(kind: str, today: dt.date | None = None) -> dt.date:
    """The first deadline of ``kind`` that is not yet due soon ``today``."""
    p = policy(kind)
    today = today or timezone.localdate()
    return rule.due_soon_cutoff(today, calendar(), p.due_soon, p.counting)


def light_q(
    kind: str,
    value: str,
    today: dt.date | None = None,
    *,
    deadline: str = "deadline",
    done_on: str = "done_on",
    done: Q | None = None,
    pending: Q | None = None,
) -> Q:
    """The rows whose light is ``value``, as a filter: the database twin of ``light_of``.

    ``deadline`` and ``done_on`` name the fields; ``done`` selects the rows that count as done
    (default: ``done_on`` is set), ``pending`` those still to be done (default: it is not). A
    row that is neither (cancelled, say) has no light and matches no value.
    """
    today = today or timezone.localdate()
    if done is None:
        done = Q(**{f"{done_on}__isnull": False})
    if pending is None:
        pending = Q(**{f"{done_on}__isnull": True})
    cutoff = due_soon_cutoff(kind, today)
    return {
        Light.DONE_ON_TIME: done & Q(**{f"{done_on}__lte": F(deadline)}),
        Light.DONE_LATE: done & Q(**{f"{done_on}__gt": F(deadline)}),
        Light.OVERDUE: pending & Q(**{f"{deadline}__lt": today}),
        Light.DUE_SOON: pending & Q(**{f"{deadline}__gte": today, f"{deadline}__lt": cutoff}),
        Light.ON_TRACK: pending & Q(**{f"{deadline}__gte": cutoff}),
    }[Light(value)]
