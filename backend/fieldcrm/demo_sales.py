"""The demo company's selling: a telecom catalogue, opportunities across the stages, quotes and cases.

Written inside the demo's transaction. The catalogue and the opportunities go in as rows (a few
hundred: one statement each); the quotes and cases of the demo team (the ``manager`` login's reps)
go through the services, so numbering, totals, audit and the workflow are exactly what the app
does: submitted quotes have running approval instances (the demo manager's inbox is not empty),
small discounts approve themselves, cases start their work orders.
"""

import datetime
import random
import uuid
from collections import defaultdict
from typing import Any

import msgspec

from fieldcrm.accounts.tables import Account
from fieldcrm.cases import services as cases
from fieldcrm.cases.schemas import CaseCreate, CaseType, Priority
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.sales import quotes
from fieldcrm.sales.opportunities import DEFAULT_STAGES
from fieldcrm.sales.schemas import QuoteCreate, QuoteLineIn, QuoteTransition
from fieldcrm.sales.tables import Opportunity, Product
from fieldcrm.workflow import services as workflow

# code, name, category, unit, list price (yuan), free discount (bp)
_CATALOGUE = (
    ("DIA-100M", "互联网专线 100M", "专线", "条/月", 3_800, 500),
    ("DIA-500M", "互联网专线 500M", "专线", "条/月", 12_800, 800),
    ("DIA-1G", "互联网专线 1G", "专线", "条/月", 22_000, 1000),
    ("MSTP-10M", "数据专线 MSTP 10M", "专线", "条/月", 2_600, 500),
    ("SDWAN", "SD-WAN 组网（每站点）", "专线", "站点/月", 1_500, 1000),
    ("ECS-4C8G", "云主机 4核8G", "云", "台/月", 680, 1500),
    ("ECS-8C16G", "云主机 8核16G", "云", "台/月", 1_280, 1500),
    ("OSS-1T", "云存储 1TB", "云", "TB/月", 120, 2000),
    ("VDI", "云桌面 标准版", "云", "个/月", 150, 1500),
    ("IOT-100M", "物联网卡 100MB/月", "物联网", "张/月", 5, 3000),
    ("IOT-1G", "物联网卡 1GB/月", "物联网", "张/月", 15, 3000),
    ("NB-IOT", "NB-IoT 连接（年）", "物联网", "个/年", 20, 3000),
    ("5G-LITE", "5G 专网 轻量版", "5G 专网", "套/月", 30_000, 500),
    ("5G-STD", "5G 专网 标准版", "5G 专网", "套/月", 80_000, 500),
    ("5G-CARD", "5G 行业卡 50GB", "5G 专网", "张/月", 98, 2000),
    ("IDC-42U", "IDC 机柜 42U", "IDC", "个/月", 4_500, 800),
    ("IDC-BW", "IDC 带宽 100M", "IDC", "条/月", 3_000, 800),
    ("IDC-IP", "IDC 公网 IP", "IDC", "个/月", 50, 0),
    ("VPMN", "集团 V 网（每成员）", "语音", "人/月", 10, 2000),
    ("400", "400 号码", "语音", "个/月", 300, 1000),
    ("SIP", "固话 SIP 中继 30 路", "语音", "条/月", 1_200, 1000),
    ("DDOS", "DDoS 防护 基础版", "安全", "套/月", 2_000, 500),
    ("WAF", "云 WAF", "安全", "套/月", 1_500, 500),
    ("VMEET", "云视频会议 50 方", "视频", "套/月", 800, 1500),
    ("CAM", "千里眼视频监控（每路）", "视频", "路/月", 20, 2000),
)
_DEALS = (
    ("专线扩容", ("DIA-500M", "DIA-1G")),
    ("总部与分支 SD-WAN 组网", ("SDWAN", "MSTP-10M")),
    ("上云迁移", ("ECS-8C16G", "OSS-1T")),
    ("智慧工厂 5G 专网", ("5G-STD", "5G-CARD")),
    ("车联网物联网卡", ("IOT-1G", "NB-IOT")),
    ("机房托管", ("IDC-42U", "IDC-BW")),
    ("客服中心 400 与中继", ("400", "SIP")),
    ("网站安全加固", ("DDOS", "WAF")),
    ("园区视频监控", ("CAM", "VMEET")),
)
_COMPETITORS = ("", "", "联通", "电信", "广电", "本地 ISP")
_NEXT_STEPS = ("约技术交流", "提交方案", "等客户预算批复", "商务谈判", "安排现场勘查")
_LOST_REASONS = ("价格高于竞争对手", "客户预算取消", "选择了现有供应商")
# stage -> weight of picking it for a demo opportunity
_STAGE_WEIGHTS = {"lead": 3, "qualified": 3, "proposal": 3, "negotiation": 2, "won": 2, "lost": 1}
_CASES: tuple[tuple[CaseType, Priority, str, str], ...] = (
    ("complaint", "high", "专线晚高峰丢包严重", "客户反映每天 19:00-22:00 专线丢包 5% 以上，影响视频会议。"),
    ("fault", "urgent", "机房专线中断", "分公司机房专线中断，业务全停，需立即处理。"),
    ("service_request", "normal", "增开 20 张物联网卡", "新项目需要 20 张 1GB 物联网卡，下周到位。"),
    ("complaint", "normal", "账单费用有疑问", "客户对 10 月账单中的 400 号码费用有疑问。"),
    ("service_request", "low", "变更对账联系人", "财务联系人变更为王敏。"),
)


async def _actors(*where: Any) -> dict[uuid.UUID, Actor]:
    """Actors of the users matching ``where`` (as the services see a signed-in person)."""
    rows = await User.select(
        User.id,
        User.username,
        User.display_name,
        User.role,
        User.org_unit,
        User.org_unit.path.as_alias("org_path"),
    ).where(*where)
    return {
        row["id"]: Actor(
            id=row["id"],
            username=row["username"],
            display_name=row["display_name"],
            role=row["role"],
            org_unit_id=row["org_unit"],
            org_path=row["org_path"],
        )
        for row in rows
    }


def _products(now: datetime.datetime) -> list[Product]:
    return [
        Product(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"fieldcrm-demo-product/{code}"),
            code=code,
            name=name,
            category=category,
            unit=unit,
            list_price_cents=price * 100,
            max_discount_bp=free_bp,
            active=True,
            version=1,
            created_at=now,
            updated_at=now,
        )
        for code, name, category, unit, price, free_bp in _CATALOGUE
    ]


def _opportunities(
    rng: random.Random,
    accounts: dict[uuid.UUID, list[dict[str, Any]]],
    product_ids: dict[str, uuid.UUID],
    now: datetime.datetime,
) -> list[Opportunity]:
    stages = {s["key"]: s for s in DEFAULT_STAGES}
    keys = list(_STAGE_WEIGHTS)
    weights = list(_STAGE_WEIGHTS.values())
    rows = []
    for owner, owned in accounts.items():
        for account in rng.sample(owned, min(len(owned), rng.randint(3, 5))):
            deal, codes = rng.choice(_DEALS)
            stage = rng.choices(keys, weights)[0]
            kind = stages[stage]["kind"]
            amount = rng.randrange(20_000, 2_000_000, 1_000) * 100
            created = now - datetime.timedelta(days=rng.randint(5, 120))
            close = (now + datetime.timedelta(days=rng.randint(-20, 120))).date()
            rows.append(
                Opportunity(
                    id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    account=account["id"],
                    owner=owner,
                    name=f"{account['name'][:24]} {deal}",
                    stage=stage,
                    probability=stages[stage]["probability"],
                    amount_cents=amount,
                    expected_close=close,
                    product_ids=msgspec.json.encode([str(product_ids[c]) for c in codes]).decode(),
                    competitor=rng.choice(_COMPETITORS),
                    next_step="" if kind != "open" else rng.choice(_NEXT_STEPS),
                    lost_reason=rng.choice(_LOST_REASONS) if kind == "lost" else "",
                    closed_at=None if kind == "open" else created + datetime.timedelta(days=rng.randint(1, 4)),
                    version=1,
                    created_at=created,
                    updated_at=created,
                )
            )
    return rows


async def build_sales(*, seed: int, now: datetime.datetime) -> str:
    """Catalogue, opportunities for every rep, the demo team's quotes and cases; returns a summary."""
    rng = random.Random(seed + 5)
    catalogue = _products(now)
    await Product.insert(*catalogue)
    product_ids = {p.code: p.id for p in catalogue}
    by_code = {p.code: p for p in catalogue}

    live = await Account.select(Account.id, Account.owner, Account.name).where(
        Account.deleted_at.is_null(), Account.status.is_in(["active", "at_risk", "prospect"])
    )
    accounts: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(live, key=lambda r: str(r["id"])):  # the same order on both databases
        accounts[row["owner"]].append(row)
    reps = await _actors(User.role == "rep", User.is_active.eq(True))
    accounts = defaultdict(list, {owner: rows for owner, rows in accounts.items() if owner in reps})
    opportunities = _opportunities(rng, accounts, product_ids, now)
    if opportunities:
        await Opportunity.insert(*opportunities)

    # The demo team: the reps in the "manager" login's unit, the "rep" login first.
    manager_unit = await User.select(User.org_unit).where(User.username == "manager").first()
    team = sorted(
        (a for a in reps.values() if manager_unit and a.org_unit_id == manager_unit["org_unit"]),
        key=lambda a: (a.username != "rep", a.username),
    )
    counts: dict[str, int] = defaultdict(int)
    valid = (now + datetime.timedelta(days=30)).date()
    opp_by_account = {o.account: o.id for o in opportunities}
    for index, rep in enumerate(team):
        mine = accounts.get(rep.id, [])[:4]
        if len(mine) < 3:
            continue
        plans: list[tuple[list[tuple[str, int, int]], bool]] = [
            # (lines as (code, quantity, discount bp), then submit?)
            ([("DIA-500M", 2, 300), ("DDOS", 2, 0)], False),  # a draft
            ([("5G-STD", 1, 1200), ("5G-CARD", 50, 1500)], True),  # 12 % beyond 5 %: the manager decides
            ([("ECS-8C16G", 10, 500), ("OSS-1T", 20, 0)], True),  # within limits: approves itself
        ]
        if index == 0:
            plans.append(([("IDC-42U", 4, 2200), ("IDC-BW", 4, 2000)], True))  # 20 %+: manager, then director
        for (lines, submit), account in zip(plans, mine, strict=False):
            quote = await quotes.create_quote(
                actor=rep,
                now=now,
                data=QuoteCreate(
                    account_id=account["id"],
                    opportunity_id=opp_by_account.get(account["id"]),
                    title=" + ".join(by_code[code].name for code, _, _ in lines),
                    valid_until=valid,
                    lines=[QuoteLineIn(product_id=product_ids[c], quantity=q, discount_bp=bp) for c, q, bp in lines],
                ),
            )
            if submit:
                quote = await quotes.transition(actor=rep, quote_id=quote.id, data=QuoteTransition(action="submit"))
            counts[quote.state] += 1

    opened = 0
    for rep, (case_type, priority, title, description) in zip(team * 2, _CASES, strict=False):
        owned = accounts.get(rep.id, [])
        if not owned:
            continue
        case = await cases.create_case(
            actor=rep,
            data=CaseCreate(
                account_id=owned[-1]["id"], type=case_type, priority=priority, title=title, description=description
            ),
        )
        opened += 1
        if opened == 1 and case.steps:  # one case already under way: its first step done
            await workflow.decide(
                actor=rep,
                step_id=case.steps[0].id,
                decision="approve",
                comment="已受理",
                idempotency_key=f"demo:{case.id}",
                subject_version=case.version,
            )
    quoted = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    return f"{len(catalogue)} products, {len(opportunities)} opportunities, quotes ({quoted or 'none'}), {opened} cases"
