"""API shapes of visit plans, check-ins, visit logs, reviews, location proposals and coverage."""

import datetime
import uuid
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from fieldcrm.lib.structs import BaseStruct
from fieldcrm.org.schemas import Latitude, Longitude

Verdict = Literal["verified", "out_of_range", "low_accuracy", "unverified"]
FlagCode = Literal["impossible_travel", "stale_fix", "clock_skew", "repeated_coordinates"]
ReviewStatus = Literal["none", "pending", "accepted", "rejected"]
PlanStatus = Literal["planned", "done", "missed", "cancelled"]
CoverageStatus = Literal["covered", "due_soon", "overdue", "never"]
Accuracy = Annotated[float, Meta(ge=0, le=1_000_000)]
Purpose = Annotated[str, Meta(max_length=200)]
LogText = Annotated[str, Meta(max_length=10_000)]
Comment = Annotated[str, Meta(max_length=2_000)]


class Flag(BaseStruct, kw_only=True):
    """A reason a check-in needs a person's review."""

    code: FlagCode
    detail: str


class CheckinCreate(BaseStruct, kw_only=True):
    """A check-in as the phone claims it; the server decides the verdict.

    ``deviceAt`` is the phone's clock when the rep tapped check in; ``sentAt`` the phone's clock when
    the request left (the same for an online check-in; later for one queued offline). Their difference
    from the server's clock reveals a skewed device clock.
    """

    id: uuid.UUID
    account_id: uuid.UUID
    plan_id: uuid.UUID | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    accuracy_m: Accuracy | None = None
    fix_at: datetime.datetime | None = None
    device_at: datetime.datetime
    sent_at: datetime.datetime | None = None


class CheckoutCreate(BaseStruct, kw_only=True):
    """Leaving the customer's site."""

    device_at: datetime.datetime
    sent_at: datetime.datetime | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    accuracy_m: Accuracy | None = None


class VisitLogPut(BaseStruct, kw_only=True):
    """What happened at the visit; a follow-up date plans the next visit."""

    purpose: Purpose = ""
    outcome: LogText = ""
    contact_ids: Annotated[list[uuid.UUID], Meta(max_length=50)] = msgspec.field(default_factory=list)
    notes: LogText = ""
    next_step: Purpose = ""
    follow_up_date: datetime.date | None = None


class Visit(BaseStruct, kw_only=True):
    """A visit: the check-in claim, its verdict and flags, the review, the check-out and the log."""

    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    user_id: uuid.UUID
    user_name: str
    plan_id: uuid.UUID | None
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    fix_at: datetime.datetime | None
    device_at: datetime.datetime
    received_at: datetime.datetime
    checked_in_at: datetime.datetime  # the server's best estimate of when it happened (device clock corrected)
    clock_skew_s: float
    distance_m: float | None
    verdict: Verdict
    flags: list[Flag]
    counts_for_coverage: bool
    review_status: ReviewStatus
    review_comment: str
    reviewed_by_name: str | None
    reviewed_at: datetime.datetime | None
    checked_out_at: datetime.datetime | None
    duration_s: int | None
    purpose: str
    outcome: str
    contact_ids: list[uuid.UUID]
    notes: str
    next_step: str
    follow_up_date: datetime.date | None
    has_photo: bool
    photo_sha256: str | None


class VisitPage(BaseStruct, kw_only=True):
    """A page of visits."""

    items: list[Visit]
    total: int
    next_cursor: str | None


class ReviewDecision(BaseStruct, kw_only=True):
    """A manager's decision on a flagged check-in."""

    decision: Literal["accept", "reject"]
    comment: Comment = ""


class VisitPlanCreate(BaseStruct, kw_only=True):
    """A planned visit; a manager may plan for a rep (``ownerId``)."""

    id: uuid.UUID | None = None
    account_id: uuid.UUID
    date: datetime.date
    purpose: Purpose = ""
    owner_id: uuid.UUID | None = None


class VisitPlanPatch(BaseStruct, kw_only=True):
    """Move, re-purpose or cancel a planned visit."""

    date: datetime.date | UnsetType = UNSET
    purpose: Purpose | UnsetType = UNSET
    cancelled: bool | UnsetType = UNSET


class VisitPlan(BaseStruct, kw_only=True):
    """A planned visit, with where the account is (for ordering and the phone's maps app)."""

    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    account_address: str
    account_tier: str | None
    latitude: float | None
    longitude: float | None
    owner_id: uuid.UUID
    owner_name: str
    date: datetime.date
    purpose: str
    status: PlanStatus  # "missed": planned for a past day and not visited
    visit_id: uuid.UUID | None
    distance_m: float | None = None  # from the previous stop (or the rep's position) in the requested order


class VisitPlanPage(BaseStruct, kw_only=True):
    """A page of planned visits."""

    items: list[VisitPlan]
    total: int
    next_cursor: str | None


class DayPlan(BaseStruct, kw_only=True):
    """One person's plan for a day, in the requested order.

    ``order`` is planned (as created), nearest (nearest first from the position) or route (a short
    path through every stop from the position). Stops without coordinates come last.
    """

    date: datetime.date
    order: Literal["planned", "nearest", "route"]
    items: list[VisitPlan]
    total_distance_m: float | None
    planned_distance_m: float | None  # the same stops in the order they were planned, for comparison


class LocationProposal(BaseStruct, kw_only=True):
    """A location for an account without one, proposed by an accurate check-in; a manager decides."""

    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    visit_id: uuid.UUID
    proposed_by_name: str
    latitude: float
    longitude: float
    accuracy_m: float
    status: Literal["pending", "confirmed", "rejected"]
    created_at: datetime.datetime


class LocationProposalPage(BaseStruct, kw_only=True):
    """A page of location proposals."""

    items: list[LocationProposal]
    total: int
    next_cursor: str | None


class ProposalDecision(BaseStruct, kw_only=True):
    """Confirm or reject a proposed account location."""

    decision: Literal["confirm", "reject"]
    comment: Comment = ""


class LocationSet(BaseStruct, kw_only=True):
    """A manager corrects an account's pin; the reason goes to the audit trail."""

    latitude: Latitude
    longitude: Longitude
    reason: Annotated[str, Meta(min_length=3, max_length=500)]


# ---------------------------------------------------------------- coverage


class CoverageTargets(BaseStruct, kw_only=True):
    """Days between visits per tier; an account is due soon in the last quarter of its interval."""

    a: int
    b: int
    c: int


class CoverageRow(BaseStruct, kw_only=True):
    """Coverage of one group of accounts (a rep, team, city, province or the whole company)."""

    key: str
    name: str
    accounts: int
    covered: int
    due_soon: int
    overdue: int
    never: int
    covered_share: float  # (covered + due soon) / accounts


class CoverageReport(BaseStruct, kw_only=True):
    """Coverage grouped by rep, team, city, province or HQ, within the caller's scope."""

    group_by: Literal["rep", "team", "city", "province", "hq"]
    on: datetime.date
    targets: CoverageTargets
    rows: list[CoverageRow]
    total: CoverageRow


class NeglectedAccount(BaseStruct, kw_only=True):
    """An account overdue for a visit or never visited."""

    account_id: uuid.UUID
    code: str
    name: str
    tier: str | None
    city: str
    owner_id: uuid.UUID
    owner_name: str
    last_visited_on: datetime.date | None
    status: CoverageStatus
    days_overdue: int | None  # None: never visited
    revenue_12m_cents: int


class NeglectedPage(BaseStruct, kw_only=True):
    """Neglected accounts, worst first: tier A before B before C, never visited first, then longest overdue."""

    items: list[NeglectedAccount]
    total: int
    next_cursor: str | None


class MapCell(BaseStruct, kw_only=True):
    """An H3 hexagon with how many accounts it holds and how many are covered."""

    h3: str
    latitude: float
    longitude: float
    boundary: list[list[float]]  # [[lat, lon], ...]
    accounts: int
    covered: int
    covered_share: float


class MapPoint(BaseStruct, kw_only=True):
    """One account on the map."""

    account_id: uuid.UUID
    name: str
    tier: str | None
    latitude: float
    longitude: float
    status: CoverageStatus
    last_visited_on: datetime.date | None


class CoverageMap(BaseStruct, kw_only=True):
    """Hexagons at low zoom, points at high zoom, for the bounding box asked for."""

    mode: Literal["hex", "points"]
    resolution: int | None
    cells: list[MapCell]
    points: list[MapPoint]
    truncated: bool  # more points than the cap: zoom in
