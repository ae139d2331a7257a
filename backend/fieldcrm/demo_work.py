"""The demo company's daily work and its scorecard: every rep's tasks, and targets with a year of history behind them.

Written inside the demo's transaction once the sync triggers are back on, so every task, quote and
target is stamped as the app stamps them. Tasks, quotes and targets go through their services
(audit, numbering, recurrence, approval rules); only what a service cannot date in the past is
moved back afterwards: when a task of last month was closed, when a quote of an earlier month was
approved and sent. The extra won and lost opportunities of the past year go in as rows, as
``fieldcrm.demo_sales`` writes its pipeline.
"""

import datetime
import random
import time
import uuid
from collections import defaultdict
from typing import Any

import msgspec

from fieldcrm.accounts.tables import Account
from fieldcrm.analytics import targets
from fieldcrm.analytics.schemas import TargetPut
from fieldcrm.audit import services as audit
from fieldcrm.audit.tables import AuditEntry
from fieldcrm.demo_sales import _actors
from fieldcrm.lib.db import insert_rows
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.sales import quotes
from fieldcrm.sales.opportunities import DEFAULT_STAGES
from fieldcrm.sales.schemas import QuoteCreate, QuoteLineIn, QuoteTransition
from fieldcrm.sales.tables import Opportunity, Product, Quote
from fieldcrm.tasks import services as tasks
from fieldcrm.tasks.schemas import Kind, Priority, Recurrence, TaskComplete, TaskCreate, TaskSkip
from fieldcrm.tasks.tables import Task
from fieldcrm.visits.tables import Visit

_LOCAL = datetime.timezone(datetime.timedelta(hours=8))  # the demo company's clock (Asia/Shanghai)

# title, kind, priority: {a} is the account's name (shortened)
_OVERDUE: tuple[tuple[str, Kind, Priority], ...] = (
    ("催收{a} 10 月欠费", "collection", "high"),
    ("给{a}补发专线扩容方案", "document", "normal"),
    ("回电{a}信息中心主任", "call", "normal"),
)
_TODAY: tuple[tuple[str, Kind, Priority], ...] = (
    ("电话确认{a}续约意向", "call", "high"),
    ("拜访{a}，演示 5G 专网方案", "visit", "normal"),
    ("整理{a}的对账单疑问", "document", "low"),
)
_WEEK: tuple[tuple[str, Kind, Priority], ...] = (
    ("准备{a}季度回访材料", "document", "normal"),
    ("约{a}技术交流会", "call", "normal"),
    ("{a}流失预警：上门了解原因", "retention", "urgent"),
    ("跟进{a}物联网卡增开需求", "follow_up", "normal"),
)
_RECURRING: tuple[tuple[str, Kind, Recurrence], ...] = (
    ("周报：本周拜访与商机进展", "document", "weekly"),
    ("月度大客户账单核对", "collection", "monthly"),
)
_FOLLOW_UPS = ("发送报价单并确认预算", "安排工程师现场勘查", "回复客户关于网络抖动的问题")
_MANAGER: tuple[tuple[str, Kind, Priority], ...] = (
    ("陪同经理拜访{a}", "visit", "high"),
    ("本周内提交{a}续约报价", "document", "high"),
)
_DONE = ("客户已确认，下周签约", "已发送方案，等待反馈", "电话沟通完毕")
_SKIPPED = ("客户负责人出差，改期到下月", "客户已改由集团统一采购，无需跟进", "与经理确认后取消")
_HISTORY = ("月度回访{a}", "确认{a}账单", "电话关怀{a}")
# Quotes a rep sends: product codes of the catalogue (fieldcrm.demo_sales) and quantities; within free discounts.
_QUOTES = (
    (("DIA-100M", 2), ("DDOS", 1)),
    (("ECS-4C8G", 10), ("OSS-1T", 5)),
    (("SDWAN", 6), ("MSTP-10M", 2)),
    (("IOT-100M", 500),),
    (("VMEET", 3), ("CAM", 40)),
    (("400", 2), ("SIP", 1)),
)
_DEALS = ("专线扩容", "上云迁移", "SD-WAN 组网", "物联网卡", "视频监控", "机房托管")


def _short(name: str) -> str:
    return name[:14]


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A moment of a business day, in UTC."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), _LOCAL).astimezone(datetime.UTC)


def _month_start(day: datetime.date, back: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


class _Work:
    def __init__(self, *, seed: int, now: datetime.datetime) -> None:
        self.rng = random.Random(seed + 11)
        self.now = now
        self.today = tasks.business_today(now)
        self.counts: dict[str, int] = defaultdict(int)
        # How well each rep works (0.5 .. 1.5): it shows in their win rate, tasks on time and targets.
        self.skill: dict[uuid.UUID, float] = {}

    def skill_of(self, rep: Actor) -> float:
        if rep.id not in self.skill:
            self.skill[rep.id] = round(self.rng.uniform(0.5, 1.5), 2)
        return self.skill[rep.id]

    def task(
        self,
        title: str,
        due: datetime.date,
        kind: Kind,
        priority: Priority = "normal",
        *,
        account: dict[str, Any] | None = None,
        recurrence: Recurrence = "none",
        due_time: str | None = None,
        remind: bool = False,
        assignee: uuid.UUID | None = None,
    ) -> TaskCreate:
        remind_at = None
        if remind and due_time is not None:
            hour, minute = (int(p) for p in due_time.split(":"))
            remind_at = _at(due, hour, minute) - datetime.timedelta(minutes=30)
        elif remind:
            remind_at = _at(due, 8, 30)
        if remind_at is not None and remind_at <= self.now:
            remind_at = None  # a reminder in the past would fire at once: only upcoming ones
        return TaskCreate(
            title=title.format(a=_short(account["name"]) if account else "")[:200],
            due_date=due,
            account_id=account["id"] if account else None,
            assignee_id=assignee,
            due_time=due_time,
            remind_at=remind_at,
            priority=priority,
            kind=kind,
            recurrence=recurrence,
        )

    async def rep_tasks(
        self, rep: Actor, manager: Actor | None, owned: list[dict[str, Any]], visits: list[dict[str, Any]]
    ) -> None:
        """About a dozen tasks of one rep, in every state and from every source the demo can show."""
        rng = self.rng
        today = self.today
        pick = (lambda: rng.choice(owned)) if owned else (lambda: None)
        monday = today - datetime.timedelta(days=today.weekday())
        made: list[tuple[TaskCreate, str]] = []  # (task, what to do with it)
        for title, kind, priority in rng.sample(_OVERDUE, 2):
            made.append(
                (
                    self.task(
                        title, today - datetime.timedelta(days=rng.randint(1, 9)), kind, priority, account=pick()
                    ),
                    "open",
                )
            )
        for i, (title, kind, priority) in enumerate(rng.sample(_TODAY, 2)):
            due_time = f"{rng.randint(14, 17):02d}:{rng.choice(('00', '30'))}" if i == 0 else None
            made.append(
                (self.task(title, today, kind, priority, account=pick(), due_time=due_time, remind=True), "open")
            )
        for title, kind, priority in rng.sample(_WEEK, 2):
            due = today + datetime.timedelta(days=rng.randint(1, 6))
            made.append((self.task(title, due, kind, priority, account=pick(), remind=rng.random() < 0.5), "open"))
        weekly, monthly = _RECURRING
        made.append((self.task(weekly[0], monday + datetime.timedelta(days=4), weekly[1], recurrence="weekly"), "open"))
        made.append(
            (
                self.task(
                    monthly[0], _month_start(today) + datetime.timedelta(days=24), monthly[1], recurrence="monthly"
                ),
                "open",
            )
        )
        made.append((self.task("确认{a}开通进度", today, "follow_up", account=pick()), "done"))
        made.append(
            (
                self.task(
                    "回访{a}故障处理结果", today - datetime.timedelta(days=rng.randint(2, 5)), "call", account=pick()
                ),
                "done",
            )
        )
        made.append(
            (self.task("给{a}寄送纸质合同", today - datetime.timedelta(days=1), "document", account=pick()), "skipped")
        )
        for data, then in made:
            task = await tasks.create_task(actor=rep, data=data)
            self.counts["tasks"] += 1
            if then == "done":
                await tasks.complete_task(actor=rep, task_id=task.id, data=TaskComplete(outcome=rng.choice(_DONE)))
                self.counts["done"] += 1
            elif then == "skipped":
                await tasks.skip_task(actor=rep, task_id=task.id, data=TaskSkip(reason=rng.choice(_SKIPPED)))
                self.counts["skipped"] += 1
        # Follow-ups the rep wrote in their latest visit logs.
        for visit in visits[:2]:
            due = today + datetime.timedelta(days=rng.randint(-2, 5))
            account = next((a for a in owned if a["id"] == visit["account"]), None)
            title = rng.choice(_FOLLOW_UPS)
            if account is not None:
                title = f"{_short(account['name'])}：{title}"
            await tasks.follow_up_from_visit(
                actor=rep, visit_id=visit["id"], account_id=visit["account"], title=title, due_date=due
            )
            self.counts["follow_ups"] += 1
            self.counts["tasks"] += 1
        # What their manager asked of them.
        if manager is not None:
            for title, kind, priority in _MANAGER:
                due = today + datetime.timedelta(days=rng.randint(0, 4))
                data = self.task(title, due, kind, priority, account=pick(), assignee=rep.id)
                await tasks.create_task(actor=manager, data=data)
                self.counts["assigned"] += 1
                self.counts["tasks"] += 1

    def history_tasks(self, rep: Actor, owned: list[dict[str, Any]]) -> tuple[list[Task], list[AuditEntry]]:
        """Routine tasks of last month and earlier this month, closed when they were: tasks on time vary by rep.

        Closed tasks cannot be dated in the past through the service, so these go in as rows (one statement
        for all reps), each with the audit entry its service would have written.
        """
        rng = self.rng
        skill = self.skill_of(rep)
        first_last = _month_start(self.today, 1)
        days = [first_last + datetime.timedelta(days=rng.randint(0, 27)) for _ in range(rng.randint(4, 8))]
        days += [
            _month_start(self.today) + datetime.timedelta(days=rng.randint(0, max(0, self.today.day - 2)))
            for _ in range(rng.randint(1, 4))
        ]
        rows: list[Task] = []
        entries: list[AuditEntry] = []
        for due in days:
            if due >= self.today:
                continue
            account = rng.choice(owned) if owned else None
            late = rng.random() > 0.45 * skill + 0.2
            closed = min(
                _at(due + datetime.timedelta(days=rng.randint(1, 4) if late else 0), rng.randint(9, 18)), self.now
            )
            made = _at(due - datetime.timedelta(days=rng.randint(1, 7)), 9)
            task_id = uuid.UUID(int=self.rng.getrandbits(128), version=4)
            title = rng.choice(_HISTORY).format(a=_short(account["name"]) if account else "")
            rows.append(
                Task(
                    id=task_id,
                    title=title,
                    account=account["id"] if account else None,
                    assignee=rep.id,
                    creator=rep.id,
                    due_date=due,
                    priority=1,
                    kind="call",
                    source="manual",
                    state="done",
                    completed_at=closed,
                    outcome=rng.choice(_DONE),
                    version=2,
                    state_version=2,
                    created_at=made,
                    updated_at=closed,
                )
            )
            for action, at in (("create", made), ("complete", closed)):
                entry = audit.entry_row(
                    actor=rep,
                    entity="task",
                    entity_id=task_id,
                    account_id=account["id"] if account else None,
                    action=action,
                    changes={"title": [None, title]} if action == "create" else {"state": ["open", "done"]},
                )
                entry.at = at
                entries.append(entry)
            self.counts["history"] += 1
            self.counts["tasks"] += 1
        return rows, entries

    def opportunities(self, rep: Actor, owned: list[dict[str, Any]], product_ids: list[str]) -> list[Opportunity]:
        """Won and lost deals of the past year, more and bigger for the better reps."""
        rng = self.rng
        skill = self.skill_of(rep)
        stages = {s["key"]: s for s in DEFAULT_STAGES}
        rows: list[Opportunity] = []
        if not owned:
            return rows
        for back in range(13):
            for i in range(max(1 if back == 1 else 0, rng.randint(0, 3))):
                won = rng.random() < 0.3 + 0.3 * skill or (i == 0 and back == 1 and rep.username == "rep")
                start = _month_start(self.today, back)
                created = _at(start + datetime.timedelta(days=rng.randint(0, 27)), rng.randint(9, 17))
                closed = created + datetime.timedelta(days=rng.randint(0, 20))
                if created >= self.now or closed >= self.now:
                    continue
                stage = "won" if won else "lost"
                account = rng.choice(owned)
                amount = int(rng.randrange(30_000, 1_500_000, 1_000) * 100 * (0.6 + skill * 0.4))
                rows.append(
                    Opportunity(
                        id=uuid.UUID(int=rng.getrandbits(128), version=4),
                        account=account["id"],
                        owner=rep.id,
                        name=f"{_short(account['name'])} {rng.choice(_DEALS)}",
                        stage=stage,
                        probability=stages[stage]["probability"],
                        amount_cents=amount,
                        expected_close=closed.date(),
                        product_ids=msgspec.json.encode(rng.sample(product_ids, 2)).decode(),
                        competitor=rng.choice(("", "联通", "电信")),
                        next_step="",
                        lost_reason="" if won else rng.choice(("价格高于竞争对手", "客户预算取消", "选择了现有供应商")),
                        closed_at=closed,
                        version=1,
                        created_at=created,
                        updated_at=closed,
                    )
                )
        return rows

    async def rep_quotes(self, rep: Actor, owned: list[dict[str, Any]], products: dict[str, uuid.UUID]) -> None:
        """Quotes the rep had approved and sent, spread over this month and the two before."""
        rng = self.rng
        if not owned:
            return
        count = max(2, round(rng.uniform(1, 3.5) * self.skill_of(rep)))
        valid = self.today + datetime.timedelta(days=30)
        for n in range(count):
            lines = rng.choice(_QUOTES)
            account = rng.choice(owned)
            quote = await quotes.create_quote(
                actor=rep,
                now=self.now,
                data=QuoteCreate(
                    account_id=account["id"],
                    title=f"{_short(account['name'])} 报价",
                    valid_until=valid,
                    lines=[
                        QuoteLineIn(product_id=products[code], quantity=qty, discount_bp=rng.choice((0, 200, 500)))
                        for code, qty in lines
                    ],
                ),
            )
            quote = await quotes.transition(actor=rep, quote_id=quote.id, data=QuoteTransition(action="submit"))
            if quote.state != "approved":
                continue
            await quotes.transition(actor=rep, quote_id=quote.id, data=QuoteTransition(action="send"))
            self.counts["quotes"] += 1
            back = n if n < 2 else rng.choice((0, 1, 1, 2, 3))  # this month, last month, then any
            if back:  # approved and sent in an earlier month
                day = _month_start(self.today, back) + datetime.timedelta(days=rng.randint(0, 26))
                sent = _at(day, rng.randint(9, 17))
                await Quote.update({Quote.submitted_at: sent, Quote.decided_at: sent, Quote.created_at: sent}).where(
                    Quote.id == quote.id
                )
                await AuditEntry.update({AuditEntry.at: sent}).where(
                    AuditEntry.entity == "quote", AuditEntry.entity_id == quote.id
                )

    async def rep_targets(self, rep: Actor, setter: Actor) -> None:
        """This month's and last month's targets, set by the rep's manager."""
        rng = self.rng
        for back in (1, 0):
            month = _month_start(self.today, back)
            data = TargetPut(
                visits_a=rng.randint(8, 14),
                visits_b=rng.randint(6, 12),
                visits_c=rng.randint(4, 10),
                new_opportunities=rng.randint(2, 5),
                won_revenue_cents=rng.randrange(300_000, 1_200_000, 10_000) * 100,
                quotes_sent=rng.randint(2, 4),
                tasks_on_time=rng.randint(5, 9),
            )
            await targets.put_target(
                actor=setter, level="rep", subject_id=rep.id, month=f"{month.year}-{month.month:02d}", data=data
            )
            self.counts["targets"] += 1


async def build_work(*, seed: int, now: datetime.datetime) -> str:
    """Tasks, quotes sent, a year of closed deals and this and last month's targets for every rep; a summary."""
    started = time.monotonic()
    work = _Work(seed=seed, now=now)
    reps = await _actors(User.role == "rep", User.is_active.eq(True))
    managers = {a.org_unit_id: a for a in (await _actors(User.role == "manager", User.is_active.eq(True))).values()}
    hq = next(iter((await _actors(User.role == "hq_admin", User.is_active.eq(True))).values()), None)
    live = await Account.select(Account.id, Account.owner, Account.name).where(
        Account.deleted_at.is_null(), Account.status.is_in(["active", "at_risk", "prospect"])
    )
    owned: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(live, key=lambda r: str(r["id"])):
        owned[row["owner"]].append(row)
    recent = await Visit.select(Visit.id, Visit.account, Visit.user, Visit.checked_in_at).where(
        Visit.checked_in_at >= now - datetime.timedelta(days=60)
    )
    visits: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in sorted(recent, key=lambda r: (r["checked_in_at"], str(r["id"])), reverse=True):
        visits[row["user"]].append(row)
    catalogue = {r["code"]: r["id"] for r in await Product.select(Product.code, Product.id)}
    product_ids = sorted(str(i) for i in catalogue.values())
    history: list[Opportunity] = []
    closed_tasks: list[Task] = []
    closed_entries: list[AuditEntry] = []
    for rep in sorted(reps.values(), key=lambda a: a.username):
        mine = owned.get(rep.id, [])
        manager = managers.get(rep.org_unit_id)
        await work.rep_tasks(rep, manager, mine, visits.get(rep.id, []))
        rows, entries = work.history_tasks(rep, mine)
        closed_tasks.extend(rows)
        closed_entries.extend(entries)
        if product_ids:
            history.extend(work.opportunities(rep, mine, product_ids))
        if catalogue.keys() >= {code for lines in _QUOTES for code, _ in lines}:
            await work.rep_quotes(rep, mine, catalogue)
        setter = manager or hq
        if setter is not None:
            await work.rep_targets(rep, setter)
    await insert_rows(Opportunity, history)
    await insert_rows(Task, closed_tasks)
    await audit.record_many(closed_entries)
    c = work.counts
    return (
        f"{c['tasks']} tasks ({c['done']} done, {c['skipped']} skipped, {c['follow_ups']} visit follow-ups, "
        f"{c['assigned']} from managers, {c['history']} closed earlier), {c['quotes']} quotes sent, "
        f"{len(history)} closed deals of the past year, {c['targets']} monthly targets "
        f"({time.monotonic() - started:.1f}s)"
    )
