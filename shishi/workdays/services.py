"""The working-day calendar and the deadline policies every mechanism shares.

``calendar()`` and ``policy(kind)`` are read for every light on every page, so each process keeps
them in memory and compares the one-row ``Version`` before trusting its copy: once per web
request, and at most every ``RECHECK_SECONDS`` outside one (jobs, commands). An administrator's
edit (``set_day``, ``set_policy``) raises the version in its transaction, so every process sees
it at its next request.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from shishi.audit.context import current
from shishi.audit.services import record
from shishi.extensions import contributions
from shishi.lib.workdays import WorkCalendar
from shishi.orgs import access

from .models import Counting, Day, DeadlinePolicy, Version

# Outside a web request, how long a process trusts its copy before comparing versions again.
RECHECK_SECONDS = 1.0
MAX_DUE_SOON = 365


@dataclass(frozen=True)
class Deadline:
    """A kind of deadline a mechanism ships, with its default policy: a commitment's deadline is
    due soon 10 working days before it, a case's reply 2 working days before."""

    label: object
    counting: str = Counting.WORKDAYS
    due_soon: int = 10


@dataclass(frozen=True)
class Policy:
    kind: str
    label: object
    counting: str
    due_soon: int
    is_default: bool


@dataclass(frozen=True)
class _State:
    version: int
    calendar: WorkCalendar
    policies: dict[str, tuple[str, int]]


_state: _State | None = None
_checked_at = 0.0


def deadline_kinds() -> dict[str, Deadline]:
    """Every kind of deadline the installed mechanisms declare (``deadlines`` on their
    AppConfig), with its default policy."""
    found: dict[str, Deadline] = {}
    for _label, kinds in contributions("deadlines"):
        found.update(kinds)
    return found


def _version() -> int:
    return Version.objects.filter(pk=1).values_list("n", flat=True).first() or 0


def _current() -> _State:
    global _state, _checked_at
    memo = current.get().memo
    if memo is not None and "workdays" in memo:
        return memo["workdays"]
    now = time.monotonic()
    if memo is None and _state is not None and now - _checked_at < RECHECK_SECONDS:
        return _state
    version = _version()
    if _state is None or _state.version != version:
        _state = _State(
            version,
            WorkCalendar(dict(Day.objects.values_list("date", "is_workday"))),
            {
                kind: (counting, due_soon)
                for kind, counting, due_soon in DeadlinePolicy.objects.values_list(
                    "kind", "counting", "due_soon"
                )
            },
        )
    _checked_at = now
    if memo is not None:
        memo["workdays"] = _state
    return _state


def calendar() -> WorkCalendar:
    """The working-day calendar, as current as the last committed edit."""
    return _current().calendar


def policy(kind: str) -> Policy:
    """How deadlines of ``kind`` are counted: the administrator's policy, or the default."""
    declared = deadline_kinds().get(kind)
    if declared is None:
        raise KeyError(f"unknown kind of deadline {kind!r}")
    stored = _current().policies.get(kind)
    if stored is None:
        return Policy(kind, declared.label, declared.counting, declared.due_soon, True)
    return Policy(kind, declared.label, stored[0], stored[1], False)


def policies() -> list[Policy]:
    return [policy(kind) for kind in deadline_kinds()]


def forget() -> None:
    """Drop this process's copy: the next read loads the calendar and policies again."""
    global _state
    _state = None
    memo = current.get().memo
    if memo is not None:
        memo.pop("workdays", None)


def _changed() -> None:
    """Raise the version in the editing transaction: every process reloads at its next read."""
    if not Version.objects.filter(pk=1).update(n=F("n") + 1):
        Version.objects.create(pk=1, n=1)
    transaction.on_commit(forget)
    forget()


def may_change(actor) -> bool:
    """The calendar and the deadline policies apply to every county, so only a role held at the
    top of the tree changes them: a system administrator of one county does not."""
    return access.has_perm_at_top(actor, access.MANAGE_SETTINGS)


def _require(actor) -> None:
    if actor is not None and not may_change(actor):
        raise PermissionDenied(
            _("Only a system administrator at the top of the tree may change the calendar.")
        )


@transaction.atomic
def set_day(actor, date: dt.date, *, is_workday: bool | None, name: str = "") -> Day | None:
    """Mark ``date`` as a working day or a day off; ``is_workday=None`` returns it to the week."""
    _require(actor)
    existing = Day.objects.select_for_update().filter(date=date).first()
    before = {"is_workday": existing.is_workday, "name": existing.name} if existing else {}
    if is_workday is None:
        if existing:
            existing.delete()
            record(actor, "workdays.day.removed", data={"date": date, **before})
            _changed()
        return None
    name = (name or "").strip()
    if len(name) > 50:
        raise ValidationError(
            {"name": _("At most %(n)d characters; this has %(m)d.") % {"n": 50, "m": len(name)}}
        )
    day, _created = Day.objects.update_or_create(
        date=date,
        defaults={
            "is_workday": is_workday,
            "name": name,
            "source": Day.Source.ADMIN,
            "updated_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    record(
        actor,
        "workdays.day.set",
        day,
        changes={
            "is_workday": [before.get("is_workday"), is_workday],
            "name": [before.get("name"), name],
        },
    )
    _changed()
    return day


@transaction.atomic
def set_policy(actor, kind: str, *, counting: str, due_soon: int) -> Policy:
    """Set how deadlines of ``kind`` are counted and when their light turns "due soon"."""
    if actor is not None and not may_change(actor):
        raise PermissionDenied(
            _(
                "Only a system administrator at the top of the tree may change the deadline "
                "policies."
            )
        )
    if kind not in deadline_kinds():
        raise ValidationError({"kind": _("Unknown kind of deadline: %(value)s.") % {"value": kind}})
    errors = {}
    if counting not in Counting.values:
        errors["counting"] = _("Count in working days or in calendar days.")
    try:
        due_soon = int(due_soon)
        if not 0 <= due_soon <= MAX_DUE_SOON:
            raise ValueError
    except (TypeError, ValueError):
        errors["due_soon"] = _("A whole number of days from 0 to %(n)d.") % {"n": MAX_DUE_SOON}
    if errors:
        raise ValidationError(errors)
    before = policy(kind)
    row, _created = DeadlinePolicy.objects.update_or_create(
        kind=kind,
        defaults={
            "counting": counting,
            "due_soon": due_soon,
            "updated_by": actor if getattr(actor, "is_authenticated", False) else None,
        },
    )
    record(
        actor,
        "workdays.policy.set",
        row,
        changes={
            "counting": [before.counting, counting],
            "due_soon": [before.due_soon, due_soon],
        },
    )
    _changed()
    return policy(kind)


NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


@transaction.atomic
def seed_from_library() -> int:
    """Load public holidays and exchanged working days from the chinese-calendar package.

    Days an administrator has set are kept as they are. Returns the number of days written.
    """
    from chinese_calendar.constants import holidays, workdays

    admin_days = set(Day.objects.filter(source=Day.Source.ADMIN).values_list("date", flat=True))
    rows = []
    # Names are data, kept in Chinese as the calendar is published.
    for date, name in holidays.items():
        rows.append(
            Day(date=date, is_workday=False, name=NAMES.get(name, name), source=Day.Source.LIBRARY)
        )
    for date, name in workdays.items():
        rows.append(
            Day(
                date=date,
                is_workday=True,
                name=f"{NAMES.get(name, name)}调休上班",
                source=Day.Source.LIBRARY,
            )
        )
    rows = [r for r in rows if r.date not in admin_days]
    Day.objects.filter(source=Day.Source.LIBRARY).delete()
    Day.objects.bulk_create(rows, batch_size=1000)
    record(None, "workdays.calendar.seeded", data={"days": len(rows)})
    _changed()
    return len(rows)
