"""API shapes of cases and delivery projects."""

import datetime
import uuid
from typing import Annotated, Literal

from msgspec import Meta

from fieldcrm.lib.structs import BaseStruct

CaseType = Literal["complaint", "fault", "service_request"]
Priority = Literal["urgent", "high", "normal", "low"]
CaseState = Literal["open", "in_progress", "resolved", "cancelled"]
ProjectState = Literal["active", "completed", "cancelled"]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Text = Annotated[str, Meta(max_length=10_000)]


class WorkStep(BaseStruct):
    """A step of the case's or project's work order (done through POST /api/approvals/{id}/decision)."""

    id: uuid.UUID
    name: str
    label: str
    status: str
    due_at: datetime.datetime | None
    warn_at: datetime.datetime | None
    overdue: bool
    completed_at: datetime.datetime | None


class Case(BaseStruct):
    """A complaint, fault or service request."""

    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    owner_id: uuid.UUID
    owner_name: str
    type: CaseType
    priority: Priority
    title: str
    description: str
    state: CaseState
    last_step: str
    due_at: datetime.datetime
    overdue: bool
    resolved_at: datetime.datetime | None
    steps: list[WorkStep]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CaseCreate(BaseStruct):
    """A new case on an account the caller sees; the account's manager handles it."""

    account_id: uuid.UUID
    type: CaseType
    title: Title
    priority: Priority = "normal"
    description: Text = ""
    id: uuid.UUID | None = None


class CasePage(BaseStruct):
    """A page of cases (without their steps)."""

    items: list[Case]
    total: int
    next_cursor: str | None


class Project(BaseStruct):
    """A delivery project."""

    id: uuid.UUID
    name: str
    account_id: uuid.UUID
    account_name: str
    opportunity_id: uuid.UUID | None
    owner_id: uuid.UUID
    owner_name: str
    start_date: datetime.date
    state: ProjectState
    last_step: str
    notes: str
    completed_at: datetime.datetime | None
    steps: list[WorkStep]
    version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class ProjectCreate(BaseStruct):
    """Start delivering a won opportunity."""

    opportunity_id: uuid.UUID
    name: Annotated[str, Meta(max_length=200)] = ""  # default: the opportunity's name
    start_date: datetime.date | None = None  # default: today
    notes: Text = ""
    id: uuid.UUID | None = None


class ProjectPage(BaseStruct):
    """A page of projects (without their steps)."""

    items: list[Project]
    total: int
    next_cursor: str | None
