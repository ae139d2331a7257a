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
