"""SLA timers: early warnings and escalations, scanned in batches."""

import datetime
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fieldcrm.audit import services as audit
from fieldcrm.lib.db import as_uuid, executemany, insert_rows, write_transaction
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.notifications import services as notifications
from fieldcrm.tasks import services as tasks
from fieldcrm.workflow import deciders
from fieldcrm.workflow.schemas import ScanResult
from fieldcrm.workflow.services._common import NOTIFY_TTL_S, SCAN_BATCH, _iso, _names, _postgres, _topic
from fieldcrm.workflow.tables import WorkflowDelegation, WorkflowInstance, WorkflowStep, WorkflowStepDecider

if TYPE_CHECKING:
    from fieldcrm.audit.tables import AuditEntry as AuditRow
    from fieldcrm.notifications.tables import Notification


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
        self.task_warnings: list[tuple[dict[str, Any], uuid.UUID]] = []  # warned steps one person decides
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
            if len(users) == 1:
                self.task_warnings.append((step, users[0]))
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
        for step, user in self.task_warnings:  # the warning is also on the decider's task list (once per step)
            instance = self.instances[step["instance"]]
            await tasks.from_workflow_warning(
                step_id=step["id"],
                assignee_id=user,
                title=f"{step['label']} · {instance['title']}" if step["label"] else str(instance["title"]),
                due_at=step["due_at"],
                account_id=instance["account_id"],
                now=self.now,
            )


async def _fire_timers(steps: list[dict[str, Any]], now: datetime.datetime) -> tuple[int, int]:
    batch = _TimerBatch(steps, now)
    await batch.load()
    for step in steps:
        await batch.fire(step)
    await batch.write()
    return batch.warned, batch.escalated
