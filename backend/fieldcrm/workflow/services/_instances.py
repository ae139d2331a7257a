"""Starting, activating stages, finishing and cancelling instances."""

import datetime
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import insert_rows, write_transaction
from fieldcrm.lib.errors import Conflict
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.notifications import services as notifications
from fieldcrm.org.schemas import Actor
from fieldcrm.workflow import deciders, rules, subjects
from fieldcrm.workflow.schemas import Decider, Instance, Step
from fieldcrm.workflow.services._common import NO_DEADLINE, NOTIFY_TTL_S, _iso, _json, _names, _topic
from fieldcrm.workflow.services._definitions import _definition_for
from fieldcrm.workflow.services._reading import _instance
from fieldcrm.workflow.tables import WorkflowInstance, WorkflowStep, WorkflowStepDecider


async def _notify(
    users: Iterable[uuid.UUID],
    *,
    kind: str,
    instance: Mapping[str, Any],
    params: Mapping[str, Any],
    now: datetime.datetime,
    with_deputies: bool = True,
    urgency: notifications.Urgency = "high",
) -> None:
    recipients = list(dict.fromkeys(users))
    if with_deputies:
        recipients += await deciders.deputies_of(recipients, now)
    await notifications.enqueue(
        user_ids=recipients,
        kind=kind,
        params={
            "title": instance["title"],
            "subjectKind": instance["subject_kind"],
            "subjectId": str(instance["subject_id"]),
            "url": instance["url"],
            **params,
        },
        topic=_topic(instance["subject_kind"], instance["subject_id"]),
        url=instance["url"],
        ttl_s=NOTIFY_TTL_S,
        urgency=urgency,
    )


def _timers(spec: Mapping[str, Any], now: datetime.datetime) -> tuple[int | None, int | None, Any, Any]:
    sla_s = round(spec["sla_hours"] * 3600) if spec.get("sla_hours") else None
    warn_s = round(spec["warn_before_hours"] * 3600) if spec.get("warn_before_hours") else None
    due = now + datetime.timedelta(seconds=sla_s) if sla_s else None
    warn = due - datetime.timedelta(seconds=warn_s) if due is not None and warn_s else None
    return sla_s, warn_s, due, warn


async def _activate_stage(instance: dict[str, Any], stage: int, now: datetime.datetime) -> list[Step]:
    """Create the stage's steps, find their deciders, and tell them; returns the new steps."""
    stages = _json(instance["stages"])
    specs = _json(instance["steps_spec"])
    if stage != instance["stage"]:
        instance["stage"] = stage
        await WorkflowInstance.update({WorkflowInstance.stage: stage}).where(WorkflowInstance.id == instance["id"])
    owner = await deciders.person(instance["owner"])
    work = instance["workflow_type"] == "work_order"
    created: list[tuple[WorkflowStep, list[uuid.UUID]]] = []
    for name in stages[stage]:
        spec = specs[name]
        users = await deciders.resolve(spec["deciders"], instance["owner"], owner=owner)
        quorum = rules.quorum_of(spec["quorum"])
        sla_s, warn_s, due, warn = _timers(spec, now)
        step_id = new_id()
        label = spec.get("label") or name
        row = WorkflowStep(
            id=step_id,
            instance=instance["id"],
            name=name,
            label=label,
            stage=stage,
            status="pending",
            decider_kind=spec["deciders"],
            quorum=quorum,
            needed=rules.needed_for(quorum, len(users)),
            sla_s=sla_s,
            warn_before_s=warn_s,
            activated_at=now,
            due_at=due,
            warn_at=warn,
            next_timer_at=warn or due,
        )
        await WorkflowStep.insert(row)
        created.append((row, users))
        sort_at = due or now + NO_DEADLINE
        await insert_rows(
            WorkflowStepDecider,
            [
                WorkflowStepDecider(id=new_id(), step=step_id, user=u, level=0, sort_at=sort_at, activated_at=now)
                for u in users
            ],
        )
        await _notify(
            users,
            kind="work.assigned" if work else "approval.requested",
            instance=instance,
            params={
                "stepId": str(step_id),
                "stepLabel": label,
                "ownerName": owner.name,
                "dueAt": _iso(due),
                "subjectVersion": instance["subject_version"],
            },
            now=now,
        )
    names = await _names(u for _, users in created for u in users)
    return [
        Step(
            id=row.id,
            instance_id=instance["id"],
            name=row.name,
            label=row.label,
            stage=stage,
            status="pending",
            quorum=row.quorum,
            needed=row.needed,
            approvals=0,
            deciders=[Decider(user_id=u, name=names.get(u, ""), level=0, decided=False) for u in users],
            decisions=[],
            activated_at=now,
            due_at=row.due_at,
            warn_at=row.warn_at,
            warned=False,
            escalation_level=0,
            completed_at=None,
        )
        for row, users in created
    ]


async def _finish(
    instance: Mapping[str, Any], outcome: subjects.Outcome, *, actor: Actor | None, comment: str, now: datetime.datetime
) -> None:
    """End the instance, close whatever is still open, tell the subject and its owner."""
    await WorkflowInstance.update({WorkflowInstance.status: outcome, WorkflowInstance.ended_at: now}).where(
        WorkflowInstance.id == instance["id"]
    )
    await _close_open_steps(instance["id"], now)
    await subjects.subject_type(instance["subject_kind"]).on_outcome(
        subject_id=instance["subject_id"], outcome=outcome, actor=actor, comment=comment
    )
    recipients = [instance["owner"]] if actor is not None and actor.id != instance["owner"] else []
    await _notify(
        recipients,
        kind="approval.returned" if outcome == "returned" else "approval.decided",
        instance=instance,
        params={"decision": outcome, "actorName": actor.display_name if actor else "", "comment": comment},
        now=now,
        with_deputies=False,
        urgency="normal",
    )


async def _close_open_steps(instance_id: uuid.UUID, now: datetime.datetime) -> None:
    open_steps = WorkflowStep.select(WorkflowStep.id).where(
        WorkflowStep.instance == instance_id, WorkflowStep.status == "pending"
    )
    await WorkflowStepDecider.update({WorkflowStepDecider.is_open: False}).where(
        WorkflowStepDecider.step.is_in(open_steps), WorkflowStepDecider.is_open.eq(True)
    )
    await WorkflowStep.update(
        {WorkflowStep.status: "cancelled", WorkflowStep.completed_at: now, WorkflowStep.next_timer_at: None}
    ).where(WorkflowStep.instance == instance_id, WorkflowStep.status == "pending")


async def start(*, actor: Actor | None, kind: str, subject_id: uuid.UUID, definition: str | None = None) -> Instance:
    """Start the definition for this subject (joins the caller's transaction).

    Picks the definition by ``definition`` key or by the subject kind, evaluates its rules on the
    subject's facts and activates the first stage; an empty chain approves at once (the subject's
    ``on_outcome("approved")`` runs before this returns).

    Raises:
        Conflict: The subject already has a running instance.
        InvalidInput: No definition, or no rule matches the facts.
    """
    subject = subjects.subject_type(kind)
    now = utcnow()
    async with write_transaction():
        info = await subject.load(subject_id)
        row, doc = await _definition_for(kind, definition)
        if await WorkflowInstance.exists().where(
            WorkflowInstance.subject_kind == kind,
            WorkflowInstance.subject_id == subject_id,
            WorkflowInstance.status == "running",
        ):
            msg = f"this {kind} already waits for a decision; cancel that first or wait for it"
            raise Conflict(msg)
        stages = rules.choose_chain(doc, info.facts)
        used = {name for stage in stages for name in stage}
        instance: dict[str, Any] = {
            "id": new_id(),
            "owner": info.owner_id,
            "title": info.title[:300],
            "url": info.url[:300],
            "subject_kind": kind,
            "subject_id": subject_id,
            "workflow_type": doc.type,
            "subject_version": info.version,
            "stages": stages,
            "steps_spec": {n: s for n, s in rules.to_body(doc)["steps"].items() if n in used},
            "stage": 0,
        }
        await WorkflowInstance.insert(
            WorkflowInstance(
                **{k: v for k, v in instance.items() if k not in ("owner",)},
                owner=info.owner_id,
                definition=row["id"],
                definition_key=doc.key,
                definition_version=row["version"],
                account_id=info.account_id,
                facts=dict(info.facts),
                status="running",
                started_by=actor.id if actor else None,
                started_at=now,
            )
        )
        await audit.record(
            actor=actor,
            entity=kind,
            entity_id=subject_id,
            action="wf.start",
            account_id=info.account_id,
            changes={"workflow": [None, f"{doc.key} v{row['version']}"], "chain": [None, stages]},
        )
        steps: list[Step] = []
        if stages:
            steps = await _activate_stage(instance, 0, now)
        else:
            await audit.record(
                actor=None,
                entity=kind,
                entity_id=subject_id,
                action="wf.approve",
                account_id=info.account_id,
                changes={"outcome": [None, "approved"], "reason": [None, "no approval needed under the rules"]},
            )
            await _finish(instance, "approved", actor=None, comment="", now=now)
    return Instance(
        id=instance["id"],
        definition_key=doc.key,
        definition_version=row["version"],
        subject_kind=kind,
        subject_id=subject_id,
        subject_version=info.version,
        title=instance["title"],
        url=instance["url"],
        owner_id=info.owner_id,
        status="running" if stages else "approved",
        stage=0,
        stages=stages,
        facts=dict(info.facts),
        started_at=now,
        ended_at=None if stages else now,
        steps=steps,
    )


async def cancel(*, actor: Actor | None, kind: str, subject_id: uuid.UUID, reason: str) -> Instance | None:
    """Cancel the running instance of this subject, if any (joins the caller's transaction).

    Does not call ``on_outcome``: the caller cancels because the subject itself changed.
    """
    now = utcnow()
    async with write_transaction():
        row = (
            await WorkflowInstance.select()
            .where(
                WorkflowInstance.subject_kind == kind,
                WorkflowInstance.subject_id == subject_id,
                WorkflowInstance.status == "running",
            )
            .first()
        )
        if row is None:
            return None
        await WorkflowInstance.update({WorkflowInstance.status: "cancelled", WorkflowInstance.ended_at: now}).where(
            WorkflowInstance.id == row["id"]
        )
        await _close_open_steps(row["id"], now)
        await audit.record(
            actor=actor,
            entity=kind,
            entity_id=subject_id,
            action="wf.cancel",
            account_id=row["account_id"],
            changes={"status": ["running", "cancelled"], "reason": [None, reason]},
        )
        return await _instance(row["id"])
