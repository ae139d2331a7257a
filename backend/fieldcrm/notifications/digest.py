"""The daily digest: one morning notification with what waits for each person who asked for it.

At 08:00 in the person's zone (their push preferences) or at the first worker turn after it, people
with the daily digest switched on get one notification: approvals waiting for them, visits planned
for their day, and overdue or never-visited accounts in their scope. The row's id is derived from
the person and the day, so two workers (or two turns) never queue a second one. Nothing waiting,
nothing sent.
"""

import datetime
import uuid
from zoneinfo import ZoneInfo

from fieldcrm.analytics import coverage
from fieldcrm.lib.db import write_transaction
from fieldcrm.lib.pagination import PageParams
from fieldcrm.lib.tables import utcnow
from fieldcrm.notifications.messages import TTL_OF
from fieldcrm.notifications.tables import Notification, PushPreference
from fieldcrm.org.services import actors_of
from fieldcrm.tasks import services as tasks
from fieldcrm.visits import services as visits
from fieldcrm.workflow import services as workflow

DIGEST_HOUR = 8
_DIGEST_IDS = uuid.UUID("6c0f3f2e-2b8e-4f0e-9d55-3b1f3c9a7d21")  # namespace of digest row ids
_ONE = PageParams(limit=1)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Shanghai")


async def queue_daily_digests(*, now: datetime.datetime | None = None) -> int:
    """Queue today's digest for everyone past their 08:00 who has none yet; returns how many were queued."""
    now = now or utcnow()
    prefs = await PushPreference.select(PushPreference.user, PushPreference.timezone).where(
        PushPreference.daily_digest.eq(True)
    )
    due: dict[uuid.UUID, datetime.date] = {}
    for pref in prefs:
        local = now.astimezone(_zone(pref["timezone"]))
        if local.hour >= DIGEST_HOUR:
            due[pref["user"]] = local.date()
    if not due:
        return 0
    ids = {user: uuid.uuid5(_DIGEST_IDS, f"{user}:{day.isoformat()}") for user, day in due.items()}
    queued = {
        r["id"] for r in await Notification.select(Notification.id).where(Notification.id.is_in(list(ids.values())))
    }
    count = 0
    for actor in await actors_of([user for user, row_id in ids.items() if row_id not in queued]):
        approvals = (await workflow.inbox(actor=actor, page=_ONE)).total
        plans = await visits.open_plan_count(owner_id=actor.id, on=due[actor.id])
        overdue = (await coverage.neglected(actor=actor, page=_ONE)).total
        tasks_due, tasks_overdue = await tasks.due_counts(user_id=actor.id, on=due[actor.id])
        if not (approvals or plans or overdue or tasks_due or tasks_overdue):
            continue
        row = Notification(
            id=ids[actor.id],
            user=actor.id,
            kind="digest.daily",
            topic="digest",
            params={
                "title": "",
                "approvals": approvals,
                "plans": plans,
                "overdue": overdue,
                "tasksDue": tasks_due,
                "tasksOverdue": tasks_overdue,
                "url": "#/today",
            },
            url="#/today",
            urgency="low",
            ttl_s=TTL_OF["digest.daily"],
            created_at=now,
            available_at=now,
        )
        async with write_transaction():
            inserted = await Notification.insert(row).on_conflict(action="DO NOTHING").returning(Notification.id)
        count += len(inserted)
    return count
