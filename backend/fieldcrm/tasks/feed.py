"""What devices sync of tasks: the sync layer calls these inside its read snapshot (docs/tasks.md).

Scope is the assignee's, through ``services.in_scope`` (the scope function on ``tasks.assignee``). A
task that leaves the actor's scope (reassigned, or its assignee moved in the org tree) comes back as a
delete; one that enters it, whole.
"""

import datetime
import uuid

from fieldcrm.lib.db import as_uuid, write_transaction
from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.tasks.schemas import Task
from fieldcrm.tasks.services import COLUMNS, in_scope, task_out
from fieldcrm.tasks.tables import Task as TaskRow
from fieldcrm.tasks.tables import TaskScopeChange

RECENT_DAYS = 30  # done and skipped tasks stay on the device this long


async def snapshot(*, actor: Actor) -> list[Task]:
    """Every task a device of the actor holds: open ones, and those done or skipped in the last 30 days."""
    since = utcnow() - datetime.timedelta(days=RECENT_DAYS)
    rows = await TaskRow.select(*COLUMNS).where(
        TaskRow.deleted_at.is_null(),
        (TaskRow.state == "open") | (TaskRow.completed_at >= since),
        *in_scope(actor),
    )
    return [task_out(r) for r in rows]


async def changes_since(*, actor: Actor, since: int) -> tuple[list[Task], list[uuid.UUID]]:
    """Tasks to upsert and ids to delete on the device since sync version ``since``.

    Upserts: tasks in scope that changed, and tasks that came into scope (reassigned to someone the
    actor sees, or their assignee moved into the actor's subtree). Deletes: tasks removed in scope, and
    tasks that left it (handed to someone outside, or their assignee or unit moved away), from the
    scope-change log the triggers write (migrations/tasks).
    """
    changed = await TaskRow.select(*COLUMNS).where(TaskRow.sync_version > since, *in_scope(actor))
    upserts = [task_out(r) for r in changed if r["deleted_at"] is None]
    deletes = [r["id"] for r in changed if r["deleted_at"] is not None]
    moves = TaskScopeChange.select(TaskScopeChange.task_id).where(TaskScopeChange.version > since)
    if (was_mine := scope.owner_filter(actor, TaskScopeChange.old_assignee)) is not None:
        moves = moves.where(TaskScopeChange.old_assignee.is_null() | was_mine)
    seen = {r["id"] for r in changed}
    moved = {as_uuid(r["task_id"]) for r in await moves} - seen
    if moved:
        arrived = await TaskRow.select(*COLUMNS).where(
            TaskRow.id.is_in(list(moved)), TaskRow.deleted_at.is_null(), *in_scope(actor)
        )
        upserts += [task_out(r) for r in arrived]
        deletes += sorted(moved - {r["id"] for r in arrived})
    return upserts, deletes


async def purge(*, deleted_before: datetime.datetime, version: int) -> int:
    """Drop tasks deleted before ``deleted_before`` and scope-change rows at or below ``version``.

    For the sync layer's tombstone purge (sync/services.py ``purge_tombstones``), which raises the horizon
    to ``version`` in the same transaction so that older cursors reset. Returns the tasks dropped.
    """
    async with write_transaction():
        gone = await TaskRow.delete().where(TaskRow.deleted_at < deleted_before).returning(TaskRow.id)
        await TaskScopeChange.delete().where(TaskScopeChange.version <= version)
    return len(gone)
