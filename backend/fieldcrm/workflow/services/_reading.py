"""Reading instances and steps: history, the decision screen, who may see what."""

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fieldcrm.lib.db import as_uuid, read_transaction
from fieldcrm.lib.errors import NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.workflow import deciders
from fieldcrm.workflow.schemas import Decider, Decision, Instance, InstancePage, Step, StepDetail
from fieldcrm.workflow.services._common import _json
from fieldcrm.workflow.tables import WorkflowDecision, WorkflowInstance, WorkflowStep, WorkflowStepDecider


def _decision_out(row: Mapping[str, Any]) -> Decision:
    return Decision(
        id=row["id"],
        step_id=row["step"],
        decision=row["decision"],
        comment=row["comment"],
        actor_id=row["actor"],
        actor_name=row["actor_name"],
        on_behalf_of_id=row["on_behalf_of"],
        on_behalf_of_name=row["on_behalf_of_name"],
        subject_version=row["subject_version"],
        at=row["at"],
    )


async def _instances_out(rows: Sequence[Mapping[str, Any]]) -> list[Instance]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    step_rows = await (
        WorkflowStep.select()
        .where(WorkflowStep.instance.is_in(ids))
        .order_by(WorkflowStep.stage)
        .order_by(WorkflowStep.activated_at)
        .order_by(WorkflowStep.name)
    )
    step_ids = [s["id"] for s in step_rows]
    decider_rows = (
        await WorkflowStepDecider.select(
            WorkflowStepDecider.step,
            WorkflowStepDecider.user,
            WorkflowStepDecider.level,
            WorkflowStepDecider.decided,
            WorkflowStepDecider.user.display_name.as_alias("name"),
        )
        .where(WorkflowStepDecider.step.is_in(step_ids))
        .order_by(WorkflowStepDecider.level)
        .order_by(WorkflowStepDecider.user.display_name)
        if step_ids
        else []
    )
    decision_rows = (
        await WorkflowDecision.select().where(WorkflowDecision.step.is_in(step_ids)).order_by(WorkflowDecision.at)
        if step_ids
        else []
    )
    by_step_deciders: dict[Any, list[Decider]] = {}
    for d in decider_rows:
        by_step_deciders.setdefault(d["step"], []).append(
            Decider(user_id=d["user"], name=d["name"] or "", level=d["level"], decided=bool(d["decided"]))
        )
    by_step_decisions: dict[Any, list[Decision]] = {}
    for d in decision_rows:
        by_step_decisions.setdefault(d["step"], []).append(_decision_out(d))
    by_instance: dict[Any, list[Step]] = {}
    for s in step_rows:
        by_instance.setdefault(s["instance"], []).append(_step_out(s, by_step_deciders, by_step_decisions))
    return [
        Instance(
            id=r["id"],
            definition_key=r["definition_key"],
            definition_version=r["definition_version"],
            subject_kind=r["subject_kind"],
            subject_id=r["subject_id"],
            subject_version=r["subject_version"],
            title=r["title"],
            url=r["url"],
            owner_id=r["owner"],
            status=r["status"],
            stage=r["stage"],
            stages=_json(r["stages"]),
            facts=_json(r["facts"]),
            started_at=r["started_at"],
            ended_at=r["ended_at"],
            steps=by_instance.get(r["id"], []),
        )
        for r in rows
    ]


def _step_out(
    s: Mapping[str, Any], deciders_of: Mapping[Any, list[Decider]], decisions_of: Mapping[Any, list[Decision]]
) -> Step:
    return Step(
        id=s["id"],
        instance_id=s["instance"],
        name=s["name"],
        label=s["label"],
        stage=s["stage"],
        status=s["status"],
        quorum=s["quorum"],
        needed=s["needed"],
        approvals=s["approvals"],
        deciders=deciders_of.get(s["id"], []),
        decisions=decisions_of.get(s["id"], []),
        activated_at=s["activated_at"],
        due_at=s["due_at"],
        warn_at=s["warn_at"],
        warned=s["warned_at"] is not None,
        escalation_level=s["escalation_level"],
        completed_at=s["completed_at"],
    )


async def _instance(instance_id: uuid.UUID) -> Instance:
    row = await WorkflowInstance.select().where(WorkflowInstance.id == instance_id).first()
    if row is None:
        msg = f"workflow instance {instance_id} not found"
        raise NotFound(msg)
    return (await _instances_out([row]))[0]


async def _owner_path(owner_id: Any) -> str | None:
    row = await User.select(User.org_unit.path.as_alias("path")).where(User.id == owner_id).first()
    return str(row["path"]) if row is not None else None


async def _may_view(actor: Actor, instance: Mapping[str, Any]) -> bool:
    """The owner, leaders above the owner, HQ, and anyone who is or was a decider of one of its steps.

    A deputy sees through their own scope only: deputising for someone never widens what one sees.
    """
    if scope.sees_everything(actor) or instance["owner"] == actor.id:
        return True
    if actor.role != "rep":
        path = await _owner_path(instance["owner"])
        if path is not None and scope.unit_in_subtree(actor, path):
            return True
    return bool(
        await WorkflowStepDecider.exists().where(
            WorkflowStepDecider.step.instance == instance["id"], WorkflowStepDecider.user == actor.id
        )
    )


def _interested(instance: Mapping[str, Any]) -> set[uuid.UUID]:
    """Who may not decide an approval of this instance: the subject's owner and whoever submitted it."""
    return {as_uuid(u) for u in (instance["owner"], instance.get("started_by")) if u is not None}


def _own_subject(actor: Actor, instance: Mapping[str, Any], *others: uuid.UUID) -> bool:
    """Separation of duties: an approval is never decided by (or on behalf of) its owner or submitter.

    Work orders are different: their steps are the owner's own work.
    """
    if instance["workflow_type"] != "approval":
        return False
    return bool({actor.id, *others} & _interested(instance))


async def _principals(actor: Actor, instance: Mapping[str, Any], now: datetime.datetime) -> list[uuid.UUID]:
    """Whose decider rows the actor may act on for this instance.

    Their own; and those of the people they deputise for, only while the deputy is a leader and the
    subject's owner lies in the deputy's own scope (a delegation never widens what a deputy sees).
    """
    principals = [actor.id]
    if actor.role != "rep":
        path = await _owner_path(instance["owner"])
        if path is not None and scope.unit_in_subtree(actor, path):
            principals += await deciders.delegators_of(actor.id, now)
    return principals


async def running(*, kind: str, subject_id: uuid.UUID) -> Instance | None:
    """The running instance of a subject, if any (no authorization: for domain services)."""
    row = (
        await WorkflowInstance.select()
        .where(
            WorkflowInstance.subject_kind == kind,
            WorkflowInstance.subject_id == subject_id,
            WorkflowInstance.status == "running",
        )
        .first()
    )
    return (await _instances_out([row]))[0] if row else None


async def history(*, actor: Actor, kind: str, subject_id: uuid.UUID, page: PageParams | None = None) -> InstancePage:
    """Instances of one subject, newest first, with steps and decisions (owner's scope, HQ, deciders)."""
    scope.require(actor, "workflow.history")
    page = page or PageParams(limit=100)
    where = (WorkflowInstance.subject_kind == kind) & (WorkflowInstance.subject_id == subject_id)
    async with read_transaction():
        rows = await (
            WorkflowInstance.select()
            .where(where)
            .order_by(WorkflowInstance.started_at, ascending=False)
            .order_by(WorkflowInstance.id)
        )
        if not rows or not await _may_view(actor, rows[0]):
            msg = f"no workflow for {kind} {subject_id}"
            raise NotFound(msg)
        chosen = rows[page.offset : page.offset + page.limit]
        items = await _instances_out(chosen)
    return InstancePage(items=items, total=len(rows), next_cursor=page.next_cursor(len(rows)))


async def get_step(*, actor: Actor, step_id: uuid.UUID) -> StepDetail:
    """One step with its instance, for the decision screen; ``canDecide`` says whether the caller may decide."""
    scope.require(actor, "approvals.read")
    now = utcnow()
    async with read_transaction():
        step = (
            await WorkflowStep.select(WorkflowStep.instance, WorkflowStep.status)
            .where(WorkflowStep.id == step_id)
            .first()
        )
        instance = (
            await WorkflowInstance.select().where(WorkflowInstance.id == step["instance"]).first() if step else None
        )
        if step is None or instance is None or not await _may_view(actor, instance):
            msg = f"approval step {step_id} not found"
            raise NotFound(msg)
        principals = await _principals(actor, instance, now)
        can_decide = (
            step["status"] == "pending"
            and not _own_subject(actor, instance)
            and await WorkflowStepDecider.exists().where(
                WorkflowStepDecider.step == step_id,
                WorkflowStepDecider.user.is_in([p for p in principals if not _own_subject(actor, instance, p)]),
                WorkflowStepDecider.is_open.eq(True),
            )
        )
        full = (await _instances_out([instance]))[0]
    current = next(s for s in full.steps if s.id == step_id)
    return StepDetail(step=current, instance=full, can_decide=bool(can_decide))
