"""The working-day calendar every mechanism shares (deadlines, traffic lights)."""

from __future__ import annotations

import datetime as dt
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shishi.audit.services import record
from shishi.lib.workdays import WorkCalendar
from shishi.orgs import access

from .models import Day

# Each process keeps the calendar for a few minutes; a change made in this process is seen at
# once, one made in another within CACHE_SECONDS.
CACHE_SECONDS = 300
_cache: tuple[float, WorkCalendar] | None = None


def calendar() -> WorkCalendar:
    global _cache
    now = time.monotonic()
    if _cache is None or now - _cache[0] > CACHE_SECONDS:
        _cache = (now, WorkCalendar(dict(Day.objects.values_list("date", "is_workday"))))
    return _cache[1]


def forget() -> None:
    global _cache
    _cache = None


def _require(actor) -> None:
    if actor is not None and not access.has_perm(actor, access.MANAGE_SETTINGS):
        raise PermissionDenied(_("Only a system administrator may change the calendar."))


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
        forget()
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
    forget()
    return day


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
    forget()
    return len(rows)
