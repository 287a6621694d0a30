"""Generated programmes at scale: the same shape as the demo's, simulated in memory and written
with bulk inserts."""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shishi.audit.services import record
from shishi.orgs.models import Org

from .. import services
from ..models import (
    REMOVED,
    Adjustment,
    Category,
    Commitment,
    Decision,
    Milestone,
    Programme,
    ProgressReport,
    Snapshot,
    Status,
    Target,
)
from .data import CATEGORY_ORDER, LEADS, programme_title
from .plan import (
    Spec,
    Timeline,
    Units,
    _dates,
    _delivered_deadline,
    _generated_spec,
    _open_deadline,
    make_specs,
)

# --- generated programmes: the same shape, bulk-inserted ------------------------------------------


@dataclass
class _Item:
    """A commitment in memory while the year is simulated."""

    key: int
    spec: Spec
    number: int
    status: str = Status.PLANNED
    percent: int = 0
    delivered_on: dt.date | None = None
    merged_into: int | None = None
    budget_spent: Decimal | None = None
    actuals: list[Decimal] = field(default_factory=list)

    def public(self, items: dict[int, _Item]) -> dict:
        """This commitment's public record, by the services' own function."""
        s = self.spec
        return services.public_face(
            number=self.number,
            title=s.title,
            description=s.description(),
            category=s.category,
            lead_official=s.lead,
            responsible_unit=s.unit.name,
            co_units=[u.name for u in s.co_units],
            budget_planned=s.budget,
            budget_spent=self.budget_spent,
            start_date=s.start,
            deadline=s.deadline,
            status=self.status,
            percent_complete=self.percent,
            delivered_on=self.delivered_on,
            merged_into=items[self.merged_into].number if self.merged_into is not None else None,
            targets=[
                (n, u, Decimal(0), v, a)
                for (n, u, v), a in zip(s.targets, self.actuals, strict=True)
            ],
            milestones=[(t, d, None) for t, d in s.milestones],
        )


_OPEN = {Status.PLANNED, Status.IN_PROGRESS, Status.DEFERRED}


class Generator:
    """One county's year simulated in memory, then written with one bulk insert per table.

    Events (submissions, reviews, proposals, decisions) run in time order from a heap, and each
    review or decision is an event of its own, so the snapshots are written in time order and
    the list on any date is consistent, as it is for the demo built through the services.
    """

    REPORTS = (5, 10)  # per commitment: about 1,000 for a county
    REVIEW, DECIDE = 0.004, 0.01  # a day or so after submission, three after proposal
    # Adjustments, 200 a county. Additions, cancellations, merges and splits balance out, so
    # the list ends as long as it began (132).
    APPROVED = {"change": 100, "defer": 40, "add": 3, "cancel": 3, "merge": 2, "split": 2}
    UNAPPLIED = {
        Adjustment.State.REJECTED: 30,
        Adjustment.State.WITHDRAWN: 10,
        Adjustment.State.PROPOSED: 10,
    }

    def __init__(self, county: Org, seed: int, year: int):
        self.county = county
        self.year = year
        self.rng = random.Random(f"{seed}:generated:{county.code}:{year}")
        self.tl = Timeline(year)
        self.units = Units.of(county)
        self.items: dict[int, _Item] = {}
        self.snapshots: list[tuple[int, dt.datetime, str, int | None, dict]] = []
        self.reports: list[dict] = []
        self.adjustments: list[dict] = []
        self.used: set[str] = set()
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = itertools.count()

    def on(self, f: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.events, (min(f, 1.0), next(self.seq), action))

    def item(self, spec: Spec) -> _Item:
        key = len(self.items)
        number = max((i.number for i in self.items.values()), default=0) + 1
        it = _Item(key, spec, number, actuals=[Decimal(0)] * len(spec.targets))
        self.items[key] = it
        return it

    def snap(self, it: _Item, when: dt.datetime, cause: str, adjustment: int | None = None):
        self.snapshots.append((it.key, when, cause, adjustment, it.public(self.items)))

    def open_items(self) -> list[_Item]:
        return [i for i in self.items.values() if i.status in _OPEN]

    def simulate(self) -> None:
        rng, tl = self.rng, self.tl
        for spec in make_specs(rng, self.units, 132, self.used):
            deliver = rng.random() < 0.55
            f = rng.uniform(0.2, 0.97)
            deadline = (
                _delivered_deadline(rng, tl, tl.day(f), rng.random() < 0.1)
                if deliver
                else _open_deadline(rng, tl, rng.choice(["overdue", "due_soon"] + ["ok"] * 6))
            )
            _dates(spec, rng, tl, deadline)
            it = self.item(spec)
            self.snap(it, tl.at(0), Snapshot.Cause.PUBLISHED)
            self.plan_reports(it, 0.02, f if deliver else rng.uniform(0.6, 0.98), deliver)
        kinds = [k for k, n in self.APPROVED.items() for _ in range(n)]
        kinds += [state for state, n in self.UNAPPLIED.items() for _ in range(n)]
        rng.shuffle(kinds)
        for kind in kinds:
            f = rng.uniform(0.1, 0.95)
            self.on(f, lambda f=f, kind=kind: self.adjust(f, kind))
        while self.events:
            _f, _n, action = heapq.heappop(self.events)
            action()

    def plan_reports(self, it: _Item, start: float, end: float, deliver: bool) -> None:
        n = self.rng.randint(*self.REPORTS)
        steps = sorted(self.rng.uniform(start, end) for _ in range(n - 1)) + [end]
        for k, f in enumerate(steps):
            last = deliver and k == n - 1
            percent = 100 if last else min(95, int(100 * (k + 1) / (n + 1)))
            self.on(f, lambda f=f, p=percent, d=last: self.submit(f, it, p, d))

    def submit(self, f: float, it: _Item, percent: int, deliver: bool) -> None:
        if it.status not in _OPEN:
            return
        roll = self.rng.random()
        state = ProgressReport.State.ACCEPTED
        if not deliver and roll < 0.05:
            state = ProgressReport.State.RETURNED
        elif not deliver and roll < 0.2 and f > 0.93:
            state = ProgressReport.State.SUBMITTED  # awaiting review today
        report = {
            "key": it.key,
            "text": f"{it.spec.title}：完成总工作量的{percent}%。",
            "percent": percent,
            "values": {
                i: (v * percent / 100).quantize(Decimal(1))
                for i, (_n, _u, v) in enumerate(it.spec.targets)
            },
            "deliver": deliver,
            "state": state,
            "submitted_at": self.tl.at(f),
            "reviewed_at": None,
            "return_reason": "佐证材料不全，请补充。" if state == "returned" else "",
        }
        self.reports.append(report)
        if state != ProgressReport.State.SUBMITTED:
            self.on(f + self.REVIEW, lambda: self.review(f + self.REVIEW, it, report))

    def review(self, f: float, it: _Item, report: dict) -> None:
        report["reviewed_at"] = when = self.tl.at(f)
        if report["state"] != ProgressReport.State.ACCEPTED:
            return
        if it.status not in _OPEN:  # removed from the list meanwhile: the report is moot
            report["state"] = ProgressReport.State.RETURNED
            report["return_reason"] = "该项目已调整出清单。"
            return
        it.actuals = [report["values"][i] for i in range(len(it.actuals))]
        it.percent = max(it.percent, report["percent"])
        if report["deliver"]:
            it.status, it.percent = Status.DELIVERED, 100
            it.delivered_on = timezone.localdate(report["submitted_at"])
            if it.spec.budget is not None:
                share = Decimal(self.rng.randint(85, 100)) / 100
                it.budget_spent = (it.spec.budget * share).quantize(Decimal("0.01"))
        elif it.status == Status.PLANNED:
            it.status = Status.IN_PROGRESS
        self.snap(it, when, Snapshot.Cause.PROGRESS)
        if report["deliver"] and self.rng.random() < 0.4:
            self.on(f + self.REVIEW, lambda: self.accept(f + self.REVIEW, it))

    def accept(self, f: float, it: _Item) -> None:
        if it.status == Status.DELIVERED:
            it.status = Status.ACCEPTED
            self.snap(it, self.tl.at(f), Snapshot.Cause.PROGRESS)

    def adjust(self, f: float, kind: str) -> None:
        """Propose at ``f``; the decision (and the change) follows as its own event."""
        rng = self.rng
        row = {
            "kind": kind,
            "keys": [],
            "results": [],
            "payload": {},
            "reason": "",
            "state": Adjustment.State.PROPOSED,
            "proposed_at": self.tl.at(f),
            "applied_at": None,
            "decision": None,
        }
        index = len(self.adjustments)
        self.adjustments.append(row)
        if kind not in self.APPROVED:  # a change or deferral proposal that is never applied
            it = rng.choice(self.open_items())
            row["kind"] = rng.choice([Adjustment.Kind.CHANGE, Adjustment.Kind.DEFER])
            row["keys"], row["reason"] = [it.key], "工作推进中遇到困难，申请调整。"
            row["payload"] = (
                {"fields": {"lead_official": rng.choice(LEADS[it.spec.category])}}
                if row["kind"] == Adjustment.Kind.CHANGE
                else {"deadline": (it.spec.deadline + dt.timedelta(days=30)).isoformat()}
            )
            row["state"] = kind
            if kind == Adjustment.State.REJECTED:
                row["decision"] = (
                    False,
                    "理由不充分，请按原计划推进。",
                    self.tl.at(f + self.DECIDE),
                )
            return
        self.on(f + self.DECIDE, lambda: self.apply(f + self.DECIDE, index))

    def apply(self, f: float, index: int) -> None:
        rng, tl, row = self.rng, self.tl, self.adjustments[index]
        kind, when = row["kind"], tl.at(f)
        row["state"], row["applied_at"] = Adjustment.State.APPROVED, when
        row["decision"] = (True, "", when)
        open_items = self.open_items()
        touched: list[_Item] = []
        if kind == "change":
            it = rng.choice([i for i in self.items.values() if i.status not in REMOVED])
            it.spec = copy.copy(it.spec)
            it.spec.budget = (it.spec.budget or Decimal(0)) + Decimal(rng.randint(5, 50)) * 10000
            row["keys"], row["reason"] = [it.key], "建设内容调整，追加预算。"
            row["payload"] = {"fields": {"budget_planned": f"{it.spec.budget:.2f}"}}
            touched.append(it)
        elif kind == "defer":
            it = rng.choice(open_items)
            it.spec = copy.copy(it.spec)
            it.spec.deadline += dt.timedelta(days=rng.randint(30, 90))
            it.status = Status.DEFERRED
            row["keys"], row["reason"] = [it.key], "受天气和资金到位影响，申请延期。"
            row["payload"] = {"deadline": it.spec.deadline.isoformat()}
            touched.append(it)
        elif kind == "cancel":
            it = rng.choice(open_items)
            it.status = Status.CANCELLED
            row["keys"], row["reason"] = [it.key], "项目不具备实施条件，予以取消。"
            touched.append(it)
        else:  # add, merge, split
            sources = {"add": [], "merge": rng.sample(open_items, 2)}.get(kind)
            if sources is None:
                sources = [rng.choice(open_items)]
            news = []
            for part in range(2 if kind == "split" else 1):
                if kind == "split":
                    spec = copy.copy(sources[0].spec)
                    spec.title = sources[0].spec.title + ("（一期）", "（二期）")[part]
                else:
                    category = rng.choice(CATEGORY_ORDER)
                    spec = _generated_spec(rng, self.units, category, self.used)
                _dates(spec, rng, tl, _open_deadline(rng, tl, "ok"), start=tl.day(f))
                news.append(self.item(spec))
            for it in sources:
                it.status = Status.MERGED if kind == "merge" else Status.CANCELLED
                it.merged_into = news[0].key if kind == "merge" else None
            row["keys"], row["results"] = [i.key for i in sources], [i.key for i in news]
            row["reason"] = {
                "add": "群众反映集中，动态纳入。",
                "merge": "内容相近，合并实施。",
                "split": "分期实施，一期年内完成。",
            }[kind]
            row["payload"] = {"titles": [n.spec.title for n in news]}
            touched += sources + news
            for it in news:
                self.plan_reports(it, f + 0.01, max(f + 0.02, rng.uniform(0.9, 0.99)), False)
        for it in touched:
            self.snap(it, when, Snapshot.Cause.ADJUSTMENT, index)

    # -- writing --------------------------------------------------------------------------------

    def write(self) -> dict:
        tl = self.tl
        programme = Programme.objects.create(
            county=self.county,
            year=self.year,
            title=programme_title(self.county, self.year),
            status=Programme.Status.PUBLISHED,
            published_at=tl.at(0),
        )
        categories = dict(Category.objects.values_list("code", "pk"))
        rows = [
            Commitment(
                programme=programme,
                county=self.county,
                number=it.number,
                title=it.spec.title,
                description=it.spec.description(),
                category_id=categories[it.spec.category],
                lead_official=it.spec.lead,
                responsible_unit=it.spec.unit,
                budget_planned=it.spec.budget,
                budget_spent=it.budget_spent,
                start_date=it.spec.start,
                deadline=it.spec.deadline,
                status=it.status,
                percent_complete=it.percent,
                delivered_on=it.delivered_on,
            )
            for it in self.items.values()
        ]
        Commitment.objects.bulk_create(rows)
        pk = {it.key: row.pk for it, row in zip(self.items.values(), rows, strict=True)}
        merged = []
        for it, row in zip(self.items.values(), rows, strict=True):
            if it.merged_into is not None:
                row.merged_into_id = pk[it.merged_into]
                merged.append(row)
        Commitment.objects.bulk_update(merged, ["merged_into"])
        Through = Commitment.co_units.through
        Through.objects.bulk_create(
            Through(commitment_id=pk[it.key], org_id=u.pk)
            for it in self.items.values()
            for u in it.spec.co_units
        )
        targets = [
            Target(
                commitment_id=pk[it.key],
                order=i,
                name=n,
                unit=u,
                target_value=v,
                actual_value=it.actuals[i],
            )
            for it in self.items.values()
            for i, (n, u, v) in enumerate(it.spec.targets)
        ]
        Target.objects.bulk_create(targets)
        target_pk = {(t.commitment_id, t.order): t.pk for t in targets}
        Milestone.objects.bulk_create(
            Milestone(commitment_id=pk[it.key], title=t, planned_date=d)
            for it in self.items.values()
            for t, d in it.spec.milestones
        )
        adjustments = [
            Adjustment(
                programme=programme,
                county=self.county,
                kind=row["kind"],
                payload=row["payload"],
                reason=row["reason"],
                state=row["state"],
                proposed_at=row["proposed_at"],
                applied_at=row["applied_at"],
            )
            for row in self.adjustments
        ]
        Adjustment.objects.bulk_create(adjustments)
        A1, A2 = Adjustment.commitments.through, Adjustment.results.through
        A1.objects.bulk_create(
            A1(adjustment_id=a.pk, commitment_id=pk[k])
            for a, row in zip(adjustments, self.adjustments, strict=True)
            for k in row["keys"]
        )
        A2.objects.bulk_create(
            A2(adjustment_id=a.pk, commitment_id=pk[k])
            for a, row in zip(adjustments, self.adjustments, strict=True)
            for k in row["results"]
        )
        decisions = [
            Decision(
                adjustment_id=a.pk,
                level=1,
                approved=row["decision"][0],
                note=row["decision"][1],
                decided_at=row["decision"][2],
            )
            for a, row in zip(adjustments, self.adjustments, strict=True)
            if row["decision"]
        ]
        Decision.objects.bulk_create(decisions)
        ProgressReport.objects.bulk_create(
            (
                ProgressReport(
                    commitment_id=pk[r["key"]],
                    county=self.county,
                    text=r["text"],
                    percent_complete=r["percent"],
                    mark_delivered=r["deliver"],
                    state=r["state"],
                    target_values={
                        str(target_pk[(pk[r["key"]], i)]): str(v) for i, v in r["values"].items()
                    },
                    submitted_at=r["submitted_at"],
                    reviewed_at=r["reviewed_at"],
                    return_reason=r["return_reason"],
                )
                for r in self.reports
            ),
            batch_size=1000,
        )
        Snapshot.objects.bulk_create(
            (
                Snapshot(
                    programme=programme,
                    commitment_id=pk[key],
                    county=self.county,
                    valid_from=when,
                    cause=cause,
                    data=data,
                    adjustment_id=adjustments[adj].pk if adj is not None else None,
                )
                for key, when, cause, adj, data in self.snapshots
            ),
            batch_size=1000,
        )
        counts = {
            "commitments": len(rows),
            "targets": len(targets),
            "reports": len(self.reports),
            "adjustments": len(adjustments),
            "decisions": len(decisions),
            "snapshots": len(self.snapshots),
        }
        record(
            None,
            "commitments.programme.generated",
            programme,
            data=counts,
            county_id=self.county.pk,
        )
        return counts


def generate_programme(county: Org, seed: int) -> None:
    """A programme of the same shape for a generated county, with bulk inserts.

    The user columns (submitted, proposed, decided by) are left empty, which the models read as
    "recorded by the system", as the audit log does: a generated history has no person behind it.
    """
    year = timezone.localdate().year
    if Programme.objects.filter(county=county, year=year).exists():
        return
    services.ensure_categories()
    with transaction.atomic():
        generator = Generator(county, seed, year)
        generator.simulate()
        generator.write()
