"""Deciding a step: idempotency keys, quorum, moving to the next stage."""

import datetime
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn

import msgspec

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_uuid, write_transaction
from fieldcrm.lib.errors import Conflict, Forbidden, InvalidInput, NotFound
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.workflow import subjects
from fieldcrm.workflow.schemas import ApprovalDecideArgs, DecisionKind, DecisionResult
from fieldcrm.workflow.services._common import MAX_KEY, OUTCOME_OF, STEP_STATUS_OF, _json, _names, _postgres
from fieldcrm.workflow.services._instances import _activate_stage, _finish
from fieldcrm.workflow.services._reading import _decision_out, _may_view, _own_subject, _principals
from fieldcrm.workflow.tables import (
    WorkflowDecision,
    WorkflowIdempotencyKey,
    WorkflowInstance,
    WorkflowStep,
    WorkflowStepDecider,
)


def _request_hash(step_id: uuid.UUID, decision: str, comment: str, subject_version: int | None) -> str:
    return hashlib.sha256(json.dumps([str(step_id), decision, comment, subject_version]).encode()).hexdigest()


async def _claim_key(user_id: uuid.UUID, key: str, request_hash: str) -> DecisionResult | None:
    """Record the key, or answer what it answered before. On PostgreSQL a concurrent twin waits here."""
    inserted = (
        await WorkflowIdempotencyKey.insert(
            WorkflowIdempotencyKey(id=new_id(), user=user_id, key=key, request_hash=request_hash)
        )
        .on_conflict(action="DO NOTHING")
        .returning(WorkflowIdempotencyKey.id)
    )
    if inserted:
        return None
    row = (
        await WorkflowIdempotencyKey.select(WorkflowIdempotencyKey.request_hash, WorkflowIdempotencyKey.response)
        .where(WorkflowIdempotencyKey.user == user_id, WorkflowIdempotencyKey.key == key)
        .first()
    )
    if row is None or row["response"] is None:
        msg = "a request with this Idempotency-Key is still being handled; send it again in a moment"
        raise Conflict(msg)
    if row["request_hash"] != request_hash:
        msg = (
            "this Idempotency-Key was already used for a different decision (another step, decision or comment); "
            "use a new key for a new decision"
        )
        raise InvalidInput(msg, field="Idempotency-Key")
    return msgspec.json.decode(row["response"], type=DecisionResult)


async def decide(
    *,
    actor: Actor,
    step_id: uuid.UUID,
    decision: DecisionKind,
    comment: str,
    idempotency_key: str | None,
    subject_version: int | None = None,
) -> DecisionResult:
    """Approve, reject or return a step, exactly once per (caller, idempotency key).

    The same key with the same request answers the stored result (nothing happens twice); with a
    different request it is refused (422). A decision applies only while the step is pending and, when
    ``subject_version`` is given, only if the subject is still at that version (409 otherwise).

    Raises:
        InvalidInput: No key, a reused key, a return without a comment.
        NotFound: No such step, or the caller may not see it.
        Forbidden: The caller sees the step but is not among its deciders (nor deputises for one).
        Conflict: The step is no longer pending, the caller already decided, or the subject changed.
    """
    scope.require(actor, "approvals.decide")
    key = (idempotency_key or "").strip()
    if not key or len(key) > MAX_KEY:
        msg = f"send an Idempotency-Key header (1 to {MAX_KEY} characters, new for each decision)"
        raise InvalidInput(msg, field="Idempotency-Key")
    if decision not in STEP_STATUS_OF:
        msg = f"decision must be approve, reject or return, not {decision!r}"
        raise InvalidInput(msg, field="decision")
    if decision == "return" and not comment.strip():
        msg = "say what should change: a return needs a comment"
        raise InvalidInput(msg, field="comment")
    request_hash = _request_hash(step_id, decision, comment, subject_version)
    async with write_transaction():
        earlier = await _claim_key(actor.id, key, request_hash)
        if earlier is not None:
            return earlier
        result = await _decide(actor, step_id, decision, comment, subject_version=subject_version, now=utcnow())
        stored = msgspec.json.encode(result).decode()
        await WorkflowIdempotencyKey.update({WorkflowIdempotencyKey.response: stored}).where(
            WorkflowIdempotencyKey.user == actor.id, WorkflowIdempotencyKey.key == key
        )
    # Every answer for this key, first or repeated, is the stored one: byte for byte the same.
    return msgspec.json.decode(stored, type=DecisionResult)


def _refuse_own(instance: Mapping[str, Any]) -> NoReturn:
    msg = (
        f"you own or submitted this {instance['subject_kind']} (yourself or the person you deputise for): "
        "someone else must decide its approval"
    )
    raise Forbidden(msg, extra={"code": "separation_of_duties"})


async def _decidable(
    actor: Actor, step_id: uuid.UUID, subject_version: int | None, now: datetime.datetime
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], subjects.SubjectInfo]:
    """The locked step, its instance, the caller's open decider row and the subject, or why not."""
    query = WorkflowStep.select().where(WorkflowStep.id == step_id)
    if _postgres():
        query = query.lock_rows("UPDATE")
    step = await query.first()
    instance = await WorkflowInstance.select().where(WorkflowInstance.id == step["instance"]).first() if step else None
    if step is None or instance is None:
        msg = f"approval step {step_id} not found"
        raise NotFound(msg)
    principals = await _principals(actor, instance, now)
    mine = await WorkflowStepDecider.select().where(
        WorkflowStepDecider.step == step_id, WorkflowStepDecider.user.is_in(principals)
    )
    if not mine:
        if await _may_view(actor, instance):
            msg = "you are not among the deciders of this step (nor deputising for one of them within your own scope)"
            raise Forbidden(msg)
        msg = f"approval step {step_id} not found"
        raise NotFound(msg)
    if _own_subject(actor, instance):
        _refuse_own(instance)
    mine = [r for r in mine if not _own_subject(actor, instance, as_uuid(r["user"]))]
    if not mine:
        _refuse_own(instance)
    if step["status"] != "pending" or instance["status"] != "running":
        last = await (
            WorkflowDecision.select(WorkflowDecision.actor_name)
            .where(WorkflowDecision.step == step_id)
            .order_by(WorkflowDecision.at, ascending=False)
            .first()
        )
        by = f" by {last['actor_name']}" if last else ""
        msg = f"this step is already {step['status']}{by}; your decision was not applied"
        raise Conflict(msg, extra={"code": "already_decided", "stepStatus": step["status"]})
    open_rows = [r for r in mine if r["is_open"]]
    row = next((r for r in open_rows if r["user"] == actor.id), open_rows[0] if open_rows else None)
    if row is None:
        msg = "you have already decided this step; it waits for the other deciders"
        raise Conflict(msg, extra={"code": "already_decided", "stepStatus": "pending"})
    info = await subjects.subject_type(instance["subject_kind"]).load(instance["subject_id"])
    if _own_subject(actor, {**instance, "owner": info.owner_id, "started_by": None}, as_uuid(row["user"])):
        _refuse_own(instance)  # the subject changed hands since it was submitted
    if subject_version is not None and subject_version != info.version:
        msg = (
            f"the {instance['subject_kind']} changed after you looked at it (you decided on version "
            f"{subject_version}, it is now version {info.version}); open it again and decide anew"
        )
        raise Conflict(msg, extra={"code": "stale_version", "currentVersion": info.version})
    return step, instance, row, info


async def _decide(
    actor: Actor,
    step_id: uuid.UUID,
    decision: DecisionKind,
    comment: str,
    *,
    subject_version: int | None,
    now: datetime.datetime,
) -> DecisionResult:
    step, instance, row, info = await _decidable(actor, step_id, subject_version, now)
    on_behalf = row["user"] if row["user"] != actor.id else None
    on_behalf_name = (await _names([on_behalf]))[on_behalf] if on_behalf else None
    decision_id = new_id()
    await WorkflowDecision.insert(
        WorkflowDecision(
            id=decision_id,
            step=step_id,
            decision=decision,
            comment=comment,
            actor=actor.id,
            actor_name=actor.display_name,
            on_behalf_of=on_behalf,
            on_behalf_of_name=on_behalf_name,
            subject_version=info.version,
            at=now,
        )
    )
    await WorkflowStepDecider.update({WorkflowStepDecider.is_open: False, WorkflowStepDecider.decided: True}).where(
        WorkflowStepDecider.id == row["id"]
    )
    audited_as = msgspec.structs.replace(actor, display_name=f"{actor.display_name} for {on_behalf_name}")
    await audit.record(
        actor=audited_as if on_behalf else actor,
        entity=instance["subject_kind"],
        entity_id=instance["subject_id"],
        action=f"wf.{decision}",
        account_id=instance["account_id"],
        changes={
            "step": [None, step["name"]],
            "decision": [None, decision],
            "comment": [None, comment],
            "subjectVersion": [None, info.version],
            **({"onBehalfOf": [None, on_behalf_name]} if on_behalf else {}),
        },
    )
    if decision == "approve":
        step_status = await _approve(actor, step, instance, level=int(row["level"]), comment=comment, now=now)
    else:
        step_status = STEP_STATUS_OF[decision]
        await _complete_step(step, approvals=int(step["approvals"]), status=step_status, now=now)
        await _finish(instance, OUTCOME_OF[decision], actor=actor, comment=comment, now=now)
    status = await WorkflowInstance.select(WorkflowInstance.status).where(WorkflowInstance.id == instance["id"]).first()
    decided = await WorkflowDecision.select().where(WorkflowDecision.id == decision_id).first()
    return DecisionResult(
        decision=_decision_out(decided or {}),
        step_status=step_status,  # type: ignore[arg-type]
        instance_id=instance["id"],
        instance_status=status["status"] if status else instance["status"],
        subject_kind=instance["subject_kind"],
        subject_id=instance["subject_id"],
    )


async def _approve(
    actor: Actor,
    step: Mapping[str, Any],
    instance: dict[str, Any],
    *,
    level: int,
    comment: str,
    now: datetime.datetime,
) -> str:
    """Count an approval; at quorum complete the step, and the stage, and the instance when it was the last."""
    approvals = int(step["approvals"]) + 1
    done = approvals >= int(step["needed"]) or level > 0  # a decider from an escalation settles the step
    await _complete_step(step, approvals=approvals, status="approved" if done else "pending", now=now)
    if not done:
        return "pending"
    await subjects.subject_type(instance["subject_kind"]).on_step(
        subject_id=instance["subject_id"], step_name=step["name"], actor=actor
    )
    pending = await WorkflowStep.count().where(
        WorkflowStep.instance == instance["id"],
        WorkflowStep.stage == step["stage"],
        WorkflowStep.status == "pending",
    )
    if pending == 0:
        if int(step["stage"]) + 1 < len(_json(instance["stages"])):
            await _activate_stage(instance, int(step["stage"]) + 1, now)
        else:
            await _finish(instance, "approved", actor=actor, comment=comment, now=now)
    return "approved"


async def _complete_step(step: Mapping[str, Any], *, approvals: int, status: str, now: datetime.datetime) -> None:
    if status == "pending":
        await WorkflowStep.update({WorkflowStep.approvals: approvals}).where(WorkflowStep.id == step["id"])
        return
    await WorkflowStep.update(
        {
            WorkflowStep.approvals: approvals,
            WorkflowStep.status: status,
            WorkflowStep.completed_at: now,
            WorkflowStep.next_timer_at: None,
        }
    ).where(WorkflowStep.id == step["id"])
    await WorkflowStepDecider.update({WorkflowStepDecider.is_open: False}).where(
        WorkflowStepDecider.step == step["id"], WorkflowStepDecider.is_open.eq(True)
    )


async def sync_decide(actor: Actor, args: ApprovalDecideArgs, mutation: Any) -> None:
    """The offline twin of POST /api/approvals/{id}/decision (sync mutation ``approval.decide``).

    The decision applies only if the step is still pending and the subject is at the version the
    decider saw; otherwise the sync records a rejection with the reason. The default key is the
    decision itself, so the same offline decision arriving twice (two devices) applies once.
    """
    del mutation
    key = args.idempotency_key or f"sync:{args.step_id}:{args.decision}:{args.subject_version}"
    await decide(
        actor=actor,
        step_id=args.step_id,
        decision=args.decision,
        comment=args.comment,
        idempotency_key=key,
        subject_version=args.subject_version,
    )


async def purge_idempotency_keys(*, older_than: datetime.timedelta = datetime.timedelta(days=30)) -> int:
    """Forget decision keys older than ``older_than`` (a client retries within minutes, not months)."""
    cutoff = utcnow() - older_than
    async with write_transaction():
        gone = await WorkflowIdempotencyKey.count().where(WorkflowIdempotencyKey.created_at < cutoff)
        await WorkflowIdempotencyKey.delete().where(WorkflowIdempotencyKey.created_at < cutoff)
    return int(gone)
