"""Shipped definition files, loading them into versions, work orders, the outbox service, the worker job."""

import datetime
import json
from pathlib import Path

import pytest

from fieldcrm.lib.errors import InvalidInput
from fieldcrm.lib.pagination import PageParams
from fieldcrm.notifications import services as notifications
from fieldcrm.notifications.tables import Notification
from fieldcrm.worker import default_jobs
from fieldcrm.workflow import rules
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.schemas import ScanResult
from fieldcrm.workflow.tables import WorkflowDefinition
from tests.factories import Org
from tests.workflow.memo import MemoSubject


def test_every_shipped_definition_file_is_valid() -> None:
    docs = workflow.definition_files()
    assert "quote-approval" in {d.key for d in docs}
    for path in sorted(workflow.DEFINITIONS_DIR.glob("*.json")):
        doc = rules.parse(json.loads(path.read_text(encoding="utf-8")))
        assert path.stem == doc.key, f"{path.name}: name the file after its key"


async def test_files_load_once_and_a_changed_file_becomes_a_new_version(tmp_path: Path, org: Org) -> None:
    body = {"key": "memo-files", "subject": "memo", "rules": [{"when": {}, "chain": []}], "steps": {}}
    (tmp_path / "memo-files.json").write_text(json.dumps(body), encoding="utf-8")
    assert await workflow.load_definition_files(tmp_path) == 1
    assert await workflow.load_definition_files(tmp_path) == 0
    body["description"] = "changed"
    (tmp_path / "memo-files.json").write_text(json.dumps(body), encoding="utf-8")
    assert await workflow.load_definition_files(tmp_path) == 1
    versions = await WorkflowDefinition.select(WorkflowDefinition.version).where(WorkflowDefinition.key == "memo-files")
    assert sorted(v["version"] for v in versions) == [1, 2]
    # once HQ edits it through the API, the file no longer overrides it
    await workflow.put_definition(actor=await org.actor("hq"), key="memo-files", body={**body, "description": "HQ"})
    body["description"] = "changed again"
    (tmp_path / "memo-files.json").write_text(json.dumps(body), encoding="utf-8")
    assert await workflow.load_definition_files(tmp_path) == 0
    assert (await workflow.get_definition(actor=await org.actor("hq"), key="memo-files")).body["description"] == "HQ"


def test_a_broken_file_stops_start_up_with_its_name(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"key": "bad", "subject": "memo", "rules": []}', encoding="utf-8")
    with pytest.raises(RuntimeError, match=r"bad\.json: .*steps"):
        workflow.definition_files(tmp_path)


WORK_ORDER = {
    "key": "memo-work",
    "subject": "memo",
    "type": "work_order",
    "rules": [
        {"when": {"priority": "high"}, "chain": [["accept"], ["investigate", "notify_customer"], ["resolve"]]},
        {"when": {}, "chain": [["accept"], ["resolve"]]},
    ],
    "steps": {
        "accept": {"label": "Accept", "deciders": "owner", "sla_hours": 1, "warn_before_hours": 0.5},
        "investigate": {"label": "Investigate", "deciders": "owner", "sla_hours": 4},
        "notify_customer": {"label": "Tell the customer", "deciders": "owner_manager", "sla_hours": 4},
        "resolve": {"label": "Resolve", "deciders": "owner", "sla_hours": 24},
    },
}


async def test_a_work_order_runs_parallel_branches_done_by_the_owner(org: Org, memos: MemoSubject) -> None:
    hq = await org.actor("hq")
    await workflow.put_definition(actor=hq, key="memo-work", body=WORK_ORDER)
    memo = memos.add(org.rep_a.id, priority="high")
    rep = await org.actor("rep_a")
    instance = await workflow.start(actor=hq, kind="memo", subject_id=memo.id, definition="memo-work")
    assert [n["kind"] for n in await Notification.select(Notification.kind)] == ["work.assigned"]

    async def done(who: str, name: str) -> str:
        current = await workflow.running(kind="memo", subject_id=memo.id)
        assert current is not None
        step = next(s for s in current.steps if s.name == name and s.status == "pending")
        result = await workflow.decide(
            actor=await org.actor(who), step_id=step.id, decision="approve", comment="", idempotency_key=name
        )
        return result.instance_status

    assert [s.name for s in instance.steps] == ["accept"]
    assert await done("rep_a", "accept") == "running"
    inbox = await workflow.inbox(actor=rep, page=PageParams())
    assert [(i.step_name, i.workflow_type) for i in inbox.items] == [("investigate", "work_order")]
    assert await done("rep_a", "investigate") == "running"
    current = await workflow.running(kind="memo", subject_id=memo.id)
    assert current is not None and current.stage == 1  # the parallel branch still waits for the manager
    assert await done("manager_a", "notify_customer") == "running"
    assert await done("rep_a", "resolve") == "approved"
    assert memo.steps_done == ["accept", "investigate", "notify_customer", "resolve"]
    assert memo.outcomes == [("approved", "rep_a", "")]
    # the owner finished it: nobody is told of their own decision
    assert await Notification.count().where(Notification.kind == "approval.decided") == 0


async def test_owner_deciders_are_refused_in_approvals(org: Org) -> None:
    body = {**WORK_ORDER, "type": "approval"}
    with pytest.raises(InvalidInput) as raised:
        await workflow.put_definition(actor=await org.actor("hq"), key="memo-work", body=body)
    assert raised.value.field == "steps.accept.deciders"


async def test_enqueue_writes_one_row_per_recipient_and_refuses_what_delivery_cannot_send(org: Org) -> None:
    count = await notifications.enqueue(
        user_ids=[org.rep_a.id, org.rep_a.id, org.manager_a.id],
        kind="approval.decided",
        params={"title": "Q-2026-00001", "decision": "approved"},
        topic="quote-1",
        url="#/quotes/1",
    )
    assert count == 2
    rows = await Notification.select().order_by(Notification.user)
    assert {r["user"] for r in rows} == {org.rep_a.id, org.manager_a.id}
    assert all(r["sent_at"] is None and r["attempts"] == 0 and r["available_at"] for r in rows)
    with pytest.raises(InvalidInput, match="kind"):
        await notifications.enqueue(user_ids=[org.rep_a.id], kind="spam", params={})
    with pytest.raises(InvalidInput, match="ttl"):
        await notifications.enqueue(user_ids=[org.rep_a.id], kind="approval.decided", params={}, ttl_s=0)


async def test_the_worker_runs_the_sla_timers(org: Org, memos: MemoSubject) -> None:
    jobs = {job.name: job for job in default_jobs()}
    assert "workflow SLA timers" in jobs
    assert await jobs["workflow SLA timers"].run() == ScanResult(warned=0, escalated=0)


async def test_old_decision_keys_are_forgotten(org: Org, memos: MemoSubject) -> None:
    memo = memos.add(org.rep_a.id, discount_bp=1000)
    step = (await workflow.start(actor=await org.actor("rep_a"), kind="memo", subject_id=memo.id)).steps[0]
    await workflow.decide(
        actor=await org.actor("manager_a"), step_id=step.id, decision="approve", comment="", idempotency_key="old"
    )
    assert await workflow.purge_idempotency_keys() == 0  # a fresh key stays
    assert await workflow.purge_idempotency_keys(older_than=datetime.timedelta(0)) == 1
    jobs = {job.name for job in default_jobs()}
    assert "purge old decision keys" in jobs
