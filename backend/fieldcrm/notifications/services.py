"""The notification outbox: ``enqueue`` writes rows in the caller's transaction; delivery comes later.

A notification is a hint (the PWA pulls fresh state when opened): rows carry the kind and the
parameters the delivery worker needs to localise a title and body in the recipient's language.
"""

import datetime
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from fieldcrm.lib.db import insert_rows, write_transaction
from fieldcrm.lib.errors import InvalidInput
from fieldcrm.lib.tables import new_id, utcnow
from fieldcrm.notifications.tables import Notification

Urgency = Literal["very-low", "low", "normal", "high"]
URGENCIES: frozenset[str] = frozenset({"very-low", "low", "normal", "high"})

# The kinds the delivery worker localises; params each kind carries are listed beside it.
KINDS: dict[str, str] = {
    "approval.requested": "a step waits for you: title, subjectKind, stepLabel, ownerName, dueAt, url",
    "approval.decided": "your subject was approved or rejected: title, decision, actorName, comment, url",
    "approval.returned": "your subject was returned for changes: title, actorName, comment, url",
    "approval.sla_warning": "a step of yours is due soon: title, stepLabel, dueAt, url",
    "approval.escalated": "an overdue step was escalated to you: title, stepLabel, fromNames, dueAt, url",
    "work.assigned": "a work-order step (e.g. a case's) was assigned to you: title, subjectKind, stepLabel, url",
    "digest.daily": "the morning digest (notifications/digest.py): approvals, plans, overdue, tasks due/overdue, url",
    "task.reminder": "a task of yours is due (tasks/reminders.py): title, dueDate, dueTime, accountName, url",
}
MAX_TTL_S = 28 * 86_400


async def enqueue(
    *,
    user_ids: Iterable[uuid.UUID],
    kind: str,
    params: Mapping[str, Any],
    topic: str = "",
    url: str = "",
    ttl_s: int = 86_400,
    urgency: Urgency = "normal",
    available_at: datetime.datetime | None = None,
) -> int:
    """Write one outbox row per distinct recipient, in the caller's transaction; returns how many.

    Args:
        user_ids: Recipients (duplicates are written once).
        kind: One of ``KINDS``.
        params: What the localised text needs (subject title, actor name, decision, comment...).
        topic: Collapses notifications about the same thing on the device (e.g. ``quote-<id>``).
        url: The PWA route to open.
        ttl_s: How long the push service keeps the message for a sleeping phone (1 s to 28 days).
        urgency: Web Push urgency.
        available_at: Not before this time (default now).
    """
    rows = prepare(
        user_ids=user_ids,
        kind=kind,
        params=params,
        topic=topic,
        url=url,
        ttl_s=ttl_s,
        urgency=urgency,
        available_at=available_at,
    )
    await write(rows)
    return len(rows)


def prepare(
    *,
    user_ids: Iterable[uuid.UUID],
    kind: str,
    params: Mapping[str, Any],
    topic: str = "",
    url: str = "",
    ttl_s: int = 86_400,
    urgency: Urgency = "normal",
    available_at: datetime.datetime | None = None,
) -> list[Notification]:
    """Outbox rows for ``write`` (for callers that gather many events and write them at once); see ``enqueue``."""
    if kind not in KINDS:
        msg = f"unknown notification kind {kind!r}"
        raise InvalidInput(msg, field="kind")
    if urgency not in URGENCIES:
        msg = f"urgency must be one of {sorted(URGENCIES)}, not {urgency!r}"
        raise InvalidInput(msg, field="urgency")
    if not 0 < ttl_s <= MAX_TTL_S:
        msg = f"ttl_s must be between 1 and {MAX_TTL_S}, not {ttl_s}"
        raise InvalidInput(msg, field="ttlS")
    now = utcnow()
    return [
        Notification(
            id=new_id(),
            user=user_id,
            kind=kind,
            topic=topic[:80],
            params=dict(params),
            url=url[:300],
            urgency=urgency,
            ttl_s=ttl_s,
            created_at=now,
            available_at=available_at or now,
        )
        for user_id in dict.fromkeys(user_ids)
    ]


async def write(rows: list[Notification]) -> None:
    """Insert prepared outbox rows in one statement, in the caller's transaction (or a new one)."""
    if rows:
        async with write_transaction():
            await insert_rows(Notification, rows)
