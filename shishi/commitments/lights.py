"""The lights of commitments and their milestones, on the shared rule (``workdays.lights``).

A commitment on the list is done when delivered or accepted, on the day it was delivered; it is
pending while planned, in progress or deferred. One no longer on the list (cancelled, merged
away) has no light.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shishi.lib.workdays import Light
from shishi.workdays import lights
from shishi.workdays.services import Deadline

from .models import DONE, OPEN, REMOVED, Commitment, Milestone

COMMITMENT = "commitments.commitment"
MILESTONE = "commitments.milestone"

# The kinds of deadline this mechanism has, with their shipped policy (an administrator may
# change it on the calendar page).
DEADLINES = {
    COMMITMENT: Deadline(_("deadline of a commitment"), due_soon=10),
    MILESTONE: Deadline(_("milestone of a commitment"), due_soon=10),
}


def light_of(commitment: Commitment, today: dt.date | None = None) -> Light | None:
    """The commitment's light, or None once it is no longer on the list."""
    if commitment.status in REMOVED:
        return None
    done = commitment.delivered_on if commitment.status in DONE else None
    return lights.light_of(COMMITMENT, commitment.deadline, done, today)


def milestone_light(milestone: Milestone, today: dt.date | None = None) -> Light:
    return lights.light_of(MILESTONE, milestone.planned_date, milestone.done_date, today)


def light_q(value: str, today: dt.date | None = None) -> Q:
    """Commitments whose ``light_of`` is ``value``, as a database filter."""
    return lights.light_q(
        COMMITMENT,
        value,
        today,
        deadline="deadline",
        done_on="delivered_on",
        done=Q(status__in=DONE, delivered_on__isnull=False),
        pending=Q(status__in=OPEN) | Q(status__in=DONE, delivered_on__isnull=True),
    )


def due_soon_cutoff(today: dt.date | None = None) -> dt.date:
    """The first commitment deadline that is not yet due soon."""
    return lights.due_soon_cutoff(COMMITMENT, today)
