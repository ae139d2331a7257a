"""API shapes of retention: the scoring configuration and the at-risk list."""

import datetime
import uuid
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from fieldcrm.lib.structs import BaseStruct

Band = Literal["low", "watch", "high"]
ReasonCode = Literal[
    "revenue_falling",
    "contract_ending",
    "lines_dropping",
    "open_complaint",
    "repeated_complaints",
    "sla_breach",
    "visit_overdue",
    "lost_opportunity",
    "unpaid_bills",
]
REASONS: tuple[ReasonCode, ...] = (
    "revenue_falling",
    "contract_ending",
    "lines_dropping",
    "open_complaint",
    "repeated_complaints",
    "sla_breach",
    "visit_overdue",
    "lost_opportunity",
    "unpaid_bills",
)
RiskSort = Literal["-score", "score", "-revenue", "revenue"]

Weight = Annotated[int, Meta(ge=0, le=100, description="points the reason adds to the score (0 to 100)")]
Threshold = Annotated[int, Meta(ge=1, le=100, description="lowest score of the band (1 to 100)")]
Percent = Annotated[int, Meta(ge=1, le=99, description="a drop of at least this many percent (1 to 99)")]
Days = Annotated[int, Meta(ge=1, le=730, description="days (1 to 730)")]


class RiskWeights(BaseStruct, forbid_unknown_fields=True):
    """Points per reason; the score is their sum over the reasons present, capped at 100."""

    revenue_falling: Weight = 25
    contract_ending: Weight = 20
    lines_dropping: Weight = 15
    open_complaint: Weight = 10
    repeated_complaints: Weight = 15
    sla_breach: Weight = 10
    visit_overdue: Weight = 10
    lost_opportunity: Weight = 10
    unpaid_bills: Weight = 15


class RiskThresholds(BaseStruct, forbid_unknown_fields=True):
    """Where the bands start: ``watch`` <= score < ``high`` is watch, ``high`` and above is high."""

    watch: Threshold = 30
    high: Threshold = 60


class RiskParams(BaseStruct, forbid_unknown_fields=True):
    """When each reason is present (docs/retention.md gives the formulas)."""

    revenue_drop_pct: Percent = 20
    lines_drop_pct: Percent = 10
    ending_window_days: Days = 90
    complaint_window_days: Days = 90
    repeated_complaints: Annotated[int, Meta(ge=2, le=50)] = 2
    sla_window_days: Days = 90
    lost_window_days: Days = 180
    arrears_min_cents: Annotated[int, Meta(ge=0)] = 0


class RiskConfigBody(BaseStruct, forbid_unknown_fields=True):
    """What HQ edits: weights, band thresholds and the parameters of the reasons."""

    weights: RiskWeights = msgspec.field(default_factory=RiskWeights)
    thresholds: RiskThresholds = msgspec.field(default_factory=RiskThresholds)
    params: RiskParams = msgspec.field(default_factory=RiskParams)


class RiskConfig(BaseStruct):
    """One version of the scoring configuration."""

    version: int
    weights: RiskWeights
    thresholds: RiskThresholds
    params: RiskParams
    created_at: datetime.datetime
    created_by_name: str


class RiskReason(BaseStruct):
    """One reason an account is at risk: its message key, the numbers behind it, and its weight."""

    code: ReasonCode
    message_key: str
    params: dict[str, Any]
    weight: int
    text: str  # the message in the caller's language


class Risk(BaseStruct):
    """An account's churn risk."""

    account_id: uuid.UUID
    account_name: str
    owner_id: uuid.UUID
    owner_name: str
    tier: str | None
    revenue_12m_cents: int  # the revenue at stake
    score: int
    band: Band
    band_since: datetime.datetime
    reasons: list[RiskReason]
    scored_at: datetime.datetime
    config_version: int


class RiskPage(BaseStruct):
    """A page of at-risk accounts."""

    items: list[Risk]
    total: int
    next_cursor: str | None


class ScoreRun(BaseStruct):
    """What a scoring run did."""

    accounts: int
    config_version: int
    band_changes: int
    high: int
    watch: int
    scored_at: datetime.datetime


# ---------------------------------------------------------------- strategies

Who = Literal["account_manager", "manager", "director"]
TaskKind = Literal["call", "visit", "follow_up", "document", "collection", "retention", "other"]
Outcome = Literal["retained", "partial", "lost"]
EpisodeState = Literal["open", "closing", "closed"]


class StrategyConditions(BaseStruct, forbid_unknown_fields=True):
    """What must all hold for a strategy to apply (an empty list or null: no condition on that)."""

    tiers: list[Literal["A", "B", "C"]] = msgspec.field(default_factory=list)
    industries: list[Annotated[str, Meta(min_length=1, max_length=64)]] = msgspec.field(default_factory=list)
    reasons: list[ReasonCode] = msgspec.field(default_factory=list)  # every one must be present
    bands: list[Band] = msgspec.field(default_factory=list)
    contract_end_within_days: Annotated[int, Meta(ge=0, le=730)] | None = None
    min_revenue_cents: Annotated[int, Meta(ge=0)] | None = None
    max_revenue_cents: Annotated[int, Meta(ge=0)] | None = None


class StrategyAction(BaseStruct, forbid_unknown_fields=True):
    """A task the strategy gives: its kind, title (``{account}`` is the account's name), whom, when."""

    title: Annotated[str, Meta(min_length=1, max_length=200)]
    kind: TaskKind = "retention"
    who: Who = "account_manager"
    due_in_days: Annotated[int, Meta(ge=0, le=365)] = 7
    priority: Literal["low", "normal", "high", "urgent"] = "high"


class StrategyInput(BaseStruct, forbid_unknown_fields=True):
    """A strategy as HQ writes it; saving an existing one makes a new version."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    actions: Annotated[list[StrategyAction], Meta(min_length=1, max_length=20)]
    conditions: StrategyConditions = msgspec.field(default_factory=StrategyConditions)
    advice: Annotated[str, Meta(max_length=4000)] = ""
    priority: Annotated[int, Meta(ge=0, le=1000)] = 0
    retired: bool = False


class Strategy(BaseStruct):
    """One version of a strategy (``id``) of the strategy ``strategyId``."""

    id: uuid.UUID
    strategy_id: uuid.UUID
    version: int
    name: str
    advice: str
    conditions: StrategyConditions
    actions: list[StrategyAction]
    priority: int
    retired: bool
    created_at: datetime.datetime


class StrategyPage(BaseStruct):
    """A page of strategies (the version in force of each)."""

    items: list[Strategy]
    total: int
    next_cursor: str | None


class Episode(BaseStruct):
    """A retention episode: the account, the strategy version attached, its tasks, how it ended."""

    id: uuid.UUID
    account_id: uuid.UUID
    account_name: str
    owner_id: uuid.UUID
    state: EpisodeState
    strategy: Strategy | None
    opened_reason: str
    opened_at: datetime.datetime
    score_at_open: int
    revenue_at_open_cents: int
    tasks_created: int
    proposed_outcome: Outcome | None
    proposed_revenue_kept_cents: int | None
    outcome: Outcome | None
    revenue_kept_cents: int
    closed_at: datetime.datetime | None
    closed_how: str | None


class EpisodePage(BaseStruct):
    """A page of episodes."""

    items: list[Episode]
    total: int
    next_cursor: str | None


class EpisodeOpen(BaseStruct, forbid_unknown_fields=True):
    """A leader opens an episode by hand."""

    account_id: uuid.UUID


class EpisodeClose(BaseStruct, forbid_unknown_fields=True):
    """Closing: the outcome, and for a partial retention the monthly revenue kept (cents)."""

    outcome: Outcome
    revenue_kept_cents: Annotated[int, Meta(ge=0)] | None = None


class RunResult(BaseStruct):
    """What a matching run did."""

    opened: int
    matched: int
    tasks: int
    closed_lost: int
    closed_retained: int


class StrategyOutcome(BaseStruct):
    """How one strategy did: closed episodes, the retained share (retained or partial) with its 95% Wilson interval."""

    strategy_id: uuid.UUID | None
    name: str
    episodes: int
    closed: int
    retained: int
    partial: int
    lost: int
    retained_share: float | None
    wilson_low: float | None
    wilson_high: float | None
    revenue_kept_cents: int
    median_days_to_close: float | None


class Outcomes(BaseStruct):
    """Outcomes per strategy."""

    items: list[StrategyOutcome]
