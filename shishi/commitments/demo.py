"""The demo programme of the demo county, and generated programmes at scale.

``build_programme`` tells the interview's story through the services: a list published early in
the year, progress reported with photos and reviewed, adjustments proposed with reasons and
approved, ending at "132 on the list, 71 delivered". The past is recorded as system actions
(``actor=None`` with ``at=``), because only the system may date a change in the past; what is
still open today (reports awaiting review, a proposal awaiting approval, a returned report) comes
from the demo logins, so the workspace has something to show.

``generate_programme`` writes a programme of the same shape with bulk inserts, for benchmarks at
province scale: it simulates the same kinds of events in memory and writes the end state and the
history (snapshots, decisions) in a few queries per table.

Both are deterministic from the seed, relative to today (so that lights mean something on the day
the demo is built) and do nothing when the county already has a programme for this year.
"""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import io
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from shishi.audit.services import record
from shishi.orgs import access
from shishi.orgs.models import Org, OrgKind, User
from shishi.workdays.services import calendar

from . import services
from .models import (
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

# The interview's items: (category, title, unit, co-units, lead post, budget in 万元, targets,
# delivered by now). Units are department short names as in shishi.orgs.demo.DEPARTMENTS.
# fmt: off
INTERVIEW = [
    ("poverty", "扶持壮大村级集体经济", "县农业农村局", ["县财政局", "县乡村振兴局"],
     "县委副书记", 6869, [("扶持资金", "万元", 6869)], True),
    ("poverty", "促进脱贫劳动力返岗复工", "县人力资源和社会保障局", ["县乡村振兴局"],
     "副县长（分管人社）", None, [("返岗复工脱贫劳动力", "人", 15625)], True),
    ("employment", "开展“护工”劳务品牌培训", "县人力资源和社会保障局", ["县妇女联合会"],
     "副县长（分管人社）", 120, [("培训期数", "期", 17), ("培训人次", "人次", 1565)], True),
    ("employment", "帮助农村妇女实现就业", "县妇女联合会", ["县人力资源和社会保障局"],
     "县委常委、组织部部长", 40, [("实现就业农村妇女", "人", 459)], True),
    ("employment", "“春风送岗位·就业暖民心”招聘活动", "县人力资源和社会保障局", [],
     "副县长（分管人社）", 30, [("招聘活动", "期", 9), ("达成就业意向", "人", 550)], True),
    ("old-young", "在医疗机构设置老年人就医绿色通道", "县卫生健康委员会", ["县人民医院", "县中医院"],
     "副县长（分管教育卫健）", 60, [("设置绿色通道的医疗机构", "家", 19)], True),
    ("old-young", "新建公办幼儿园", "县教育局", ["县住房和城乡建设局", "县财政局"],
     "副县长（分管教育卫健）", 4500, [("新建公办幼儿园", "所", 5)], True),
    ("education", "新增高中学位", "县教育局", ["县第一中学"],
     "副县长（分管教育卫健）", 3200, [("新增高中学位", "个", 535)], True),
    ("culture", "农家书屋规范化建设", "县文化广电旅游体育局", ["县融媒体中心"],
     "县委常委、宣传部部长", 330, [("规范建设农家书屋", "个", 110), ("示范点", "个", 2)], True),
    ("services", "“一件事一次办”事项上线运行", "县政务服务中心", ["县市场监督管理局"],
     "常务副县长", 150, [("上线事项", "项", 15)], True),
    ("services", "深化“一枚印章管审批”改革", "县政务服务中心", ["县司法局"],
     "常务副县长", None, [("划转审批事项", "项", 120)], True),
    ("services", "推行涉企经营许可告知承诺制和容缺受理", "县市场监督管理局", ["县政务服务中心"],
     "常务副县长", None, [("告知承诺事项", "项", 40)], True),
    ("services", "推出《建设工程规划许可证》电子证照", "县自然资源和规划局", ["县政务服务中心"],
     "常务副县长", 25, [("电子证照", "类", 1)], True),
    ("services", "帮办代办和免费寄递服务常态化", "县政务服务中心", ["县商务局"],
     "常务副县长", 35, [("帮办代办事项", "项", 200)], True),
    ("governance", "村（居）务监督委员会全覆盖", "县纪委监委", ["县民政局"],
     "县委常委、纪委书记", None, [("成立村（居）务监督委员会", "个", 126)], True),
    ("governance", "创建“枫桥式派出所”", "县公安局", ["县司法局"],
     "县委常委、政法委书记", 80, [("枫桥式派出所", "个", 1)], True),
    ("governance", "建设“智慧安防小区”", "县公安局", ["县住房和城乡建设局"],
     "县委常委、政法委书记", 260, [("智慧安防小区", "个", 3)], False),
    ("governance", "公安政务服务“一门通办”", "县公安局", ["县政务服务中心"],
     "县委常委、政法委书记", 50, [("一门通办事项", "项", 60)], True),
    ("culture", "“大榕树下话初心”群众宣讲", "县委宣传部", ["县融媒体中心"],
     "县委常委、宣传部部长", 20, [("群众宣讲", "场", 72)], True),
    ("culture", "升级改造红色教育基地", "县文化广电旅游体育局", ["县委组织部"],
     "县委常委、组织部部长", 1800, [("改造展陈面积", "平方米", 2400)], False),
]
# fmt: on

LEADS = {
    "poverty": ["县委副书记", "副县长（分管农业农村）"],
    "old-young": ["副县长（分管教育卫健）", "副县长（分管民政）"],
    "employment": ["副县长（分管人社）"],
    "education": ["副县长（分管教育卫健）"],
    "health": ["副县长（分管教育卫健）"],
    "services": ["常务副县长"],
    "governance": ["县委常委、政法委书记", "县委常委、组织部部长"],
    "culture": ["县委常委、宣传部部长"],
    "infrastructure": ["副县长（分管住建交通）", "常务副县长"],
}

# Generated items: (title, unit, target name, unit of measure, low, high, budget range in 万元).
# "{town}" makes one item per town.
TEMPLATES: dict[str, list[tuple]] = {
    "poverty": [
        ("{town}脱贫村特色产业提质增效", "县农业农村局", "扶持产业项目", "个", 2, 6, (50, 300)),
        ("{town}农村饮水安全巩固提升", "县水务局", "受益人口", "人", 800, 5000, (80, 400)),
        ("{town}消费帮扶农产品展销", "县商务局", "展销活动", "场", 2, 8, (5, 30)),
        ("防止返贫动态监测帮扶全覆盖", "县乡村振兴局", "监测户帮扶", "户", 200, 900, None),
        ("脱贫人口小额信贷发放", "县乡村振兴局", "发放贷款", "万元", 500, 3000, None),
    ],
    "old-young": [
        ("{town}农村幸福院改造提升", "县民政局", "幸福院", "所", 1, 3, (40, 200)),
        ("{town}社区儿童之家建设", "县妇女联合会", "儿童之家", "个", 1, 4, (10, 60)),
        ("{town}普惠性托育服务点建设", "县卫生健康委员会", "托位", "个", 20, 80, (30, 150)),
        ("{town}老年人助餐点建设", "县民政局", "助餐点", "个", 1, 3, (10, 50)),
        ("困难老年人家庭适老化改造", "县民政局", "改造家庭", "户", 80, 300, (50, 200)),
        ("农村留守儿童关爱服务", "县民政局", "结对关爱儿童", "人", 300, 1200, (10, 60)),
    ],
    "employment": [
        ("{town}就业驿站建设", "县人力资源和社会保障局", "就业驿站", "个", 1, 2, (5, 30)),
        ("{town}帮扶车间提质增效", "县乡村振兴局", "吸纳就业", "人", 30, 150, (20, 80)),
        ("开发乡村公益性岗位", "县人力资源和社会保障局", "公益性岗位", "个", 100, 600, (100, 500)),
        ("返乡创业培训", "县人力资源和社会保障局", "培训", "人次", 100, 600, (20, 100)),
        ("高校毕业生就业见习岗位", "县人力资源和社会保障局", "见习岗位", "个", 50, 300, (30, 120)),
    ],
    "education": [
        ("{town}中心学校教学楼改造", "县教育局", "改造面积", "平方米", 1200, 5000, (200, 1500)),
        ("{town}中心学校学生宿舍改造", "县教育局", "床位", "个", 100, 400, (100, 600)),
        ("{town}小学运动场改造", "县教育局", "运动场", "个", 1, 2, (50, 300)),
        ("义务教育学校课后服务全覆盖", "县教育局", "开展课后服务学校", "所", 30, 60, None),
        ("农村学校直饮水设备安装", "县教育局", "学校", "所", 20, 50, (50, 150)),
    ],
    "health": [
        (
            "{town}卫生院提质改造",
            "县卫生健康委员会",
            "改造业务用房",
            "平方米",
            600,
            2500,
            (200, 800),
        ),
        ("{town}村卫生室标准化建设", "县卫生健康委员会", "村卫生室", "个", 3, 12, (30, 150)),
        ("适龄妇女“两癌”免费筛查", "县卫生健康委员会", "筛查", "人", 3000, 8000, (60, 200)),
        ("重点人群家庭医生签约服务", "县卫生健康委员会", "签约", "人", 10000, 30000, None),
        ("医保业务村级代办点建设", "县医疗保障局", "代办点", "个", 50, 126, (10, 40)),
        ("县人民医院胸痛中心建设", "县人民医院", "胸痛中心", "个", 1, 1, (300, 900)),
    ],
    "services": [
        ("{town}便民服务中心标准化建设", "县政务服务中心", "服务中心", "个", 1, 1, (20, 80)),
        ("不动产登记“一窗受理”", "县自然资源和规划局", "一窗受理事项", "项", 20, 60, None),
        ("政务服务24小时自助服务区", "县政务服务中心", "自助终端", "台", 5, 20, (30, 120)),
        ("企业开办全程网办", "县市场监督管理局", "网办率", "%", 90, 100, None),
    ],
    "governance": [
        ("{town}综治中心规范化建设", "县司法局", "综治中心", "个", 1, 1, (20, 60)),
        ("{town}“村民说事”议事点建设", "县民政局", "议事点", "个", 5, 14, (5, 20)),
        ("农村“雪亮工程”视频监控建设", "县公安局", "监控点位", "路", 100, 500, (100, 600)),
        ("信访积案化解", "县信访局", "化解积案", "件", 20, 60, None),
        ("“法律明白人”培训", "县司法局", "培训", "人", 200, 600, (10, 30)),
    ],
    "culture": [
        ("{town}文化广场建设", "县文化广电旅游体育局", "文化广场", "个", 1, 2, (30, 200)),
        ("{town}全民健身路径更新", "县文化广电旅游体育局", "健身路径", "套", 3, 10, (10, 60)),
        ("送戏下乡", "县文化广电旅游体育局", "演出", "场", 60, 150, (50, 150)),
        ("公益电影放映进村", "县文化广电旅游体育局", "放映", "场", 1000, 1600, (30, 80)),
        ("应急广播“村村响”升级", "县融媒体中心", "覆盖行政村", "个", 100, 126, (80, 300)),
    ],
    "infrastructure": [
        ("{town}农贸市场升级改造", "县商务局", "改造市场", "个", 1, 1, (100, 600)),
        ("{town}农村公路提级改造", "县交通运输局", "改造公路", "公里", 5, 30, (300, 2000)),
        ("{town}路灯亮化工程", "县住房和城乡建设局", "路灯", "盏", 100, 600, (30, 200)),
        ("{town}农村生活污水治理", "县生态环境局", "治理自然村", "个", 5, 20, (100, 800)),
        ("{town}老旧小区改造", "县住房和城乡建设局", "改造户数", "户", 100, 500, (200, 900)),
        ("城区新增公共停车位", "县住房和城乡建设局", "停车位", "个", 300, 1200, (200, 900)),
        ("城区新建改造公厕", "县住房和城乡建设局", "公厕", "座", 5, 20, (50, 200)),
    ],
}
CATEGORY_ORDER = [code for code, _name, _en in services.DEFAULT_CATEGORIES]
MILESTONES = ["完成方案制定", "启动实施", "完成主体工作", "完成验收"]

# The shape of the demo list (the interview's figures).
PUBLISHED = 131  # + 2 added + 1 merged in + 2 split out − 1 cancelled − 2 merged − 1 split = 132
DELIVERED = 71
OVERDUE = 9
DUE_SOON = 6


def programme_title(county: Org, year: int) -> str:
    return f"{year}年{county.name}为民办实事项目清单"


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
    today, soon = tl.today, settings.DUE_SOON_WORKDAYS
    june, december = dt.date(tl.year, 6, 1), dt.date(tl.year, 12, 31)
    if light == "overdue":
        low = max(june, today - dt.timedelta(days=150))
        if low >= today:
            low = today - dt.timedelta(days=60)
        return low + dt.timedelta(days=rng.randint(0, (today - low).days - 1))
    if light == "due_soon":
        return calendar().add_workdays(today, rng.randint(1, max(1, soon - 1)))
    low = max(june, calendar().add_workdays(today, soon + 3))
    high = max(december, low + dt.timedelta(days=14))
    return low + dt.timedelta(days=rng.randint(0, (high - low).days))


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
        admin = self.login("county_admin", access.REVIEW_PROGRESS, self.county)
        for s in roles["awaiting"]:
            c = self.commitment(s.key)
            officer = self.login("unit_officer", access.REPORT_PROGRESS, c.responsible_unit)
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
            officer = self.login("unit_officer", access.REPORT_PROGRESS, c.responsible_unit)
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
            proposer = self.login("unit_officer", access.PROPOSE_ADJUSTMENT, c.responsible_unit)
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
        """What ``services.public_fields`` would say of this commitment."""
        s = self.spec
        return {
            "number": self.number,
            "title": s.title,
            "description": s.description(),
            "category": s.category,
            "lead_official": s.lead,
            "responsible_unit": s.unit.name,
            "co_units": sorted(u.name for u in s.co_units),
            "budget_planned": f"{s.budget:.2f}" if s.budget is not None else None,
            "budget_spent": f"{self.budget_spent:.2f}" if self.budget_spent is not None else None,
            "start_date": s.start.isoformat(),
            "deadline": s.deadline.isoformat(),
            "status": self.status,
            "percent_complete": self.percent,
            "delivered_on": self.delivered_on.isoformat() if self.delivered_on else None,
            "merged_into": items[self.merged_into].number if self.merged_into is not None else None,
            "targets": [
                {
                    "name": n,
                    "unit": u,
                    "baseline": "0.00",
                    "target_value": f"{v:.2f}",
                    "actual_value": f"{a:.2f}",
                }
                for (n, u, v), a in zip(s.targets, self.actuals, strict=True)
            ],
            "milestones": [
                {"title": t, "planned_date": d.isoformat(), "done_date": None}
                for t, d in s.milestones
            ],
        }


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
        self.on(f + self.DECIDE, lambda: self.apply(f, f + self.DECIDE, index))

    def apply(self, proposed: float, f: float, index: int) -> None:
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
