"""The offline protocol's shapes (docs/sync.md). Unknown fields are ignored: old and new clients still sync."""

import datetime
import uuid
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from fieldcrm.accounts.duplicates import DuplicateCandidate
from fieldcrm.accounts.feed import RevenueCell
from fieldcrm.accounts.schemas import (
    Account,
    AccountCreate,
    AccountPatch,
    Contact,
    ContactCreate,
    ContactPatch,
    Holding,
    Note,
)
from fieldcrm.cases.schemas import Case, Project
from fieldcrm.lib.structs import BaseStruct
from fieldcrm.org.schemas import Latitude, Longitude
from fieldcrm.sales.feed import SyncedQuote
from fieldcrm.sales.schemas import Opportunity
from fieldcrm.tasks.schemas import Task
from fieldcrm.visits.schemas import Accuracy, Visit, VisitLogPut, VisitPlan, VisitPlanPatch

MAX_BATCH = 500


class Mutation(BaseStruct):
    """One change made on a device: numbered 1, 2, 3... per client, in the order it was made."""

    id: Annotated[int, Meta(ge=1)]
    name: Annotated[str, Meta(max_length=64)]
    args: dict[str, Any]
    captured_at: datetime.datetime | None = None


class PushRequest(BaseStruct):
    """Mutations to apply, in order (at most 500)."""

    client_id: uuid.UUID
    mutations: list[Mutation]
    # The device's clock when it sent the batch: the server measures the clock's skew from it.
    sent_at: datetime.datetime | None = None


class MutationResult(BaseStruct):
    """What became of one mutation."""

    id: int
    status: Literal["applied", "skipped", "rejected"]
    code: str | None = None
    message: str | None = None
    conflicts: dict[str, Any] | None = None  # per field {yours, server}, for guarded fields on a stale base
    # account.create answered code "possible_duplicate": the accounts it may duplicate (a leader can merge them).
    candidates: list[DuplicateCandidate] | None = None


class PushResponse(BaseStruct):
    """Results in order; ``lastMutationId`` is where the next push continues."""

    last_mutation_id: int
    results: list[MutationResult]


class PullRequest(BaseStruct):
    """Changes since the cursor the last pull returned (null: everything)."""

    client_id: uuid.UUID
    cursor: str | None = None


class Deletes(BaseStruct, kw_only=True):
    """Ids the device must remove.

    A deleted account takes everything of it along on the device (contacts, holdings, notes, plans,
    visits, opportunities, quotes, cases, projects, tasks). Rows that left the caller's scope or their window
    come back here too.
    """

    accounts: list[uuid.UUID]
    contacts: list[uuid.UUID]
    holdings: list[uuid.UUID]
    notes: list[uuid.UUID]
    plans: list[uuid.UUID] = []  # noqa: RUF012 - msgspec copies defaults
    visits: list[uuid.UUID] = []  # noqa: RUF012
    opportunities: list[uuid.UUID] = []  # noqa: RUF012
    quotes: list[uuid.UUID] = []  # noqa: RUF012
    cases: list[uuid.UUID] = []  # noqa: RUF012
    projects: list[uuid.UUID] = []  # noqa: RUF012
    tasks: list[uuid.UUID] = []  # noqa: RUF012


class PullResponse(BaseStruct, kw_only=True):
    """Rows to upsert, ids to delete, and the cursor for the next pull.

    Accounts (with contacts, holdings, notes, revenue) page through a full snapshot; the other kinds
    come whole with its first page. Windows (settings ``FIELDCRM_SYNC_*``): plans from 30 days back to
    60 ahead, visits of the last 90 days, opportunities open or closed in the last 180 days, quotes,
    cases and projects open or closed in the last 180 days; tasks open or done in the last 30 days.
    """

    cursor: str
    reset: bool
    more: bool
    accounts: list[Account]
    contacts: list[Contact]
    holdings: list[Holding]
    notes: list[Note]
    revenue: list[RevenueCell]
    plans: list[VisitPlan] = []  # noqa: RUF012 - msgspec copies defaults
    visits: list[Visit] = []  # noqa: RUF012
    opportunities: list[Opportunity] = []  # noqa: RUF012
    quotes: list[SyncedQuote] = []  # noqa: RUF012
    cases: list[Case] = []  # noqa: RUF012
    projects: list[Project] = []  # noqa: RUF012
    tasks: list[Task] = []  # noqa: RUF012
    deletes: Deletes


class Rejection(BaseStruct):
    """A mutation the server could never apply, and why."""

    mutation_id: int
    name: str
    code: str
    message: str
    at: datetime.datetime


class RejectionPage(BaseStruct):
    """A client's rejections, newest first."""

    items: list[Rejection]
    total: int
    next_cursor: str | None


# ---------------------------------------------------------------- mutation arguments
# One Struct per mutation name: the registry in services maps name -> (args, handler).


class AccountUpdateArgs(msgspec.Struct, rename="camel", kw_only=True):
    """account.update: only the fields the user changed (merged field by field)."""

    id: uuid.UUID
    changes: AccountPatch
    base_version: int | None = None


class AccountNoteArgs(msgspec.Struct, rename="camel", kw_only=True):
    """account.note: a new note."""

    id: uuid.UUID
    account_id: uuid.UUID
    text: Annotated[str, Meta(min_length=1, max_length=10_000)]


class ContactCreateArgs(ContactCreate, kw_only=True):
    """contact.create: the contact's fields, its client-made id and its account."""

    account_id: uuid.UUID


class ContactUpdateArgs(msgspec.Struct, rename="camel", kw_only=True):
    """contact.update: only the changed fields."""

    id: uuid.UUID
    account_id: uuid.UUID
    changes: ContactPatch
    base_version: int | None = None


class ContactDeleteArgs(msgspec.Struct, rename="camel", kw_only=True):
    """contact.delete."""

    id: uuid.UUID
    account_id: uuid.UUID


# ---------------------------------------------------------------- field work (visits)


class VisitCheckinArgs(msgspec.Struct, rename="camel", kw_only=True):
    """visit.checkin: the check-in made offline; its capturedAt is the device time of the tap."""

    id: uuid.UUID
    account_id: uuid.UUID
    plan_id: uuid.UUID | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    accuracy_m: Accuracy | None = None
    fix_at: datetime.datetime | None = None


class VisitCheckoutArgs(msgspec.Struct, rename="camel", kw_only=True):
    """visit.checkout: leaving the site (capturedAt is when)."""

    visit_id: uuid.UUID
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    accuracy_m: Accuracy | None = None


class VisitLogArgs(VisitLogPut, kw_only=True):
    """visit.log: what happened at the visit."""

    visit_id: uuid.UUID


class PlanUpdateArgs(VisitPlanPatch, kw_only=True):
    """plan.update: move, re-purpose or cancel a plan."""

    id: uuid.UUID


# ---------------------------------------------------------------- created on the phone


class AccountCreateArgs(AccountCreate, kw_only=True):
    """account.create: a prospect, or a member company under a group (``parentId``), made on the phone.

    ``code`` may be left out for a prospect (the server makes one from the id). The phone's fix
    (``pinLatitude``, ``pinLongitude``, ``pinAccuracyM``) is not the account's location: it becomes a
    location proposal a leader confirms, as an accurate check-in's does.
    """

    id: uuid.UUID  # the client makes the id, so a replay finds it
    code: Annotated[str, Meta(max_length=64, pattern=r"^[A-Za-z0-9_.\-/]*$")] = ""
    pin_latitude: Latitude | None = None
    pin_longitude: Longitude | None = None
    pin_accuracy_m: Accuracy | None = None
