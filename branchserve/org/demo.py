"""The demo province's organisation and staff: a fictional province branch (示范省分行).

One business department (营业部), up to a dozen sub-branches (支行) with their outlets (网点:
营业室, 分理处, 储蓄所), 4–12 counters each, opening hours, and a login for every staff member
in every role — including a few tellers who moved between outlets during the demo's history.

Well-known demo logins have fixed employee numbers (``WELL_KNOWN``), whatever the demo's size.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from itertools import accumulate

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.utils import translation

from branchserve.core.demo import (
    DEMO_PASSWORD,
    DemoContext,
    DemoLogin,
    demo_generator,
    register_logins,
)
from branchserve.org.choices import Role, UnitKind
from branchserve.org.models import Assignment, Counter, OpeningHours, OrgUnit, Staff

PROVINCE_CODE = "PRV"
PROVINCE_NAME = "示范省分行"
CITY = "示范市"
MAX_SUB_BRANCHES = 12
# Sub-branches in the provincial capital sit under the business department.
CAPITAL_SUB_BRANCHES = 3
ADMIN_USERNAME = "admin"

# Surnames with their share of the population in per mille (public statistics, rounded).
SURNAMES: dict[str, float] = {
    "王": 71.2, "李": 70.0, "张": 66.8, "刘": 53.8, "陈": 45.3, "杨": 30.8, "黄": 22.3,
    "赵": 20.2, "吴": 19.9, "周": 18.7, "徐": 14.5, "孙": 13.8, "马": 12.9, "朱": 12.8,
    "胡": 11.6, "郭": 11.3, "何": 10.6, "高": 10.0, "林": 10.0, "罗": 8.6, "郑": 7.8,
    "梁": 7.4, "谢": 6.8, "宋": 6.2, "唐": 6.2, "许": 5.9, "韩": 5.6, "冯": 5.5, "邓": 5.4,
    "曹": 5.1, "彭": 5.0, "曾": 4.9, "肖": 4.8, "田": 4.7, "董": 4.4, "袁": 4.3, "潘": 4.2,
    "于": 4.1, "蒋": 4.0, "蔡": 4.0, "余": 3.9, "杜": 3.9, "叶": 3.8, "程": 3.7, "苏": 3.6,
    "魏": 3.5, "吕": 3.4, "丁": 3.3, "任": 3.2, "沈": 3.1, "姚": 3.0, "卢": 3.0, "姜": 2.9,
    "崔": 2.8, "钟": 2.8, "谭": 2.7, "陆": 2.6, "汪": 2.5, "范": 2.5, "金": 2.4, "石": 2.4,
    "廖": 2.3, "贾": 2.2, "夏": 2.2, "韦": 2.2, "付": 2.1, "方": 2.1, "白": 2.0, "邹": 2.0,
    "孟": 1.9, "熊": 1.9, "秦": 1.8, "邱": 1.8, "江": 1.8, "尹": 1.7, "薛": 1.7, "闫": 1.6,
    "段": 1.6, "雷": 1.6, "侯": 1.5, "龙": 1.5, "史": 1.5, "陶": 1.4, "黎": 1.4, "贺": 1.4,
    "顾": 1.3, "毛": 1.3, "郝": 1.3, "龚": 1.2, "邵": 1.2, "万": 1.2, "钱": 1.2, "严": 1.1,
    "覃": 1.1, "武": 1.1, "戴": 1.1, "莫": 1.0, "孔": 1.0, "向": 1.0, "汤": 1.0,
    "欧阳": 0.3, "上官": 0.1,
}  # fmt: skip
GIVEN_FEMALE = (
    "丽娟敏静婷雪芳燕玲霞慧颖晶琳洁倩萍红梅莉蕾佳欣悦怡雯璐瑶菲妍晨露楠月艳秀英兰婧琪薇茜瑾岚丹"
)
GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳峰亮成东海博然睿哲轩航昊毅晖"
)
FIRST_FEMALE = "晓雅思欣佳雨婉诗梦嘉秀美春海玉文子一若慧丽"
FIRST_MALE = "建志国永俊嘉子浩宇家明文海晓天一立振德鹏宏"

SUB_BRANCH_PLACES = [
    "城东", "城西", "城南", "城北", "高新区", "经开区",
    "滨江", "湖滨", "临港", "东湖", "西山", "青山",
]  # fmt: skip
STREETS = [
    "人民路", "解放路", "中山路", "建设路", "和平路", "胜利路", "文化路", "新华路", "友谊路",
    "长江路", "黄河路", "光明路", "幸福路", "朝阳路", "东风路", "红旗路", "迎宾路", "健康路",
    "青年路", "学府路", "工业路", "花园路", "滨河路", "站前路", "广场路", "体育路", "新村",
    "翠苑", "金桥", "银河", "阳光", "春晖", "丽景", "锦绣", "龙泉", "凤凰", "石桥", "梅园",
    "桃源", "柳林", "松林", "竹园", "荷花池", "火车站", "大学城", "科技园", "软件园", "新港",
    "东门", "南门", "北门", "西门", "鼓楼", "钟楼", "府前", "南湖", "北苑", "桂园", "云岭",
    "金沙", "白鹭洲", "玉泉", "清水河", "望江", "观澜", "紫荆", "海棠", "银杏", "枫林",
    "槐荫", "樟树", "杏林", "芙蓉", "天河", "星光", "长安", "永安", "太平", "安居", "富民",
    "兴业", "广源", "瑞丰", "嘉禾", "丰收", "复兴", "振兴", "启明",
]  # fmt: skip


@dataclass(frozen=True)
class WellKnown:
    employee_no: str
    role: str
    sees: str
    note: str = ""


# The logins listed for a newcomer, with fixed employee numbers.
WELL_KNOWN = [
    WellKnown("100001", Role.SYSTEM_ADMIN, "devices, organisation and staff of the province"),
    WellKnown("100002", Role.AUDITOR, "the audit log of the province, read-only"),
    WellKnown("100003", Role.PROVINCE_SERVICE_MANAGER, "every outlet of the province"),
    WellKnown("100004", Role.SUB_BRANCH_PRESIDENT, "the outlets of {unit}"),
    WellKnown("100005", Role.SUB_BRANCH_SERVICE_MANAGER, "the outlets of {unit}"),
    WellKnown("100006", Role.OUTLET_HEAD, "the outlet {unit}"),
    WellKnown("100007", Role.LOBBY_MANAGER, "the lobby of {unit}"),
    WellKnown("100008", Role.TELLER, "their own work at {unit}, counter 1"),
    WellKnown("100009", Role.TELLER, "their own work, before and after moving to {unit}",
              note="moved"),
]  # fmt: skip
FIRST_EMPLOYEE_NO = 101001


@dataclass
class OrgDemo:
    """What the org generator made (everything is also in the database)."""

    province: OrgUnit
    outlets: list[OrgUnit] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    transfers: int = 0


class NameMaker:
    """Plausible Chinese names: surnames by frequency, one- or two-character given names."""

    def __init__(self, ctx: DemoContext) -> None:
        self.rng = ctx.random
        self.surnames = list(SURNAMES)
        self.cumulative = list(accumulate(SURNAMES.values()))

    def __call__(self, female: bool | None = None) -> str:
        rng = self.rng
        if female is None:
            female = rng.random() < 0.5
        surname = rng.choices(self.surnames, cum_weights=self.cumulative)[0]
        chars, firsts = (GIVEN_FEMALE, FIRST_FEMALE) if female else (GIVEN_MALE, FIRST_MALE)
        roll = rng.random()
        if roll < 0.25:
            given = rng.choice(chars)
        elif female and roll < 0.3:
            given = rng.choice(chars) * 2  # 婷婷, 丹丹
        else:
            given = rng.choice(firsts) + rng.choice(chars)
            while given[0] == given[1]:
                given = rng.choice(firsts) + rng.choice(chars)
        return surname + given


@dataclass
class PlannedOutlet:
    unit: OrgUnit
    style: str  # "main" (营业室), "office" (分理处) or "savings" (储蓄所)
    counters: int


def plan_units(ctx: DemoContext) -> tuple[OrgUnit, list[OrgUnit], list[PlannedOutlet]]:
    """The tree: province, business department, sub-branches and outlets (not saved yet)."""
    rng = ctx.random
    n_outlets = max(1, ctx.outlets)
    province = OrgUnit(code=PROVINCE_CODE, name=PROVINCE_NAME, kind=UnitKind.PROVINCE)
    province.address = f"{CITY}人民路1号"
    department = OrgUnit(
        code="BD", name="营业部", kind=UnitKind.BUSINESS_DEPARTMENT, parent=province
    )
    department.address = f"{CITY}人民路1号"
    n_sub = min(MAX_SUB_BRANCHES, max(1, round(n_outlets / 5)))
    managing: list[OrgUnit] = [department]  # units that run outlets, in order
    for i, place in enumerate(SUB_BRANCH_PLACES[:n_sub], start=1):
        parent = (
            department if n_sub > CAPITAL_SUB_BRANCHES and i <= CAPITAL_SUB_BRANCHES else province
        )
        sub = OrgUnit(
            code=f"SB{i:02d}", name=f"{place}支行", kind=UnitKind.SUB_BRANCH, parent=parent
        )
        sub.address = f"{CITY}{place}{rng.choice(STREETS)}{rng.randint(1, 300)}号"
        managing.append(sub)
    # The business department runs a few outlets itself; each sub-branch gets the rest.
    share = [0] * len(managing)
    order = managing[1:] + managing[:1] if len(managing) > 1 else managing
    for i in range(n_outlets):
        share[managing.index(order[i % len(order)])] += 1
    streets = list(STREETS)
    rng.shuffle(streets)
    used: set[str] = set()
    outlets: list[PlannedOutlet] = []
    # Sub-branches' outlets first, so the first outlet is the first sub-branch's 营业室.
    for manager in order:
        index = managing.index(manager)
        for n in range(1, share[index] + 1):
            code = f"O{index:02d}{n:02d}"
            if n == 1:
                style = "main"
                name = f"{manager.name}营业室"
                counters = rng.randint(8, 12)
            else:
                # Street names once each; a big demo reuses them with the district's name.
                street = streets.pop() if streets else place_of(manager) + rng.choice(STREETS)
                tries = 0
                while street in used:
                    tries += 1
                    suffix = rng.choice("东西南北") if tries < 20 else str(tries)
                    street = place_of(manager) + rng.choice(STREETS) + suffix
                used.add(street)
                style = "office" if rng.random() < 0.7 else "savings"
                name = street + ("分理处" if style == "office" else "储蓄所")
                counters = rng.randint(5, 9) if style == "office" else rng.randint(4, 6)
            unit = OrgUnit(code=code, name=name, kind=UnitKind.OUTLET, parent=manager)
            unit.address = f"{CITY}{rng.choice(STREETS)}{rng.randint(1, 500)}号"
            outlets.append(PlannedOutlet(unit=unit, style=style, counters=counters))
    return province, managing, outlets


def place_of(unit: OrgUnit) -> str:
    return unit.name.removesuffix("支行").removesuffix("营业部") or "城区"


def opening_hours(ctx: DemoContext, planned: PlannedOutlet) -> list[OpeningHours]:
    """Weekdays 9:00–17:00 (main outlets 8:30–17:30); many open at weekends for shorter hours."""
    rng = ctx.random
    t = dt.time
    weekend_days: tuple[int, ...]
    if planned.style == "main":
        weekday, weekend, weekend_days = (t(8, 30), t(17, 30)), (t(9), t(16)), (5, 6)
    else:
        weekday = (t(9), t(17))
        roll = rng.random()
        if roll < 0.5:
            weekend, weekend_days = (t(9, 30), t(16)), (5, 6)
        elif roll < 0.75:
            weekend, weekend_days = (t(9), t(15)), (5,)
        else:
            weekend, weekend_days = (t(9), t(15)), ()
    rows = [
        OpeningHours(outlet=planned.unit, weekday=day, opens_at=weekday[0], closes_at=weekday[1])
        for day in range(5)
    ]
    rows += [
        OpeningHours(outlet=planned.unit, weekday=day, opens_at=weekend[0], closes_at=weekend[1])
        for day in weekend_days
    ]
    return rows


def counters_of(planned: PlannedOutlet) -> list[Counter]:
    """Numbered windows; bigger outlets keep the last ones for premium and corporate customers."""
    special: dict[int, str] = {}
    n = planned.counters
    if planned.style == "main":
        special = {n: "对公业务窗口", n - 1: "贵宾理财窗口"}
    elif n >= 7:
        special = {n: "贵宾窗口"}
    return [
        Counter(
            outlet=planned.unit,
            code=f"{planned.unit.code}-{number:02d}",
            number=number,
            name=special.get(number, f"{number}号窗口"),
        )
        for number in range(1, n + 1)
    ]


@dataclass
class PlannedAssignment:
    unit: OrgUnit
    role: str
    starts_on: dt.date
    ends_on: dt.date | None = None


@dataclass
class PlannedStaff:
    name: str
    assignments: list[PlannedAssignment]
    employee_no: str = ""


@demo_generator("org", order=10, seeded=lambda: OrgUnit.objects.exists())
def generate(ctx: DemoContext) -> OrgDemo:
    rng = ctx.random
    names = NameMaker(ctx)
    province, managing, planned_outlets = plan_units(ctx)

    # Units, parents before children, paths set here because bulk_create skips save().
    units = [province, *managing, *(p.unit for p in planned_outlets)]
    for level in (
        UnitKind.PROVINCE,
        UnitKind.BUSINESS_DEPARTMENT,
        UnitKind.SUB_BRANCH,
        UnitKind.OUTLET,
    ):
        batch = [u for u in units if u.kind == level]
        for unit in batch:
            if unit.parent is not None:
                unit.parent_id = unit.parent.pk
            unit.path = unit.compute_path()
        ctx.bulk_create(OrgUnit, batch, "organisation units")

    hours = [row for p in planned_outlets for row in opening_hours(ctx, p)]
    ctx.bulk_create(OpeningHours, hours)
    counters = [c for p in planned_outlets for c in counters_of(p)]
    ctx.bulk_create(Counter, counters)

    # Everyone started before the demo's history; a few tellers move during it.
    def hired() -> dt.date:
        return ctx.first_day - dt.timedelta(days=rng.randint(30, 12 * 365))

    def person(unit: OrgUnit, role: str, female: bool | None = None) -> PlannedStaff:
        return PlannedStaff(names(female), [PlannedAssignment(unit, role, hired())])

    province_people = [
        person(province, Role.SYSTEM_ADMIN),
        person(province, Role.AUDITOR),
        person(province, Role.PROVINCE_SERVICE_MANAGER),
        person(province, Role.PROVINCE_SERVICE_MANAGER),
        person(managing[0], Role.PROVINCE_SERVICE_MANAGER),
    ]
    unit_people: dict[str, list[PlannedStaff]] = {}
    for manager in managing:
        unit_people[manager.code] = [
            person(manager, Role.SUB_BRANCH_PRESIDENT, female=rng.random() < 0.3),
            person(manager, Role.SUB_BRANCH_SERVICE_MANAGER),
        ]
    tellers: dict[str, list[PlannedStaff]] = {}
    for planned in planned_outlets:
        unit = planned.unit
        lobby = 2 if planned.style == "main" else 1
        unit_people[unit.code] = [person(unit, Role.OUTLET_HEAD)] + [
            person(unit, Role.LOBBY_MANAGER, female=rng.random() < 0.7) for _ in range(lobby)
        ]
        tellers[unit.code] = [
            person(unit, Role.TELLER, female=rng.random() < 0.65) for _ in range(planned.counters)
        ]

    transfers = plan_transfers(ctx, planned_outlets, tellers)

    # Employee numbers: the well-known logins first (fixed numbers), then everyone else.
    first_outlet = planned_outlets[0].unit.code if planned_outlets else ""
    first_sub = planned_outlets[0].unit.parent.code if planned_outlets else ""  # type: ignore[union-attr]
    well_known: list[PlannedStaff | None] = [
        province_people[0],
        province_people[1],
        province_people[2],
        unit_people[first_sub][0] if first_sub else None,
        unit_people[first_sub][1] if first_sub else None,
        unit_people[first_outlet][0] if first_outlet else None,
        unit_people[first_outlet][1] if first_outlet else None,
        tellers[first_outlet][0] if first_outlet else None,
        transfers[0] if transfers else None,
    ]
    for known, planned_staff in zip(WELL_KNOWN, well_known, strict=True):
        if planned_staff is not None:
            planned_staff.employee_no = known.employee_no
    everyone = province_people + [
        s for planned in [*managing, *(p.unit for p in planned_outlets)]
        for s in unit_people[planned.code] + tellers.get(planned.code, [])
    ]  # fmt: skip
    next_no = FIRST_EMPLOYEE_NO
    for planned_staff in everyone:
        if not planned_staff.employee_no:
            planned_staff.employee_no = str(next_no)
            next_no += 1

    # One password hash for everyone (hashing hundreds of times would take minutes), with a
    # salt from the seed so the same seed gives the same rows.
    salt = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(22))
    password = make_password(DEMO_PASSWORD, salt=salt)
    admin_ids = {WELL_KNOWN[0].employee_no}
    users = [
        User(
            username=s.employee_no,
            first_name=s.name,
            password=password,
            is_staff=s.employee_no in admin_ids,
        )
        for s in everyone
    ]
    users.append(
        User(
            username=ADMIN_USERNAME,
            first_name="系统管理员",
            password=password,
            is_staff=True,
            is_superuser=True,
        )
    )
    ctx.bulk_create(User, users, "logins")
    staff_rows = [
        Staff(user=user, employee_no=s.employee_no, name=s.name)
        for s, user in zip(everyone, users, strict=False)
    ]
    ctx.bulk_create(Staff, staff_rows)
    assignments = [
        Assignment(staff=row, unit=a.unit, role=a.role, starts_on=a.starts_on, ends_on=a.ends_on)
        for s, row in zip(everyone, staff_rows, strict=True)
        for a in s.assignments
    ]
    ctx.bulk_create(Assignment, assignments)
    return OrgDemo(
        province=province,
        outlets=[p.unit for p in planned_outlets],
        counters=counters,
        staff=staff_rows,
        transfers=len(transfers),
    )


def plan_transfers(
    ctx: DemoContext, planned_outlets: list[PlannedOutlet], tellers: dict[str, list[PlannedStaff]]
) -> list[PlannedStaff]:
    """Swap pairs of tellers between outlets during the demo's history. The first one moved is
    a teller who came to the first outlet. Returns the moved tellers, first one first."""
    rng = ctx.random
    if len(planned_outlets) < 2:
        return []
    moved: list[PlannedStaff] = []
    pairs = max(1, len(planned_outlets) // 10)
    first = planned_outlets[0].unit
    others = [p.unit for p in planned_outlets[1:]]
    for i in range(pairs):
        a_unit = first if i == 0 else rng.choice([p.unit for p in planned_outlets])
        b_unit = rng.choice([u for u in others if u != a_unit] or others)
        if a_unit == b_unit:
            continue
        # Keep the well-known counter-1 teller of the first outlet where they are.
        a = rng.choice(tellers[a_unit.code][1:] or tellers[a_unit.code])
        b = rng.choice(tellers[b_unit.code])
        if a in moved or b in moved:
            continue
        on = ctx.today - dt.timedelta(days=rng.randint(1, max(1, ctx.days - 1)))
        for member, new_unit in ((b, a_unit), (a, b_unit)):
            current = member.assignments[-1]
            current.ends_on = on - dt.timedelta(days=1)
            if current.ends_on < current.starts_on:
                current.starts_on = current.ends_on
            member.assignments.append(PlannedAssignment(new_unit, Role.TELLER, on))
            moved.append(member)
        # b came to a_unit: for i == 0 that is the first outlet.
        tellers[a_unit.code].append(b)
        tellers[b_unit.code].append(a)
        tellers[a_unit.code].remove(a)
        tellers[b_unit.code].remove(b)
    return moved


def role_label(role: str) -> str:
    """``柜员 Teller``: the role in Chinese and English."""
    with translation.override("zh-hans"):
        chinese = str(Role(role).label)
    with translation.override("en"):
        english = str(Role(role).label)
    return chinese if chinese == english else f"{chinese} {english}"


@register_logins
def demo_logins() -> list[DemoLogin]:
    """The well-known demo logins that exist in the database, and the superuser."""
    rows: list[DemoLogin] = []
    staff = {
        s.employee_no: s
        for s in Staff.objects.filter(employee_no__in=[w.employee_no for w in WELL_KNOWN])
    }
    for known in WELL_KNOWN:
        member = staff.get(known.employee_no)
        if member is None or member.user_id is None:
            continue
        current = member.current_assignments().filter(role=known.role).first()
        unit = current.unit.name if current else "?"
        rows.append(
            DemoLogin(
                role=role_label(known.role) + (f" ({known.note})" if known.note else ""),
                username=known.employee_no,
                name=member.name,
                sees=known.sees.format(unit=unit),
            )
        )
    if User.objects.filter(username=ADMIN_USERNAME, is_superuser=True).exists():
        rows.append(
            DemoLogin(
                role="超级用户 Superuser",
                username=ADMIN_USERNAME,
                name="",
                sees="everything, and the Django admin at /admin/",
            )
        )
    return rows
