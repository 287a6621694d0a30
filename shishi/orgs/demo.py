"""The demo county and generated provinces: fictional, deterministic, bulk-inserted.

Every name is made up from syllables; codes use the prefix 99, which no real province has.
The shape follows the interview: about 10 towns, 126 villages and communities, 380 party
branches, about 40 departments and 2,100 cadres per county. ``build_province(seed, n)`` makes the
same province for the same seed and ``n``; counties that already exist are left alone, so both
``shishi demo`` and ``shishi generate`` are safe to run twice.
"""

from __future__ import annotations

import random

from django.db import transaction

from shishi.audit.services import record

from .models import Gender, Org, OrgKind, Person, RoleKind, User, box, encode_step
from .services import _next_path, create_login, grant_role

PROVINCE_NAME = "南屿省"
COUNTIES_PER_CITY = 10
# The 12-digit code has two digits for the city: 99 cities of 10 counties make a province. Past
# that, generated counties go on in further fictional provinces, coded 98, 97 … 91.
COUNTIES_PER_PROVINCE = 99 * COUNTIES_PER_CITY
MAX_COUNTIES = 9 * COUNTIES_PER_PROVINCE
DEMO_COUNTY_NAME = "青禾县"
DEMO_PASSWORD = "Shishi-demo-2026"  # noqa: S105 (documented demo logins)

TOWNS = 10
VILLAGES = 126
DEPARTMENTS = [
    "县委办公室",
    "县政府办公室",
    "县委组织部",
    "县委宣传部",
    "县纪委监委",
    "县发展和改革委员会",
    "县教育局",
    "县科学技术和工业信息化局",
    "县公安局",
    "县民政局",
    "县司法局",
    "县财政局",
    "县人力资源和社会保障局",
    "县自然资源和规划局",
    "县生态环境局",
    "县住房和城乡建设局",
    "县交通运输局",
    "县水务局",
    "县农业农村局",
    "县商务局",
    "县文化广电旅游体育局",
    "县卫生健康委员会",
    "县退役军人事务局",
    "县应急管理局",
    "县审计局",
    "县市场监督管理局",
    "县统计局",
    "县医疗保障局",
    "县乡村振兴局",
    "县政务服务中心",
    "县信访局",
    "县供销合作社",
    "县总工会",
    "共青团县委",
    "县妇女联合会",
    "县残疾人联合会",
    "县融媒体中心",
    "县人民医院",
    "县中医院",
    "县第一中学",
]
SYLLABLES = (
    "禾 屿 澄 岚 桐 溪 苇 沐 棠 汀 榆 芷 枫 泓 洛 渠 杉 葵 苓 蓬 峪 湄 芦 柘 楠 菁 沅 濂 蕉 椰 "
    "莳 荻 槐 璞 岑 砚 翠 溱 浔 瑶"
).split()
SURNAMES = "王 李 张 刘 陈 杨 黄 吴 林 符 周 郑 冯 邢 许 何 梁 吉 谢 韩 蔡 曾 唐 云 钟".split()
GIVEN = (
    "海 明 芳 丽 强 军 华 燕 平 勇 霞 涛 敏 静 辉 婷 伟 红 峰 兰 雪 斌 琳 杰 莉 鹏 洁 云 波 "
    "宁 欣 帆 晨 阳 慧 娟 东 玲 建 春"
).split()
BRANCH_ORDINALS = ["第一", "第二", "第三"]
POSITIONS_BRANCH = ["党支部书记", "党支部副书记", "组织委员", "宣传委员", "纪检委员"]
POSITIONS_DEPT = ["局长", "副局长", "办公室主任", "科员", "科员"]

# The demo logins: one per role. (username, role, where, position)
DEMO_LOGINS = [
    ("county_admin", RoleKind.COUNTY_ADMIN, "county", "县委办公室"),
    ("town_admin", RoleKind.TOWN_ADMIN, "town", "town_organ"),
    ("unit_officer", RoleKind.UNIT_OFFICER, "department", "县教育局"),
    ("branch_secretary", RoleKind.BRANCH_SECRETARY, "branch", "branch"),
    ("cadre", RoleKind.CADRE, "branch", "branch"),
    ("supervisor", RoleKind.SUPERVISOR, "county", "县委组织部"),
    ("auditor", RoleKind.AUDITOR, "county", "县审计局"),
    ("sysadmin", RoleKind.SYSADMIN, "province", "县政务服务中心"),
    ("security_admin", RoleKind.SECURITY_ADMIN, "province", "县政务服务中心"),
    ("audit_admin", RoleKind.AUDIT_ADMIN, "province", "县审计局"),
]


def _province_index(index: int) -> tuple[int, int, int]:
    """(province, city, county number) of the ``index``-th generated county."""
    province, rest = divmod(index, COUNTIES_PER_PROVINCE)
    city, number = divmod(rest, COUNTIES_PER_CITY)
    return province, city, number


def province_code(province: int) -> str:
    return f"{99 - province:02d}0000000000"


def city_code(province: int, city: int) -> str:
    return f"{99 - province:02d}{city + 1:02d}00000000"


def county_code(index: int) -> str:
    province, city, number = _province_index(index)
    return f"{99 - province:02d}{city + 1:02d}{number + 1:02d}000000"


def _place_name(rng: random.Random, used: set[str], suffix: str) -> str:
    for _ in range(1000):
        name = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + suffix
        if name[0] != name[1] and name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of fictional names")


def _person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


class Builder:
    def __init__(self, seed: int):
        self.seed = seed

    # -- province and cities -------------------------------------------------------------

    def province(self, index: int) -> Org:
        code = province_code(index)
        province = Org.objects.filter(code=code).first()
        if province:
            return province
        rng = random.Random(f"{self.seed}:province:{index}")
        name = PROVINCE_NAME if index == 0 else _place_name(rng, set(), "省")
        path, depth = _next_path(None)
        return Org.objects.create(
            kind=OrgKind.PROVINCE,
            name=name,
            short_name=name[:-1],
            code=code,
            path=path,
            depth=depth,
        )

    def city(self, province: Org, province_index: int, index: int) -> Org:
        code = city_code(province_index, index)
        city = Org.objects.filter(code=code).first()
        if city:
            return city
        rng = random.Random(f"{self.seed}:city:{province_index}:{index}")
        name = _place_name(rng, set(), "市")
        path, depth = _next_path(province)
        return Org.objects.create(
            kind=OrgKind.CITY,
            name=name,
            short_name=name[:-1],
            code=code,
            parent=province,
            path=path,
            depth=depth,
        )

    # -- one county ------------------------------------------------------------------------

    def county(self, index: int) -> tuple[Org, bool]:
        """The county ``index`` of the province, built if it does not exist; (county, created)."""
        code = county_code(index)
        existing = Org.objects.filter(code=code).first()
        if existing:
            return existing, False
        with transaction.atomic():
            province_index, city_index, _number = _province_index(index)
            province = self.province(province_index)
            city = self.city(province, province_index, city_index)
            rng = random.Random(f"{self.seed}:county:{index}")
            used: set[str] = set()
            name = DEMO_COUNTY_NAME if index == 0 else _place_name(rng, used, "县")
            path, depth = _next_path(city)
            county = Org.objects.create(
                kind=OrgKind.COUNTY,
                name=name,
                short_name=name[:-1],
                code=code,
                parent=city,
                path=path,
                depth=depth,
            )
            county.county = county
            county.save(update_fields=["county"])
            counts = self._fill_county(rng, county, used)
            record(None, "orgs.county.generated", county, data={"seed": self.seed, **counts})
        return county, True

    def _child(self, parent: Org, kind: str, name: str, code: str, short: str = "") -> Org:
        parent.children_issued += 1
        return Org(
            kind=kind,
            name=name,
            short_name=short,
            code=code,
            parent=parent,
            county_id=parent.county_id,
            path=parent.path + encode_step(parent.children_issued),
            depth=parent.depth + 1,
        )

    def _fill_county(self, rng: random.Random, county: Org, used: set[str]) -> dict:
        prefix = county.code[:6]
        county.children_issued = 0
        # Level 1: towns and departments.
        towns, departments = [], []
        for t in range(TOWNS):
            suffix = "街道" if t == 0 else ("乡" if t % 4 == 3 else "镇")
            name = _place_name(rng, used, suffix)
            towns.append(
                self._child(county, OrgKind.TOWN, name, f"{prefix}{100 + t:03d}000", name[:2])
            )
        for d, dept in enumerate(DEPARTMENTS):
            full = (
                county.name + dept[1:]
                if dept.startswith("县")
                else dept.replace("县", county.name, 1)
            )
            departments.append(
                self._child(county, OrgKind.DEPARTMENT, full, f"D{prefix}{d + 1:03d}", dept)
            )
        Org.objects.bulk_create(towns + departments)
        Org.objects.filter(pk=county.pk).update(children_issued=county.children_issued)
        # Level 2: villages and communities (126 over 10 towns), town organ branches, department branches.
        level2: list[Org] = []
        villages: list[Org] = []
        for t, town in enumerate(towns):
            n = VILLAGES // TOWNS + (1 if t < VILLAGES % TOWNS else 0)
            for v in range(n):
                community = t == 0 or v == 0
                kind = OrgKind.COMMUNITY if community else OrgKind.VILLAGE
                code = f"{town.code[:9]}{(1 + v) if community else (200 + v):03d}"
                name = _place_name(rng, used, "社区" if community else "村")
                villages.append(self._child(town, kind, name, code, name[:2]))
            level2.append(
                self._child(town, OrgKind.BRANCH, f"{town.name}机关党支部", f"B{town.code}01")
            )
        for d, dept in enumerate(departments):
            count = 3 if d < 10 else 2
            for b in range(count):
                label = "机关党支部" if b == 0 else f"{BRANCH_ORDINALS[b]}党支部"
                level2.append(
                    self._child(
                        dept, OrgKind.BRANCH, f"{dept.name}{label}", f"B{dept.code}{b + 1:02d}"
                    )
                )
        Org.objects.bulk_create(villages + level2)
        # Level 3: village branches — 252 + 28 = 280, so 380 branches in all.
        branches: list[Org] = []
        for v, village in enumerate(villages):
            count = 3 if v < 28 else 2
            for b in range(count):
                label = f"{BRANCH_ORDINALS[b]}党支部"
                branches.append(
                    self._child(
                        village,
                        OrgKind.BRANCH,
                        f"{village.name}{label}",
                        f"B{village.code}{b + 1:02d}",
                    )
                )
        Org.objects.bulk_create(branches)
        for parent in towns + departments + villages:
            Org.objects.filter(pk=parent.pk).update(children_issued=parent.children_issued)
        # People: five per branch, five per department.
        all_branches = [o for o in level2 + branches if o.kind == OrgKind.BRANCH]
        people: list[Person] = []
        seq = 0
        b = box()
        for org, positions, member_rate in [(o, POSITIONS_BRANCH, 1.0) for o in all_branches] + [
            (o, POSITIONS_DEPT, 0.8) for o in departments
        ]:
            for position in positions:
                seq += 1
                phone = f"199{rng.randrange(10**8):08d}"
                person = Person(
                    number=f"P{prefix}{seq:06d}",
                    name=_person_name(rng),
                    gender=rng.choice([Gender.MALE, Gender.FEMALE]),
                    is_party_member=rng.random() < member_rate,
                    position=position,
                    org=org,
                    county=county,
                    phone_encrypted=b.encrypt(phone),
                    phone_digest=b.digest(phone),
                )
                people.append(person)
        Person.objects.bulk_create(people, batch_size=2000)
        return {
            "towns": len(towns),
            "villages": len(villages),
            "departments": len(departments),
            "branches": len(all_branches),
            "people": len(people),
        }


def build_province(seed: int, counties: int, progress=None) -> list[tuple[Org, bool]]:
    builder = Builder(seed)
    out = []
    for index in range(counties):
        out.append(builder.county(index))
        if progress:
            progress(index + 1, *out[-1])
    return out


def ensure_demo_logins(county: Org) -> list[tuple[str, str, str]]:
    """One login per role in the demo county, each on a person already on a roster.

    Returns (username, role label, organisation) for the start-up message. Existing logins are
    left as they are, so running the demo twice changes nothing.
    """
    province = county.parent.parent
    town = Org.objects.filter(parent=county, kind=OrgKind.TOWN).order_by("path")[1]
    branch = (
        Org.objects.filter(path__startswith=town.path, kind=OrgKind.BRANCH, depth=town.depth + 2)
        .order_by("path")
        .first()
    )
    out = []
    for username, role, where, unit in DEMO_LOGINS:
        target = {"county": county, "town": town, "branch": branch, "province": province}.get(where)
        if unit == "town_organ":
            home = Org.objects.get(parent=town, kind=OrgKind.BRANCH)
        elif unit == "branch":
            home = branch
        else:
            home = Org.objects.get(county=county, kind=OrgKind.DEPARTMENT, short_name=unit)
        if where == "department":
            target = home
        user = User.objects.filter(username=username).first()
        if user is None:
            taken = Person.objects.filter(user__isnull=False).values_list("pk", flat=True)
            person = (
                Person.objects.filter(org__path__startswith=home.path)
                .exclude(pk__in=taken)
                .order_by("number")
                .first()
            )
            user = create_login(None, person, username=username, password=DEMO_PASSWORD)
        grant_role(None, user, target, role)
        out.append((username, str(RoleKind(role).label), target.name))
    return out
