"""SLA timers with a controllable clock: a warning before the deadline, escalation after it, once each."""

import asyncio
import datetime
import uuid
from typing import Any

import pytest

from fieldcrm.lib.db import engine
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import utcnow
from fieldcrm.notifications.tables import Notification
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.schemas import ScanResult
from fieldcrm.workflow.services import _timers as timers
from fieldcrm.workflow.tables import WorkflowStep
from tests.conftest import IS_POSTGRES
from tests.factories import Org
from tests.workflow.memo import MemoSubject

H = datetime.timedelta(hours=1)


async def _sent(kind: str) -> list[uuid.UUID]:
    rows = await Notification.select(Notification.user).where(Notification.kind == kind).order_by(Notification.user)
    return [r["user"] for r in rows]


async def test_warning_then_escalation_up_the_levels(org: Org, memos: MemoSubject) -> None:
    """The manager step (SLA 8 h, warning 2 h before): warned at 6 h, escalated to the director at 8 h,
    then to HQ 8 h later; each event happens once however often the scan runs."""
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    instance = await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)
    step = instance.steps[0]
    t0 = step.activated_at
    assert step.due_at == t0 + 8 * H and step.warn_at == t0 + 6 * H

    assert await workflow.sla_scan(now=t0 + 5 * H) == ScanResult(warned=0, escalated=0)
    assert await workflow.sla_scan(now=t0 + 6 * H) == ScanResult(warned=1, escalated=0)
    assert await workflow.sla_scan(now=t0 + 7 * H) == ScanResult(warned=0, escalated=0)
    assert await _sent("approval.sla_warning") == [org.manager_a.id]
    page = await workflow.inbox(actor=await org.actor("manager_a"), page=PageParams())
    assert page.items[0].warned and not page.items[0].overdue

    assert await workflow.sla_scan(now=t0 + 8 * H) == ScanResult(warned=0, escalated=1)
    assert await workflow.sla_scan(now=t0 + 9 * H) == ScanResult(warned=0, escalated=0)
    assert await _sent("approval.escalated") == [org.director.id]
    escalated = (await workflow.running(kind="memo", subject_id=memo.id)).steps[0]  # type: ignore[union-attr]
    assert escalated.escalation_level == 1
    assert escalated.due_at == t0 + 16 * H and escalated.warn_at == t0 + 14 * H and not escalated.warned
    assert {(d.user_id, d.level) for d in escalated.deciders} == {(org.manager_a.id, 0), (org.director.id, 1)}
    director_inbox = await workflow.inbox(actor=await org.actor("director"), page=PageParams())
    assert [i.step_id for i in director_inbox.items] == [step.id]
    assert director_inbox.items[0].escalation_level == 1

    assert await workflow.sla_scan(now=t0 + 16 * H) == ScanResult(warned=0, escalated=1)
    assert await _sent("approval.escalated") == sorted([org.director.id, org.hq.id])
    # HQ has no level above: past the next deadline nothing more happens, and the scan stops looking
    assert await workflow.sla_scan(now=t0 + 30 * H) == ScanResult(warned=0, escalated=0)
    assert await WorkflowStep.select(WorkflowStep.next_timer_at).where(WorkflowStep.id == step.id).first() == {
        "next_timer_at": None
    }
    # an escalation's decider settles the step alone; the manager, too late, gets 409
    result = await workflow.decide(
        actor=await org.actor("hq"), step_id=step.id, decision="approve", comment="", idempotency_key="hq"
    )
    assert result.step_status == "approved" and memo.state == "approved"


async def test_a_scan_after_a_long_outage_escalates_without_a_stale_warning(org: Org, memos: MemoSubject) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    step = (await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)).steps[0]
    assert await workflow.sla_scan(now=step.activated_at + 20 * H) == ScanResult(warned=0, escalated=1)
    assert await _sent("approval.sla_warning") == []


async def test_decided_steps_have_no_timers(org: Org, memos: MemoSubject) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    step = (await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)).steps[0]
    await workflow.decide(
        actor=await org.actor("manager_a"), step_id=step.id, decision="approve", comment="", idempotency_key="k"
    )
    assert await workflow.sla_scan(now=step.activated_at + 100 * H) == ScanResult(warned=0, escalated=0)


async def test_a_scan_works_through_more_than_one_batch(org: Org, memos: MemoSubject) -> None:
    rep = await org.actor("rep_a")
    for _ in range(7):
        await workflow.start(actor=rep, kind="memo", subject_id=memos.add(org.rep_a.id, discount_bp=1000).id)
    result = await workflow.sla_scan(now=utcnow() + 6 * H + H / 2, batch=3)
    assert result == ScanResult(warned=7, escalated=0)
    assert len(await _sent("approval.sla_warning")) == 7


@pytest.mark.postgres_only
async def test_two_workers_never_escalate_the_same_step_twice(org: Org, memos: MemoSubject) -> None:
    """Two scans at once on two PostgreSQL connections (FOR UPDATE SKIP LOCKED): every overdue step is
    escalated exactly once between them."""
    assert IS_POSTGRES
    rep = await org.actor("rep_a")
    steps = []
    for _ in range(60):
        memo = memos.add(org.rep_a.id, discount_bp=1000)
        steps.append((await workflow.start(actor=rep, kind="memo", subject_id=memo.id)).steps[0].id)
    now = utcnow() + 9 * H
    connections: set[int] = set()
    inside = [0, 0]  # batches in progress now, most at once
    original = timers._fire_timers

    async def watched(batch: list[dict[str, Any]], when: datetime.datetime) -> tuple[int, int]:
        txn = engine().current_transaction.get()
        connections.add(id(txn.connection))  # type: ignore[union-attr]
        inside[0] += 1
        inside[1] = max(inside)
        await asyncio.sleep(0.05)  # hold the rows locked a moment, so the other worker meets them
        try:
            return await original(batch, when)
        finally:
            inside[0] -= 1

    timers._fire_timers = watched  # type: ignore[assignment]
    try:
        first, second = await asyncio.gather(workflow.sla_scan(now=now, batch=10), workflow.sla_scan(now=now, batch=10))
    finally:
        timers._fire_timers = original
    assert len(connections) >= 2 and inside[1] == 2, "the two scans did not overlap on two connections"
    assert first.escalated > 0 and second.escalated > 0, (first, second)
    assert first.escalated + second.escalated == 60
    assert sorted(await _sent("approval.escalated")) == [org.director.id] * 60
    levels = await WorkflowStep.select(WorkflowStep.escalation_level).where(WorkflowStep.id.is_in(steps))
    assert {r["escalation_level"] for r in levels} == {1}
