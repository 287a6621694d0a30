"""The plan of a programme: deterministic specs of its commitments, and the timeline from
publication to now on which their events are dated."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from shishi.orgs.models import Org, OrgKind

from ..lights import due_soon_cutoff
from .data import CATEGORY_ORDER, INTERVIEW, LEADS, MILESTONES, TEMPLATES

# --- what the list holds: deterministic specs ---------------------------------------------------


@dataclass
class Units:
    departments: dict[str, Org]
    towns: list[Org]

    @classmethod
    def of(cls, county: Org) -> Units:
        orgs = Org.objects.filter(county=county, kind__in=[OrgKind.DEPARTMENT, OrgKind.TOWN])
        departments, towns = {}, []
        for org in orgs.order_by("path"):
            if org.kind == OrgKind.DEPARTMENT:
                departments[org.short_name] = org
            else:
                towns.append(org)
        return cls(departments, towns)


@dataclass
class Spec:
    category: str
    title: str
    unit: Org
    co_units: list[Org]
    lead: str
    budget: Decimal | None  # yuan
    targets: list[tuple[str, str, Decimal]]
    interview_done: bool | None = None  # None: generated
    key: str = ""
    template: str = ""  # the generated title's pattern, and the town it was filled with
    place: str = ""
    # Filled by the plan: dates and what happens to it.
    start: dt.date | None = None
    deadline: dt.date | None = None
    milestones: list[tuple[str, dt.date]] = field(default_factory=list)

    def data(self) -> dict:
        """The commitment's fields for the services."""
        return {
            "title": self.title,
            "description": self.description(),
            "category": self.category,
            "lead_official": self.lead,
            "responsible_unit": self.unit,
            "co_units": self.co_units,
            "budget_planned": self.budget,
            "start_date": self.start,
            "deadline": self.deadline,
            "targets": [
                {"name": n, "unit": u, "baseline": 0, "target_value": v} for n, u, v in self.targets
            ],
            "milestones": [{"title": t, "planned_date": d} for t, d in self.milestones],
        }

    def description(self) -> str:
        goals = "，".join(f"{n}{_plain(v)}{u}" for n, u, v in self.targets)
        return f"{self.title}：{goals}。由{self.unit.name}牵头负责，年内完成。"


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _dept(units: Units, short: str) -> Org:
    return units.departments.get(short) or next(iter(units.departments.values()))


def _interview_specs(units: Units) -> list[Spec]:
    out = []
    for cat, title, unit, co, lead, budget, targets, done in INTERVIEW:
        out.append(
            Spec(
                category=cat,
                title=title,
                unit=_dept(units, unit),
                co_units=[_dept(units, c) for c in co if c in units.departments],
                lead=lead,
                budget=None if budget is None else Decimal(budget) * 10000,
                targets=[(n, u, Decimal(v)) for n, u, v in targets],
                interview_done=done,
            )
        )
    return out


def _generated_spec(rng: random.Random, units: Units, category: str, used: set[str]) -> Spec:
    for _ in range(200):
        title, unit, tname, tunit, lo, hi, budget = rng.choice(TEMPLATES[category])
        town = rng.choice(units.towns) if "{town}" in title else None
        text = title.format(town=town.name if town else "")
        if text not in used:
            break
    else:  # every template used up: number the repeat
        text = f"{text}（{len(used) + 1}）"
    used.add(text)
    dept = _dept(units, unit)
    co = []
    if town is not None and rng.random() < 0.5:
        # A town's own project: the town leads, the department works with it.
        responsible, co = town, [dept]
    else:
        responsible = dept
        if town is not None:
            co = [town]
    if rng.random() < 0.3:
        extra = rng.choice(list(units.departments.values()))
        if extra not in co and extra != responsible:
            co.append(extra)
    value = Decimal(rng.randint(lo, hi))
    targets = [(tname, tunit, value)]
    if rng.random() < 0.25 and tunit not in ("%", "万元"):
        targets.append(("受益群众", "人", Decimal(rng.randrange(500, 20000, 100))))
    amount = None
    if budget is not None:
        amount = Decimal(rng.randint(*budget)) * 10000
    return Spec(
        category=category,
        title=text,
        unit=responsible,
        co_units=co,
        lead=rng.choice(LEADS[category]),
        budget=amount,
        targets=targets,
        template=title,
        place=town.name if town else "",
    )


def make_specs(rng: random.Random, units: Units, count: int, used: set[str]) -> list[Spec]:
    """``count`` items: the interview's first, then generated ones across the nine categories,
    in category order (the list is numbered by category, as officials keep it)."""
    specs = _interview_specs(units)[:count]
    used.update(s.title for s in specs)
    i = 0
    while len(specs) < count:
        specs.append(_generated_spec(rng, units, CATEGORY_ORDER[i % len(CATEGORY_ORDER)], used))
        i += 1
    specs.sort(key=lambda s: CATEGORY_ORDER.index(s.category))
    for n, spec in enumerate(specs):
        spec.key = f"c{n}"
    return specs


# --- the timeline: fractions of the span from publication to now ------------------------------


class Timeline:
    """Maps a fraction of the programme's life so far (0 = publication, 1 = now) to a moment.

    The list is published in the third week of January, or a month ago when the demo is built
    earlier in the year, so that every past event really lies in the past."""

    def __init__(self, year: int):
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.year = year
        tz = timezone.get_current_timezone()
        published = dt.datetime(year, 1, 18, 10, 0, tzinfo=tz)
        self.t0 = min(published, self.now - dt.timedelta(days=30))
        self.t1 = self.now - dt.timedelta(hours=2)

    def at(self, f: float) -> dt.datetime:
        f = min(max(f, 0.0), 1.0)
        return self.t0 + (self.t1 - self.t0) * f

    def day(self, f: float) -> dt.date:
        return timezone.localdate(self.at(f))

    def fraction(self, day: dt.date) -> float:
        tz = timezone.get_current_timezone()
        moment = dt.datetime.combine(day, dt.time(10), tzinfo=tz)
        return (moment - self.t0) / (self.t1 - self.t0)


def _dates(spec: Spec, rng: random.Random, tl: Timeline, deadline: dt.date, start=None) -> None:
    year_start = dt.date(tl.year, 1, 1)
    start = start or year_start + dt.timedelta(days=rng.randint(0, 60))
    spec.start = min(start, deadline - dt.timedelta(days=20))
    spec.deadline = deadline
    span = (deadline - spec.start).days
    count = rng.randint(1, 3)
    titles = MILESTONES[-count:] if count < 3 else MILESTONES[1:]
    spec.milestones = [
        (t, spec.start + dt.timedelta(days=span * (i + 1) // count)) for i, t in enumerate(titles)
    ]


def _delivered_deadline(rng: random.Random, tl: Timeline, done: dt.date, late: bool) -> dt.date:
    june, december = dt.date(tl.year, 6, 1), dt.date(tl.year, 12, 31)
    if late and done - dt.timedelta(days=10) >= june:
        return max(june, done - dt.timedelta(days=rng.randint(5, 40)))
    if done < june:
        return june + dt.timedelta(days=rng.randint(0, 60))
    return min(december, done + dt.timedelta(days=rng.randint(0, 90))) if done <= december else done


def _open_deadline(rng: random.Random, tl: Timeline, light: str) -> dt.date:
    """A deadline that gives an open commitment the ``light`` today, on the shared calendar."""
    today, cutoff = tl.today, due_soon_cutoff(tl.today)
    june, december = dt.date(tl.year, 6, 1), dt.date(tl.year, 12, 31)
    if light == "overdue":
        low = max(june, today - dt.timedelta(days=150))
        if low >= today:
            low = today - dt.timedelta(days=60)
        return low + dt.timedelta(days=rng.randint(0, (today - low).days - 1))
    if light == "due_soon":
        # Before the first deadline that is not due soon (the policy of COMMITMENT).
        return today + dt.timedelta(days=rng.randint(1, max(1, (cutoff - today).days - 1)))
    low = max(june, cutoff + dt.timedelta(days=3))
    high = max(december, low + dt.timedelta(days=14))
    return low + dt.timedelta(days=rng.randint(0, (high - low).days))
