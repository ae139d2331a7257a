"""What devices sync of field work: visit plans and visits, within their windows, in the actor's scope.

The sync layer calls these inside its read snapshot (docs/sync.md). Every function answers rows to
upsert and ids to delete on the device: a row that changed but left the actor's scope, its window or
existence comes back as a delete. Plans are scoped by their owner (as ``GET /api/visit-plans``),
visits by their account's owner (as ``GET /api/visits``), so a reassigned account's visits follow it.
"""

import datetime
import uuid
from collections.abc import Sequence
from typing import Any

from fieldcrm.lib.db import as_date
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.visits import services
from fieldcrm.visits.schemas import Visit, VisitPlan
from fieldcrm.visits.tables import Visit as VisitRow
from fieldcrm.visits.tables import VisitPlan as PlanRow

Changes = tuple[list[Any], list[uuid.UUID]]

PLAN_COLUMNS = (*services._PLAN_COLUMNS, PlanRow.account.deleted_at.as_alias("account_deleted"))
VISIT_COLUMNS = (*services._VISIT_COLUMNS, VisitRow.account.deleted_at.as_alias("account_deleted"))


# ---------------------------------------------------------------- plans (date from ``start`` to ``end``)


def _plan_owner(actor: Actor) -> list[Any]:
    limit = scope.owner_filter(actor, PlanRow.owner)
    return [] if limit is None else [limit]


def _split_plans(
    rows: Sequence[dict[str, Any]], start: datetime.date, end: datetime.date, today: datetime.date
) -> Changes:
    live: list[VisitPlan] = []
    gone: list[uuid.UUID] = []
    for row in rows:
        date = as_date(row["date"])
        if row["deleted_at"] is None and row["account_deleted"] is None and start <= date <= end:
            live.append(services.plan_out(row, today))
        else:
            gone.append(row["id"])
    return live, gone


async def plans_snapshot(
    *, actor: Actor, start: datetime.date, end: datetime.date, today: datetime.date
) -> list[VisitPlan]:
    """Live plans in scope dated from ``start`` to ``end``."""
    rows = await PlanRow.select(*PLAN_COLUMNS).where(
        PlanRow.deleted_at.is_null(),
        PlanRow.account.deleted_at.is_null(),
        PlanRow.date >= start,
        PlanRow.date <= end,
        *_plan_owner(actor),
    )
    return [services.plan_out(r, today) for r in rows]


async def plans_changes_since(
    *, actor: Actor, since: int, start: datetime.date, end: datetime.date, today: datetime.date
) -> Changes:
    """Plans in scope written after ``since``: upserts, or deletes when deleted or moved out of the window."""
    rows = await PlanRow.select(*PLAN_COLUMNS).where(PlanRow.sync_version > since, *_plan_owner(actor))
    return _split_plans(rows, start, end, today)


async def plans_follow(
    *, actor: Actor, account_ids: Sequence[uuid.UUID], start: datetime.date, end: datetime.date, today: datetime.date
) -> Changes:
    """Plans of accounts whose owner moved: those the actor now sees, and deletes for the rest."""
    rows = await PlanRow.select(*PLAN_COLUMNS).where(
        PlanRow.account.is_in(list(account_ids)), PlanRow.date >= start, PlanRow.date <= end
    )
    visible = {
        r["id"]
        for r in await PlanRow.select(PlanRow.id).where(PlanRow.account.is_in(list(account_ids)), *_plan_owner(actor))
    }
    live, gone = _split_plans([r for r in rows if r["id"] in visible], start, end, today)
    return live, [*gone, *(r["id"] for r in rows if r["id"] not in visible)]


async def plans_shift(
    *,
    actor: Actor,
    old_start: datetime.date,
    old_end: datetime.date,
    start: datetime.date,
    end: datetime.date,
    today: datetime.date,
) -> Changes:
    """The window moved on since the last pull: plans that entered at its far end, and the days that left it."""
    entered: list[VisitPlan] = []
    if end > old_end:
        rows = await PlanRow.select(*PLAN_COLUMNS).where(
            PlanRow.deleted_at.is_null(),
            PlanRow.account.deleted_at.is_null(),
            PlanRow.date > old_end,
            PlanRow.date <= end,
            *_plan_owner(actor),
        )
        entered = [services.plan_out(r, today) for r in rows]
    left: list[uuid.UUID] = []
    if start > old_start:
        rows = await PlanRow.select(PlanRow.id).where(
            PlanRow.date >= old_start, PlanRow.date < start, *_plan_owner(actor)
        )
        left = [r["id"] for r in rows]
    return entered, left


# ---------------------------------------------------------------- visits (checked in on or after ``since_day``)


def _visit_owner(actor: Actor) -> list[Any]:
    limit = scope.owner_filter(actor, VisitRow.account.owner)
    return [] if limit is None else [limit]


def _split_visits(rows: Sequence[dict[str, Any]], since_day: datetime.date) -> Changes:
    live: list[Visit] = []
    gone: list[uuid.UUID] = []
    for row in rows:
        if row["account_deleted"] is None and as_date(row["checked_in_on"]) >= since_day:
            live.append(services.visit_out(row))
        else:
            gone.append(row["id"])
    return live, gone


async def visits_snapshot(*, actor: Actor, since_day: datetime.date) -> list[Visit]:
    """Visits on accounts in scope checked in on or after ``since_day``, with their verdicts and flags."""
    rows = await VisitRow.select(*VISIT_COLUMNS).where(
        VisitRow.checked_in_on >= since_day, VisitRow.account.deleted_at.is_null(), *_visit_owner(actor)
    )
    return [services.visit_out(r) for r in rows]


async def visits_changes_since(*, actor: Actor, since: int, since_day: datetime.date) -> Changes:
    """Visits in scope written after ``since`` (a check-out, a log, a review, a re-judged verdict)."""
    rows = await VisitRow.select(*VISIT_COLUMNS).where(VisitRow.sync_version > since, *_visit_owner(actor))
    return _split_visits(rows, since_day)


async def visits_follow(*, actor: Actor, account_ids: Sequence[uuid.UUID], since_day: datetime.date) -> Changes:
    """Visits of accounts whose owner moved: the window's visits if the actor now sees the account, else deletes."""
    ids = list(account_ids)
    rows = await VisitRow.select(*VISIT_COLUMNS).where(VisitRow.account.is_in(ids), VisitRow.checked_in_on >= since_day)
    visible = {
        r["id"] for r in await VisitRow.select(VisitRow.id).where(VisitRow.account.is_in(ids), *_visit_owner(actor))
    }
    live, gone = _split_visits([r for r in rows if r["id"] in visible], since_day)
    return live, [*gone, *(r["id"] for r in rows if r["id"] not in visible)]


async def visits_shift(*, actor: Actor, old_since_day: datetime.date, since_day: datetime.date) -> Changes:
    """Visits that aged out of the window since the last pull."""
    if since_day <= old_since_day:
        return [], []
    rows = await VisitRow.select(VisitRow.id).where(
        VisitRow.checked_in_on >= old_since_day, VisitRow.checked_in_on < since_day, *_visit_owner(actor)
    )
    return [], [r["id"] for r in rows]
