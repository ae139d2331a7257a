"""A hand-built month of field work and selling (November 2026, business zone Asia/Shanghai, UTC+8).

Every row is written directly, with the times chosen to sit on the edges of the month in the
business zone, so each KPI can be worked out by hand (the expected numbers are in the tests).
"""

import datetime
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from fieldcrm.accounts.tables import Account, Holding, Revenue
from fieldcrm.audit.tables import AuditEntry
from fieldcrm.cases.tables import Case
from fieldcrm.org.tables import User
from fieldcrm.sales.tables import Opportunity, Quote
from fieldcrm.tasks.tables import Task
from fieldcrm.visits.tables import Visit, VisitPlan
from fieldcrm.workflow.tables import WorkflowDefinition, WorkflowInstance, WorkflowStep
from tests.factories import Org, make_account

UTC = datetime.UTC
AT = datetime.date(2026, 11, 15)
_seq = itertools.count(1)


def utc(text: str) -> datetime.datetime:
    """An ISO time written with its zone (e.g. 2026-11-30T23:30+08:00), as UTC."""
    return datetime.datetime.fromisoformat(text).astimezone(UTC)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@dataclass
class World:
    """The org, the accounts by name, and what the tests need to point at."""

    org: Org
    accounts: dict[str, uuid.UUID] = field(default_factory=dict)


async def account(world: World, name: str, owner: str, tier: str, **extra: Any) -> uuid.UUID:
    account_id = await make_account(world.org, owner=owner, name=name, **extra)
    await Account.update({Account.tier: tier}).where(Account.id == account_id)
    world.accounts[name] = account_id
    return account_id


async def plan(world: World, acc: str, owner: str, on: str, status: str = "planned") -> None:
    await VisitPlan.insert(
        VisitPlan(account=world.accounts[acc], owner=world.org.people[owner].id, date=day(on), status=status)
    )


async def visit(
    world: World, acc: str, user: str, at: str, *, verdict: str = "verified", review: str = "none", counts: bool = True
) -> None:
    moment = utc(at)
    local_day = datetime.datetime.fromisoformat(at).date()
    await Visit.insert(
        Visit(
            account=world.accounts[acc],
            user=world.org.people[user].id,
            device_at=moment,
            received_at=moment,
            checked_in_at=moment,
            checked_in_on=local_day,
            verdict=verdict,
            review_status=review,
            counts_for_coverage=counts and verdict == "verified",
        )
    )


async def opportunity(
    world: World,
    acc: str,
    owner: str,
    *,
    created: str,
    stage: str = "lead",
    amount: int = 0,
    probability: int = 10,
    closed: str | None = None,
    expected: str | None = None,
    lost_reason: str = "",
) -> uuid.UUID:
    row = Opportunity(
        account=world.accounts[acc],
        owner=world.org.people[owner].id,
        name=f"opp {next(_seq)}",
        stage=stage,
        probability=probability,
        amount_cents=amount,
        expected_close=day(expected) if expected else None,
        closed_at=utc(closed) if closed else None,
        lost_reason=lost_reason,
        created_at=utc(created),
    )
    await Opportunity.insert(row)
    return row.id


async def quote(
    world: World, acc: str, owner: str, *, state: str, list_cents: int, total_cents: int, decided: str | None
) -> uuid.UUID:
    n = next(_seq)
    row = Quote(
        number=f"Q-2026-{n:05d}",
        year=2026,
        seq=n,
        account=world.accounts[acc],
        owner=world.org.people[owner].id,
        state=state,
        list_total_cents=list_cents,
        total_cents=total_cents,
        discount_bp=(list_cents - total_cents) * 10_000 // list_cents if list_cents else 0,
        decided_at=utc(decided) if decided else None,
    )
    await Quote.insert(row)
    return row.id


async def sent(world: World, quote_id: uuid.UUID, owner: str, at: str) -> None:
    await AuditEntry.insert(
        AuditEntry(at=utc(at), actor=world.org.people[owner].id, entity="quote", entity_id=quote_id, action="send")
    )


async def approval(world: World, quote_id: uuid.UUID, owner: str, *, started: str, hours: float) -> None:
    definition = await WorkflowDefinition.select(WorkflowDefinition.id).first()
    if definition is None:
        row = WorkflowDefinition(key="quote", version=1, subject="quote", body_hash="x")
        await WorkflowDefinition.insert(row)
        definition_id = row.id
    else:
        definition_id = definition["id"]
    start = utc(started)
    instance = WorkflowInstance(
        definition=definition_id,
        definition_key="quote",
        definition_version=1,
        subject_kind="quote",
        subject_id=quote_id,
        owner=world.org.people[owner].id,
        status="approved",
        started_at=start,
        ended_at=start + datetime.timedelta(hours=hours),
    )
    await WorkflowInstance.insert(instance)
    await WorkflowStep.insert(
        WorkflowStep(instance=instance.id, name="manager", decider_kind="manager", status="approved")
    )


async def case(world: World, acc: str, owner: str, *, kind: str, due: str, resolved: str | None) -> None:
    await Case.insert(
        Case(
            account=world.accounts[acc],
            owner=world.org.people[owner].id,
            type=kind,
            priority="normal",
            title="case",
            due_at=utc(due),
            resolved_at=utc(resolved) if resolved else None,
            state="resolved" if resolved else "open",
            created_at=utc(due) - datetime.timedelta(days=2),
        )
    )


async def task(world: World, assignee: str, *, due: str, state: str = "open", completed: str | None = None) -> None:
    await Task.insert(
        Task(
            title="task",
            assignee=world.org.people[assignee].id,
            due_date=day(due),
            state=state,
            completed_at=utc(completed) if completed else None,
        )
    )


async def build(org: Org) -> World:
    """The month described in tests/analytics/test_kpis.py."""
    w = World(org)
    await account(w, "鞍钢集团 A1", "rep_a", "A", industry="钢铁")
    await account(w, "B1 Logistics", "rep_a", "B", industry="物流")
    await account(w, "C1 Retail", "rep_a", "C", industry="零售")
    await account(w, "B2 Bank", "rep_b", "B", industry="金融")
    await account(w, "A2 Power", "rep_a2", "A", industry="能源")
    await account(w, "C3 Wuhan", "rep_c", "C", industry="钢铁")
    # plans: three in November (two kept), one cancelled, one in October
    await plan(w, "鞍钢集团 A1", "rep_a", "2026-11-03", "done")
    await plan(w, "B1 Logistics", "rep_a", "2026-11-30", "done")
    await plan(w, "C1 Retail", "rep_a", "2026-11-10")
    await plan(w, "C1 Retail", "rep_a", "2026-11-11", "cancelled")
    await plan(w, "C1 Retail", "rep_a", "2026-10-31", "done")
    # visits of rep_a: 23:30 local on the last day is November; 00:10 on 1 December is not
    await visit(w, "鞍钢集团 A1", "rep_a", "2026-11-30T23:30:00+08:00")
    await visit(w, "B1 Logistics", "rep_a", "2026-11-03T10:00:00+08:00", verdict="out_of_range", review="pending")
    await visit(w, "C1 Retail", "rep_a", "2026-11-01T00:05:00+08:00")
    await visit(w, "C1 Retail", "rep_a", "2026-11-12T09:00:00+08:00", verdict="low_accuracy", review="rejected")
    await visit(w, "B1 Logistics", "rep_a", "2026-12-01T00:10:00+08:00")
    await visit(w, "鞍钢集团 A1", "rep_a", "2026-10-20T10:00:00+08:00")  # October: the previous month
    await visit(w, "鞍钢集团 A1", "rep_a", "2025-11-20T10:00:00+08:00")  # a year earlier
    await visit(w, "B2 Bank", "rep_b", "2026-11-20T10:00:00+08:00")
    await visit(w, "A2 Power", "rep_a2", "2026-11-05T10:00:00+08:00")
    await visit(w, "C3 Wuhan", "rep_c", "2026-11-05T10:00:00+08:00")
    # opportunities of rep_a
    await opportunity(w, "鞍钢集团 A1", "rep_a", created="2026-11-30T23:30:00+08:00")
    await opportunity(w, "鞍钢集团 A1", "rep_a", created="2026-12-01T00:30:00+08:00")
    await opportunity(
        w,
        "鞍钢集团 A1",
        "rep_a",
        created="2026-10-01T10:00:00+08:00",
        stage="won",
        amount=100_000_00,
        probability=100,
        closed="2026-11-30T23:00:00+08:00",
    )
    await opportunity(
        w,
        "B1 Logistics",
        "rep_a",
        created="2026-10-02T10:00:00+08:00",
        stage="lost",
        amount=40_000_00,
        probability=0,
        closed="2026-11-10T10:00:00+08:00",
        lost_reason="价格太高",
    )
    await opportunity(
        w,
        "B1 Logistics",
        "rep_a",
        created="2026-10-03T10:00:00+08:00",
        stage="proposal",
        amount=200_000_00,
        probability=50,
        expected="2026-11-20",
    )
    await opportunity(
        w,
        "C1 Retail",
        "rep_a",
        created="2026-10-04T10:00:00+08:00",
        stage="negotiation",
        amount=100_000_00,
        probability=75,
        expected="2026-11-25",
    )
    await opportunity(
        w,
        "C1 Retail",
        "rep_a",
        created="2026-10-04T10:00:00+08:00",
        stage="negotiation",
        amount=999_00,
        probability=75,
        expected="2026-12-25",
    )
    # other people's wins in November
    await opportunity(
        w,
        "B2 Bank",
        "rep_b",
        created="2026-11-02T10:00:00+08:00",
        stage="won",
        amount=50_000_00,
        probability=100,
        closed="2026-11-20T10:00:00+08:00",
    )
    await opportunity(
        w,
        "A2 Power",
        "rep_a2",
        created="2026-11-02T10:00:00+08:00",
        stage="won",
        amount=30_000_00,
        probability=100,
        closed="2026-11-21T10:00:00+08:00",
    )
    await opportunity(
        w,
        "C3 Wuhan",
        "rep_c",
        created="2026-11-02T10:00:00+08:00",
        stage="won",
        amount=70_000_00,
        probability=100,
        closed="2026-11-22T10:00:00+08:00",
    )
    # quotes of rep_a: two approved in November (10% and 20% off), a draft, one approved in October
    q1 = await quote(
        w,
        "鞍钢集团 A1",
        "rep_a",
        state="sent",
        list_cents=100_000,
        total_cents=90_000,
        decided="2026-11-05T10:00:00+08:00",
    )
    q2 = await quote(
        w,
        "B1 Logistics",
        "rep_a",
        state="approved",
        list_cents=300_000,
        total_cents=240_000,
        decided="2026-11-30T23:59:00+08:00",
    )
    await quote(w, "C1 Retail", "rep_a", state="draft", list_cents=500_000, total_cents=100_000, decided=None)
    q4 = await quote(
        w,
        "C1 Retail",
        "rep_a",
        state="approved",
        list_cents=100_000,
        total_cents=50_000,
        decided="2026-10-05T10:00:00+08:00",
    )
    await sent(w, q1, "rep_a", "2026-11-06T10:00:00+08:00")
    await approval(w, q1, "rep_a", started="2026-11-05T09:00:00+08:00", hours=1)
    await approval(w, q2, "rep_a", started="2026-11-20T09:00:00+08:00", hours=2)
    await approval(w, q4, "rep_a", started="2026-11-28T09:00:00+08:00", hours=10)
    # cases of rep_a due in November: on time, late, open past due; one due in December
    await case(
        w,
        "鞍钢集团 A1",
        "rep_a",
        kind="complaint",
        due="2026-11-10T18:00:00+08:00",
        resolved="2026-11-10T17:00:00+08:00",
    )
    await case(
        w,
        "鞍钢集团 A1",
        "rep_a",
        kind="complaint",
        due="2026-11-12T18:00:00+08:00",
        resolved="2026-11-13T09:00:00+08:00",
    )
    await case(w, "B1 Logistics", "rep_a", kind="fault", due="2026-11-30T23:00:00+08:00", resolved=None)
    await case(w, "B1 Logistics", "rep_a", kind="fault", due="2026-12-01T01:00:00+08:00", resolved=None)
    # tasks of rep_a due in November: done on its day at 23:30 local, done a day late, skipped
    await task(w, "rep_a", due="2026-11-30", state="done", completed="2026-11-30T23:30:00+08:00")
    await task(w, "rep_a", due="2026-11-10", state="done", completed="2026-11-11T08:00:00+08:00")
    await task(w, "rep_a", due="2026-11-10", state="skipped")
    # revenue and holdings for the reports
    for month, amount in (("2026-10-01", 5_000_00), ("2026-11-01", 6_000_00)):
        await Revenue.insert(Revenue(account=w.accounts["鞍钢集团 A1"], month=day(month), amount_cents=amount))
    await Revenue.insert(Revenue(account=w.accounts["C3 Wuhan"], month=day("2026-11-01"), amount_cents=9_000_00))
    await Holding.insert(
        Holding(
            account=w.accounts["鞍钢集团 A1"],
            product_code="DL100",
            product="专线 100M",
            quantity=2,
            monthly_fee_cents=1_000_00,
            contract_start=day("2026-10-15"),
        )
    )
    return w


async def move(org: Org, person: str, unit: str) -> None:
    """Move a person to another org unit (what HQ does through /api/users)."""
    await User.update({User.org_unit: org.units[unit]}).where(User.id == org.people[person].id)
