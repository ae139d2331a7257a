"""The demo company: an org tree, its people with fixed logins, and key accounts with a year of history.

``fieldcrm demo --accounts N --seed S`` replaces what the database holds with a believable
field-sales organisation: HQ, two provinces, four cities, eight teams of five reps, and N key
accounts with contacts, holdings and twelve months of revenue (a few accounts earn most of it,
as in real books). The same seed builds the same company.

The rows go in through the database driver, in batches inside one write transaction
(``executemany`` on SQLite, ``COPY`` on PostgreSQL): the services check and audit every row
one at a time, which is right for people and far too slow for 100,000 accounts. Values are
therefore written the way Piccolo itself stores them on each engine (on SQLite: UUIDs, dates
and UTC timestamps as text).
"""

import asyncio
import dataclasses
import datetime
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from piccolo.conf.apps import Finder
from piccolo.table import sort_table_classes

from fieldcrm.accounts import geo
from fieldcrm.accounts.services import add_months, fold, month_start
from fieldcrm.accounts.tables import Account
from fieldcrm.demo_commercial import build_commercial
from fieldcrm.demo_field import build_field_work
from fieldcrm.demo_sales import build_sales
from fieldcrm.demo_work import build_work
from fieldcrm.lib.db import FieldcrmSQLiteEngine, engine, write_transaction
from fieldcrm.lib.tables import utcnow
from fieldcrm.org.security import hash_password_sync

DEMO_PASSWORD = "fieldcrm-demo"  # noqa: S105 - the documented demo password
DEMO_LOGINS = ("hq", "director", "manager", "rep")
_CHUNK = 2000  # accounts per batch: big enough for fast inserts, small enough to keep memory flat
_ID_EPOCH_MS = 1_735_689_600_000  # 2025-01-01T00:00Z, the time part of the demo's UUIDv7 ids

# ---------------------------------------------------------------- the company


@dataclasses.dataclass(frozen=True)
class _City:
    name: str
    key: str  # for usernames: rep_jn_01
    code_prefix: str  # for account codes: JN00012345
    area_code: str  # landlines: 0531-88001234
    latitude: float
    longitude: float
    weight: float  # share of the accounts
    districts: tuple[str, ...]
    roads: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class _Province:
    name: str
    key: str
    latitude: float
    longitude: float
    cities: tuple[_City, ...]


_PROVINCES = (
    _Province(
        "山东省",
        "sd",
        36.651,
        117.120,
        (
            _City(
                "济南",
                "jn",
                "JN",
                "0531",
                36.651,
                117.120,
                0.3,
                ("历下区", "市中区", "槐荫区", "天桥区", "历城区", "长清区", "章丘区"),
                ("经十路", "泉城路", "解放路", "山大路", "舜耕路", "二环东路", "工业南路", "花园路"),
            ),
            _City(
                "青岛",
                "qd",
                "QD",
                "0532",
                36.067,
                120.383,
                0.3,
                ("市南区", "市北区", "李沧区", "崂山区", "黄岛区", "城阳区", "即墨区"),
                ("香港中路", "东海西路", "山东路", "辽阳西路", "长江中路", "株洲路", "重庆南路", "银川东路"),
            ),
        ),
    ),
    _Province(
        "华中大区",
        "hz",
        30.593,
        114.305,
        (
            _City(
                "武汉",
                "wh",
                "WH",
                "027",
                30.593,
                114.305,
                0.25,
                ("江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区"),
                ("解放大道", "中山大道", "武珞路", "珞喻路", "光谷大道", "建设大道", "友谊大道", "民族大道"),
            ),
            _City(
                "长沙",
                "cs",
                "CS",
                "0731",
                28.228,
                112.939,
                0.15,
                ("芙蓉区", "天心区", "岳麓区", "开福区", "雨花区", "望城区", "长沙县"),
                ("五一大道", "芙蓉中路", "韶山北路", "湘江中路", "麓谷大道", "劳动西路", "万家丽路", "人民东路"),
            ),
        ),
    ),
)
_HQ = ("总部", 39.904, 116.407)
_TEAM_NAMES = ("政企客户一部", "政企客户二部")
_TEAMS_PER_CITY = len(_TEAM_NAMES)
_REPS_PER_TEAM = 5

# ---------------------------------------------------------------- words

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力斌波宁浩凯鹏宇婷雪琳晨阳欣怡佳颖"
    "志国海峰雷亮俊博鑫思嘉晓梦子涵一诺雨轩梓萱浩然宏伟立新振东春梅秋月永红金凤德胜"
)
_BRAND = (
    "华信恒通鑫源盛达泰和瑞丰金宏博远安康新众联创科誉利隆嘉德正中海天润祥凯辉永昌光明世纪兴旺佳宝福鸿鼎汇锦程景隆顺东方"
)
_INDUSTRIES: dict[str, tuple[float, tuple[str, ...]]] = {
    # industry: (share of accounts, name patterns; {c} city, {b} brand, {d} district)
    "制造": (
        0.22,
        (
            "{c}{b}精密机械有限公司",
            "{c}{b}重工股份有限公司",
            "{c}{b}汽车零部件有限公司",
            "{c}{b}电子科技有限公司",
            "{c}{b}化工有限公司",
            "{c}{b}新材料股份有限公司",
            "{c}{b}装备制造有限公司",
            "{c}{b}食品有限公司",
            "{c}{b}纺织有限公司",
            "{c}{b}包装制品有限公司",
        ),
    ),
    "金融": (
        0.07,
        (
            "{c}{b}投资管理有限公司",
            "{c}{b}融资租赁有限公司",
            "{c}{b}村镇银行股份有限公司",
            "{c}{b}保险代理有限公司",
            "{c}{b}资产管理有限公司",
            "{c}{b}融资担保有限公司",
        ),
    ),
    "政府": (
        0.06,
        (
            "{c}市{d}{b}街道办事处",
            "{c}市{d}{b}社区服务中心",
            "{c}市{d}{b}管理委员会",
        ),
    ),
    "教育": (
        0.07,
        (
            "{c}{b}职业技术学院",
            "{c}市{b}实验中学",
            "{c}{b}外国语学校",
            "{c}{b}教育科技有限公司",
            "{c}市{d}{b}小学",
        ),
    ),
    "医疗": (
        0.07,
        (
            "{c}{b}医院",
            "{c}{b}口腔医院",
            "{c}{b}医药有限公司",
            "{c}{b}医疗器械有限公司",
            "{c}{b}健康管理有限公司",
        ),
    ),
    "物流": (
        0.1,
        (
            "{c}{b}物流有限公司",
            "{c}{b}供应链管理有限公司",
            "{c}{b}快运有限公司",
            "{c}{b}冷链物流有限公司",
            "{c}{b}国际货运代理有限公司",
        ),
    ),
    "零售": (
        0.12,
        (
            "{c}{b}商贸有限公司",
            "{c}{b}百货有限公司",
            "{c}{b}超市连锁有限公司",
            "{c}{b}电器有限公司",
            "{c}{b}餐饮管理有限公司",
        ),
    ),
    "能源": (
        0.06,
        (
            "{c}{b}新能源科技有限公司",
            "{c}{b}燃气有限公司",
            "{c}{b}电力工程有限公司",
            "{c}{b}热力有限公司",
            "{c}{b}光伏科技有限公司",
        ),
    ),
    "互联网": (
        0.09,
        (
            "{c}{b}网络科技有限公司",
            "{c}{b}信息技术有限公司",
            "{c}{b}数据科技有限公司",
            "{c}{b}软件有限公司",
            "{c}{b}智能科技有限公司",
        ),
    ),
    "建筑地产": (
        0.08,
        (
            "{c}{b}建筑工程有限公司",
            "{c}{b}置业有限公司",
            "{c}{b}物业管理有限公司",
            "{c}{b}建材有限公司",
        ),
    ),
    "交通运输": (
        0.06,
        (
            "{c}{b}公交客运有限公司",
            "{c}{b}出租汽车有限公司",
            "{c}{b}港口服务有限公司",
            "{c}{b}汽车运输有限公司",
        ),
    ),
}
_INDUSTRY_NAMES = tuple(_INDUSTRIES)
_INDUSTRY_WEIGHTS = tuple(share for share, _ in _INDUSTRIES.values())
_GROUP_PATTERNS = ("{c}{b}控股集团有限公司", "{b}集团有限公司", "{c}{b}实业集团有限公司", "{c}{b}投资集团有限公司")
_BUILDINGS = ("国际金融中心", "中心大厦", "科技园", "商务大厦", "产业园", "广场", "创业大厦", "总部基地")
_STATUSES = ("active", "prospect", "at_risk", "lost")
_STATUS_WEIGHTS = (0.78, 0.06, 0.1, 0.06)
_CONTACT_ROLES: dict[str, tuple[str, ...]] = {
    "decision_maker": ("总经理", "副总经理", "信息中心主任", "首席信息官"),
    "influencer": ("IT 经理", "采购经理", "财务经理", "网络主管"),
    "user": ("网络管理员", "运维工程师", "行政专员", "信息化专员"),
    "gatekeeper": ("办公室主任", "总经理助理", "行政主管"),
}
# Public bodies have other titles for the same roles.
_PUBLIC_ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "政府": {"decision_maker": ("分管副主任", "信息中心主任"), "influencer": ("信息科科长", "综合科科长")},
    "教育": {"decision_maker": ("分管副校长", "信息中心主任"), "influencer": ("网络中心主任", "总务处处长")},
    "医疗": {"decision_maker": ("副院长", "信息中心主任"), "influencer": ("信息科科长", "设备科科长")},
}
# How much an industry spends on telecoms, relative to the median account.
_INDUSTRY_SPEND = {
    "制造": 1.0,
    "金融": 2.5,
    "政府": 1.8,
    "教育": 0.9,
    "医疗": 1.3,
    "物流": 1.0,
    "零售": 0.6,
    "能源": 1.5,
    "互联网": 1.8,
    "建筑地产": 0.7,
    "交通运输": 1.1,
}
_MAX_MONTHLY_CENTS = 300_000_000  # 3 million yuan a month: the very largest customers
_ROLE_ORDER = ("decision_maker", "influencer", "user", "gatekeeper")
_MOBILE_PREFIXES = (
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
)


@dataclasses.dataclass(frozen=True)
class _Product:
    code: str
    name: str
    unit_cents: int  # list price a month for one unit (a line, a host, a card, a rack...)
    max_quantity: int
    weight: float


_PRODUCTS = (
    _Product("ZX-100M", "互联网专线 100M", 300_000, 20, 0.14),
    _Product("ZX-1000M", "互联网专线 1000M", 1_500_000, 10, 0.06),
    _Product("SJ-MPLS", "数据专线 MPLS VPN", 500_000, 200, 0.08),
    _Product("YZJ-4C8G", "云主机 4核8G", 60_000, 2000, 0.1),
    _Product("WLW-CARD", "物联网卡", 1_000, 200_000, 0.1),
    _Product("5G-ZW", "5G 专网", 5_000_000, 20, 0.04),
    _Product("KD-500M", "企业宽带 500M", 100_000, 50, 0.16),
    _Product("IDC-RACK", "IDC 机柜托管", 600_000, 400, 0.05),
    _Product("DX-PT", "短信平台", 200_000, 1, 0.09),
    _Product("YSX", "云视讯会议", 10_000, 5000, 0.06),
    _Product("VPMN", "集团 V 网", 3_000, 50_000, 0.08),
    _Product("AF-YJK", "云监控", 5_000, 10_000, 0.04),
)
_PRODUCT_WEIGHTS = tuple(p.weight for p in _PRODUCTS)
_NOTES = {
    "active": (
        "",
        "",
        "",
        "年度框架合同已续签",
        "客户计划扩容专线带宽",
        "季度回访已完成",
        "关注云化转型，可推荐云主机",
    ),
    "prospect": ("首次拜访已约", "竞争对手合同明年到期", "客户在评估 5G 专网方案"),
    "at_risk": ("对资费不满意，续约有流失风险", "竞争对手报价更低", "投诉处理中，需经理回访"),
    "lost": ("已转网至竞争对手", "业务已停用，保持联系"),
}

# ---------------------------------------------------------------- generation


class _Ids:
    """Time-ordered UUIDs (version 7 layout) from the seed, as text: the same seed gives the same ids.

    Ordered ids keep every primary-key and foreign-key index append-only while loading. Both
    drivers take the text form (Piccolo stores UUIDs as this text on SQLite).
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids-{seed}")
        self._sequence = 0

    def next(self) -> str:
        sequence = self._sequence
        self._sequence += 1
        millis = _ID_EPOCH_MS + (sequence >> 12)
        value = (millis << 80) | (0x7 << 76) | ((sequence & 0xFFF) << 64) | (0b10 << 62) | self._rng.getrandbits(62)
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _sqlite_timestamp(value: datetime.datetime) -> str:
    # As Piccolo's SQLite adapter writes a tz-aware timestamp: UTC, str() format.
    return str(value.astimezone(datetime.UTC))


def _identity(value: Any) -> Any:
    return value


@dataclasses.dataclass(frozen=True)
class _Values:
    """How each kind of value is written on this engine."""

    ts: Callable[[datetime.datetime], Any]
    day: Callable[[datetime.date], Any]

    @classmethod
    def for_engine(cls, *, sqlite: bool) -> "_Values":
        if sqlite:
            return cls(ts=_sqlite_timestamp, day=datetime.date.isoformat)
        return cls(ts=_identity, day=_identity)


@dataclasses.dataclass
class _Person:
    id: str
    username: str
    display_name: str
    role: str
    unit_id: str


@dataclasses.dataclass
class _Group:
    id: str
    brand: str
    owner: _Person


_ACCOUNT_COLUMNS = (
    "id",
    "code",
    "name",
    "search_text",
    "industry",
    "revenue_12m_cents",
    "owner",
    "org_unit",
    "address",
    "city",
    "latitude",
    "longitude",
    "h3_r3",
    "h3_r5",
    "h3_r7",
    "visit_radius_m",
    "status",
    "parent",
    "member_lines",
    "notes",
    "version",
    "created_at",
    "updated_at",
)
_CONTACT_COLUMNS = (
    "id",
    "account",
    "name",
    "title",
    "phones",
    "email",
    "decision_role",
    "notes",
    "version",
    "created_at",
    "updated_at",
)
_HOLDING_COLUMNS = (
    "id",
    "account",
    "product_code",
    "product",
    "quantity",
    "monthly_fee_cents",
    "contract_start",
    "contract_end",
    "created_at",
    "updated_at",
)
_REVENUE_COLUMNS = ("id", "account", "month", "amount_cents", "created_at", "updated_at")
_UNIT_COLUMNS = ("id", "name", "kind", "parent", "path", "depth", "latitude", "longitude", "created_at", "updated_at")
_USER_COLUMNS = (
    "id",
    "username",
    "display_name",
    "password_hash",
    "role",
    "org_unit",
    "email",
    "phone",
    "locale",
    "is_active",
    "created_at",
    "updated_at",
)


class _Builder:
    """Generates the company's rows, in engine-ready form, from one seeded random source."""

    def __init__(self, *, seed: int, values: _Values, now: datetime.datetime) -> None:
        self.rng = random.Random(seed)
        self.ids = _Ids(seed)
        self.v = values
        self.now = now
        self.today = now.date()
        self.now_value = values.ts(now)
        window_end = add_months(month_start(self.today), -1)
        self.months = [add_months(window_end, -11 + i) for i in range(12)]
        self.month_values = [values.day(m) for m in self.months]
        self.units: list[tuple[Any, ...]] = []
        self.users: list[tuple[Any, ...]] = []
        self.reps_by_city: dict[str, list[_Person]] = {}
        self.groups_by_city: dict[str, list[_Group]] = {}
        self.names: set[str] = set()
        self.staff_names: set[str] = set()
        self.code_counter = 10_000
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------ people and org

    def person_name(self) -> str:
        rng = self.rng
        given = rng.choice(_GIVEN) if rng.random() < 0.35 else rng.choice(_GIVEN) + rng.choice(_GIVEN)
        return rng.choice(_SURNAMES) + given

    def mobile(self) -> str:
        return self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def unit(
        self, name: str, kind: str, parent: tuple[str, str, int] | None, lat: float, lon: float
    ) -> tuple[str, str, int]:
        unit_id = self.ids.next()
        path, depth = (f"{parent[1]}{unit_id}/", parent[2] + 1) if parent else (f"/{unit_id}/", 0)
        self.units.append(
            (
                unit_id,
                name,
                kind,
                parent[0] if parent else None,
                path,
                depth,
                lat,
                lon,
                self.now_value,
                self.now_value,
            )
        )
        return unit_id, path, depth

    def user(self, username: str, role: str, unit_id: str, password_hash: str) -> _Person:
        name = self.person_name()
        while name in self.staff_names:
            name = self.person_name()
        self.staff_names.add(name)
        person = _Person(self.ids.next(), username, name, role, unit_id)
        self.users.append(
            (
                person.id,
                username,
                name,
                password_hash,
                role,
                unit_id,
                f"{username}@demo.fieldcrm.example",
                self.mobile(),
                "zh-CN",
                True,
                self.now_value,
                self.now_value,
            )
        )
        return person

    def org(self, password_hash: str) -> None:
        hq = self.unit(_HQ[0], "hq", None, _HQ[1], _HQ[2])
        self.user("hq", "hq_admin", hq[0], password_hash)
        for p_index, province in enumerate(_PROVINCES):
            p_unit = self.unit(province.name, "province", hq, province.latitude, province.longitude)
            self.user("director" if p_index == 0 else f"director_{province.key}", "director", p_unit[0], password_hash)
            for c_index, city in enumerate(province.cities):
                c_unit = self.unit(city.name, "city", p_unit, city.latitude, city.longitude)
                reps: list[_Person] = []
                for t_index, team_name in enumerate(_TEAM_NAMES):
                    t_unit = self.unit(f"{city.name}{team_name}", "team", c_unit, city.latitude, city.longitude)
                    first_team = p_index == 0 and c_index == 0 and t_index == 0
                    manager = "manager" if first_team else f"manager_{city.key}_{t_index + 1}"
                    self.user(manager, "manager", t_unit[0], password_hash)
                    for r_index in range(_REPS_PER_TEAM):
                        number = t_index * _REPS_PER_TEAM + r_index + 1
                        username = "rep" if first_team and r_index == 0 else f"rep_{city.key}_{number:02d}"
                        reps.append(self.user(username, "rep", t_unit[0], password_hash))
                self.reps_by_city[city.name] = reps
                self.groups_by_city[city.name] = []

    # ------------------------------------------------------------ accounts

    def brand(self) -> str:
        first = self.rng.choice(_BRAND)
        second = self.rng.choice(_BRAND)
        while second == first:
            second = self.rng.choice(_BRAND)
        return first + second

    def company_name(self, city: _City, district: str, patterns: Sequence[str], brand: str | None) -> tuple[str, str]:
        rng = self.rng
        for attempt in range(12):
            chosen_brand = brand if brand is not None and attempt < 4 else self.brand()
            name = rng.choice(patterns).format(c=city.name, b=chosen_brand, d=district)
            if name not in self.names:
                self.names.add(name)
                return name, chosen_brand
        # Crowded name space (very large demos): a branch office keeps names unique.
        base = name.removesuffix("有限公司").removesuffix("股份")
        branch = 2
        while f"{base}第{branch}分公司" in self.names:
            branch += 1
        name = f"{base}第{branch}分公司"
        self.names.add(name)
        return name, chosen_brand

    def code(self, city: _City) -> str:
        self.code_counter += self.rng.randint(1, 60)
        return f"{city.code_prefix}{self.code_counter:08d}"

    def address(self, city: _City, district: str) -> str:
        rng = self.rng
        street = f"{city.name}市{district}{rng.choice(city.roads)}{rng.randint(1, 999)}号"
        if rng.random() < 0.5:
            street += f"{rng.choice(_BRAND)}{rng.choice(_BRAND)}{rng.choice(_BUILDINGS)}{rng.randint(2, 32)}层"
        return street

    def location(self, city: _City) -> tuple[float, float]:
        # About 10 km around the city centre, no further out than 3 sigma.
        sigma_lat = 10 / 111.0
        sigma_lon = sigma_lat / math.cos(math.radians(city.latitude))
        d_lat = max(-3.0, min(3.0, self.rng.gauss(0, 1))) * sigma_lat
        d_lon = max(-3.0, min(3.0, self.rng.gauss(0, 1))) * sigma_lon
        return round(city.latitude + d_lat, 6), round(city.longitude + d_lon, 6)

    def monthly_base_cents(self, status: str, industry: str, is_group: bool) -> int:
        if status == "prospect":
            return 0
        # Lognormal around a 6,000-yuan median: the top fifth of accounts earn about 80% (Pareto's rule).
        yuan = self.rng.lognormvariate(math.log(6000), 1.6) * _INDUSTRY_SPEND[industry] * (3.0 if is_group else 1.0)
        return max(50_000, min(int(yuan * 100), _MAX_MONTHLY_CENTS))

    def revenue(self, account_value: Any, status: str, base: int) -> tuple[list[tuple[Any, ...]], int]:
        rng = self.rng
        if base == 0:
            return [], 0
        lost_from = 12 - rng.randint(2, 6) if status == "lost" else 12
        decline = rng.uniform(0.03, 0.08) if status in {"at_risk", "lost"} else 0.0
        growth = rng.gauss(0.004, 0.01)
        rows: list[tuple[Any, ...]] = []
        total = 0
        for index, month in enumerate(self.months):
            if index >= lost_from:
                break
            trend = 1 + growth * index - decline * max(0, index - 5)
            season = 0.93 if month.month == 2 else 1.0  # the Spring Festival month is quieter
            amount = int(base * max(0.05, trend) * season * rng.gauss(1.0, 0.05))
            if amount <= 0:
                continue
            amount -= amount % 100
            rows.append(
                (
                    self.ids.next(),
                    account_value,
                    self.month_values[index],
                    amount,
                    self.now_value,
                    self.now_value,
                )
            )
            total += amount
        return rows, total

    def contract(self, status: str) -> tuple[datetime.date, datetime.date]:
        """Start and end of a contract: most run for years, some end within 90 days, a few lapsed."""
        rng = self.rng
        roll = rng.random()
        if status == "lost":
            offset = -rng.randint(1, 120)
        elif roll < 0.06:
            offset = rng.randint(0, 90)  # renewals coming up: the retention work list
        elif roll < 0.08:
            offset = -rng.randint(1, 60)  # lapsed, not renewed yet
        else:
            offset = rng.randint(91, 1000)
        # A term long enough that the contract started at least a month ago.
        terms = [months for months in (12, 24, 36) if months * 30 >= offset + 30] or [36]
        term = rng.choice(terms)
        end = self.today + datetime.timedelta(days=offset)
        return end - datetime.timedelta(days=term * 30 + rng.randint(-5, 5)), end

    def holdings(self, account_value: Any, status: str, base: int, stamp: Any) -> list[tuple[Any, ...]]:
        """1-5 subscriptions that make most of the monthly bill (usage is the rest), priced per unit."""
        rng = self.rng
        if base == 0:
            return []
        count = rng.choices((1, 2, 3, 4, 5), weights=(0.2, 0.3, 0.25, 0.15, 0.1))[0]
        if base > 10_000_000:
            count = min(5, count + 2)
        budget = base * rng.uniform(0.6, 0.9)
        products: list[_Product] = []
        for _ in range(40):  # weighted, without repeats, none whose single unit would exceed the bill
            if len(products) == count:
                break
            product = rng.choices(_PRODUCTS, weights=_PRODUCT_WEIGHTS)[0]
            if product not in products and product.unit_cents <= budget:
                products.append(product)
        if not products:
            products.append(_PRODUCTS[-1])
        weights = [rng.random() + 0.2 for _ in products]
        rows = []
        for product, weight in zip(products, weights, strict=True):
            share = budget * weight / sum(weights)
            quantity = max(1, min(product.max_quantity, round(share / product.unit_cents)))
            fee = int(quantity * product.unit_cents * rng.uniform(0.75, 1.0))  # negotiated discounts
            start, end = self.contract(status)
            rows.append(
                (
                    self.ids.next(),
                    account_value,
                    product.code,
                    product.name,
                    quantity,
                    fee - fee % 100,
                    self.v.day(start),
                    self.v.day(end),
                    stamp,
                    stamp,
                )
            )
        return rows

    def contacts(
        self, account_value: Any, city: _City, industry: str, stamp: Any
    ) -> tuple[list[tuple[Any, ...]], list[str]]:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4), weights=(0.3, 0.35, 0.2, 0.15))[0]
        titles = _PUBLIC_ROLES.get(industry, _CONTACT_ROLES)
        rows, names = [], []
        for index in range(count):
            role = "decision_maker" if index == 0 and rng.random() < 0.7 else rng.choice(_ROLE_ORDER)
            name = self.person_name()
            phones = [self.mobile()]
            if rng.random() < 0.3:
                phones.append(f"{city.area_code}-{rng.randint(8000_0000, 8999_9999)}")
            email = f"{rng.randint(10**7, 10**10)}@qq.com" if rng.random() < 0.3 else None
            rows.append(
                (
                    self.ids.next(),
                    account_value,
                    name,
                    rng.choice(titles.get(role, _CONTACT_ROLES[role])),
                    json.dumps(phones),
                    email,
                    role,
                    "",
                    1,
                    stamp,
                    stamp,
                )
            )
            names.append(name)
        return rows, names

    def account(self, city: _City, position: int) -> dict[str, list[tuple[Any, ...]]]:
        """One account with its contacts, holdings and revenue."""
        rng = self.rng
        reps = self.reps_by_city[city.name]
        groups = self.groups_by_city[city.name]
        account_id = self.ids.next()
        account_value = account_id
        status = rng.choices(_STATUSES, weights=_STATUS_WEIGHTS)[0]
        industry = rng.choices(_INDUSTRY_NAMES, weights=_INDUSTRY_WEIGHTS)[0]
        patterns = _INDUSTRIES[industry][1]
        # Round-robin-ish: reps take turns, with one in five accounts landing elsewhere.
        owner = reps[position % len(reps)] if rng.random() < 0.8 else rng.choice(reps)
        parent: _Group | None = None
        brand: str | None = None
        roll = rng.random()
        member_lines = int(min(20_000, rng.paretovariate(1.3) * 8)) if status != "prospect" else 0
        if roll < 0.1 and groups:
            parent = rng.choice(groups)
            brand = parent.brand
            if rng.random() < 0.7:
                owner = parent.owner
            self.stats["members"] += 1
        elif roll < 0.135 and industry not in {"政府", "教育"}:
            patterns = _GROUP_PATTERNS
            member_lines = int(min(50_000, rng.paretovariate(1.1) * 60)) if status != "prospect" else 0
        district = rng.choice(city.districts)
        name, brand = self.company_name(city, district, patterns, brand)
        if patterns is _GROUP_PATTERNS:
            groups.append(_Group(account_id, brand, owner))
            self.stats["groups"] += 1
        code = self.code(city)
        created = self.now - datetime.timedelta(days=rng.randint(30, 1500), seconds=rng.randint(0, 86_399))
        updated = created + (self.now - created) * rng.random()
        created_value, updated_value = self.v.ts(created), self.v.ts(updated)
        contacts, contact_names = self.contacts(account_value, city, industry, created_value)
        base = self.monthly_base_cents(status, industry, patterns is _GROUP_PATTERNS)
        holdings = self.holdings(account_value, status, base, created_value)
        revenue, revenue_total = self.revenue(account_value, status, base)
        latitude, longitude = self.location(city)
        notes = rng.choice(_NOTES[status])
        row = (
            account_value,
            code,
            name,
            fold(" ".join([name, code, *contact_names])),
            industry,
            revenue_total,
            owner.id,
            owner.unit_id,
            self.address(city, district),
            city.name,
            latitude,
            longitude,
            *geo.cells(latitude, longitude).values(),
            rng.randint(20, 50) * 10,
            status,
            parent.id if parent else None,
            member_lines,
            notes,
            1,
            created_value,
            updated_value,
        )
        self.stats[status] += 1
        return {"accounts": [row], "contacts": contacts, "holdings": holdings, "revenue": revenue}

    def chunk(self, cities: Sequence[_City], start: int, stop: int) -> dict[str, list[tuple[Any, ...]]]:
        """The rows of accounts ``start`` to ``stop``, by table."""
        batch: dict[str, list[tuple[Any, ...]]] = {"accounts": [], "contacts": [], "holdings": [], "revenue": []}
        for position in range(start, stop):
            for table, rows in self.account(cities[position], position).items():
                batch[table].extend(rows)
        return batch

    def cities(self, count: int) -> list[_City]:
        """Which city each account is in, in order."""
        all_cities = [city for province in _PROVINCES for city in province.cities]
        return self.rng.choices(all_cities, weights=[c.weight for c in all_cities], k=count)


# ---------------------------------------------------------------- loading


class _Loader:
    """Writes engine-ready rows through the driver connection of the open write transaction."""

    def __init__(self, connection: Any, *, sqlite: bool) -> None:
        self.connection = connection
        self.sqlite = sqlite
        self.counts: Counter[str] = Counter()
        self.sync_version: int | None = None  # stamped on the rows of ``synced`` tables when set
        self.synced: frozenset[str] = frozenset()

    async def execute(self, sql: str) -> None:
        await self.connection.execute(sql)

    async def value(self, sql: str) -> Any:
        """The first column of the first row."""
        if not self.sqlite:
            return await self.connection.fetchval(sql)
        async with self.connection.execute(sql) as cursor:
            row = await cursor.fetchone()
        return None if row is None else next(iter(row.values()))

    async def triggers_off(self, tables: Sequence[str]) -> list[str]:
        """Switch off the tables' own triggers (not foreign keys) in this transaction; returns what restores them."""
        if not self.sqlite:
            for table in tables:
                await self.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
            return [f'ALTER TABLE "{table}" ENABLE TRIGGER USER' for table in tables]
        marks = ", ".join("?" for _ in tables)
        sql = f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})"  # noqa: S608
        async with self.connection.execute(sql, list(tables)) as cursor:
            triggers = list(await cursor.fetchall())
        for trigger in triggers:  # SQLite cannot switch a trigger off; DDL is transactional, so drop and re-create
            await self.execute(f'DROP TRIGGER "{trigger["name"]}"')
        return [str(trigger["sql"]) for trigger in triggers]

    async def insert(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.sync_version is not None and table in self.synced:
            columns = (*columns, _SYNC_COLUMN)
            tail = (self.sync_version,)
            rows = [row + tail for row in rows]
        if self.sqlite:
            names = ", ".join(f'"{c}"' for c in columns)
            marks = ", ".join("?" for _ in columns)
            await self.connection.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)  # noqa: S608
        else:
            await self.connection.copy_records_to_table(table, records=rows, columns=list(columns))
        self.counts[table] += len(rows)

    async def insert_batch(self, batch: dict[str, list[tuple[Any, ...]]]) -> None:
        """Write a chunk of accounts and what hangs off them, parents first."""
        await self.insert("accounts", _ACCOUNT_COLUMNS, batch["accounts"])
        await self.insert("contacts", _CONTACT_COLUMNS, batch["contacts"])
        await self.insert("holdings", _HOLDING_COLUMNS, batch["holdings"])
        await self.insert("revenue", _REVENUE_COLUMNS, batch["revenue"])

    async def empty(self, tables: Sequence[str]) -> None:
        """Delete every row of these tables (children first)."""
        if self.sqlite:
            await self.connection.execute("PRAGMA defer_foreign_keys = ON")
            for table in tables:
                await self.connection.execute(f'DELETE FROM "{table}"')  # noqa: S608 - table names are ours
        else:
            await self.connection.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


# The sync app's bookkeeping: one counter row and one horizon row, created by its migration and kept.
_SYNC_COUNTER = "change_counter"
_SYNC_HORIZON = "sync_horizon"
_SYNC_COLUMN = "sync_version"
_KEEP = frozenset({_SYNC_COUNTER, _SYNC_HORIZON})


def _domain_tables() -> tuple[list[str], frozenset[str]]:
    """Every table of every domain app (children before the tables they reference), and those with sync versions."""
    classes = list(reversed(sort_table_classes(Finder().get_table_classes())))
    synced = frozenset(
        table._meta.tablename
        for table in classes
        if any(column._meta.db_column_name == _SYNC_COLUMN for column in table._meta.columns)
    )
    return [table._meta.tablename for table in classes], synced


async def _new_sync_version(loader: _Loader, tables: Sequence[str]) -> int | None:
    """One sync version for everything the demo writes; every cursor issued before it must reset.

    The sync triggers would stamp each row as it is written (and on PostgreSQL their counter
    update costs more with every row of one transaction), so they are off during the load and the
    rows carry this one version. Moving the horizon past every earlier cursor makes each device
    take a full snapshot of the new company on its next pull.
    """
    if _SYNC_COUNTER not in tables:
        return None
    await loader.execute(f"UPDATE {_SYNC_COUNTER} SET value = value + 1 WHERE id = 1")  # noqa: S608 - our names
    version = await loader.value(f"SELECT value FROM {_SYNC_COUNTER} WHERE id = 1")  # noqa: S608
    if version is None:
        msg = f"the {_SYNC_COUNTER} row is missing; run `fieldcrm migrate` on a fresh database"
        raise RuntimeError(msg)
    if _SYNC_HORIZON in tables:
        horizon = int(version) - 1
        await loader.execute(f"UPDATE {_SYNC_HORIZON} SET version = {horizon} WHERE id = 1 AND version < {horizon}")  # noqa: S608
    return int(version)


async def _segment() -> str:
    try:
        from fieldcrm.accounts.segmentation import run_segmentation  # noqa: PLC0415 - written separately
    except ModuleNotFoundError as exc:
        if exc.name != "fieldcrm.accounts.segmentation":
            raise
        return "tiers not computed: fieldcrm.accounts.segmentation is missing; run `fieldcrm segment` once it exists"
    await run_segmentation(actor=None)
    tiers = {tier: await Account.count().where(Account.tier == tier) for tier in ("A", "B", "C")}
    return "tiers " + " / ".join(f"{tier} {count}" for tier, count in tiers.items())


async def _tidy(db: Any, *, sqlite: bool) -> None:
    """Leave the database as a long-running one would be after a bulk load: fresh planner statistics, no bloat.

    Segmentation rewrites every account row, so on PostgreSQL half the table is dead tuples until
    a VACUUM (which also lets counts use index-only scans); on SQLite the load's write-ahead log
    is as large as the database until a checkpoint truncates it.
    """
    if sqlite:
        await db.run_ddl("ANALYZE")
        await db.run_ddl("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        await db.run_ddl("VACUUM (ANALYZE)")


async def build_demo(*, accounts: int = 2000, seed: int = 42, visits_per_account: float = 2.0) -> str:
    """Replace the database's contents with the demo company; returns a one-line summary.

    Args:
        accounts: How many key accounts to create (member companies included).
        seed: The random seed; the same seed builds the same company.
        visits_per_account: About how many visits each visited account has had in the last year.

    Returns:
        What was built, and the demo logins.
    """
    if accounts < 0:
        msg = f"accounts must be 0 or more, not {accounts}"
        raise ValueError(msg)
    started = time.monotonic()
    db = engine()
    sqlite = isinstance(db, FieldcrmSQLiteEngine)
    builder = _Builder(seed=seed, values=_Values.for_engine(sqlite=sqlite), now=utcnow())
    builder.org(hash_password_sync(DEMO_PASSWORD))  # one hash for every demo login: argon2 is slow on purpose
    tables, synced = _domain_tables()
    async with write_transaction() as txn:
        loader = _Loader(txn.connection, sqlite=sqlite)
        cache_size = None
        if sqlite:
            cache_size = await loader.value("PRAGMA cache_size")
            await loader.execute("PRAGMA cache_size = -262144")  # 256 MiB while loading
        restore = await loader.triggers_off(tables)  # first: deleting accounts updates members (parent set null)
        await loader.empty([table for table in tables if table not in _KEEP])
        loader.sync_version, loader.synced = await _new_sync_version(loader, tables), synced
        await loader.insert("org_units", _UNIT_COLUMNS, builder.units)
        await loader.insert("users", _USER_COLUMNS, builder.users)
        cities = builder.cities(accounts)
        pending: asyncio.Task[None] | None = None
        try:
            for start in range(0, accounts, _CHUNK):
                # Generate the next chunk in a worker thread while the driver writes the previous one.
                batch = await asyncio.to_thread(builder.chunk, cities, start, min(accounts, start + _CHUNK))
                if pending is not None:
                    await pending
                pending = asyncio.create_task(loader.insert_batch(batch))
            if pending is not None:
                await pending
        finally:
            if pending is not None and not pending.done():  # never leave the transaction with a write in flight
                await asyncio.gather(pending, return_exceptions=True)
        tiers = await _segment()  # joins this transaction: its updates need no stamping either
        field = await build_field_work(loader, seed=seed, now=builder.now, visits_per_account=visits_per_account)
        sales = await build_sales(seed=seed, now=builder.now)
        for statement in restore:
            await loader.execute(statement)
        # After the triggers are back: what goes through the services is stamped for sync as the app stamps it.
        work = await build_work(seed=seed, now=builder.now)
        commercial = await build_commercial(seed=seed, now=builder.now)
        if cache_size is not None:
            await loader.execute(f"PRAGMA cache_size = {int(cache_size)}")
    await _tidy(db, sqlite=sqlite)
    counts = loader.counts
    return (
        f"demo company built in {time.monotonic() - started:.1f}s (seed {seed}): {counts['org_units']} org units, "
        f"{counts['users']} people, {counts['accounts']} accounts ({builder.stats['groups']} groups, "
        f"{builder.stats['members']} member companies; {builder.stats['active']} active, "
        f"{builder.stats['prospect']} prospects, {builder.stats['at_risk']} at risk, {builder.stats['lost']} lost), "
        f"{counts['contacts']} contacts, {counts['holdings']} holdings, {counts['revenue']} revenue months; {tiers}; "
        f"{field}; "
        f"{sales}; "
        f"{work}; "
        f"{commercial}; "
        f"logins {', '.join(DEMO_LOGINS)} with password {DEMO_PASSWORD}"
    )
