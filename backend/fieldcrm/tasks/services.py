"""Use cases of tasks: the one place that creates them (for people and for other domains), edits, transitions.

Visibility follows the assignee exactly as accounts follow their owner: ``scope.owner_filter`` on
``tasks.assignee`` (a rep their own tasks, a leader those of everyone in their subtree, HQ all). A task
out of scope answers 404 like a missing one. Other domains create tasks with ``create_task`` passing
``source`` and ``source_key``: a second call with the same pair returns the task already made.
"""

import calendar
import datetime
import functools
import uuid
import zoneinfo
from collections.abc import Mapping
from typing import Any

from fieldcrm.accounts import services as accounts
from fieldcrm.accounts.tables import Account as AccountRow
from fieldcrm.audit import services as audit
from fieldcrm.cases.tables import Case as CaseRow
from fieldcrm.lib.db import as_date, required, write_transaction
from fieldcrm.lib.errors import Conflict, Forbidden, InvalidInput, NotFound
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.structs import changed_fields
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.tables import User
from fieldcrm.sales.tables import Opportunity as OppRow
from fieldcrm.sales.tables import Quote as QuoteRow
from fieldcrm.settings import get_settings
from fieldcrm.tasks import timeline as _timeline  # noqa: F401 - registers the tasks' timeline source
from fieldcrm.tasks.schemas import (
    PRIORITIES,
    Kind,
    Priority,
    Sort,
    Source,
    State,
    Task,
    TaskComplete,
    TaskCreate,
    TaskPage,
    TaskPatch,
    TaskSkip,
)
from fieldcrm.tasks.tables import Task as TaskRow

_NEXT = uuid.UUID("0b7f4d7e-5c3a-4f4e-8a51-2d6b8f1c9e03")  # namespace of the next occurrence's id
SOURCES: frozenset[str] = frozenset({"manual", "visit_follow_up", "workflow", "retention", "contract", "import"})

COLUMNS = (
    *TaskRow.all_columns(),
    TaskRow.account.name.as_alias("account_name"),
    TaskRow.assignee.display_name.as_alias("assignee_name"),
)

# Guarded fields: a stale offline edit does not overwrite them; it comes back as a conflict. field -> version column.
GUARDED: dict[str, Any] = {"due_date": TaskRow.due_version, "assignee": TaskRow.assignee_version}
_CAMEL = {"due_date": "dueDate", "assignee": "assigneeId", "state": "state"}
# API field -> column, where they differ.
_COLUMN_OF = {
    "account_id": "account",
    "opportunity_id": "opportunity",
    "quote_id": "quote",
    "case_id": "case",
    "assignee_id": "assignee",
}


# ---------------------------------------------------------------- time


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def business_zone() -> zoneinfo.ZoneInfo:
    """The business time zone (``FIELDCRM_TIMEZONE``): due dates and due times are read in it."""
    return _zone(get_settings().timezone)


def business_today(now: datetime.datetime | None = None) -> datetime.date:
    """Today in the business time zone (``now`` for callers that hold a frozen clock)."""
    return (now or utcnow()).astimezone(business_zone()).date()


def due_moment(due_date: datetime.date, due_time: str | None) -> datetime.datetime:
    """When a task is due, as UTC: its due time, or the start of its day in the business zone."""
    hours, minutes = (int(p) for p in (due_time or "00:00").split(":"))
    local = datetime.datetime.combine(due_date, datetime.time(hours, minutes), tzinfo=business_zone())
    return local.astimezone(datetime.UTC)


def next_due(due: datetime.date, recurrence: str) -> datetime.date:
    """The next occurrence's due date: a week later, or the same day next month (clamped to its last day)."""
    if recurrence == "weekly":
        return due + datetime.timedelta(days=7)
    year, month = (due.year + 1, 1) if due.month == 12 else (due.year, due.month + 1)
    return due.replace(year=year, month=month, day=min(due.day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------- row -> struct


def _priority(value: Any) -> Priority:
    index = int(value)
    return PRIORITIES[index] if 0 <= index < len(PRIORITIES) else "normal"


def task_out(row: Mapping[str, Any]) -> Task:
    """A task row (selected with COLUMNS) as its API shape."""
    return Task(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        account_id=row["account"],
        account_name=row["account_name"],
        opportunity_id=row["opportunity"],
        quote_id=row["quote"],
        case_id=row["case"],
        contract_id=row["contract_id"],
        assignee_id=row["assignee"],
        assignee_name=row["assignee_name"] or "",
        creator_id=row["creator"],
        due_date=as_date(row["due_date"]),
        due_time=row["due_time"],
        remind_at=row["remind_at"],
        reminded_at=row["reminded_at"],
        priority=_priority(row["priority"]),
        kind=row["kind"],
        source=row["source"],
        source_key=row["source_key"],
        state=row["state"],
        completed_at=row["completed_at"],
        outcome=row["outcome"],
        skip_reason=row["skip_reason"],
        recurrence=row["recurrence"],
        recurrence_of=row["recurrence_of"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# ---------------------------------------------------------------- scope


def in_scope(actor: Actor) -> list[Any]:
    """WHERE conditions for the tasks the actor sees (deleted ones included: the feed sends them as deletes)."""
    limit = scope.owner_filter(actor, TaskRow.assignee)
    return [] if limit is None else [limit]


def visible(actor: Actor) -> list[Any]:
    """WHERE conditions for the live tasks the actor sees."""
    return [TaskRow.deleted_at.is_null(), *in_scope(actor)]


async def _row(actor: Actor, task_id: uuid.UUID) -> dict[str, Any]:
    row = await TaskRow.select(*COLUMNS).where(TaskRow.id == task_id, *visible(actor)).first()
    if row is None:
        msg = f"task {task_id} not found"
        raise NotFound(msg)
    return row


async def _reload(task_id: uuid.UUID) -> dict[str, Any]:
    return required(await TaskRow.select(*COLUMNS).where(TaskRow.id == task_id).first())


async def _check_assignee(actor: Actor | None, assignee_id: uuid.UUID) -> None:
    """A rep assigns only themselves (403); a leader people in their subtree, HQ anyone active (else 422)."""
    if actor is not None and assignee_id != actor.id and not scope.can(actor, "tasks.assign"):
        msg = "you may give tasks only to yourself; ask your manager to assign someone else"
        raise Forbidden(msg)
    query = User.select(User.id).where(User.id == assignee_id, User.is_active.eq(True))
    if actor is not None and (limit := scope.user_filter(actor)) is not None:
        query = query.where(limit)
    if not await query.first():
        msg = f"assignee {assignee_id} is not an active person in your part of the org tree"
        raise InvalidInput(msg, field="assigneeId")


async def _check_links(actor: Actor | None, values: dict[str, Any]) -> None:
    """The account and the related opportunity, quote and case must exist and be visible to the actor.

    A related record without an account named takes its account. ``values`` holds column names.
    """
    if values.get("account") is not None:
        if actor is None:
            if not await AccountRow.exists().where(AccountRow.id == values["account"]):
                msg = f"account {values['account']} not found"
                raise InvalidInput(msg, field="accountId")
        else:
            try:
                await accounts.ensure_visible(actor=actor, account_id=values["account"])
            except NotFound:
                msg = f"account {values['account']} is not one you see"
                raise InvalidInput(msg, field="accountId") from None
    for column, table, field in (
        ("opportunity", OppRow, "opportunityId"),
        ("quote", QuoteRow, "quoteId"),
        ("case", CaseRow, "caseId"),
    ):
        if values.get(column) is None:
            continue
        query = table.select(table.account).where(table.id == values[column])
        if actor is not None and (limit := scope.owner_filter(actor, table.account.owner)) is not None:
            query = query.where(limit)
        found = await query.first()
        if found is None:
            msg = f"{column} {values[column]} is not one you see"
            raise InvalidInput(msg, field=field)
        if values.get("account") is None:
            values["account"] = found["account"]


def _check_remind(remind_at: datetime.datetime | None, due: datetime.date, due_time: str | None) -> None:
    if remind_at is not None and remind_at.tzinfo is None:
        msg = "remindAt needs a time zone (e.g. 2026-12-04T09:00:00+08:00)"
        raise InvalidInput(msg, field="remindAt")
    if remind_at is not None and remind_at > due_moment(due, due_time) + datetime.timedelta(days=1):
        msg = "the reminder comes more than a day after the task is due; remind before it"
        raise InvalidInput(msg, field="remindAt")


def _audited(row: Mapping[str, Any]) -> dict[str, Any]:
    skip = {"account_name", "assignee_name", "due_version", "assignee_version", "state_version", "sync_version"}
    return {k: v for k, v in row.items() if k not in skip}


# ---------------------------------------------------------------- reads


async def get_task(*, actor: Actor, task_id: uuid.UUID) -> Task:
    """One task the actor sees."""
    scope.require(actor, "tasks.read")
    return task_out(await _row(actor, task_id))


def _order(query: Any, sort: Sort) -> Any:
    descending = sort.startswith("-")
    if sort.lstrip("-") == "priority":
        query = query.order_by(TaskRow.priority, ascending=descending)  # "priority": most urgent first
        return query.order_by(TaskRow.due_date).order_by(TaskRow.id)
    query = query.order_by(TaskRow.due_date, ascending=not descending)
    return query.order_by(TaskRow.priority, ascending=False).order_by(TaskRow.id)


async def list_tasks(
    *,
    actor: Actor,
    page: PageParams,
    assignee_id: uuid.UUID | None = None,
    state: State | None = None,
    due_from: datetime.date | None = None,
    due_to: datetime.date | None = None,
    overdue: bool = False,
    account_id: uuid.UUID | None = None,
    kind: Kind | None = None,
    source: Source | None = None,
    sort: Sort = "due",
) -> TaskPage:
    """Tasks in scope with filters; soonest due first (or by priority)."""
    scope.require(actor, "tasks.read")
    where = visible(actor)
    if assignee_id is not None:
        where.append(TaskRow.assignee == assignee_id)
    if state is not None:
        where.append(TaskRow.state == state)
    if due_from is not None:
        where.append(TaskRow.due_date >= due_from)
    if due_to is not None:
        where.append(TaskRow.due_date <= due_to)
    if overdue:
        where += [TaskRow.state == "open", TaskRow.due_date < business_today()]
    if account_id is not None:
        where.append(TaskRow.account == account_id)
    if kind is not None:
        where.append(TaskRow.kind == kind)
    if source is not None:
        where.append(TaskRow.source == source)
    rows = await _order(TaskRow.select(*COLUMNS).where(*where), sort).limit(page.limit).offset(page.offset)
    total = await TaskRow.count().where(*where)
    return TaskPage(items=[task_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def today(*, actor: Actor, page: PageParams) -> TaskPage:
    """The caller's open tasks due today or overdue (business time zone): oldest first, then the most urgent."""
    scope.require(actor, "tasks.read")
    where = [
        TaskRow.assignee == actor.id,
        TaskRow.state == "open",
        TaskRow.due_date <= business_today(),
        TaskRow.deleted_at.is_null(),
    ]
    query = (
        TaskRow.select(*COLUMNS).where(*where).order_by(TaskRow.due_date).order_by(TaskRow.priority, ascending=False)
    )
    rows = await query.order_by(TaskRow.id).limit(page.limit).offset(page.offset)
    total = await TaskRow.count().where(*where)
    return TaskPage(items=[task_out(r) for r in rows], total=total, next_cursor=page.next_cursor(total))


async def due_counts(*, user_id: uuid.UUID, on: datetime.date) -> tuple[int, int]:
    """(open tasks due on ``on``, open tasks due before it) of one person: for the daily digest."""
    base = [TaskRow.assignee == user_id, TaskRow.state == "open", TaskRow.deleted_at.is_null()]
    due = await TaskRow.count().where(*base, TaskRow.due_date == on)
    overdue = await TaskRow.count().where(*base, TaskRow.due_date < on)
    return int(due), int(overdue)


# ---------------------------------------------------------------- create


async def create_task(
    *,
    actor: Actor | None,
    data: TaskCreate,
    source: Source = "manual",
    source_key: str | None = None,
) -> Task:
    """Create a task: the one way into the tasks table, for REST, sync and every other domain.

    Args:
        actor: Who asks; None for the system (a workflow timer, a renewal run), which may assign anyone active.
        data: The task; the assignee defaults to the actor.
        source: Where it comes from; anything but ``manual`` is a system caller.
        source_key: With ``source``, what makes the call idempotent ("once per visit / step / bill"): the
            task already made for the pair comes back instead of a duplicate.

    Raises:
        Forbidden: A rep assigning someone else.
        InvalidInput: An assignee out of the actor's subtree, a link the actor does not see.
        Conflict: The client-made id is taken.
    """
    if actor is not None:
        scope.require(actor, "tasks.write")
    if source not in SOURCES:
        msg = f"unknown task source {source!r}"
        raise InvalidInput(msg, field="source")
    key = source_key[:120] if source_key else None
    async with write_transaction():
        if key is not None:
            existing = await TaskRow.select(*COLUMNS).where(TaskRow.source == source, TaskRow.source_key == key).first()
            if existing is not None:
                return task_out(existing)
        assignee_id = data.assignee_id if data.assignee_id is not None else actor.id if actor is not None else None
        if assignee_id is None:
            msg = "a task made by the system needs an assignee"
            raise InvalidInput(msg, field="assigneeId")
        await _check_assignee(actor, assignee_id)
        _check_remind(data.remind_at, data.due_date, data.due_time)
        links: dict[str, Any] = {
            "account": data.account_id,
            "opportunity": data.opportunity_id,
            "quote": data.quote_id,
            "case": data.case_id,
        }
        await _check_links(actor, links)
        task_id = data.id or new_id()
        if await TaskRow.exists().where(TaskRow.id == task_id):
            msg = f"task {task_id} already exists"
            raise Conflict(msg)
        now = utcnow()
        inserted = await (
            TaskRow.insert(
                TaskRow(
                    id=task_id,
                    title=data.title,
                    description=data.description,
                    contract_id=data.contract_id,
                    assignee=assignee_id,
                    creator=actor.id if actor is not None else None,
                    due_date=data.due_date,
                    due_time=data.due_time,
                    remind_at=data.remind_at,
                    priority=PRIORITIES.index(data.priority),
                    kind=data.kind,
                    source=source,
                    source_key=key,
                    recurrence=data.recurrence,
                    created_at=now,
                    updated_at=now,
                    **links,
                )
            )
            .on_conflict(action="DO NOTHING")
            .returning(TaskRow.id)
        )
        if not inserted and key is not None:  # a concurrent caller made the same (source, key) first
            return task_out(
                required(
                    await TaskRow.select(*COLUMNS).where(TaskRow.source == source, TaskRow.source_key == key).first()
                )
            )
        row = await _reload(task_id)
        await audit.record(
            actor=actor,
            entity="task",
            entity_id=task_id,
            account_id=row["account"],
            action="create",
            after=_audited(row),
        )
    return task_out(row)


# ---------------------------------------------------------------- update


def _plain(value: Any) -> Any:
    """A value as compared and reported: the same instant in another zone, or a UUID as text, is no change."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _stale(before: Mapping[str, Any], changes: dict[str, Any], base: int | None) -> dict[str, Any]:
    """Take out of ``changes`` the guarded fields the server moved since ``base``; return them as conflicts.

    A task done or skipped since ``base`` conflicts on its state: its due date and assignee are not moved.
    """
    conflicts: dict[str, Any] = {}
    if base is None:
        return conflicts
    closed_since = before["state"] != "open" and before["state_version"] > base
    for column, version_column in GUARDED.items():
        if column not in changes or _plain(changes[column]) == _plain(before[column]):
            continue
        if closed_since:
            changes.pop(column)
            conflicts["state"] = {"yours": "open", "server": before["state"]}
        elif before[version_column._meta.name] > base:
            conflicts[_CAMEL[column]] = {"yours": _plain(changes.pop(column)), "server": _plain(before[column])}
    return conflicts


async def merge_task(
    *, actor: Actor, task_id: uuid.UUID, data: TaskPatch, strict: bool = False
) -> tuple[Task, dict[str, Any]]:
    """Apply an edit field by field; returns the task and the conflicts ``{field: {yours, server}}``.

    Due date and assignee edited on a stale ``baseVersion`` are not applied when the server's value moved
    since; a task done or skipped since conflicts on ``state``. Everything else is merged. ``strict``
    (REST) applies nothing when there is a conflict and raises 409 with the conflicts instead.
    """
    scope.require(actor, "tasks.write")
    fields = changed_fields(data)
    base = fields.pop("base_version", None)
    changes = {_COLUMN_OF.get(k, k): v for k, v in fields.items()}
    if "priority" in changes:
        changes["priority"] = PRIORITIES.index(changes["priority"])
    async with write_transaction():
        before = await _row(actor, task_id)
        conflicts = _stale(before, changes, base)
        if conflicts and strict:
            names = ", ".join(conflicts)
            msg = f"someone changed {names} after version {base}; reload the task and decide again"
            raise Conflict(msg, extra={"conflicts": conflicts, "version": before["version"]})
        changes = {k: v for k, v in changes.items() if _plain(before[k]) != _plain(v)}
        if not changes:
            return task_out(before), conflicts
        if "assignee" in changes:
            await _check_assignee(actor, changes["assignee"])
            if not scope.can(actor, "tasks.assign"):
                msg = "only a manager reassigns tasks"
                raise Forbidden(msg)
            changes["previous_assignee"] = before["assignee"]
        link_columns = [c for c in ("account", "opportunity", "quote", "case") if c in changes]
        if link_columns:
            links: dict[str, Any] = {c: changes[c] for c in link_columns}
            links.setdefault("account", before["account"])
            await _check_links(actor, links)
            changes.update({c: links[c] for c in (*link_columns, "account") if c in links})
        due, due_time = changes.get("due_date", before["due_date"]), changes.get("due_time", before["due_time"])
        if {"remind_at", "due_date", "due_time"} & changes.keys():
            _check_remind(changes.get("remind_at", before["remind_at"]), as_date(due), due_time)
        if "remind_at" in changes:
            changes["reminded_at"] = None  # a moved reminder goes out again at its new time
        new_version = before["version"] + 1
        values: dict[Any, Any] = {getattr(TaskRow, k): v for k, v in changes.items()}
        for column, version_column in GUARDED.items():
            if column in changes:
                values[version_column] = new_version
        values[TaskRow.version] = new_version
        values[TaskRow.updated_at] = utcnow()
        await TaskRow.update(values).where(TaskRow.id == task_id)
        after = await _reload(task_id)
        await audit.record(
            actor=actor,
            entity="task",
            entity_id=task_id,
            account_id=after["account"],
            action="update",
            before=_audited(before),
            after=_audited(after),
        )
    return task_out(after), conflicts


async def update_task(*, actor: Actor, task_id: uuid.UUID, data: TaskPatch) -> Task:
    """Change a task; a stale ``baseVersion`` on due date or assignee (or a task closed since) answers 409."""
    result, _ = await merge_task(actor=actor, task_id=task_id, data=data, strict=True)
    return result


# ---------------------------------------------------------------- transitions


async def _transition(
    actor: Actor, task_id: uuid.UUID, to: State, **values: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Move a task to ``to``; returns the rows before and after.

    Repeating the move is a no-op (a device that completed offline twice, a replayed call); closing a task
    closed the other way (done vs skipped) is a conflict the person must resolve by reopening it.
    """
    before = await _row(actor, task_id)
    if before["state"] == to:
        return before, before
    if to != "open" and before["state"] != "open":
        msg = f"the task is already {before['state']}; reopen it first"
        raise Conflict(msg, field="state", extra={"conflicts": {"state": {"yours": to, "server": before["state"]}}})
    new_version = before["version"] + 1
    update = {
        TaskRow.state: to,
        TaskRow.state_version: new_version,
        TaskRow.version: new_version,
        TaskRow.updated_at: utcnow(),
        **{getattr(TaskRow, k): v for k, v in values.items()},
    }
    await TaskRow.update(update).where(TaskRow.id == task_id)
    after = await _reload(task_id)
    await audit.record(
        actor=actor,
        entity="task",
        entity_id=task_id,
        account_id=after["account"],
        action={"done": "complete", "skipped": "skip", "open": "reopen"}[to],
        before=_audited(before),
        after=_audited(after),
    )
    return before, after


async def _next_occurrence(row: Mapping[str, Any]) -> None:
    """The next task of a recurring series, made once: its id is derived from the one just done."""
    next_id = uuid.uuid5(_NEXT, str(row["id"]))
    due = next_due(as_date(row["due_date"]), row["recurrence"])
    shift = due - as_date(row["due_date"])
    await TaskRow.insert(
        TaskRow(
            id=next_id,
            title=row["title"],
            description=row["description"],
            account=row["account"],
            opportunity=row["opportunity"],
            quote=row["quote"],
            case=row["case"],
            contract_id=row["contract_id"],
            assignee=row["assignee"],
            creator=row["creator"],
            due_date=due,
            due_time=row["due_time"],
            remind_at=row["remind_at"] + shift if row["remind_at"] is not None else None,
            priority=row["priority"],
            kind=row["kind"],
            source=row["source"],
            source_key=None,  # the key named the first occurrence; the series goes on without one
            recurrence=row["recurrence"],
            recurrence_of=row["id"],
        )
    ).on_conflict(action="DO NOTHING")


async def complete_task(*, actor: Actor, task_id: uuid.UUID, data: TaskComplete) -> Task:
    """Mark a task done with its outcome; a recurring task's next occurrence is created (exactly once)."""
    scope.require(actor, "tasks.write")
    async with write_transaction():
        before, after = await _transition(
            actor, task_id, "done", completed_at=utcnow(), outcome=data.outcome, skip_reason=""
        )
        if before["state"] != "done" and after["recurrence"] != "none":
            await _next_occurrence(after)
    return task_out(after)


async def skip_task(*, actor: Actor, task_id: uuid.UUID, data: TaskSkip) -> Task:
    """Skip a task, saying why; a recurring series goes on to its next occurrence."""
    scope.require(actor, "tasks.write")
    if not data.reason.strip():
        msg = "say why the task is skipped (reason)"
        raise InvalidInput(msg, field="reason")
    async with write_transaction():
        before, after = await _transition(
            actor, task_id, "skipped", completed_at=utcnow(), skip_reason=data.reason.strip()
        )
        if before["state"] != "skipped" and after["recurrence"] != "none":
            await _next_occurrence(after)
    return task_out(after)


async def reopen_task(*, actor: Actor, task_id: uuid.UUID) -> Task:
    """Open a done or skipped task again (its next occurrence, if one was made, stays)."""
    scope.require(actor, "tasks.write")
    async with write_transaction():
        _, after = await _transition(actor, task_id, "open", completed_at=None)
    return task_out(after)


async def delete_task(*, actor: Actor, task_id: uuid.UUID) -> None:
    """Remove a task (soft: devices learn of it in their next pull)."""
    scope.require(actor, "tasks.write")
    async with write_transaction():
        before = await _row(actor, task_id)
        if before["creator"] != actor.id and not scope.can(actor, "tasks.assign"):
            msg = "only tasks you made yourself can be deleted; mark this one done or skipped"
            raise Forbidden(msg)
        now = utcnow()
        await TaskRow.update(
            {TaskRow.deleted_at: now, TaskRow.updated_at: now, TaskRow.version: before["version"] + 1}
        ).where(TaskRow.id == task_id)
        await audit.record(
            actor=actor,
            entity="task",
            entity_id=task_id,
            account_id=before["account"],
            action="delete",
            before=_audited(before),
        )


# ---------------------------------------------------------------- for other domains


async def follow_up_from_visit(
    *,
    actor: Actor,
    visit_id: uuid.UUID,
    account_id: uuid.UUID,
    title: str,
    due_date: datetime.date,
) -> Task:
    """The follow-up task of a visit log (once per visit; a changed date moves the open task)."""
    data = TaskCreate(title=title[:200] or "-", account_id=account_id, due_date=due_date, kind="follow_up")
    task = await create_task(actor=actor, data=data, source="visit_follow_up", source_key=str(visit_id))
    if task.state == "open" and task.due_date != due_date and task.assignee_id == actor.id:
        task, _ = await merge_task(actor=actor, task_id=task.id, data=TaskPatch(due_date=due_date))
    return task


async def from_workflow_warning(
    *,
    step_id: uuid.UUID,
    assignee_id: uuid.UUID,
    title: str,
    due_at: datetime.datetime | None,
    account_id: uuid.UUID | None = None,
    now: datetime.datetime | None = None,
) -> Task | None:
    """The task of an SLA warning on a workflow step one person decides (once per step), due when the step is.

    Runs in the caller's transaction (the SLA scan's batch); None when the person can no longer be given
    tasks (deactivated meanwhile), so a warning never fails the scan.
    """
    zone = business_zone()
    local = (due_at or now or utcnow()).astimezone(zone)
    data = TaskCreate(
        title=title[:200] or "-",
        account_id=account_id,
        assignee_id=assignee_id,
        due_date=local.date(),
        due_time=local.strftime("%H:%M") if due_at is not None else None,
        priority="high",
        kind="other",
    )
    try:
        return await create_task(actor=None, data=data, source="workflow", source_key=str(step_id))
    except InvalidInput:  # raised before anything is written: the scan's transaction goes on
        return None
