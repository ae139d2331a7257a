"""API shapes of tasks and the calendar."""

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from fieldcrm.lib.structs import BaseStruct

Priority = Literal["low", "normal", "high", "urgent"]
Kind = Literal["call", "visit", "follow_up", "document", "collection", "retention", "other"]
Source = Literal["manual", "visit_follow_up", "workflow", "retention", "contract", "import"]
State = Literal["open", "done", "skipped"]
Recurrence = Literal["none", "weekly", "monthly"]
Sort = Literal["due", "-due", "priority", "-priority"]

Title = Annotated[str, Meta(min_length=1, max_length=200)]
LongText = Annotated[str, Meta(max_length=4000)]
ClockTime = Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, business time zone")]
Reason = Annotated[str, Meta(max_length=2000)]

PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")  # stored as their index


class Task(BaseStruct):
    """A task: what to do, for whom, by when, and how it ended."""

    id: uuid.UUID
    title: str
    description: str
    account_id: uuid.UUID | None
    account_name: str | None
    opportunity_id: uuid.UUID | None
    quote_id: uuid.UUID | None
    case_id: uuid.UUID | None
    contract_id: uuid.UUID | None
    assignee_id: uuid.UUID
    assignee_name: str
    creator_id: uuid.UUID | None  # None: made by the system (a workflow warning, a renewal)
    due_date: datetime.date
    due_time: str | None
    remind_at: datetime.datetime | None
    reminded_at: datetime.datetime | None
    priority: Priority
    kind: Kind
    source: Source
    source_key: str | None
    state: State
    completed_at: datetime.datetime | None
    outcome: str
    skip_reason: str
    recurrence: Recurrence
    recurrence_of: uuid.UUID | None
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TaskCreate(BaseStruct, forbid_unknown_fields=False):
    """A new task; the assignee defaults to the caller (a rep may assign only themselves)."""

    title: Title
    due_date: datetime.date
    id: uuid.UUID | None = None  # made on the device when created offline
    description: LongText = ""
    account_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    quote_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    contract_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    due_time: ClockTime | None = None
    remind_at: datetime.datetime | None = None
    priority: Priority = "normal"
    kind: Kind = "other"
    recurrence: Recurrence = "none"


class TaskPatch(BaseStruct, forbid_unknown_fields=False):
    """Changed fields only; due date and assignee edited on a stale ``baseVersion`` conflict visibly."""

    title: Title | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    account_id: uuid.UUID | None | UnsetType = UNSET
    opportunity_id: uuid.UUID | None | UnsetType = UNSET
    quote_id: uuid.UUID | None | UnsetType = UNSET
    case_id: uuid.UUID | None | UnsetType = UNSET
    contract_id: uuid.UUID | None | UnsetType = UNSET
    assignee_id: uuid.UUID | UnsetType = UNSET
    due_date: datetime.date | UnsetType = UNSET
    due_time: ClockTime | None | UnsetType = UNSET
    remind_at: datetime.datetime | None | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    kind: Kind | UnsetType = UNSET
    recurrence: Recurrence | UnsetType = UNSET
    base_version: int | None | UnsetType = UNSET


class TaskComplete(BaseStruct, forbid_unknown_fields=False):
    """Mark a task done, saying how it went."""

    outcome: LongText = ""


class TaskSkip(BaseStruct, forbid_unknown_fields=False):
    """Skip a task: the reason is required (a manager reads it)."""

    reason: Reason


class TaskPage(BaseStruct):
    """A page of tasks."""

    items: list[Task]
    total: int
    next_cursor: str | None


# ---------------------------------------------------------------- calendar

CalendarKind = Literal["visit_plan", "task", "holding_end", "approval"]


class CalendarItem(BaseStruct):
    """One thing on a person's calendar; all-day items start at midnight of their day in the business zone."""

    kind: CalendarKind
    id: uuid.UUID
    title: str
    date: datetime.date  # the business day it falls on
    start: datetime.datetime
    end: datetime.datetime
    all_day: bool
    url: str  # the PWA route that opens it
    state: str = ""  # the task's or plan's state, the holding's product...
    account_id: uuid.UUID | None = None
    account_name: str | None = None


class Calendar(BaseStruct):
    """A person's items from ``from`` to ``to`` (both days included), in time order."""

    user_id: uuid.UUID
    from_: datetime.date = msgspec.field(name="from")
    to: datetime.date
    items: list[CalendarItem]


class FeedStatus(BaseStruct):
    """Whether the caller has a calendar feed, and since when (the secret is shown only when made)."""

    exists: bool
    created_at: datetime.datetime | None = None
    last_used_at: datetime.datetime | None = None


class FeedSecret(BaseStruct):
    """A new calendar feed address: shown this once; the server keeps only a hash of it."""

    url: str
    secret: str
    created_at: datetime.datetime
