"""Task reminders: at a task's ``remind_at`` its assignee gets one ``task.reminder`` notification.

The job claims due reminders and writes their outbox rows in the transaction that sets ``reminded_at``,
so a reminder goes out once however many workers run (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite
has one writer). Moving ``remind_at`` clears ``reminded_at`` (tasks/services.py), which re-arms it.
Preferences and quiet hours are the delivery worker's business, as for every kind.
"""

import datetime

from fieldcrm.lib.db import FieldcrmSQLiteEngine, as_date, engine, write_transaction
from fieldcrm.lib.tables import utcnow
from fieldcrm.notifications import services as notifications
from fieldcrm.tasks.tables import Task as TaskRow

BATCH = 200
TTL_S = 12 * 3600  # a reminder is worth little once the day has gone


async def send_due_reminders(*, now: datetime.datetime | None = None, batch: int = BATCH) -> int:
    """Queue the reminders that have come (open tasks only); returns how many were queued."""
    now = now or utcnow()
    async with write_transaction():
        query = (
            TaskRow.select(
                TaskRow.id,
                TaskRow.assignee,
                TaskRow.title,
                TaskRow.due_date,
                TaskRow.due_time,
                TaskRow.account.name.as_alias("account_name"),
            )
            .where(
                TaskRow.state == "open",
                TaskRow.remind_at <= now,
                TaskRow.reminded_at.is_null(),
                TaskRow.deleted_at.is_null(),
            )
            .order_by(TaskRow.remind_at)
            .limit(batch)
        )
        if not isinstance(engine(), FieldcrmSQLiteEngine):
            query = query.lock_rows("UPDATE", skip_locked=True, of=(TaskRow,))
        rows = await query
        if not rows:
            return 0
        outbox = []
        for r in rows:
            outbox += notifications.prepare(
                user_ids=[r["assignee"]],
                kind="task.reminder",
                params={
                    "title": r["title"],
                    "dueDate": as_date(r["due_date"]).isoformat(),
                    "dueTime": r["due_time"] or "",
                    "accountName": r["account_name"] or "",
                    "subjectKind": "task",
                    "subjectId": str(r["id"]),
                },
                topic=f"task-{r['id']}",
                url=f"#/tasks/{r['id']}",
                ttl_s=TTL_S,
                available_at=now,
            )
        await notifications.write(outbox)
        await TaskRow.update({TaskRow.reminded_at: now}).where(TaskRow.id.is_in([r["id"] for r in rows]))
    return len(rows)
