"""Tasks on the account 360 timeline: made, done, skipped.

Items carry a message key (``data.messageKey``: ``timeline.task.created`` / ``.done`` / ``.skipped``)
for the app to render in the reader's language; title and detail are the people's own words (the
task's title, its outcome or skip reason), never server English.
"""

import uuid
from typing import Any

from fieldcrm.accounts import timeline
from fieldcrm.accounts.schemas import TimelineItem
from fieldcrm.lib.db import as_date
from fieldcrm.tasks.schemas import PRIORITIES
from fieldcrm.tasks.tables import Task as TaskRow


def _items(row: dict[str, Any]) -> list[TimelineItem]:
    data = {
        "state": row["state"],
        "kind": row["kind"],
        "source": row["source"],
        "priority": PRIORITIES[int(row["priority"])] if 0 <= int(row["priority"]) < len(PRIORITIES) else "normal",
        "dueDate": as_date(row["due_date"]).isoformat(),
        "assigneeName": row["assignee_name"] or "",
    }
    items = [
        TimelineItem(
            at=row["created_at"],
            kind="task.created",
            title=row["title"],
            detail=row["description"],
            ref_id=row["id"],
            actor_name=row["creator_name"] or "",
            data={**data, "messageKey": "timeline.task.created"},
        )
    ]
    if row["state"] != "open" and row["completed_at"] is not None:
        items.append(
            TimelineItem(
                at=row["completed_at"],
                kind=f"task.{row['state']}",
                title=row["title"],
                detail=row["outcome"] if row["state"] == "done" else row["skip_reason"],
                ref_id=row["id"],
                actor_name=row["assignee_name"] or "",
                data={**data, "messageKey": f"timeline.task.{row['state']}"},
            )
        )
    return items


async def source(account_id: uuid.UUID, limit: int) -> list[TimelineItem]:
    """The account's most recently touched tasks as timeline items (one statement)."""
    rows = await (
        TaskRow.select(
            TaskRow.id,
            TaskRow.title,
            TaskRow.description,
            TaskRow.state,
            TaskRow.kind,
            TaskRow.source,
            TaskRow.priority,
            TaskRow.due_date,
            TaskRow.outcome,
            TaskRow.skip_reason,
            TaskRow.created_at,
            TaskRow.completed_at,
            TaskRow.creator.display_name.as_alias("creator_name"),
            TaskRow.assignee.display_name.as_alias("assignee_name"),
        )
        .where(TaskRow.account == account_id, TaskRow.deleted_at.is_null())
        .order_by(TaskRow.updated_at, ascending=False)
        .limit(limit)
    )
    items = [item for row in rows for item in _items(row)]
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


timeline.register("tasks", source)
