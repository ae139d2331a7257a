"""What devices sync of service work: cases and delivery projects with their open steps, in the actor's scope.

The sync layer calls these inside its read snapshot (docs/sync.md). Both are scoped through their
account's owner, so they follow a reassigned account. The window: everything open, and what was
closed (resolved, cancelled, completed) after ``closed_after``. Each function answers rows to upsert
and ids to delete on the device.
"""

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec

from fieldcrm.cases import services
from fieldcrm.cases.schemas import Case, Project, WorkStep
from fieldcrm.cases.tables import Case as CaseRow
from fieldcrm.cases.tables import Project as ProjectRow
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.workflow.tables import WorkflowStep

Changes = tuple[list[Any], list[uuid.UUID]]

OPEN_CASE_STATES = ("open", "in_progress")
OPEN_PROJECT_STATES = ("active",)
CASE_COLUMNS = (*services.CASE_COLUMNS, CaseRow.account.deleted_at.as_alias("account_deleted"))
PROJECT_COLUMNS = (*services.PROJECT_COLUMNS, ProjectRow.account.deleted_at.as_alias("account_deleted"))


def _in_scope(actor: Actor, account_column: Any) -> list[Any]:
    limit = scope.owner_filter(actor, account_column.owner)
    return [] if limit is None else [limit]


async def _open_steps(kind: str, subject_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[WorkStep]]:
    """The steps of each subject's running work order (what ``GET /api/cases/{id}`` shows)."""
    if not subject_ids:
        return {}
    now = utcnow()
    rows = await (
        WorkflowStep.select(
            WorkflowStep.id,
            WorkflowStep.instance.subject_id.as_alias("subject_id"),
            WorkflowStep.name,
            WorkflowStep.label,
            WorkflowStep.status,
            WorkflowStep.due_at,
            WorkflowStep.warn_at,
            WorkflowStep.completed_at,
        )
        .where(
            WorkflowStep.instance.subject_kind == kind,
            WorkflowStep.instance.subject_id.is_in(list(subject_ids)),
            WorkflowStep.instance.status == "running",
        )
        .order_by(WorkflowStep.stage)
        .order_by(WorkflowStep.activated_at)
        .order_by(WorkflowStep.name)
    )
    steps: dict[uuid.UUID, list[WorkStep]] = {}
    for s in rows:
        steps.setdefault(uuid.UUID(str(s["subject_id"])), []).append(
            WorkStep(
                id=s["id"],
                name=s["name"],
                label=s["label"] or s["name"],
                status=s["status"],
                due_at=s["due_at"],
                warn_at=s["warn_at"],
                overdue=s["status"] == "pending" and s["due_at"] is not None and s["due_at"] < now,
                completed_at=s["completed_at"],
            )
        )
    return steps


# ---------------------------------------------------------------- cases


def _case_window(closed_after: datetime.datetime) -> Any:
    return CaseRow.state.is_in(list(OPEN_CASE_STATES)) | (CaseRow.updated_at >= closed_after)


async def _cases_out(rows: Sequence[dict[str, Any]]) -> list[Case]:
    steps = await _open_steps("case", [r["id"] for r in rows])
    return [msgspec.structs.replace(services.case_out(r), steps=steps.get(uuid.UUID(str(r["id"])), [])) for r in rows]


async def _split_cases(rows: Sequence[dict[str, Any]], closed_after: datetime.datetime) -> Changes:
    keep: list[dict[str, Any]] = []
    gone: list[uuid.UUID] = []
    for row in rows:
        in_window = row["state"] in OPEN_CASE_STATES or row["updated_at"] >= closed_after
        if row["account_deleted"] is None and in_window:
            keep.append(row)
        else:
            gone.append(row["id"])
    return await _cases_out(keep), gone


async def cases_snapshot(*, actor: Actor, closed_after: datetime.datetime) -> list[Case]:
    """Open cases in scope with their steps, and those closed after ``closed_after``."""
    rows = await CaseRow.select(*CASE_COLUMNS).where(
        CaseRow.account.deleted_at.is_null(), _case_window(closed_after), *_in_scope(actor, CaseRow.account)
    )
    return await _cases_out(rows)


async def cases_changes_since(*, actor: Actor, since: int, closed_after: datetime.datetime) -> Changes:
    """Cases in scope written after ``since`` (a step done touches its case)."""
    rows = await CaseRow.select(*CASE_COLUMNS).where(CaseRow.sync_version > since, *_in_scope(actor, CaseRow.account))
    return await _split_cases(rows, closed_after)


async def cases_follow(*, actor: Actor, account_ids: Sequence[uuid.UUID], closed_after: datetime.datetime) -> Changes:
    """Cases of accounts whose owner moved: upserts where the actor now sees the account, else deletes."""
    ids = list(account_ids)
    rows = await CaseRow.select(*CASE_COLUMNS).where(CaseRow.account.is_in(ids))
    visible = {
        r["id"]
        for r in await CaseRow.select(CaseRow.id).where(CaseRow.account.is_in(ids), *_in_scope(actor, CaseRow.account))
    }
    live, gone = await _split_cases([r for r in rows if r["id"] in visible], closed_after)
    return live, [*gone, *(r["id"] for r in rows if r["id"] not in visible)]


async def cases_shift(*, actor: Actor, old_closed_after: datetime.datetime, closed_after: datetime.datetime) -> Changes:
    """Closed cases that aged out of the window since the last pull."""
    if closed_after <= old_closed_after:
        return [], []
    rows = await CaseRow.select(CaseRow.id).where(
        CaseRow.state.not_in(list(OPEN_CASE_STATES)),
        CaseRow.updated_at >= old_closed_after,
        CaseRow.updated_at < closed_after,
        *_in_scope(actor, CaseRow.account),
    )
    return [], [r["id"] for r in rows]


# ---------------------------------------------------------------- delivery projects


def _project_window(closed_after: datetime.datetime) -> Any:
    return ProjectRow.state.is_in(list(OPEN_PROJECT_STATES)) | (ProjectRow.updated_at >= closed_after)


async def _projects_out(rows: Sequence[dict[str, Any]]) -> list[Project]:
    steps = await _open_steps("project", [r["id"] for r in rows])
    return [
        msgspec.structs.replace(services.project_out(r), steps=steps.get(uuid.UUID(str(r["id"])), [])) for r in rows
    ]


async def _split_projects(rows: Sequence[dict[str, Any]], closed_after: datetime.datetime) -> Changes:
    keep: list[dict[str, Any]] = []
    gone: list[uuid.UUID] = []
    for row in rows:
        in_window = row["state"] in OPEN_PROJECT_STATES or row["updated_at"] >= closed_after
        if row["account_deleted"] is None and in_window:
            keep.append(row)
        else:
            gone.append(row["id"])
    return await _projects_out(keep), gone


async def projects_snapshot(*, actor: Actor, closed_after: datetime.datetime) -> list[Project]:
    """Active delivery projects in scope with their steps, and those closed after ``closed_after``."""
    rows = await ProjectRow.select(*PROJECT_COLUMNS).where(
        ProjectRow.account.deleted_at.is_null(), _project_window(closed_after), *_in_scope(actor, ProjectRow.account)
    )
    return await _projects_out(rows)


async def projects_changes_since(*, actor: Actor, since: int, closed_after: datetime.datetime) -> Changes:
    """Projects in scope written after ``since``."""
    rows = await ProjectRow.select(*PROJECT_COLUMNS).where(
        ProjectRow.sync_version > since, *_in_scope(actor, ProjectRow.account)
    )
    return await _split_projects(rows, closed_after)


async def projects_follow(
    *, actor: Actor, account_ids: Sequence[uuid.UUID], closed_after: datetime.datetime
) -> Changes:
    """Projects of accounts whose owner moved: upserts where the actor now sees the account, else deletes."""
    ids = list(account_ids)
    rows = await ProjectRow.select(*PROJECT_COLUMNS).where(ProjectRow.account.is_in(ids))
    visible = {
        r["id"]
        for r in await ProjectRow.select(ProjectRow.id).where(
            ProjectRow.account.is_in(ids), *_in_scope(actor, ProjectRow.account)
        )
    }
    live, gone = await _split_projects([r for r in rows if r["id"] in visible], closed_after)
    return live, [*gone, *(r["id"] for r in rows if r["id"] not in visible)]


async def projects_shift(
    *, actor: Actor, old_closed_after: datetime.datetime, closed_after: datetime.datetime
) -> Changes:
    """Closed projects that aged out of the window since the last pull."""
    if closed_after <= old_closed_after:
        return [], []
    rows = await ProjectRow.select(ProjectRow.id).where(
        ProjectRow.state.not_in(list(OPEN_PROJECT_STATES)),
        ProjectRow.updated_at >= old_closed_after,
        ProjectRow.updated_at < closed_after,
        *_in_scope(actor, ProjectRow.account),
    )
    return [], [r["id"] for r in rows]
