"""The workflow engine: start, decide, cancel, the inbox, history, SLA timers, definitions, delegations.

Every service joins the caller's transaction when one is open (a quote's submit starts its approval in
the same transaction), so a subject's state, the workflow's state, the audit trail and the notification
outbox always change together. Decisions are idempotent per (user, Idempotency-Key); on PostgreSQL
the decided step's row is locked, so concurrent decisions on one step queue instead of racing.
"""

import datetime
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import (
    FieldcrmSQLiteEngine,
    as_uuid,
    engine,
    executemany,
    insert_rows,
    read_transaction,
    write_transaction,
)
from fieldcrm.lib.errors import Conflict, Forbidden, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.notifications import services as notifications
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.workflow import deciders, rules, subjects
from fieldcrm.workflow.schemas import (
    ApprovalDecideArgs,
    Decider,
    Decision,
    DecisionKind,
    DecisionResult,
    Definition,
    DefinitionPage,
    DefinitionSummary,
    Delegation,
    DelegationCreate,
    DelegationPage,
    InboxItem,
    InboxPage,
    Instance,
    InstancePage,
    ScanResult,
    Step,
    StepDetail,
)
from fieldcrm.workflow.tables import (
    WorkflowDecision,
    WorkflowDefinition,
    WorkflowDelegation,
    WorkflowIdempotencyKey,
    WorkflowInstance,
    WorkflowStep,
    WorkflowStepDecider,
)

if TYPE_CHECKING:
    from fieldcrm.audit.tables import AuditEntry as AuditRow
    from fieldcrm.notifications.tables import Notification

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
NO_DEADLINE = datetime.timedelta(days=3650)  # inbox order of steps without an SLA: after everything due
SCAN_BATCH = 500
MAX_KEY = 200
MAX_DELEGATION = datetime.timedelta(days=366)
NOTIFY_TTL_S = 3 * 86_400
OUTCOME_OF: dict[str, subjects.Outcome] = {"reject": "rejected", "return": "returned"}
STEP_STATUS_OF = {"approve": "approved", "reject": "rejected", "return": "returned"}


def _postgres() -> bool:
    return not isinstance(engine(), FieldcrmSQLiteEngine)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _topic(kind: str, subject_id: uuid.UUID) -> str:
    return f"{kind}-{subject_id}"


def _iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ---------------------------------------------------------------- definitions

_parsed: dict[uuid.UUID, rules.Document] = {}  # definition versions never change: parse each once


def _document(row: Mapping[str, Any]) -> rules.Document:
    key = as_uuid(row["id"])
    doc = _parsed.get(key)
    if doc is None:
        doc = _parsed[key] = rules.parse(_json(row["body"]))
    return doc


async def _latest(key: str) -> dict[str, Any] | None:
    row: dict[str, Any] | None = await (
        WorkflowDefinition.select()
        .where(WorkflowDefinition.key == key)
        .order_by(WorkflowDefinition.version, ascending=False)
        .first()
    )
    return row


async def _insert_definition(doc: rules.Document, *, version: int, source: str, actor: Actor | None) -> uuid.UUID:
    body = rules.to_body(doc)
    definition_id = new_id()
    await WorkflowDefinition.insert(
        WorkflowDefinition(
            id=definition_id,
            key=doc.key,
            version=version,
            subject=doc.subject,
            type=doc.type,
            is_default=doc.default,
            body=body,
            body_hash=rules.body_hash(body),
            source=source,
            created_by=actor.id if actor else None,
            created_by_name=actor.display_name if actor else "system",
        )
    ).on_conflict(action="DO NOTHING")
    return definition_id


def definition_files(directory: Path = DEFINITIONS_DIR) -> list[rules.Document]:
    """The definitions shipped as files, validated.

    Raises:
        RuntimeError: A file is not a valid definition (start-up must fail loudly).
    """
    docs = []
    for path in sorted(directory.glob("*.json")):
        try:
            docs.append(rules.parse(json.loads(path.read_text(encoding="utf-8"))))
        except (ValueError, InvalidInput) as exc:
            message = exc.message if isinstance(exc, InvalidInput) else str(exc)
            msg = f"workflow definition file {path.name}: {message}"
            raise RuntimeError(msg) from exc
    return docs


async def load_definition_files(directory: Path = DEFINITIONS_DIR) -> int:
    """Load the definition files into the versioned table (idempotent); returns how many versions were added.

    A key not yet in the table gets version 1; a file that changed since its last load gets a new
    version, unless HQ has edited the definition through the API since (HQ's edits win). Nothing is
    written (no write transaction either) when the table is up to date.
    """

    async def stale(doc: rules.Document) -> dict[str, Any] | None | bool:
        latest = await _latest(doc.key)
        if latest is None:
            return None
        if latest["source"] == "file" and latest["body_hash"] != rules.body_hash(rules.to_body(doc)):
            return latest
        return False

    docs = definition_files(directory)
    if all([await stale(doc) is False for doc in docs]):
        return 0
    added = 0
    async with write_transaction():
        for doc in docs:
            latest = await stale(doc)
            if latest is not False:
                version = int(latest["version"]) + 1 if isinstance(latest, dict) else 1
                await _insert_definition(doc, version=version, source="file", actor=None)
                added += 1
    return added


async def _definition_for(kind: str, key: str | None) -> tuple[dict[str, Any], rules.Document]:
    """The newest version of the definition to run on ``kind`` (by key, or the subject's only/default one)."""
    for attempt in (1, 2):
        if key is not None:
            row = await _latest(key)
            if row is not None:
                if row["subject"] != kind:
                    msg = f"definition {key!r} runs on {row['subject']} subjects, not on {kind}"
                    raise InvalidInput(msg, field="definition")
                return row, _document(row)
        else:
            rows = await (
                WorkflowDefinition.select()
                .where(WorkflowDefinition.subject == kind)
                .order_by(WorkflowDefinition.key)
                .order_by(WorkflowDefinition.version, ascending=False)
            )
            newest: dict[str, dict[str, Any]] = {}
            for row in rows:
                newest.setdefault(row["key"], row)
            candidates = list(newest.values())
            if len(candidates) > 1:
                defaults = [r for r in candidates if r["is_default"]]
                if len(defaults) != 1:
                    keys = ", ".join(sorted(newest))
                    msg = f"{kind} has several workflow definitions ({keys}); name one, or mark one default"
                    raise InvalidInput(msg, field="definition")
                candidates = defaults
            if candidates:
                return candidates[0], _document(candidates[0])
        if attempt == 1:
            await load_definition_files()  # first use on an empty database
    what = f"definition {key!r}" if key else f"workflow definition for {kind}"
    msg = f"no {what}; HQ can add one under /api/workflow-definitions"
    raise InvalidInput(msg, field="definition")


def _definition_out(row: Mapping[str, Any]) -> Definition:
    return Definition(
        key=row["key"],
        version=row["version"],
        subject=row["subject"],
        type=row["type"],
        body=_json(row["body"]),
        source=row["source"],
        created_at=row["created_at"],
        created_by_name=row["created_by_name"],
    )


async def list_definitions(*, actor: Actor, page: PageParams) -> DefinitionPage:
    """The newest version of every definition (HQ)."""
    scope.require(actor, "workflow.definitions")
    await load_definition_files()  # first use on this database, or files changed since start-up
    async with read_transaction():
        rows = await WorkflowDefinition.select(
            WorkflowDefinition.key,
            WorkflowDefinition.version,
            WorkflowDefinition.subject,
            WorkflowDefinition.type,
            WorkflowDefinition.source,
            WorkflowDefinition.created_at,
        ).order_by(WorkflowDefinition.key)
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["key"] not in newest or row["version"] > newest[row["key"]]["version"]:
            newest[row["key"]] = row
    items = [DefinitionSummary(**r) for r in newest.values()]
    total = len(items)
    return DefinitionPage(
        items=items[page.offset : page.offset + page.limit], total=total, next_cursor=page.next_cursor(total)
    )


async def get_definition(*, actor: Actor, key: str, version: int | None = None) -> Definition:
    """One definition: its newest version, or the version asked for (HQ)."""
    scope.require(actor, "workflow.definitions")
    await load_definition_files()  # first use on this database, or files changed since start-up
    if version is None:
        row = await _latest(key)
    else:
        row = (
            await WorkflowDefinition.select()
            .where(WorkflowDefinition.key == key, WorkflowDefinition.version == version)
            .first()
        )
    if row is None:
        msg = f"workflow definition {key!r}{f' version {version}' if version else ''} not found"
        raise NotFound(msg)
    return _definition_out(row)


async def put_definition(*, actor: Actor, key: str, body: Mapping[str, Any]) -> Definition:
    """Save a new version of a definition (HQ); running instances keep the version they started with."""
    scope.require(actor, "workflow.definitions")
    doc = rules.parse(body, key=key)
    async with write_transaction():
        latest = await _latest(key)
        if latest is not None and latest["subject"] != doc.subject:
            msg = f"subject: {key!r} runs on {latest['subject']}; a definition cannot change its subject kind"
            raise InvalidInput(msg, field="subject")
        version = int(latest["version"]) + 1 if latest else 1
        definition_id = await _insert_definition(doc, version=version, source="api", actor=actor)
        await audit.record(
            actor=actor,
            entity="workflow_definition",
            entity_id=definition_id,
            action="create" if latest is None else "update",
            changes={"key": [None, key], "version": [latest["version"] if latest else None, version]},
        )
        row = await WorkflowDefinition.select().where(WorkflowDefinition.id == definition_id).first()
    if row is None:  # a concurrent save took this version number
        msg = f"someone saved {key!r} at the same moment; load it again and repeat your change"
        raise Conflict(msg)
    return _definition_out(row)


# ---------------------------------------------------------------- reading instances


async def _names(user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await User.select(User.id, User.display_name).where(User.id.is_in(ids))
    return {as_uuid(r["id"]): r["display_name"] for r in rows}


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


async def _may_view(actor: Actor, instance: Mapping[str, Any]) -> bool:
    """The owner, leaders above the owner, HQ, and anyone who is or was a decider of one of its steps."""
    if scope.sees_everything(actor) or instance["owner"] == actor.id:
        return True
    if actor.role != "rep":
        owner = await User.select(User.org_unit.path.as_alias("path")).where(User.id == instance["owner"]).first()
        if owner is not None and scope.unit_in_subtree(actor, owner["path"]):
            return True
    principals = [actor.id, *await deciders.delegators_of(actor.id, utcnow())]
    return bool(
        await WorkflowStepDecider.exists().where(
            WorkflowStepDecider.step.instance == instance["id"], WorkflowStepDecider.user.is_in(principals)
        )
    )


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
        principals = [actor.id, *await deciders.delegators_of(actor.id, now)]
        can_decide = step["status"] == "pending" and await WorkflowStepDecider.exists().where(
            WorkflowStepDecider.step == step_id,
            WorkflowStepDecider.user.is_in(principals),
            WorkflowStepDecider.is_open.eq(True),
        )
        full = (await _instances_out([instance]))[0]
    current = next(s for s in full.steps if s.id == step_id)
    return StepDetail(step=current, instance=full, can_decide=bool(can_decide))


# ---------------------------------------------------------------- starting and moving on


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


# ---------------------------------------------------------------- deciding


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
    principals = [actor.id, *await deciders.delegators_of(actor.id, now)]
    mine = await WorkflowStepDecider.select().where(
        WorkflowStepDecider.step == step_id, WorkflowStepDecider.user.is_in(principals)
    )
    if not mine:
        if await _may_view(actor, instance):
            msg = "you are not among the deciders of this step (nor deputising for one of them)"
            raise Forbidden(msg)
        msg = f"approval step {step_id} not found"
        raise NotFound(msg)
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


# ---------------------------------------------------------------- the inbox

_VIA_STEP: Any = WorkflowStepDecider.step.instance  # joined twice; Piccolo's stubs type one level of join
_INBOX_COLUMNS = (
    WorkflowStepDecider.step,
    WorkflowStepDecider.user,
    WorkflowStepDecider.step.name.as_alias("step_name"),
    WorkflowStepDecider.step.label.as_alias("step_label"),
    WorkflowStepDecider.step.activated_at.as_alias("activated_at"),
    WorkflowStepDecider.step.due_at.as_alias("due_at"),
    WorkflowStepDecider.step.warned_at.as_alias("warned_at"),
    WorkflowStepDecider.step.escalation_level.as_alias("escalation_level"),
    _VIA_STEP.as_alias("instance_id"),
    _VIA_STEP.definition_key.as_alias("definition_key"),
    _VIA_STEP.workflow_type.as_alias("workflow_type"),
    _VIA_STEP.subject_kind.as_alias("subject_kind"),
    _VIA_STEP.subject_id.as_alias("subject_id"),
    _VIA_STEP.subject_version.as_alias("subject_version"),
    _VIA_STEP.title.as_alias("title"),
    _VIA_STEP.url.as_alias("url"),
    _VIA_STEP.facts.as_alias("facts"),
    _VIA_STEP.owner.as_alias("owner_id"),
    _VIA_STEP.owner.display_name.as_alias("owner_name"),
)


async def inbox(*, actor: Actor, page: PageParams, kind: str | None = None) -> InboxPage:
    """Open steps waiting for the actor and for those they deputise for, soonest due first."""
    scope.require(actor, "approvals.read")
    now = utcnow()
    async with read_transaction():
        principals = [actor.id, *await deciders.delegators_of(actor.id, now)]
        where = WorkflowStepDecider.user.is_in(principals) & WorkflowStepDecider.is_open.eq(True)
        if kind is not None:
            where &= _VIA_STEP.subject_kind == kind
        rows = await (
            WorkflowStepDecider.select(*_INBOX_COLUMNS)
            .where(where)
            .order_by(WorkflowStepDecider.sort_at)
            .order_by(WorkflowStepDecider.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await WorkflowStepDecider.count().where(where)
    items: list[InboxItem] = []
    seen: set[Any] = set()
    for r in rows:
        if r["step"] in seen:  # the caller and someone they deputise for both decide it
            continue
        seen.add(r["step"])
        due = r["due_at"]
        items.append(
            InboxItem(
                step_id=r["step"],
                instance_id=r["instance_id"],
                step_name=r["step_name"],
                step_label=r["step_label"],
                definition_key=r["definition_key"],
                workflow_type=r["workflow_type"],
                subject_kind=r["subject_kind"],
                subject_id=r["subject_id"],
                subject_version=r["subject_version"],
                title=r["title"],
                url=r["url"],
                facts=_json(r["facts"]),
                owner_id=r["owner_id"],
                owner_name=r["owner_name"] or "",
                waiting_since=r["activated_at"],
                due_at=due,
                warned=r["warned_at"] is not None,
                overdue=due is not None and due <= now,
                escalation_level=r["escalation_level"],
                on_behalf_of_id=r["user"] if r["user"] != actor.id else None,
            )
        )
    return InboxPage(items=items, total=total, next_cursor=page.next_cursor(total))


# ---------------------------------------------------------------- SLA timers


async def sla_scan(*, now: datetime.datetime | None = None, batch: int = SCAN_BATCH) -> ScanResult:
    """Warn the deciders of steps whose warning time has come, escalate steps past their SLA.

    Reads only what is due (an index on ``next_timer_at``), in batches, each in its own transaction.
    On PostgreSQL the batch is taken with FOR UPDATE SKIP LOCKED, so any number of workers can scan at
    once and no step is warned or escalated twice; on SQLite the single writer serialises them.
    """
    now = now or utcnow()
    warned = escalated = 0
    while True:
        async with write_transaction():
            query = (
                WorkflowStep.select()
                .where(WorkflowStep.next_timer_at <= now)
                .order_by(WorkflowStep.next_timer_at)
                .limit(batch)
            )
            if _postgres():
                query = query.lock_rows("UPDATE", skip_locked=True)
            steps = await query
            if steps:
                w, e = await _fire_timers(steps, now)
                warned, escalated = warned + w, escalated + e
        if len(steps) < batch:
            return ScanResult(warned=warned, escalated=escalated)


class _TimerBatch:
    """One batch of due steps: what to write is gathered, then written with a few statements."""

    def __init__(self, steps: list[dict[str, Any]], now: datetime.datetime) -> None:
        self.steps = steps
        self.now = now
        self.instances: dict[Any, dict[str, Any]] = {}
        self.everyone: dict[Any, list[uuid.UUID]] = {}
        self.still_open: dict[Any, list[uuid.UUID]] = {}
        self.deputies: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.higher: dict[uuid.UUID, list[uuid.UUID]] = {}  # each decider's next level, looked up once
        self.outbox: list[Notification] = []
        self.audits: list[AuditRow] = []
        self.step_updates: list[tuple[Any, ...]] = []  # one per step, in the steps' order
        self.sort_updates: list[tuple[Any, ...]] = []
        self.new_deciders: list[WorkflowStepDecider] = []
        self.escalations: list[tuple[dict[str, Any], list[uuid.UUID], list[uuid.UUID], int, datetime.datetime]] = []
        self.warned = self.escalated = 0

    async def load(self) -> None:
        rows = await WorkflowInstance.select(
            WorkflowInstance.id,
            WorkflowInstance.title,
            WorkflowInstance.url,
            WorkflowInstance.subject_kind,
            WorkflowInstance.subject_id,
            WorkflowInstance.subject_version,
            WorkflowInstance.account_id,
        ).where(WorkflowInstance.id.is_in(list({s["instance"] for s in self.steps})))
        self.instances = {r["id"]: r for r in rows}
        decider_rows = await WorkflowStepDecider.select(
            WorkflowStepDecider.step, WorkflowStepDecider.user, WorkflowStepDecider.is_open
        ).where(WorkflowStepDecider.step.is_in([s["id"] for s in self.steps]))
        for d in decider_rows:
            self.everyone.setdefault(d["step"], []).append(as_uuid(d["user"]))
            if d["is_open"]:
                self.still_open.setdefault(d["step"], []).append(as_uuid(d["user"]))
        open_users = list({u for users in self.still_open.values() for u in users})
        if open_users:
            for r in await WorkflowDelegation.select(WorkflowDelegation.user, WorkflowDelegation.delegate).where(
                WorkflowDelegation.user.is_in(open_users),
                WorkflowDelegation.starts_at <= self.now,
                WorkflowDelegation.ends_at > self.now,
            ):
                self.deputies.setdefault(as_uuid(r["user"]), []).append(as_uuid(r["delegate"]))

    def _keep(self, step: Mapping[str, Any], next_timer: Any) -> None:
        self.step_updates.append(
            (step["warned_at"], step["due_at"], step["warn_at"], step["escalation_level"], next_timer)
        )

    def _tell(self, users: list[uuid.UUID], kind: str, step: Mapping[str, Any], params: dict[str, Any]) -> None:
        instance = self.instances[step["instance"]]
        self.outbox += notifications.prepare(
            user_ids=[*users, *(d for u in users for d in self.deputies.get(u, []))],
            kind=kind,
            params={
                "title": instance["title"],
                "subjectKind": instance["subject_kind"],
                "subjectId": str(instance["subject_id"]),
                "url": instance["url"],
                "stepLabel": step["label"],
                "stepId": str(step["id"]),
                "subjectVersion": instance["subject_version"],
                **params,
            },
            topic=_topic(instance["subject_kind"], instance["subject_id"]),
            url=instance["url"],
            ttl_s=NOTIFY_TTL_S,
            urgency="high",
        )

    async def fire(self, step: dict[str, Any]) -> None:
        users = self.still_open.get(step["id"], [])
        if step["status"] != "pending" or not users:
            self._keep(step, None)
        elif step["due_at"] is not None and step["due_at"] <= self.now:
            await self._escalate(step, users)
        elif step["warn_at"] is not None and step["warn_at"] <= self.now and step["warned_at"] is None:
            self.step_updates.append(
                (self.now, step["due_at"], step["warn_at"], step["escalation_level"], step["due_at"])
            )
            self._tell(users, "approval.sla_warning", step, {"dueAt": _iso(step["due_at"])})
            self.warned += 1
        else:  # already warned, deadline ahead: the next timer is the deadline
            self._keep(step, step["due_at"] if step["due_at"] is not None and step["due_at"] > self.now else None)

    async def _escalate(self, step: dict[str, Any], users: list[uuid.UUID]) -> None:
        targets: list[uuid.UUID] = []
        for user in users:
            if user not in self.higher:
                self.higher[user] = await deciders.next_level([user])
            targets += [t for t in self.higher[user] if t not in self.everyone[step["id"]] and t not in targets]
        if not targets:  # nobody above: it stays overdue, and the scan stops looking at it
            self._keep(step, None)
            return
        level = int(step["escalation_level"]) + 1
        due = self.now + datetime.timedelta(seconds=int(step["sla_s"]))
        warn = due - datetime.timedelta(seconds=int(step["warn_before_s"])) if step["warn_before_s"] else None
        self.step_updates.append((None, due, warn, level, warn or due))
        self.sort_updates.append((due, step["id"], True))
        self.new_deciders += [
            WorkflowStepDecider(id=new_id(), step=step["id"], user=t, level=level, sort_at=due, activated_at=self.now)
            for t in targets
        ]
        self.escalations.append((step, users, targets, level, due))
        self.escalated += 1

    async def _tell_escalations(self) -> None:
        """Notifications and audit entries of the batch's escalations, with names looked up once."""
        names = await _names({u for _, users, targets, _, _ in self.escalations for u in (*users, *targets)})
        for step, users, targets, level, due in self.escalations:
            params = {"fromNames": [names.get(u, "") for u in users], "dueAt": _iso(due), "level": level}
            self._tell(targets, "approval.escalated", step, params)
            instance = self.instances[step["instance"]]
            self.audits.append(
                audit.entry_row(
                    actor=None,
                    entity=instance["subject_kind"],
                    entity_id=instance["subject_id"],
                    action="wf.escalate",
                    account_id=instance["account_id"],
                    changes={
                        "step": [None, step["name"]],
                        "level": [level - 1, level],
                        "deciders": [[names.get(u, "") for u in users], [names.get(t, "") for t in targets]],
                    },
                )
            )

    async def write(self) -> None:
        await self._tell_escalations()
        await executemany(
            "UPDATE workflow_steps SET warned_at = ?, due_at = ?, warn_at = ?, escalation_level = ?, "
            "next_timer_at = ? WHERE id = ?",
            [(*update, step["id"]) for update, step in zip(self.step_updates, self.steps, strict=True)],
        )
        await executemany(
            "UPDATE workflow_step_deciders SET sort_at = ? WHERE step = ? AND is_open = ?", self.sort_updates
        )
        await insert_rows(WorkflowStepDecider, self.new_deciders)
        await notifications.write(self.outbox)
        await audit.record_many(self.audits)


async def _fire_timers(steps: list[dict[str, Any]], now: datetime.datetime) -> tuple[int, int]:
    batch = _TimerBatch(steps, now)
    await batch.load()
    for step in steps:
        await batch.fire(step)
    await batch.write()
    return batch.warned, batch.escalated


# ---------------------------------------------------------------- out of office


def _delegation_out(row: Mapping[str, Any]) -> Delegation:
    return Delegation(
        id=row["id"],
        user_id=row["user"],
        user_name=row["user_name"],
        delegate_id=row["delegate"],
        delegate_name=row["delegate_name"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_at=row["created_at"],
    )


_DELEGATION_COLUMNS = (
    *WorkflowDelegation.all_columns(),
    WorkflowDelegation.user.display_name.as_alias("user_name"),
    WorkflowDelegation.delegate.display_name.as_alias("delegate_name"),
)


async def list_delegations(*, actor: Actor, page: PageParams) -> DelegationPage:
    """Your delegations and those naming you as deputy, latest start first."""
    scope.require(actor, "delegations.manage")
    where = (WorkflowDelegation.user == actor.id) | (WorkflowDelegation.delegate == actor.id)
    async with read_transaction():
        rows = await (
            WorkflowDelegation.select(*_DELEGATION_COLUMNS)
            .where(where)
            .order_by(WorkflowDelegation.starts_at, ascending=False)
            .order_by(WorkflowDelegation.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        total = await WorkflowDelegation.count().where(where)
    return DelegationPage(items=[_delegation_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def create_delegation(*, actor: Actor, data: DelegationCreate) -> Delegation:
    """While you are away, someone else sees and decides your steps (audited as "deputy for you")."""
    scope.require(actor, "delegations.manage")
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        msg = "give times with a zone offset, e.g. 2026-12-01T09:00:00+08:00"
        raise InvalidInput(msg, field="startsAt")
    if data.ends_at <= data.starts_at:
        msg = "endsAt must come after startsAt"
        raise InvalidInput(msg, field="endsAt")
    if data.ends_at <= utcnow():
        msg = "endsAt is in the past: this delegation would never be in force"
        raise InvalidInput(msg, field="endsAt")
    if data.ends_at - data.starts_at > MAX_DELEGATION:
        msg = "a delegation lasts at most a year; set a new one when it ends"
        raise InvalidInput(msg, field="endsAt")
    if data.delegate_id == actor.id:
        msg = "choose someone else as your deputy"
        raise InvalidInput(msg, field="delegateId")
    async with write_transaction():
        delegate = await User.select(User.is_active).where(User.id == data.delegate_id).first()
        if delegate is None or not delegate["is_active"]:
            msg = "the deputy must be an active user"
            raise InvalidInput(msg, field="delegateId")
        delegation_id = new_id()
        await WorkflowDelegation.insert(
            WorkflowDelegation(
                id=delegation_id,
                user=actor.id,
                delegate=data.delegate_id,
                starts_at=data.starts_at.astimezone(datetime.UTC),
                ends_at=data.ends_at.astimezone(datetime.UTC),
            )
        )
        await audit.record(
            actor=actor,
            entity="delegation",
            entity_id=delegation_id,
            action="create",
            changes={
                "delegate": [None, str(data.delegate_id)],
                "startsAt": [None, data.starts_at.isoformat()],
                "endsAt": [None, data.ends_at.isoformat()],
            },
        )
        row = (
            await WorkflowDelegation.select(*_DELEGATION_COLUMNS).where(WorkflowDelegation.id == delegation_id).first()
        )
    return _delegation_out(row or {})


async def delete_delegation(*, actor: Actor, delegation_id: uuid.UUID) -> None:
    """End one of your own delegations."""
    scope.require(actor, "delegations.manage")
    async with write_transaction():
        row = (
            await WorkflowDelegation.select(WorkflowDelegation.id)
            .where(WorkflowDelegation.id == delegation_id, WorkflowDelegation.user == actor.id)
            .first()
        )
        if row is None:
            msg = f"delegation {delegation_id} not found"
            raise NotFound(msg)
        await WorkflowDelegation.delete().where(WorkflowDelegation.id == delegation_id)
        await audit.record(actor=actor, entity="delegation", entity_id=delegation_id, action="delete", changes={})
