"""What devices sync of tasks: the sync layer calls these inside its read snapshot (docs/tasks.md).

Scope is the assignee's, through ``services.in_scope`` (the scope function on ``tasks.assignee``). A
task handed to someone outside the actor's scope comes back as a delete through ``previous_assignee``.
"""

import datetime
import uuid

from fieldcrm.lib.tables import utcnow
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.tasks.schemas import Task
from fieldcrm.tasks.services import COLUMNS, in_scope, task_out
from fieldcrm.tasks.tables import Task as TaskRow

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

    Deletes are tasks removed (soft-deleted) in scope, and tasks whose last move took them from someone
    in the actor's scope to someone outside it.
    """
    changed = await TaskRow.select(*COLUMNS).where(TaskRow.sync_version > since, *in_scope(actor))
    upserts = [task_out(r) for r in changed if r["deleted_at"] is None]
    deletes = [r["id"] for r in changed if r["deleted_at"] is not None]
    previous = scope.owner_filter(actor, TaskRow.previous_assignee)
    if previous is not None:  # HQ sees every assignee: nothing leaves its scope
        seen = {r["id"] for r in changed}
        left = await TaskRow.select(TaskRow.id).where(TaskRow.sync_version > since, previous)
        deletes += [r["id"] for r in left if r["id"] not in seen]
    return upserts, deletes
