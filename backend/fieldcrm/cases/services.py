"""Cases and delivery projects: work orders on the workflow engine, scoped by the account's owner.

A case's steps (accept, investigate, resolve, confirm with the customer; parallel branches where its
definition says) come from the definition ``case-<priority>``, so each priority has its own step SLAs,
and the case as a whole is due ``RESOLUTION_HOURS[priority]`` after it was opened. Steps are done by the
account manager (decision "approve" on the step, shown as "done"); the engine warns before a step's SLA
ends and escalates an overdue step to the account manager's manager. A delivery project runs
``delivery-project``: demand confirmed, resource survey, installation, acceptance by the customer.
"""

import datetime
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fieldcrm.accounts.services import fold
from fieldcrm.audit import services as audit
from fieldcrm.cases.schemas import Case, CaseCreate, CasePage, Project, ProjectCreate, ProjectPage, WorkStep
from fieldcrm.cases.tables import Case as CaseRow
from fieldcrm.cases.tables import Project as ProjectRow
from fieldcrm.lib.db import contains_text, required, write_transaction
from fieldcrm.lib.errors import Conflict, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.sales import opportunities
from fieldcrm.sales.scoping import account_in_scope, owned_under, through_account
from fieldcrm.workflow import services as workflow
from fieldcrm.workflow.schemas import Instance
from fieldcrm.workflow.subjects import Outcome, SubjectInfo, register_subject

RESOLUTION_HOURS = {"urgent": 8, "high": 24, "normal": 72, "low": 168}
CASE_STATE_OF: dict[str, str] = {"approved": "resolved", "rejected": "cancelled", "returned": "open"}
PROJECT_STATE_OF: dict[str, str] = {"approved": "completed", "rejected": "cancelled", "returned": "active"}

CASE_COLUMNS = (
    *CaseRow.all_columns(),
    CaseRow.account.name.as_alias("account_name"),
    CaseRow.owner.display_name.as_alias("owner_name"),
)
PROJECT_COLUMNS = (
    *ProjectRow.all_columns(exclude=[ProjectRow.search_text]),
    ProjectRow.account.name.as_alias("account_name"),
    ProjectRow.owner.display_name.as_alias("owner_name"),
)


def _steps(instance: Instance | None, now: datetime.datetime) -> list[WorkStep]:
    if instance is None:
        return []
    return [
        WorkStep(
            id=s.id,
            name=s.name,
            label=s.label or s.name,
            status=s.status,
            due_at=s.due_at,
            warn_at=s.warn_at,
            overdue=s.status == "pending" and s.due_at is not None and s.due_at < now,
            completed_at=s.completed_at,
        )
        for s in instance.steps
    ]


def case_out(row: Mapping[str, Any], instance: Instance | None = None) -> Case:
    """A case row (selected with CASE_COLUMNS) as its API shape, with the open work order's steps if given."""
    now = utcnow()
    return Case(
        id=row["id"],
        account_id=row["account"],
        account_name=row["account_name"],
        owner_id=row["owner"],
        owner_name=row["owner_name"],
        type=row["type"],
        priority=row["priority"],
        title=row["title"],
        description=row["description"],
        state=row["state"],
        last_step=row["last_step"],
        due_at=row["due_at"],
        overdue=row["state"] in {"open", "in_progress"} and row["due_at"] < now,
        resolved_at=row["resolved_at"],
        steps=_steps(instance, now),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def project_out(row: Mapping[str, Any], instance: Instance | None = None) -> Project:
    """A project row (selected with PROJECT_COLUMNS) as its API shape."""
    return Project(
        id=row["id"],
        name=row["name"],
        account_id=row["account"],
        account_name=row["account_name"],
        opportunity_id=row["opportunity"],
        owner_id=row["owner"],
        owner_name=row["owner_name"],
        start_date=row["start_date"],
        state=row["state"],
        last_step=row["last_step"],
        notes=row["notes"],
        completed_at=row["completed_at"],
        steps=_steps(instance, utcnow()),
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# ---------------------------------------------------------------- shared by cases and projects
# Both are subjects of the workflow engine on an account: read through the account's scope, and settled
# by the engine's outcome with an audited state change.


async def _row_in_scope(
    table: Any, columns: Sequence[Any], entity: str, actor: Actor | None, row_id: uuid.UUID
) -> dict[str, Any]:
    """The row when the actor sees its account (``actor`` None: the engine, which sees all), else NotFound."""
    where = [table.id == row_id, *(through_account(actor, table.account) if actor is not None else [])]
    row = await table.select(*columns).where(*where).first()
    if row is None:
        msg = f"{entity} {row_id} not found"
        raise NotFound(msg)
    return dict(row)


async def _settle(
    table: Any,
    entity: str,
    *,
    subject_id: uuid.UUID,
    state: str,
    finished: tuple[Any, str],
    actor: Actor | None,
    comment: str,
) -> None:
    """Put the engine's outcome on the subject: its state, when it finished (``(column, state)``), audited."""
    now = utcnow()
    column, finished_state = finished
    await table.update(
        {
            table.state: state,
            column: now if state == finished_state else None,
            table.updated_at: now,
            table.version: table.version + 1,
        }
    ).where(table.id == subject_id)
    row = required(await table.select(table.account).where(table.id == subject_id).first())
    await audit.record(
        actor=actor,
        entity=entity,
        entity_id=subject_id,
        account_id=row["account"],
        action=state,
        changes={"state": [None, state], **({"comment": [None, comment]} if comment else {})},
    )


# ---------------------------------------------------------------- cases


async def _case_row(actor: Actor, case_id: uuid.UUID) -> dict[str, Any]:
    return await _row_in_scope(CaseRow, CASE_COLUMNS, "case", actor, case_id)


async def get_case(*, actor: Actor, case_id: uuid.UUID) -> Case:
    """One case with its open steps."""
    scope.require(actor, "sales.read")
    row = await _case_row(actor, case_id)
    return case_out(row, await workflow.running(kind="case", subject_id=case_id))


async def list_cases(
    *,
    actor: Actor,
    page: PageParams,
    account_id: uuid.UUID | None = None,
    state: str | None = None,
    case_type: str | None = None,
    priority: str | None = None,
    owner_id: uuid.UUID | None = None,
    overdue: bool = False,
) -> CasePage:
    """Cases in scope, soonest due first."""
    scope.require(actor, "sales.read")
    where = [*through_account(actor, CaseRow.account), *owned_under(CaseRow.account, owner_id=owner_id, unit_path=None)]
    if account_id is not None:
        where.append(CaseRow.account == account_id)
    if state:
        where.append(CaseRow.state == state)
    if case_type:
        where.append(CaseRow.type == case_type)
    if priority:
        where.append(CaseRow.priority == priority)
    if overdue:
        where += [CaseRow.state.is_in(["open", "in_progress"]), CaseRow.due_at < utcnow()]
    query = CaseRow.select(*CASE_COLUMNS).where(*where).order_by(CaseRow.due_at).order_by(CaseRow.id)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await CaseRow.count().where(*where)
    return CasePage(items=[case_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def create_case(*, actor: Actor, data: CaseCreate, now: datetime.datetime | None = None) -> Case:
    """Open a case on an account the actor sees and start its work order (``case-<priority>``)."""
    scope.require(actor, "cases.write")
    case_id = data.id or new_id()
    now = now or utcnow()
    async with write_transaction():
        account = await account_in_scope(actor, data.account_id)
        if await CaseRow.exists().where(CaseRow.id == case_id):
            msg = f"case {case_id} already exists"
            raise Conflict(msg)
        await CaseRow.insert(
            CaseRow(
                id=case_id,
                account=data.account_id,
                owner=account["owner"],
                created_by=actor.id,
                type=data.type,
                priority=data.priority,
                title=data.title,
                description=data.description,
                due_at=now + datetime.timedelta(hours=RESOLUTION_HOURS[data.priority]),
                created_at=now,
                updated_at=now,
            )
        )
        await audit.record(
            actor=actor,
            entity="case",
            entity_id=case_id,
            account_id=data.account_id,
            action="create",
            changes={"type": [None, data.type], "priority": [None, data.priority], "title": [None, data.title]},
        )
        instance = await workflow.start(
            actor=actor, kind="case", subject_id=case_id, definition=f"case-{data.priority}"
        )
        row = required(await CaseRow.select(*CASE_COLUMNS).where(CaseRow.id == case_id).first())
    return case_out(row, instance)


class CaseSubject:
    """The engine's view of a case."""

    kind = "case"

    async def load(self, subject_id: uuid.UUID) -> SubjectInfo:
        """The case with the facts its definition's rules look at (type, priority)."""
        row = await _row_in_scope(CaseRow, CASE_COLUMNS, "case", None, subject_id)
        return SubjectInfo(
            kind="case",
            id=subject_id,
            owner_id=row["owner"],
            account_id=row["account"],
            title=f"{row['title']} · {row['account_name']}",
            version=row["version"],
            facts={"type": row["type"], "priority": row["priority"]},
            url=f"#/cases/{subject_id}",
        )

    async def on_step(self, *, subject_id: uuid.UUID, step_name: str, actor: Actor | None) -> None:
        """A step was done: the case is in progress and remembers it."""
        await CaseRow.update(
            {CaseRow.last_step: step_name, CaseRow.state: "in_progress", CaseRow.updated_at: utcnow()}
        ).where(CaseRow.id == subject_id, CaseRow.state.is_in(["open", "in_progress"]))
        del actor

    async def on_outcome(self, *, subject_id: uuid.UUID, outcome: Outcome, actor: Actor | None, comment: str) -> None:
        """Every step done: resolved (rejected: cancelled; returned: open again)."""
        state = CASE_STATE_OF[outcome]
        finished = (CaseRow.resolved_at, "resolved")
        await _settle(
            CaseRow, "case", subject_id=subject_id, state=state, finished=finished, actor=actor, comment=comment
        )


# ---------------------------------------------------------------- delivery projects


async def _project_row(actor: Actor, project_id: uuid.UUID) -> dict[str, Any]:
    return await _row_in_scope(ProjectRow, PROJECT_COLUMNS, "project", actor, project_id)


async def get_project(*, actor: Actor, project_id: uuid.UUID) -> Project:
    """One project with its open steps."""
    scope.require(actor, "sales.read")
    row = await _project_row(actor, project_id)
    return project_out(row, await workflow.running(kind="project", subject_id=project_id))


async def search_projects(
    *,
    actor: Actor,
    page: PageParams,
    q: str | None = None,
    start_from: datetime.date | None = None,
    start_to: datetime.date | None = None,
    owner_id: uuid.UUID | None = None,
    account_id: uuid.UUID | None = None,
    state: str | None = None,
) -> ProjectPage:
    """Projects in scope by name or customer name (``q``), start date range, account manager, customer."""
    scope.require(actor, "sales.read")
    where = [*through_account(actor, ProjectRow.account)]
    if q and q.strip():
        where.append(contains_text("delivery_projects.search_text", fold(q.strip())))
    if start_from is not None:
        where.append(ProjectRow.start_date >= start_from)
    if start_to is not None:
        where.append(ProjectRow.start_date <= start_to)
    if owner_id is not None:
        where.append(ProjectRow.owner == owner_id)
    if account_id is not None:
        where.append(ProjectRow.account == account_id)
    if state:
        where.append(ProjectRow.state == state)
    query = ProjectRow.select(*PROJECT_COLUMNS).where(*where)
    query = query.order_by(ProjectRow.start_date, ascending=False).order_by(ProjectRow.id)
    rows = await query.limit(page.limit).offset(page.offset)
    total = await ProjectRow.count().where(*where)
    return ProjectPage(items=[project_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def create_project(*, actor: Actor, data: ProjectCreate) -> Project:
    """Start delivering a won opportunity the actor sees (one running project per opportunity)."""
    scope.require(actor, "projects.write")
    project_id = data.id or new_id()
    async with write_transaction():
        opportunity = await opportunities.won_opportunity(actor=actor, opportunity_id=data.opportunity_id)
        account = await account_in_scope(actor, opportunity["account"])
        if await ProjectRow.exists().where(
            ProjectRow.opportunity == data.opportunity_id, ProjectRow.state.is_in(["active", "completed"])
        ):
            msg = f"opportunity {opportunity['name']} already has a delivery project"
            raise Conflict(msg, field="opportunityId")
        if await ProjectRow.exists().where(ProjectRow.id == project_id):
            msg = f"project {project_id} already exists"
            raise Conflict(msg)
        name = data.name.strip() or str(opportunity["name"])
        await ProjectRow.insert(
            ProjectRow(
                id=project_id,
                name=name,
                search_text=fold(f"{name} {account['name']}"),
                account=opportunity["account"],
                opportunity=data.opportunity_id,
                owner=account["owner"],
                start_date=data.start_date or utcnow().date(),
                notes=data.notes,
            )
        )
        await audit.record(
            actor=actor,
            entity="project",
            entity_id=project_id,
            account_id=opportunity["account"],
            action="create",
            changes={"name": [None, name], "opportunity": [None, str(data.opportunity_id)]},
        )
        instance = await workflow.start(
            actor=actor, kind="project", subject_id=project_id, definition="delivery-project"
        )
        row = required(await ProjectRow.select(*PROJECT_COLUMNS).where(ProjectRow.id == project_id).first())
    return project_out(row, instance)


class ProjectSubject:
    """The engine's view of a delivery project."""

    kind = "project"

    async def load(self, subject_id: uuid.UUID) -> SubjectInfo:
        """The project."""
        row = await _row_in_scope(ProjectRow, PROJECT_COLUMNS, "project", None, subject_id)
        return SubjectInfo(
            kind="project",
            id=subject_id,
            owner_id=row["owner"],
            account_id=row["account"],
            title=f"{row['name']} · {row['account_name']}",
            version=row["version"],
            facts={},
            url=f"#/projects/{subject_id}",
        )

    async def on_step(self, *, subject_id: uuid.UUID, step_name: str, actor: Actor | None) -> None:
        """A step was done."""
        await ProjectRow.update({ProjectRow.last_step: step_name, ProjectRow.updated_at: utcnow()}).where(
            ProjectRow.id == subject_id
        )
        del actor

    async def on_outcome(self, *, subject_id: uuid.UUID, outcome: Outcome, actor: Actor | None, comment: str) -> None:
        """Every step done: the customer accepted the delivery."""
        state = PROJECT_STATE_OF[outcome]
        finished = (ProjectRow.completed_at, "completed")
        await _settle(
            ProjectRow, "project", subject_id=subject_id, state=state, finished=finished, actor=actor, comment=comment
        )


register_subject(CaseSubject())
register_subject(ProjectSubject())
