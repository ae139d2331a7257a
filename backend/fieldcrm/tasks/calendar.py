"""A person's calendar: visit plans, tasks, contract (holding) end dates and approvals waiting, in one shape.

The calendar is one person's: the caller's own, or (for a leader) someone in their subtree; the person
is resolved through ``scope.user_filter``, the rule every people read uses. The ICS feed (tasks/ics.py)
reads the same items for the feed's owner.
"""

import datetime
import uuid
from typing import Any

from fieldcrm.accounts.tables import Holding as HoldingRow
from fieldcrm.lib.db import as_date, as_uuid
from fieldcrm.lib.errors import InvalidInput, NotFound
from fieldcrm.lib.pagination import MAX_LIMIT, PageParams
from fieldcrm.org import scope
from fieldcrm.org.schemas import Actor
from fieldcrm.org.services import actors_of
from fieldcrm.org.tables import User
from fieldcrm.tasks.schemas import Calendar, CalendarItem
from fieldcrm.tasks.services import business_zone, due_moment
from fieldcrm.tasks.tables import Task as TaskRow
from fieldcrm.visits.tables import VisitPlan as PlanRow
from fieldcrm.workflow import services as workflow

MAX_DAYS = 92  # a quarter and a day: what a month view with its neighbours or a quarter plan needs
TASK_MINUTES = 30  # a task with a due time shows as half an hour


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=business_zone()).astimezone(datetime.UTC)


def _all_day(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return _midnight(day), _midnight(day + datetime.timedelta(days=1))


def check_range(start: datetime.date, end: datetime.date) -> None:
    """422 unless ``start <= end`` and the range spans at most MAX_DAYS days."""
    if end < start:
        msg = f"to ({end}) is before from ({start})"
        raise InvalidInput(msg, field="to")
    if (end - start).days + 1 > MAX_DAYS:
        last = start + datetime.timedelta(days=MAX_DAYS - 1)
        msg = f"a calendar shows at most {MAX_DAYS} days at once: ask for {start} to {last}, then the next range"
        raise InvalidInput(msg, field="to")


async def _plans(user_id: uuid.UUID, start: datetime.date, end: datetime.date) -> list[CalendarItem]:
    rows = await PlanRow.select(
        PlanRow.id,
        PlanRow.date,
        PlanRow.purpose,
        PlanRow.status,
        PlanRow.account,
        PlanRow.account.name.as_alias("account_name"),
    ).where(
        PlanRow.owner == user_id,
        PlanRow.date >= start,
        PlanRow.date <= end,
        PlanRow.deleted_at.is_null(),
        PlanRow.status != "cancelled",
    )
    items = []
    for r in rows:
        day = as_date(r["date"])
        begin, finish = _all_day(day)
        items.append(
            CalendarItem(
                kind="visit_plan",
                id=as_uuid(r["id"]),
                title=r["purpose"] or r["account_name"] or "",
                date=day,
                start=begin,
                end=finish,
                all_day=True,
                url=f"#/today/{day.isoformat()}",
                state=r["status"],
                account_id=r["account"],
                account_name=r["account_name"],
            )
        )
    return items


async def _tasks(user_id: uuid.UUID, start: datetime.date, end: datetime.date) -> list[CalendarItem]:
    rows = await TaskRow.select(
        TaskRow.id,
        TaskRow.title,
        TaskRow.due_date,
        TaskRow.due_time,
        TaskRow.state,
        TaskRow.account,
        TaskRow.account.name.as_alias("account_name"),
    ).where(
        TaskRow.assignee == user_id,
        TaskRow.due_date >= start,
        TaskRow.due_date <= end,
        TaskRow.deleted_at.is_null(),
    )
    items = []
    for r in rows:
        day = as_date(r["due_date"])
        if r["due_time"]:
            begin = due_moment(day, r["due_time"])
            finish = begin + datetime.timedelta(minutes=TASK_MINUTES)
        else:
            begin, finish = _all_day(day)
        items.append(
            CalendarItem(
                kind="task",
                id=as_uuid(r["id"]),
                title=r["title"],
                date=day,
                start=begin,
                end=finish,
                all_day=not r["due_time"],
                url=f"#/tasks/{r['id']}",
                state=r["state"],
                account_id=r["account"],
                account_name=r["account_name"],
            )
        )
    return items


async def _holdings(user_id: uuid.UUID, start: datetime.date, end: datetime.date) -> list[CalendarItem]:
    rows = await HoldingRow.select(
        HoldingRow.id,
        HoldingRow.product,
        HoldingRow.contract_end,
        HoldingRow.account,
        HoldingRow.account.name.as_alias("account_name"),
    ).where(
        HoldingRow.account.owner == user_id,
        HoldingRow.contract_end >= start,
        HoldingRow.contract_end <= end,
        HoldingRow.deleted_at.is_null(),
        HoldingRow.account.deleted_at.is_null(),
    )
    items = []
    for r in rows:
        day = as_date(r["contract_end"])
        begin, finish = _all_day(day)
        items.append(
            CalendarItem(
                kind="holding_end",
                id=as_uuid(r["id"]),
                title=r["product"],
                date=day,
                start=begin,
                end=finish,
                all_day=True,
                url=f"#/a/{r['account']}",
                state=r["product"],
                account_id=r["account"],
                account_name=r["account_name"],
            )
        )
    return items


async def _approvals(person: Actor, start: datetime.date, end: datetime.date) -> list[CalendarItem]:
    """Steps waiting for the person, on the day they are due (or, with no SLA, the day they arrived)."""
    page = await workflow.inbox(actor=person, page=PageParams(limit=MAX_LIMIT))
    zone = business_zone()
    items = []
    for step in page.items:
        moment = step.due_at or step.waiting_since
        day = moment.astimezone(zone).date()
        if not start <= day <= end:
            continue
        items.append(
            CalendarItem(
                kind="approval",
                id=step.step_id,
                title=step.title,
                date=day,
                start=moment,
                end=moment + datetime.timedelta(minutes=TASK_MINUTES),
                all_day=False,
                url=step.url or f"#/approvals/{step.step_id}",
                state="overdue" if step.overdue else "waiting",
            )
        )
    return items


async def items_for(person: Actor, start: datetime.date, end: datetime.date) -> list[CalendarItem]:
    """Everything on one person's calendar in the range, in time order (no scope check: the caller did it)."""
    items = [
        *await _plans(person.id, start, end),
        *await _tasks(person.id, start, end),
        *await _holdings(person.id, start, end),
        *await _approvals(person, start, end),
    ]
    items.sort(key=lambda i: (i.start, not i.all_day, i.kind, str(i.id)))
    return items


async def person(actor: Actor, user_id: uuid.UUID | None) -> Actor:
    """The person whose calendar the actor asks for: themselves, or someone they see (404 otherwise)."""
    if user_id is None or user_id == actor.id:
        return actor
    query: Any = User.select(User.id).where(User.id == user_id)
    if (limit := scope.user_filter(actor)) is not None:
        query = query.where(limit)
    found = await query.first()
    people = await actors_of([user_id]) if found else []
    if not people:
        msg = f"user {user_id} not found"
        raise NotFound(msg)
    return people[0]


async def get_calendar(
    *, actor: Actor, start: datetime.date, end: datetime.date, user_id: uuid.UUID | None = None
) -> Calendar:
    """A person's calendar from ``start`` to ``end`` (both included, at most MAX_DAYS days)."""
    scope.require(actor, "calendar.read")
    check_range(start, end)
    who = await person(actor, user_id)
    return Calendar(user_id=who.id, from_=start, to=end, items=await items_for(who, start, end))
