"""The demo programme told through the services: the interview's year, event by event."""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import io
import itertools
import random
from collections.abc import Callable
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from shishi.orgs import access
from shishi.orgs.models import Org, User

from .. import access as caccess
from .. import services
from ..models import Adjustment, Commitment, Programme
from .data import DELIVERED, DUE_SOON, OVERDUE, PUBLISHED, programme_title
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

# --- the demo: the story through the services ----------------------------------------------------


def _evidence_image(number: int, day: dt.date, rng: random.Random) -> bytes:
    """A small JPEG standing in for a site photo: a coloured scene with the number and date."""
    from PIL import Image, ImageDraw, ImageFont

    sky = (rng.randint(90, 200), rng.randint(140, 220), rng.randint(180, 255))
    image = Image.new("RGB", (480, 320), sky)
    draw = ImageDraw.Draw(image)
    ground = (rng.randint(60, 140), rng.randint(110, 170), rng.randint(50, 110))
    draw.rectangle([0, 200, 480, 320], fill=ground)
    for _ in range(6):
        x, w, h = rng.randint(0, 430), rng.randint(30, 90), rng.randint(40, 130)
        colour = tuple(rng.randint(120, 240) for _i in range(3))
        draw.rectangle([x, 200 - h, x + w, 200], fill=colour, outline=(60, 60, 60))
    for _ in range(400):  # a little grain, so the picture compresses like a photo
        x, y = rng.randrange(480), rng.randrange(320)
        draw.point((x, y), fill=tuple(rng.randint(0, 255) for _i in range(3)))
    font = ImageFont.load_default(size=44)
    draw.rectangle([16, 16, 300, 120], fill=(255, 255, 255))
    draw.text((28, 20), f"No. {number}", fill=(180, 20, 20), font=font)
    draw.text((28, 70), day.isoformat(), fill=(40, 40, 40), font=ImageFont.load_default(size=30))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class Story:
    """The demo programme's year, as dated events run in time order through the services.

    Past events are system actions (actor None, ``at=``); a review or a decision is an event of
    its own, a few days after the submission or proposal, so that every snapshot is written in
    time order and the list on any date is what it was. Only the events of today (``today``) go
    through the demo logins.
    """

    DELTA = 0.004  # about a day of the year so far: reviews follow a day later, decisions three

    def __init__(self, county: Org, seed: int, year: int):
        self.county = county
        self.year = year
        self.rng = random.Random(f"{seed}:programme:{county.code}:{year}")
        self.tl = Timeline(year)
        self.units = Units.of(county)
        self.events: list[tuple[float, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.objects: dict[str, Commitment] = {}
        self.specs: dict[str, Spec] = {}
        self.programme: Programme | None = None

    def on(self, f: float, action: Callable[[], None]) -> None:
        """Run ``action`` at fraction ``f``; the sequence keeps equal times in plan order."""
        heapq.heappush(self.events, (min(max(f, 0.001), 0.999), next(self.seq), action))

    def play(self) -> None:
        while self.events:
            _f, _n, action = heapq.heappop(self.events)
            action()

    def commitment(self, key: str) -> Commitment:
        return Commitment.objects.get(pk=self.objects[key].pk)

    def login(self, username: str, perm: str, org: Org) -> User | None:
        """A demo login that may act on ``org``, or None (the system) where there is none."""
        user = User.objects.filter(username=username, is_active=True).first()
        if user is not None and access.has_perm_on(user, perm, org):
            return user
        return None

    # -- the plan -------------------------------------------------------------------------------

    def plan(self) -> tuple[list[Spec], dict]:
        rng = self.rng
        specs = make_specs(rng, self.units, PUBLISHED, set())
        interview = [s for s in specs if s.interview_done is not None]
        pool = [s for s in specs if s.interview_done is None]
        rng.shuffle(pool)

        def take(n, where=lambda s: True):
            chosen = [s for s in pool if where(s)][:n]
            chosen += [s for s in pool if s not in chosen][: n - len(chosen)]
            for s in chosen:
                pool.remove(s)
            return chosen

        # Two towns' items of one kind (two road projects, say) are merged into one.
        twins = next(
            s.template
            for s in pool
            if "{town}" in s.template and sum(t.template == s.template for t in pool) >= 2
        )
        roles = {
            "merge": take(2, lambda s: s.template == twins),
            "cancel": take(1),
            "split": take(1),
            "defer": take(3),
        }
        # Today's items belong to the education bureau, where the demo unit officer works.
        edu = self.units.departments.get("县教育局")
        today = take(4, lambda s: s.unit == edu)
        roles["awaiting"], roles["returned"], roles["pending"] = today[:2], today[2:3], today[3:]
        roles["rejected"] = take(1)
        new_delivered = 2  # one added item and the first part of the split
        delivered = [s for s in interview if s.interview_done]
        delivered += take(DELIVERED - new_delivered - len(delivered))
        open_ = [s for s in interview if not s.interview_done] + pool + today + roles["rejected"]
        rng.shuffle(open_)
        roles["delivered"], roles["open"] = delivered, open_
        return specs, roles

    def run(self) -> Programme:
        rng, tl = self.rng, self.tl
        specs, roles = self.plan()
        self.specs = {s.key: s for s in specs}
        delivered_at: dict[str, float] = {}
        for s in roles["delivered"]:
            f = rng.uniform(0.2, 0.97)
            delivered_at[s.key] = f
            _dates(s, rng, tl, _delivered_deadline(rng, tl, tl.day(f), rng.random() < 0.12))
        lights = ["overdue"] * OVERDUE + ["due_soon"] * DUE_SOON
        for i, s in enumerate(roles["open"]):
            _dates(s, rng, tl, _open_deadline(rng, tl, lights[i] if i < len(lights) else "ok"))
        for s in roles["merge"] + roles["cancel"] + roles["split"]:
            _dates(s, rng, tl, dt.date(tl.year, rng.randint(6, 12), rng.randint(1, 28)))
        for s in roles["defer"]:
            soon = tl.day(0.5) + dt.timedelta(days=rng.randint(5, 30))
            _dates(s, rng, tl, max(soon, dt.date(tl.year, 6, 1)))

        self.programme = services.create_programme(
            None,
            county=self.county,
            year=self.year,
            title=programme_title(self.county, self.year),
            description="把群众最关心、最急迫的事项纳入民生实事，建立动态调整机制，逐项公开进展。",
        )
        for s in specs:
            self.objects[s.key] = services.add_commitment(None, self.programme, s.data())
        services.publish_programme(None, self.programme, at=tl.at(0))

        for s in roles["delivered"]:
            self.progress(s.key, 0.02, delivered_at[s.key], deliver=True)
        for s in roles["open"] + roles["defer"]:
            self.progress(s.key, 0.02, rng.uniform(0.6, 0.95), deliver=False)
        self.adjustments(roles)
        self.play()
        self.today(roles)
        return self.programme

    # -- progress ---------------------------------------------------------------------------------

    def progress(self, key: str, start: float, end: float, *, deliver: bool) -> None:
        """Accepted reports between ``start`` and ``end``; the last delivers when ``deliver``."""
        rng = self.rng
        steps = sorted(rng.uniform(start, end - 0.02) for _ in range(rng.randint(0, 2)))
        percent = 0
        for f in steps:
            percent = min(95, percent + rng.randint(15, 40))
            self.on(f, self.report_at(key, f, percent, False))
        if deliver:
            self.on(end, self.report_at(key, end, 100, True))
            if rng.random() < 0.4:
                when = end + 2 * self.DELTA
                self.on(
                    when,
                    lambda: services.accept_delivery(
                        None, self.commitment(key), note="验收合格", at=self.tl.at(when)
                    ),
                )

    @staticmethod
    def _values(commitment: Commitment, percent: int) -> dict:
        return {
            str(t.pk): str(
                (t.baseline + (t.target_value - t.baseline) * percent / 100).quantize(Decimal(1))
            )
            for t in commitment.targets.all()
        }

    def report_at(self, key: str, f: float, percent: int, deliver: bool) -> Callable[[], None]:
        def submit():
            c = self.commitment(key)
            files = []
            if deliver:
                photo = _evidence_image(c.number, self.tl.day(f), self.rng)
                files = [SimpleUploadedFile(f"现场照片-{c.number}.jpg", photo, "image/jpeg")]
            text = (
                f"{c.title}已全部完成，已组织验收。"
                if deliver
                else f"{c.title}按计划推进，完成总工作量的{percent}%。"
            )
            report = services.submit_progress(
                None,
                c,
                text=text,
                percent_complete=percent,
                target_values=self._values(c, percent),
                delivered=deliver,
                files=files,
                at=self.tl.at(f),
            )
            when = f + self.DELTA
            self.on(
                when,
                lambda: services.review_progress(None, report, accept=True, at=self.tl.at(when)),
            )

        return submit

    # -- adjustments -----------------------------------------------------------------------------

    def adjust(
        self,
        f: float,
        kind: str,
        keys: list[str],
        payload: Callable[[], dict],
        reason: str,
        *,
        approve: bool = True,
        note: str = "",
        made: tuple[str, ...] = (),
    ) -> None:
        """Propose at ``f``; approve or reject a few days later; remember what it made."""

        def propose():
            adjustment = services.propose_adjustment(
                None,
                self.programme,
                kind=kind,
                commitments=[self.commitment(k) for k in keys],
                payload=payload(),
                reason=reason,
                at=self.tl.at(f),
            )
            when = f + 3 * self.DELTA

            def decide():
                services.decide_adjustment(
                    None, adjustment, approve=approve, note=note, at=self.tl.at(when)
                )
                results = adjustment.results.order_by("number")
                for k, c in zip(made, results, strict=True):
                    self.objects[k] = c

            self.on(when, decide)

        self.on(f, propose)

    def new_spec(self, key: str, category: str, f: float, deadline: dt.date) -> Spec:
        used = {s.title for s in self.specs.values()}
        spec = _generated_spec(self.rng, self.units, category, used)
        spec.key = key
        _dates(spec, self.rng, self.tl, deadline, start=self.tl.day(f))
        self.specs[key] = spec
        return spec

    def adjustments(self, roles: dict) -> None:
        rng, tl = self.rng, self.tl
        K = Adjustment.Kind

        # Two additions from residents' demands; the first is delivered within the year.
        f = rng.uniform(0.25, 0.35)
        add1 = self.new_spec("add1", "infrastructure", f, tl.day(0.85) + dt.timedelta(days=20))
        self.adjust(
            f,
            K.ADD,
            [],
            lambda: {"commitment": add1.data()},
            "群众在“查堵点、破难题”走访中集中反映，经县委常委会研究纳入清单。",
            made=("add1",),
        )
        self.progress("add1", f + 0.05, 0.85, deliver=True)
        f = rng.uniform(0.55, 0.65)
        add2 = self.new_spec("add2", "old-young", f, _open_deadline(rng, tl, "ok"))
        self.adjust(
            f,
            K.ADD,
            [],
            lambda: {"commitment": add2.data()},
            "12345热线诉求集中，动态纳入民生实事。",
            made=("add2",),
        )
        self.progress("add2", f + 0.05, 0.95, deliver=False)

        # Two items of one category merged into one.
        a, b = roles["merge"]
        f = rng.uniform(0.35, 0.45)
        self.progress(a.key, 0.02, f - 0.05, deliver=False)
        into = self.new_spec("merged", a.category, f, _open_deadline(rng, tl, "ok"))
        into.title = f"{a.place}、{b.place}{a.template.format(town='')}（合并实施）"
        into.unit, into.lead = a.unit, a.lead
        into.co_units = [u for u in a.co_units + b.co_units + [b.unit] if u != a.unit]
        into.co_units = list(dict.fromkeys(into.co_units))
        into.targets = a.targets + [t for t in b.targets if t[0] != a.targets[0][0]][:1]
        into.budget = (a.budget or 0) + (b.budget or 0) or None
        self.adjust(
            f,
            K.MERGE,
            [a.key, b.key],
            lambda: {"into": into.data()},
            "两个项目建设内容相近、实施区域相邻，合并实施可统一招标、节约资金。",
            made=("merged",),
        )
        self.progress("merged", f + 0.05, 0.9, deliver=False)

        # One item split into two phases: the first delivered, the second open.
        [s] = roles["split"]
        f = rng.uniform(0.4, 0.5)
        tname, tunit, tvalue = s.targets[0]
        first = max(Decimal(1), (tvalue / 2).quantize(Decimal(1)))
        parts = []
        for i, (label, value, deadline) in enumerate(
            [
                ("（一期）", first, tl.day(0.8) + dt.timedelta(days=10)),
                ("（二期）", max(Decimal(1), tvalue - first), _open_deadline(rng, tl, "ok")),
            ]
        ):
            part = copy.copy(s)
            part.title, part.key = s.title + label, f"part{i + 1}"
            part.targets = [(tname, tunit, value)]
            part.budget = None if s.budget is None else s.budget / 2
            _dates(part, rng, tl, deadline, start=tl.day(f))
            self.specs[part.key] = part
            parts.append(part)
        self.adjust(
            f,
            K.SPLIT,
            [s.key],
            lambda: {"parts": [p.data() for p in parts]},
            "项目体量大、跨年度实施，分两期推进，一期年内完成。",
            made=("part1", "part2"),
        )
        self.progress("part1", f + 0.05, 0.8, deliver=True)
        self.progress("part2", f + 0.05, 0.95, deliver=False)

        # One cancellation.
        [c] = roles["cancel"]
        self.adjust(
            rng.uniform(0.3, 0.4),
            K.CANCEL,
            [c.key],
            dict,
            "项目选址涉及永久基本农田，经自然资源部门复核无法实施，予以取消，改列明年计划。",
        )

        # Three deferrals, each proposed shortly before the original deadline.
        reasons = [
            "受持续强降雨影响，施工窗口期缩短，申请延期。",
            "设备采购流标，需重新组织招标，申请延期。",
            "上级补助资金下达晚于预期，申请延期。",
        ]
        for s, reason in zip(roles["defer"], reasons, strict=True):
            f = min(0.95, max(0.3, tl.fraction(s.deadline) - rng.uniform(0.03, 0.08)))
            new = max(s.deadline, tl.today) + dt.timedelta(days=rng.randint(45, 100))
            self.adjust(f, K.DEFER, [s.key], lambda new=new: {"deadline": new.isoformat()}, reason)

        # Two changes: more money for one item, another unit joining a second.
        one, two = roles["delivered"][3], roles["open"][-1]

        def more_money(key=one.key):
            c = self.commitment(key)
            return {"budget_planned": str((c.budget_planned or Decimal(0)) + Decimal(500000))}

        self.adjust(
            rng.uniform(0.1, 0.15),
            K.CHANGE,
            [one.key],
            lambda: {"fields": more_money()},
            "建设标准提高，追加财政预算50万元。",
        )
        helper = self.units.departments.get("县财政局") or two.unit

        def co_units(key=two.key):
            c = self.commitment(key)
            codes = [u.code for u in c.co_units.all()]
            return {"co_units": codes + ([helper.code] if helper.code not in codes else [])}

        self.adjust(
            rng.uniform(0.5, 0.7),
            K.CHANGE,
            [two.key],
            lambda: {"fields": co_units()},
            "涉及资金统筹，增加县财政局为配合单位。",
        )

        # One proposal rejected, with the approver's note.
        [r] = roles["rejected"]
        self.adjust(
            rng.uniform(0.4, 0.6),
            K.CANCEL,
            [r.key],
            dict,
            "实施难度较大，建议取消。",
            approve=False,
            note="群众需求迫切，不同意取消，请倒排工期加快推进。",
        )

    # -- today: what the workspaces show --------------------------------------------------------

    def today(self, roles: dict) -> None:
        """Reports awaiting review, one returned, one proposal awaiting approval: from the demo
        logins where they may act, so that they appear in the logins' workspaces; from the
        system, dated just before now, where they may not."""
        last = self.tl.at(0.9995)
        admin = self.login("county_admin", caccess.REVIEW_PROGRESS, self.county)
        for s in roles["awaiting"]:
            c = self.commitment(s.key)
            officer = self.login("unit_officer", caccess.REPORT_PROGRESS, c.responsible_unit)
            services.submit_progress(
                officer,
                c,
                text=f"{c.title}：主体工程已完工，正在进行附属设施建设。",
                percent_complete=max(c.percent_complete, 80),
                target_values=self._values(c, 80),
                at=None if officer else last,
            )
        for s in roles["returned"]:
            c = self.commitment(s.key)
            officer = self.login("unit_officer", caccess.REPORT_PROGRESS, c.responsible_unit)
            report = services.submit_progress(
                officer,
                c,
                text=f"{c.title}已完成。",
                percent_complete=100,
                delivered=True,
                at=None if officer else last,
            )
            reviewer = admin if officer and admin else None
            services.review_progress(
                reviewer,
                report,
                accept=False,
                reason="未附现场照片和验收材料，请补充后重新报送。",
                at=None if reviewer else self.tl.at(0.9999),
            )
        for s in roles["pending"]:
            c = self.commitment(s.key)
            proposer = self.login("unit_officer", caccess.PROPOSE_ADJUSTMENT, c.responsible_unit)
            services.propose_adjustment(
                proposer,
                self.programme,
                kind=Adjustment.Kind.DEFER,
                commitments=[c],
                payload={"deadline": (c.deadline + dt.timedelta(days=60)).isoformat()},
                reason="施工单位进场延迟，申请延期两个月。",
                at=None if proposer else last,
            )


def build_programme(county: Org, seed: int) -> None:
    """The interview's 132-item list for ``county``, through the services."""
    year = timezone.localdate().year
    if Programme.objects.filter(county=county, year=year).exists():
        return
    with transaction.atomic():
        Story(county, seed, year).run()
